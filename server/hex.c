/* hex.c: hexadecimal digits (hex.h). */
#include "server/hex.h"

int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char hex_digit(unsigned v) { return "0123456789abcdef"[v & 15u]; }

void hex_encode(char *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digit(p[i] >> 4);
        out[2 * i + 1] = hex_digit(p[i]);
    }
    out[2 * n] = '\0';
}
