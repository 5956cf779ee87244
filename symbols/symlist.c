/* symlist.c - reads the module and address list of heapgate-symbolize (symlist.h).
 *
 * Each line is copied into a bounded buffer, split into a keyword and fields, and checked
 * before anything is handed on; a module is handed on once the line after its pdb and
 * timestamp lines is reached, so those lines may follow it. The GUID's text form is Data1,
 * Data2, Data3 as hex numbers, then the 8 bytes of Data4 (RFC 4122 section 3 layout, Microsoft
 * byte order in memory: the three numbers little-endian). */
#include "symlist.h"

#include <stdio.h>
#include <string.h>

#define LINE_MAX_BYTES 4096

typedef struct parser {
    const char *name;
    size_t line;
    const hg_symlist_cb_t *cb;
    hg_error_t *err;
    bool pending; /* a module read, not yet handed on */
    hg_sym_module_t m;
    char path[LINE_MAX_BYTES], pdb[LINE_MAX_BYTES];
} parser_t;

static int fail(parser_t *p, const char *what) {
    return hg_error_set(p->err, HG_EFORMAT, "%s:%zu: %s", p->name, p->line, what);
}

static const char *skip_blanks(const char *s) {
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* Copies the next blank-delimited field of *s into out (cap bytes); false when none fits. */
static bool next_field(const char **s, char *out, size_t cap) {
    const char *start = skip_blanks(*s), *end = start;
    while (*end && *end != ' ' && *end != '\t') {
        end++;
    }
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= cap) {
        return false;
    }
    memcpy(out, start, n);
    out[n] = '\0';
    *s = end;
    return true;
}

static bool next_number(const char **s, uint64_t *out) {
    char field[32];
    return next_field(s, field, sizeof field) && hg_parse_u64(field, out) == 0;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int hg_symlist_parse_guid(const char *text, uint8_t guid[16]) {
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    size_t len = strlen(text);
    if (len >= 2 && text[0] == '{' && text[len - 1] == '}') {
        text++;
        len -= 2;
    }
    int nibbles = 0;
    uint8_t bytes[16] = {0};
    for (size_t i = 0; i < len; i++) {
        int d = hex_digit(text[i]);
        if (text[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23) && len == 36) {
            continue;
        }
        if (d < 0 || nibbles == 32) {
            return HG_EFORMAT;
        }
        bytes[nibbles / 2] = (uint8_t)(bytes[nibbles / 2] << 4 | d);
        nibbles++;
    }
    if (nibbles != 32) {
        return HG_EFORMAT;
    }
    for (int i = 0; i < 16; i++) {
        guid[order[i]] = bytes[i];
    }
    return 0;
}

/* Hands on the pending module, if any. */
static int flush(parser_t *p) {
    if (!p->pending) {
        return 0;
    }
    p->pending = false;
    return p->cb->module ? p->cb->module(p->cb->ctx, &p->m) : 0;
}

/* The rest of a line (without leading blanks) into out; false when empty. */
static bool rest(const char *s, char *out) {
    s = skip_blanks(s);
    strcpy(out, s); /* out has room for a whole line */
    return out[0] != '\0';
}

static int module_line(parser_t *p, const char *s) {
    int rc = flush(p);
    if (rc != 0) {
        return rc;
    }
    memset(&p->m, 0, sizeof p->m);
    if (!next_number(&s, &p->m.base) || !next_number(&s, &p->m.size) || !rest(s, p->path)) {
        return fail(p, "expected 'module BASE SIZE PATH'");
    }
    if (p->m.size == 0 || p->m.base + p->m.size < p->m.base) {
        return fail(p, "the module's size is 0 or it ends beyond the address space");
    }
    p->m.path = p->path;
    p->pending = true;
    return 0;
}

static int pdb_line(parser_t *p, const char *s) {
    char guid[64];
    uint64_t age;
    if (!p->pending) {
        return fail(p, "a 'pdb' line must follow a 'module' line");
    }
    if (!next_field(&s, guid, sizeof guid) || !next_number(&s, &age) || !rest(s, p->pdb)) {
        return fail(p, "expected 'pdb GUID AGE NAME'");
    }
    if (hg_symlist_parse_guid(guid, p->m.pdb_guid) != 0 || age > UINT32_MAX) {
        return fail(p, "expected a GUID of 32 hex digits ({8-4-4-4-12}) and an age below 2^32");
    }
    p->m.pdb_age = (uint32_t)age;
    p->m.pdb_name = p->pdb;
    return 0;
}

static int timestamp_line(parser_t *p, const char *s) {
    uint64_t stamp;
    if (!p->pending) {
        return fail(p, "a 'timestamp' line must follow a 'module' line");
    }
    if (!next_number(&s, &stamp) || stamp > UINT32_MAX || *skip_blanks(s)) {
        return fail(p, "expected 'timestamp STAMP' (a 32-bit number)");
    }
    p->m.pe_timestamp = (uint32_t)stamp;
    return 0;
}

static int address_line(parser_t *p, const char *s) {
    uint64_t addr;
    if (!next_number(&s, &addr) || *skip_blanks(s)) {
        return fail(p, "expected an address, 'module', 'pdb' or 'timestamp'");
    }
    int rc = flush(p);
    return rc == 0 && p->cb->address ? p->cb->address(p->cb->ctx, addr, p->line) : rc;
}

static int parse_line(parser_t *p, const char *s) {
    char word[16];
    s = skip_blanks(s);
    if (!*s || *s == '#') {
        return 0;
    }
    const char *after = s;
    if (!next_field(&after, word, sizeof word)) {
        return address_line(p, s);
    }
    if (strcmp(word, "module") == 0) {
        return module_line(p, after);
    }
    if (strcmp(word, "pdb") == 0) {
        return pdb_line(p, after);
    }
    if (strcmp(word, "timestamp") == 0) {
        return timestamp_line(p, after);
    }
    return address_line(p, s);
}

/* Copies the line at text[*pos] into buf without its line end; HG_EFORMAT when too long or
 * holding a NUL byte. */
static int take_line(parser_t *p, const char *text, size_t len, size_t *pos, char *buf) {
    const char *start = text + *pos, *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl != NULL);
    if (n && start[n - 1] == '\r') {
        n--;
    }
    if (n >= LINE_MAX_BYTES) {
        return fail(p, "line longer than 4095 bytes");
    }
    if (memchr(start, '\0', n)) {
        return fail(p, "NUL byte in the line");
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    return 0;
}

int hg_symlist_parse(const char *text, size_t len, const char *name, const hg_symlist_cb_t *cb,
                     hg_error_t *err) {
    parser_t *p = hg_calloc(1, sizeof *p);
    char *buf = hg_malloc(LINE_MAX_BYTES);
    int rc = p && buf ? 0 : hg_error_set(err, HG_ENOMEM, "%s: out of memory", name);
    if (p) {
        *p = (parser_t){.name = name, .cb = cb, .err = err};
    }
    for (size_t pos = 0; rc == 0 && pos < len;) {
        p->line++;
        rc = take_line(p, text, len, &pos, buf);
        rc = rc == 0 ? parse_line(p, buf) : rc;
    }
    rc = rc == 0 && p ? flush(p) : rc;
    hg_free(buf);
    hg_free(p);
    return rc;
}
