/* certgen.h: a development CA and a localhost server certificate, made with
 * mbedTLS alone, for running without a configured certificate.
 *
 * Files in `dir` (created with mode 0700, parents too, if missing):
 *   ca.crt      self-signed CA, ECDSA P-256, "CN=Portcullis Dev CA",
 *               CA:true pathlen 0, keyCertSign|cRLSign, 10 years. Give it to
 *               clients as their trust anchor (curl --cacert, browsers).
 *   ca.key      its private key (0600). Kept so the server certificate can
 *               be re-issued under the same CA; never loaded by the server.
 *   server.crt  PEM chain: the leaf (CN=localhost, SAN DNS:localhost,
 *               IP:127.0.0.1, IP:::1, digitalSignature, serverAuth,
 *               CA:false, 1 year from one hour ago) followed by ca.crt, so
 *               a client that trusts the CA validates whatever chain it
 *               builds.
 *   server.key  the leaf's private key (0600).
 * Each file is written to a temporary name and renamed into place. */
#ifndef PC_TLS_CERTGEN_H
#define PC_TLS_CERTGEN_H

#include <stddef.h>

#define TLS_DEV_PATH_MAX 1024

struct tls_dev_paths {
    char ca_file[TLS_DEV_PATH_MAX];   /* dir/ca.crt */
    char cert_file[TLS_DEV_PATH_MAX]; /* dir/server.crt */
    char key_file[TLS_DEV_PATH_MAX];  /* dir/server.key */
    int generated;                    /* 1: made now; 0: reused */
};

/* Reuses dir/ca.crt, dir/server.crt and dir/server.key when all three exist,
 * parse, the leaf verifies against the CA for "localhost" now (unexpired)
 * and the key matches the leaf; otherwise generates all four files afresh.
 * Returns 0 with `out` filled, or -1 with err naming the failing path.
 * Call tls_global_init() first (PSA must be up). */
int tls_certgen_dev(const char *dir, struct tls_dev_paths *out, char *err, size_t errlen);

#endif
