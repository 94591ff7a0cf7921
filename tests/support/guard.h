/* guard.h: a buffer whose last byte is followed by an unreadable page, so a
 * parser that reads one byte past its input crashes the test instead of
 * passing by luck (picohttpparser's test trick). Check assertions inside. */
#ifndef PC_TEST_GUARD_H
#define PC_TEST_GUARD_H

#include <stddef.h>

struct guard {
    char *map;
    size_t maplen, room;
};

/* Maps at least `room` readable bytes followed by a PROT_NONE page. */
void guard_map(struct guard *g, size_t room);
/* Places data so that its last byte is the last readable one. */
char *guard_load(struct guard *g, const char *data, size_t n);
void guard_unmap(struct guard *g);

#endif
