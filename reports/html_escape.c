/* html_escape.c - escaping for the markup writers (HTML, and JUnit XML which reuses it).
 *
 * Strings in a report come from untrusted traces, so each one is written as character data or
 * an attribute value that cannot end its element, open a tag or hold a character XML 1.0
 * forbids (XML 1.0 fifth edition, section 2.2 "Characters": #x9 | #xA | #xD | [#x20-#xD7FF] |
 * [#xE000-#xFFFD] | [#x10000-#x10FFFF]). C1 controls and the bidirectional overrides (Unicode
 * UAX #9: U+202A-U+202E, U+2066-U+2069) are allowed there but can disguise text in a browser
 * or a CI dashboard, so they become U+FFFD as well. Runs of plain characters go out in one
 * write. */
#include "internal.h"

#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

static bool plain_ascii(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'';
}

static bool disguising(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfffe || cp == 0xffff;
}

/* The replacement text for one ASCII byte that is not plain. */
static const char *ascii_escape(unsigned char c, bool attr) {
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '\t':
        return attr ? "&#9;" : "\t";
    case '\n':
        return attr ? "&#10;" : "\n";
    case '\r':
        return attr ? "&#13;" : "\r";
    default:
        return REPLACEMENT; /* other C0 controls and DEL */
    }
}

/* Handles the character at p that is not plain ASCII; returns the bytes it took. */
static size_t put_special(hg_out_t *o, const unsigned char *p, bool attr) {
    if (*p < 0x80) {
        hg_out_puts(o, ascii_escape(*p, attr));
        return 1;
    }
    uint32_t cp;
    size_t n = hg__report_utf8_decode(p, &cp);
    if (n == 0 || disguising(cp)) {
        hg_out_write(o, REPLACEMENT, 3);
        return n ? n : 1;
    }
    hg_out_write(o, p, n);
    return n;
}

void hg__report_xml_escape(hg_out_t *o, const char *s, bool attr) {
    if (!s) {
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        if (plain_ascii(*p)) {
            p++;
            continue;
        }
        uint32_t cp;
        size_t n = *p >= 0x80 ? hg__report_utf8_decode(p, &cp) : 0;
        if (n > 0 && !disguising(cp)) {
            p += n;
            continue;
        }
        hg_out_write(o, run, (size_t)(p - run));
        p += put_special(o, p, attr);
        run = p;
    }
    hg_out_write(o, run, (size_t)(p - run));
}
