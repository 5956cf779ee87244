/* text_lex.h - private to the text trace reader (docs/text-format.md): where a line came from
 * (for FILE:LINE:COL messages), the tokenizer that splits one line into words and key=value
 * pairs, and the parsers for the value syntaxes (numbers, byte counts, times, GUIDs, ...).
 *
 * Nothing here allocates. The tokenizer works in place on a writable line buffer: it unescapes
 * quoted values and NUL-terminates every value, so values can go to a sink as C strings. */
#ifndef HG_TEXT_LEX_H
#define HG_TEXT_LEX_H

#include "base.h"

#include <stddef.h>
#include <stdint.h>

/* Where the current line is: every error message starts with name:line_no:column. */
typedef struct hg__text_src {
    const char *name;
    uint64_t line_no; /* 1-based */
    const char *line; /* first byte of the line (after a byte order mark on line 1) */
    hg_error_t *err;
} hg__text_src_t;

/* Sets src->err to HG_EFORMAT with "name:line:col: message", col being at's column in the line
 * (at == NULL: column 1). Returns HG_EFORMAT. */
int hg__text_fail(const hg__text_src_t *src, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One token: a bare word ("alloc", "0x401000", "mmapped") or key=value. */
typedef struct hg__text_tok {
    char *text;     /* the token as written, for messages (not NUL-terminated) */
    size_t len;     /* length of text */
    size_t key_len; /* the word, or the key before '=' (text[0..key_len)) */
    char *val;      /* the value, NUL-terminated and unescaped; NULL for a bare word */
    size_t val_len; /* length of val */
} hg__text_tok_t;

typedef struct hg__text_lex {
    char *p, *end; /* unread part of the line; *end is writable */
} hg__text_lex_t;

/* Starts tokenizing line[0..len); line[len] must be writable (the reader keeps a spare byte). */
void hg__text_lex_init(hg__text_lex_t *lx, char *line, size_t len);
/* Reads the next token into tok. Returns 1 for a token, 0 at the end of the line (or at a
 * comment), HG_EFORMAT for malformed text (message in src->err). */
int hg__text_lex_next(hg__text_lex_t *lx, const hg__text_src_t *src, hg__text_tok_t *tok);

/* ---- value parsers: 0 on success, else one of these (the caller words the message) ---------- */

enum {
    HG__TEXT_BADSYNTAX = -1, /* not the expected syntax */
    HG__TEXT_RANGE = -2,     /* well-formed but too large */
};

/* Decimal or 0x-hex unsigned integer, the whole of s[0..n). */
int hg__text_parse_u64(const char *s, size_t n, uint64_t *out);
/* Like hg__text_parse_u64; a decimal number may end in K, M, G, KiB, MiB or GiB (x 1024^k). */
int hg__text_parse_bytes(const char *s, size_t n, uint64_t *out);
/* A time or duration: a decimal number with an optional unit ns|us|ms|s|m (default s).
 * Fractions finer than 1 ns are dropped. */
int hg__text_parse_time(const char *s, size_t n, uint64_t *out_ns);
/* UTC date and time "YYYY-MM-DDTHH:MM:SS[.fraction]Z" as Unix nanoseconds. */
int hg__text_parse_wall(const char *s, size_t n, uint64_t *out_ns);
/* "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX", optionally in braces, as the 16 bytes of the GUID's
 * Windows in-memory layout (Data1, Data2, Data3 little-endian; Data4 as written). */
int hg__text_parse_guid(const char *s, size_t n, uint8_t out[16]);
/* An even number of hex digits as bytes (at most cap bytes, else HG__TEXT_RANGE). */
int hg__text_parse_hex(const char *s, size_t n, uint8_t *out, size_t cap, uint32_t *out_len);
/* Offset of the first byte of s[0..n) that is not part of valid UTF-8, or n. */
size_t hg__text_utf8_check(const char *s, size_t n);

#endif
