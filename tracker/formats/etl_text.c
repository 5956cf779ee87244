/* etl_text.c - strings in ETL payloads: UTF-16LE (file names, command lines) to UTF-8. Unpaired
 * surrogates become U+FFFD; the output is cut (on a character boundary) to fit. */
#include "etl_priv.h"

/* Appends code point c to out[*n] when it fits with room for the terminator. */
static void put_utf8(char *out, size_t cap, size_t *n, uint32_t c) {
    char b[4];
    size_t k;
    if (c < 0x80) {
        b[0] = (char)c;
        k = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xC0 | c >> 6);
        b[1] = (char)(0x80 | (c & 0x3F));
        k = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xE0 | c >> 12);
        b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F));
        k = 3;
    } else {
        b[0] = (char)(0xF0 | c >> 18);
        b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[3] = (char)(0x80 | (c & 0x3F));
        k = 4;
    }
    if (*n + k < cap) {
        for (size_t i = 0; i < k; i++) {
            out[(*n)++] = b[i];
        }
    }
}

size_t hg__utf16_to_utf8(const uint8_t *p, size_t max, char *out, size_t cap) {
    size_t i = 0, n = 0;
    while (i + 2 <= max) {
        uint32_t u = hg__get_u16(p + i);
        i += 2;
        if (u == 0) {
            break;
        }
        if (u >= 0xD800 && u < 0xDC00 && i + 2 <= max) {
            uint32_t lo = hg__get_u16(p + i);
            if (lo >= 0xDC00 && lo < 0xE000) {
                i += 2;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
        }
        put_utf8(out, cap, &n, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
    }
    if (cap) {
        out[n] = '\0';
    }
    return i;
}
