/* text_lex.c - the text trace tokenizer: splits one line into tokens, in place.
 *
 * A line is tokens separated by spaces or tabs; '#' at the start of a token starts a comment
 * that runs to the end of the line. A token is a bare word or key=value; a value is either
 * unquoted (no spaces, no quotes) or "quoted", where \" and \\ are escapes and any other
 * backslash stands for itself (so Windows paths need no doubling). Control characters other
 * than tab are errors outside comments. Each byte is classified through one table, so a line
 * costs one pass. */
#include "text_lex.h"

#include <stdio.h>

enum { C_WORD = 0, C_SPACE, C_QUOTE, C_EQ, C_CTRL };

/* Byte classes; bytes >= 0x80 (UTF-8) are word bytes. */
static const uint8_t cls[256] = {
    [0] = C_CTRL,  [1] = C_CTRL,  [2] = C_CTRL,    [3] = C_CTRL,     [4] = C_CTRL,  [5] = C_CTRL,
    [6] = C_CTRL,  [7] = C_CTRL,  [8] = C_CTRL,    ['\t'] = C_SPACE, [10] = C_CTRL, [11] = C_CTRL,
    [12] = C_CTRL, [13] = C_CTRL, [14] = C_CTRL,   [15] = C_CTRL,    [16] = C_CTRL, [17] = C_CTRL,
    [18] = C_CTRL, [19] = C_CTRL, [20] = C_CTRL,   [21] = C_CTRL,    [22] = C_CTRL, [23] = C_CTRL,
    [24] = C_CTRL, [25] = C_CTRL, [26] = C_CTRL,   [27] = C_CTRL,    [28] = C_CTRL, [29] = C_CTRL,
    [30] = C_CTRL, [31] = C_CTRL, [' '] = C_SPACE, ['"'] = C_QUOTE,  ['='] = C_EQ,  [127] = C_CTRL,
};

#define CLS(c) cls[(unsigned char)(c)]

int hg__text_fail(const hg__text_src_t *src, const char *at, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t col = at ? (size_t)(at - src->line) + 1 : 1;
    return hg_error_set(src->err, HG_EFORMAT, "%s:%llu:%zu: %s", src->name,
                        (unsigned long long)src->line_no, col, msg);
}

void hg__text_lex_init(hg__text_lex_t *lx, char *line, size_t len) {
    lx->p = line;
    lx->end = line + len;
    *lx->end = '\0';
}

static int fail_ctrl(const hg__text_src_t *src, const char *at) {
    if (*at == '\r') {
        return hg__text_fail(src, at, "carriage return inside a line (only CRLF line ends)");
    }
    return hg__text_fail(src, at, "control character 0x%02x (only tab and space separate)",
                         (unsigned)(unsigned char)*at);
}

/* Reads a "quoted" value starting at the opening quote q; unescapes it in place. */
static int lex_quoted(hg__text_lex_t *lx, const hg__text_src_t *src, char *q, hg__text_tok_t *tok) {
    char *r = q + 1, *w = q + 1;
    while (r < lx->end && *r != '"') {
        if (*r == '\\' && r + 1 < lx->end && (r[1] == '"' || r[1] == '\\')) {
            r++;
        } else if (CLS(*r) == C_CTRL && *r != '\t') {
            return fail_ctrl(src, r);
        }
        *w++ = *r++;
    }
    if (r == lx->end) {
        return hg__text_fail(src, q, "unterminated quoted value (missing closing \")");
    }
    if (r + 1 < lx->end && CLS(r[1]) != C_SPACE) {
        return hg__text_fail(src, r + 1, "expected a space after the closing quote");
    }
    tok->val = q + 1;
    tok->val_len = (size_t)(w - (q + 1));
    tok->len = (size_t)(r + 1 - tok->text);
    *w = '\0';
    lx->p = r + 1;
    return 1;
}

/* Scans a bare word or an unquoted key=value from lx->p. The inner loop runs over word bytes
 * only; *lx->end is NUL (a control byte), so it needs no bounds check. */
static int lex_word(hg__text_lex_t *lx, const hg__text_src_t *src, hg__text_tok_t *tok) {
    char *p = lx->p, *eq = NULL;
    for (;; p++) {
        while (CLS(*p) == C_WORD) {
            p++;
        }
        int c = CLS(*p);
        if (c == C_SPACE || p == lx->end) {
            break;
        } else if (c == C_EQ && !eq && p[1] == '"') {
            tok->key_len = (size_t)(p - tok->text);
            return lex_quoted(lx, src, p + 1, tok);
        } else if (c == C_EQ) {
            eq = eq ? eq : p; /* a later '=' belongs to the value */
        } else if (c == C_QUOTE) {
            return hg__text_fail(src, p, "a quote may only open a value (key=\"...\")");
        } else {
            return fail_ctrl(src, p);
        }
    }
    tok->len = (size_t)(p - tok->text);
    tok->key_len = eq ? (size_t)(eq - tok->text) : tok->len;
    tok->val = eq ? eq + 1 : NULL;
    tok->val_len = eq ? (size_t)(p - (eq + 1)) : 0;
    lx->p = p;
    return 1;
}

static int check_token(const hg__text_src_t *src, const hg__text_tok_t *tok) {
    if (tok->key_len == 0) {
        return hg__text_fail(src, tok->text, "expected a key before '='");
    }
    if (tok->val && tok->val_len == 0 && tok->text[tok->key_len + 1] != '"') {
        return hg__text_fail(src, tok->text + tok->key_len + 1, "expected a value after '%.*s='",
                             (int)tok->key_len, tok->text);
    }
    return 1;
}

int hg__text_lex_next(hg__text_lex_t *lx, const hg__text_src_t *src, hg__text_tok_t *tok) {
    char *p = lx->p;
    while (CLS(*p) == C_SPACE) { /* stops at the NUL at lx->end */
        p++;
    }
    if (p == lx->end || *p == '#') {
        lx->p = lx->end;
        return 0;
    }
    tok->text = p;
    lx->p = p;
    int rc = lex_word(lx, src, tok);
    if (rc < 0) {
        return rc;
    }
    if (lx->p < lx->end) {
        *lx->p++ = '\0'; /* the separator after the token ends its value */
    }
    return check_token(src, tok);
}
