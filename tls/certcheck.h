/* certcheck.h: `portcullis --check-config` for the configured certificate
 * and key, so a wrong path or a mismatched pair is found before a restart
 * rather than by the restart.
 *
 * Threads: any; call after tls_global_init. */
#ifndef PC_TLS_CERTCHECK_H
#define PC_TLS_CERTCHECK_H

#include <stddef.h>

/* Each file exists, is a regular file and readable by this process; then
 * both are loaded exactly as the server loads them (PEM chain leaf first, a
 * private key that matches the leaf). A key file readable by group or
 * others is not an error (the operator may have chosen a group on purpose)
 * but is described in warn ("" when nothing to say).
 * 0, or -1 with err naming the file and what is wrong. */
int tls_check_cert_files(const char *cert_file, const char *key_file, char *warn, size_t warnlen,
                         char *err, size_t errlen);

#endif
