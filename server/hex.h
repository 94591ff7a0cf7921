/* hex.h: hexadecimal digits, both ways (percent-decoding, chunk sizes, IPv6
 * literals, \xHH escapes, hex dumps). Pure functions, thread-safe. */
#ifndef PC_HEX_H
#define PC_HEX_H

#include <stddef.h>

/* Value of a hex digit (either case), or -1. */
int hex_value(unsigned char c);

/* Lower-case digit for v & 15. */
char hex_digit(unsigned v);

/* Lower-case hex of p[0..n), no separators: out has room for 2n + 1 and is
 * NUL-terminated. */
void hex_encode(char *out, const unsigned char *p, size_t n);

#endif
