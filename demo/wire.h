/* wire.h: the demo's wire view (docs/ARCHITECTURE.md, HTTP vs HTTPS demo):
 * what travelled on a socket, byte for byte, as an eavesdropper would see it.
 *
 * A wire_ring keeps the most recent connections of one listener: of each,
 * the first `bytes` bytes read from the socket and the first `bytes` written
 * to it, every read and write as a segment with its time and size. One
 * mutex per ring: rings exist only in demo mode (demo_wire.c creates them
 * and attaches them to the server as its connection observer; otherwise no
 * connection records anything). The same
 * ring type serves the `portcullis demo` client, which captures its own
 * socket.
 *
 * Also here: a decoder of TLS record headers (RFC 5246 §6.2.1, RFC 8446
 * §5.1) over captured bytes, and the hex / printable renderings. */
#ifndef PC_WIRE_H
#define PC_WIRE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- TLS record headers ------------------------------------------------ */

struct wire_tls_record {
    size_t offset;    /* of the 5-byte header in the stream */
    uint8_t type;     /* content type: 20..24 */
    uint16_t version; /* legacy record version, e.g. 0x0303 */
    uint16_t length;  /* fragment length from the header */
    int complete;     /* the whole fragment is within the bytes given */
    int handshake;    /* first handshake message type when readable
                               (before this direction's change_cipher_spec), else -1 */
};

#define WIRE_TLS_MAX_FRAGMENT (16384 + 2048) /* TLSCiphertext limit */

/* Decodes the records that start a stream of n bytes (one direction of a
 * connection), at most max of them into out. Decoding stops at a header
 * that is not a TLS record (unknown content type, major version not 3,
 * length over WIRE_TLS_MAX_FRAGMENT): *garbage (may be NULL) is then set to
 * 1. A last record whose fragment is cut is returned with complete = 0; a
 * header cut short is not returned. Returns the number of records. */
size_t wire_tls_decode(const unsigned char *p, size_t n, struct wire_tls_record *out, size_t max,
                       int *garbage);

/* "handshake", "change_cipher_spec", "alert", "application_data",
 * "heartbeat", or "unknown". */
const char *wire_tls_type_name(unsigned type);
/* "SSL 3.0", "TLS 1.0" ... "TLS 1.3", or "unknown". */
const char *wire_tls_version_name(unsigned version);
/* "client_hello", "server_hello", "certificate", ... or "unknown". */
const char *wire_tls_handshake_name(int type);

/* ---- renderings -------------------------------------------------------- */

/* What a terminal may show: printable ASCII as is, "\r\n" and "\n" as a
 * newline, every other byte as '.'. out has room for n + 1; returns the
 * length written (before the NUL). */
size_t wire_text(char *out, const unsigned char *p, size_t n);

/* ---- rings ------------------------------------------------------------- */

struct wire_ring;

/* A connection's handle on its slot; zero-initialised = records nothing. */
struct wire_cap {
    struct wire_ring *ring;
    size_t slot;
    uint64_t id;
};

/* conns recent connections of up to `bytes` bytes per direction each.
 * conns == 0 gives *out = NULL (nothing is captured). Returns 0 or -1. */
int wire_ring_create(struct wire_ring **out, size_t conns, size_t bytes);
void wire_ring_free(struct wire_ring *r); /* NULL ok */

/* Starts capturing a new connection in r (NULL: cap stays inert), evicting
 * the oldest. Thread-safe, like every call below. */
void wire_cap_open(struct wire_cap *cap, struct wire_ring *r, const char *client_ip,
                   int client_port);
/* dir 'r': bytes read from the socket (sent by the peer); 'w': written. Once
 * the connection has been evicted from the ring this records nothing. */
void wire_cap_record(struct wire_cap *cap, char dir, const unsigned char *p, size_t n);
/* The same with the signature of tls_io_observer (arg = struct wire_cap *). */
void wire_cap_observe(void *arg, char dir, const unsigned char *p, size_t n);
/* The connection ended (its duration stops). */
void wire_cap_close(struct wire_cap *cap);

/* 1 when needle (n > 0 bytes) occurs in what cap captured in either
 * direction, 0 when not (or when the connection was evicted). */
int wire_cap_contains(const struct wire_cap *cap, const void *needle, size_t n);

/* The connection as JSON: {"id", "client", "started" (UTC, ISO 8601),
 * "open", "duration_ms", "bytes_read", "bytes_written", "captured_read",
 * "captured_written", "truncated", "segments": [{"dir", "t_ms", "size",
 * "hex", "text"}], "records": [{"dir", "t_ms", "type", "content_type",
 * "version", "length", "complete", "handshake"?}] (records decoded only
 * when tls)}, or NULL when evicted or out of memory.
 * dir names: 'r' is "client" when client_side is 0 (a server's socket),
 * "server" when 1 (a client's own socket). */
json_t *wire_cap_json(const struct wire_cap *cap, int tls, int client_side);
/* Every connection kept, newest first: a JSON array (NULL if out of memory). */
json_t *wire_ring_json(struct wire_ring *r, int tls);
size_t wire_ring_bytes(const struct wire_ring *r);
size_t wire_ring_conns(const struct wire_ring *r);

#endif
