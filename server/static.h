/* static.h: regular files under a www root, for GET and HEAD.
 *
 * Knows nothing of HTTP framing: the connection code turns the results into
 * a status, headers (Content-Type, ETag, Last-Modified) and a body it reads
 * from the returned descriptor.
 *
 * Safety contract: nothing outside the root is ever opened. URL paths are
 * decoded and checked segment by segment, and the file is opened relative to
 * the root's descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
 * or, where the kernel lacks openat2, by walking the components with
 * openat(O_NOFOLLOW). No symlink is followed at all, even one pointing
 * inside the root. */
#ifndef PC_STATIC_H
#define PC_STATIC_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "server/str.h"

#define STATIC_ETAG_MAX 64
#define STATIC_DATE_LEN 30 /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */

struct static_root {
    int dirfd; /* -1 when closed */
};

/* Sets dirfd to -1. Cannot fail. */
void static_root_init(struct static_root *r);

/* Opens directory `dir` (a symlink to a directory is fine here: the root is
 * the operator's choice). Returns 0, or -1 with a message in err.
 * The root may be shared by all threads: lookups only read it. */
int static_root_open(struct static_root *r, const char *dir, char *err, size_t errlen);

/* Closes the directory; accepts a root that was never opened. Idempotent. */
void static_root_close(struct static_root *r);

struct static_file {
    int fd; /* O_RDONLY|O_CLOEXEC, owned; -1 when closed */
    off_t size;
    time_t mtime;               /* seconds, for Last-Modified */
    char etag[STATIC_ETAG_MAX]; /* strong, quoted: "\"<ino>-<size>-<mtime ns>\"" */
    const char *mime;           /* static string, see static_mime_type */
};

/* Sets fd to -1 so static_file_close is safe. Cannot fail. */
void static_file_init(struct static_file *f);

/* Resolves url_path (the raw, still percent-encoded path of the request
 * target, without the query) to a regular file under the root.
 *
 * Rules: the path must start with '/'. %XX sequences are decoded; a '%' not
 * followed by two hex digits anywhere in the path is malformed (400).
 * Segments are split on the raw '/' only; a decoded segment is refused (404)
 * when it is empty ("a//b"), starts with '.' (".", "..", dotfiles), contains
 * a decoded '/' (%2F), a backslash, NUL (%00) or another control character,
 * or is longer than NAME_MAX. A path ending in '/' names a directory and
 * serves its index.html; a path naming a directory without the trailing
 * slash also serves its index.html. Only regular files are served (no
 * directories, FIFOs, devices, sockets); symlinks anywhere are refused.
 *
 * Returns 0 with *out filled (the caller closes it with static_file_close),
 * 400 for a malformed percent-encoding, 404 when the file is missing or
 * refused for any reason above (the client is not told which), or 500 when
 * the process is out of descriptors or memory, or on an I/O error. On a
 * non-zero return *out holds no descriptor. */
int static_lookup(const struct static_root *r, struct str url_path, struct static_file *out);

/* Closes the descriptor; idempotent. */
void static_file_close(struct static_file *f);

/* Whether a GET/HEAD of f may answer 304 Not Modified, following RFC 9110
 * §13.2.2: when If-None-Match is present (non-empty) it alone decides: "*"
 * matches, otherwise any entity-tag of the comma-separated list matching
 * f->etag under the weak comparison (a "W/" prefix is ignored); a malformed
 * list matches nothing. Otherwise If-Modified-Since, in IMF-fixdate form
 * only (other forms are ignored), matches when f->mtime is not later than
 * it. Absent headers are empty slices. Returns 1 for 304, 0 otherwise. */
int static_not_modified(const struct static_file *f, struct str if_none_match,
                        struct str if_modified_since);

/* Formats t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), in GMT
 * and English whatever the locale; times outside years 0000..9999 print as
 * the epoch. For Date and Last-Modified. */
void static_http_date(time_t t, char out[STATIC_DATE_LEN]);

/* Content-Type for a file name by its extension (case-insensitive): html,
 * htm, css, js, mjs, json, txt, svg (with "; charset=utf-8"), png, jpg, jpeg,
 * gif, webp, ico, woff2, wasm; application/octet-stream otherwise. */
const char *static_mime_type(const char *name);

/* Test hook: non-zero forces the openat(O_NOFOLLOW) walk even where openat2
 * exists, so both paths are tested on one kernel. Process-wide. */
void static_set_walk_only(int on);

#endif
