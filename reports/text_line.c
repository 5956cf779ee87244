/* text_line.c - the text writer's line builder (see text_priv.h): sanitizing, column counting,
 * padding, middle-shortening, clipping at HG_TEXT_COLS and optional ANSI colour. */
#include "text_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void hg__report_tl_init(hg__report_tl_t *tl, const hg_report_t *r, const hg_write_options_t *opt,
                        hg_out_t *o) {
    memset(tl, 0, sizeof *tl);
    tl->r = r;
    tl->opt = opt;
    tl->o = o;
    hg_buf_init(&tl->line);
    hg_buf_init(&tl->frame);
}

void hg__report_tl_free(hg__report_tl_t *tl) {
    hg_buf_free(&tl->line);
    hg_buf_free(&tl->frame);
}

void hg__report_tl_nomem(hg__report_tl_t *tl) {
    hg__report_out_fail(tl->o, HG_ENOMEM);
}

/* ---- sanitizing --------------------------------------------------------------------------- */

/* Code points that would move the cursor, start an escape sequence or reorder text. */
static bool unsafe(uint32_t cp) {
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The next column's worth of s at p: returns the bytes of s it takes and points *rep at the
 * bytes that stand for it (*rep_len long). */
static size_t next_unit(const unsigned char *p, const char **rep, size_t *rep_len) {
    uint32_t cp;
    size_t n = hg__report_utf8_decode(p, &cp);
    if (n == 0) {
        *rep = "\xef\xbf\xbd"; /* U+FFFD */
        *rep_len = 3;
        return 1;
    }
    *rep = unsafe(cp) ? "?" : (const char *)p;
    *rep_len = unsafe(cp) ? 1 : n;
    return n;
}

size_t hg__report_tl_width(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    const char *rep;
    size_t w = 0, rep_len;
    while (*p) {
        p += next_unit(p, &rep, &rep_len);
        w++;
    }
    return w;
}

/* ---- appending ---------------------------------------------------------------------------- */

/* Appends one column's bytes, clipping the line at HG_TEXT_COLS with "...". */
static void put_unit(hg__report_tl_t *tl, const char *bytes, size_t n) {
    if (tl->clipped) {
        return;
    }
    if (tl->width == HG_TEXT_COLS - 3) {
        tl->cut = tl->line.len;
    }
    if (tl->width == HG_TEXT_COLS) {
        tl->line.len = tl->cut;
        hg_buf_puts(&tl->line, "...");
        tl->clipped = true;
        return;
    }
    hg_buf_append(&tl->line, bytes, n);
    tl->width++;
}

void hg__report_tl_put(hg__report_tl_t *tl, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    const char *rep;
    size_t rep_len;
    while (*p) {
        p += next_unit(p, &rep, &rep_len);
        put_unit(tl, rep, rep_len);
    }
}

void hg__report_tl_putf(hg__report_tl_t *tl, const char *fmt, ...) {
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    hg__report_tl_put(tl, b);
}

/* Keeps the first and last columns of s with "..." between them: the start of a function name
 * and the file:line at its end both stay visible. */
void hg__report_tl_fit(hg__report_tl_t *tl, const char *s, size_t max_cols) {
    size_t w = hg__report_tl_width(s);
    if (w <= max_cols || max_cols < 5) {
        hg__report_tl_put(tl, s);
        return;
    }
    size_t tail = (max_cols - 3) / 2, head = max_cols - 3 - tail;
    const unsigned char *p = (const unsigned char *)s;
    const char *rep;
    size_t rep_len;
    for (size_t i = 0; *p; i++) {
        size_t n = next_unit(p, &rep, &rep_len);
        if (i < head || i >= w - tail) {
            put_unit(tl, rep, rep_len);
        } else if (i == head) {
            hg__report_tl_put(tl, "...");
        }
        p += n;
    }
}

void hg__report_tl_col(hg__report_tl_t *tl, size_t col) {
    if (tl->width >= col) {
        put_unit(tl, " ", 1);
    }
    while (tl->width < col && !tl->clipped) {
        put_unit(tl, " ", 1);
    }
}

void hg__report_tl_right(hg__report_tl_t *tl, const char *s, size_t end) {
    size_t w = hg__report_tl_width(s);
    hg__report_tl_col(tl, end > w ? end - w : 0);
    hg__report_tl_put(tl, s);
}

void hg__report_tl_color(hg__report_tl_t *tl, const char *sgr) {
    if (tl->opt->color) {
        hg_buf_printf(&tl->line, "\x1b[%sm", sgr);
    }
}

void hg__report_tl_end(hg__report_tl_t *tl) {
    hg_buf_t *b = &tl->line;
    while (b->len && b->data[b->len - 1] == ' ') {
        b->len--;
    }
    hg_buf_putc(b, '\n');
    if (b->failed) {
        hg__report_tl_nomem(tl);
    } else {
        hg_out_write(tl->o, b->data, b->len);
    }
    hg_buf_reset(b);
    b->failed = false;
    tl->width = 0;
    tl->cut = 0;
    tl->clipped = false;
}

void hg__report_tl_heading(hg__report_tl_t *tl, const char *title) {
    hg__report_tl_end(tl);
    hg__report_tl_color(tl, HG_SGR_BOLD);
    hg__report_tl_put(tl, title);
    hg__report_tl_color(tl, HG_SGR_RESET);
}

/* ---- numbers and frames --------------------------------------------------------------- */

void hg__report_tl_bytes(hg__report_tl_t *tl, uint64_t bytes, size_t end) {
    char b[32];
    hg__report_tl_right(tl, hg_format_bytes(bytes, b, sizeof b), end);
}

void hg__report_tl_count(hg__report_tl_t *tl, uint64_t n, size_t end) {
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)n);
    hg__report_tl_right(tl, b, end);
}

void hg__report_tl_frame(hg__report_tl_t *tl, const hg_rframe_t *f, size_t max_cols) {
    hg_buf_reset(&tl->frame);
    if (f->inlined) {
        hg_buf_puts(&tl->frame, "[inlined] ");
    }
    hg_rframe_format(f, &tl->frame);
    if (tl->frame.failed) {
        hg__report_tl_nomem(tl);
        return;
    }
    hg__report_tl_fit(tl, tl->frame.data, max_cols);
}
