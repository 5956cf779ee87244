/* escape.c - UTF-8 checking and JSON string escaping shared by the writers. Strings in a report
 * come from untrusted traces (process names, paths, symbol names), so they may hold quotes,
 * control characters or bytes that are not UTF-8; every writer must produce valid output
 * anyway. Runs of plain characters are written in one piece, so escaping stays cheap. */
#include "internal.h"

/* The length and first bits of a sequence from its lead byte; 0 for a byte that cannot lead
 * (a continuation byte, 0xc0/0xc1 which only make overlong forms, 0xf5 and above). */
static size_t lead_length(unsigned char c, uint32_t *bits, uint32_t *min) {
    if (c >= 0xc2 && c <= 0xdf) {
        *bits = c & 0x1fu;
        *min = 0x80;
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        *bits = c & 0x0fu;
        *min = 0x800;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        *bits = c & 0x07u;
        *min = 0x10000;
        return 4;
    }
    return 0;
}

size_t hg__report_utf8_decode(const unsigned char *p, uint32_t *cp) {
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    uint32_t v, min;
    size_t n = lead_length(p[0], &v, &min);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0; /* stops at a NUL too: it is not a continuation byte */
        }
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if (n == 0 || v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        return 0;
    }
    *cp = v;
    return n;
}

/* The escape for one byte that cannot stand in a JSON string as it is. */
static void put_escape(hg_out_t *o, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
        char e[2] = {'\\', (char)c};
        hg_out_write(o, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        hg_out_write(o, e, 6);
    } else {
        hg_out_write(o, "\\ufffd", 6); /* not part of valid UTF-8 */
    }
}

static bool plain_ascii(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void hg__report_json_string(hg_out_t *o, const char *s) {
    if (!s) {
        hg_out_write(o, "null", 4);
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *run = p;
    uint32_t cp;
    size_t n;
    hg_out_write(o, "\"", 1);
    while (*p) {
        if (plain_ascii(*p)) {
            p++;
        } else if (*p >= 0x80 && (n = hg__report_utf8_decode(p, &cp)) > 0) {
            p += n;
        } else {
            hg_out_write(o, run, (size_t)(p - run));
            put_escape(o, *p++);
            run = p;
        }
    }
    hg_out_write(o, run, (size_t)(p - run));
    hg_out_write(o, "\"", 1);
}
