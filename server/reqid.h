/* reqid.h: request ids. Every request gets one: a valid X-Request-Id sent by
 * a trusted proxy in front is kept (the caller passes an empty incoming for
 * anyone else, see conn_http.c), otherwise a new one is made. It
 * is echoed in the response and appears in every log line about the request
 * (see log_set_request), so one id ties a client's report, a proxy's log and
 * ours together.
 *
 * Not a secret and not a capability: it only has to be unique in practice.
 * Threads: any; each thread draws from a generator of its own. */
#ifndef PC_REQID_H
#define PC_REQID_H

#include <stddef.h>

#include "server/str.h"

#define REQID_MAX 65 /* 64 characters and a NUL */

/* 1 when s is 1..64 characters of [A-Za-z0-9._:-] (what we echo into a
 * header and a log line without escaping), else 0. */
int reqid_valid(struct str s);

/* Writes the request's id into out: incoming when valid, else a new one of
 * 32 hex digits. */
void reqid_assign(char out[REQID_MAX], struct str incoming);

#endif
