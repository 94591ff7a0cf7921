/* observer.h: the per-connection byte observer the server offers
 * (server_set_observer in server.h); conn.c calls it. */
#ifndef PC_OBSERVER_H
#define PC_OBSERVER_H

#include <stddef.h>

/* An observer of the raw bytes of every connection (ciphertext on the HTTPS
 * listener), e.g. a wire capture. Every call runs on the connection's loop
 * thread, synchronously at the moment of the I/O, so the observer's clock
 * reading is the bytes' time. With no observer attached a connection pays
 * one NULL check per read and write. */
struct server_observer {
    /* A connection was accepted (tls: on the HTTPS listener). Returns the
     * handle the other calls get, or NULL to leave this connection alone. */
    void *(*open)(void *arg, int tls, const char *client_ip, int client_port);
    /* dir 'r': n bytes read from the socket; 'w': written to it (the
     * signature of tls_io_observer). */
    void (*bytes)(void *conn, char dir, const unsigned char *p, size_t n);
    /* The connection is closed; the handle is not used again. */
    void (*close)(void *conn);
    void *arg;
};

#endif
