/* text_priv.h - the text writer's line builder and its sections; private to reports/text*.c.
 *
 * A line is built in a buffer with its display width counted (one column per code point: wide
 * CJK characters and combining marks are not measured), padded to columns, and written out
 * whole. Every string that can come from a trace goes through the builder, which replaces
 * control characters (C0, DEL, C1, bidirectional overrides) with '?' and bytes that are not
 * UTF-8 with U+FFFD, so a hostile process name cannot drive the terminal. No line exceeds
 * HG_TEXT_COLS columns: long fields are shortened in the middle ("abc...xyz"), and anything
 * still too long is clipped with "...". ANSI colour is added only when the options ask. */
#ifndef HG_REPORTS_TEXT_PRIV_H
#define HG_REPORTS_TEXT_PRIV_H

#include "internal.h"

#define HG_TEXT_COLS 100

/* SGR parameters for hg__report_tl_color */
#define HG_SGR_RESET  "0"
#define HG_SGR_BOLD   "1"
#define HG_SGR_RED    "1;31"
#define HG_SGR_GREEN  "1;32"
#define HG_SGR_YELLOW "33"
#define HG_SGR_DIM    "2"

typedef struct hg__report_tl {
    const hg_report_t *r;
    const hg_write_options_t *opt;
    hg_out_t *o;
    hg_buf_t line;
    size_t width;   /* display columns in line */
    size_t cut;     /* byte length of line when it was HG_TEXT_COLS - 3 wide */
    bool clipped;   /* line reached HG_TEXT_COLS; the rest of it is dropped */
    hg_buf_t frame; /* scratch for formatted frames */
} hg__report_tl_t;

void hg__report_tl_init(hg__report_tl_t *tl, const hg_report_t *r, const hg_write_options_t *opt,
                        hg_out_t *o);
void hg__report_tl_free(hg__report_tl_t *tl);

/* Appends s, sanitized. */
void hg__report_tl_put(hg__report_tl_t *tl, const char *s);
/* Appends a printf-formatted piece (at most 511 bytes), sanitized like any string. */
void hg__report_tl_putf(hg__report_tl_t *tl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s shortened in the middle to at most max_cols columns. */
void hg__report_tl_fit(hg__report_tl_t *tl, const char *s, size_t max_cols);
/* Appends s so that it ends at column end (right-aligned), after at least one space. */
void hg__report_tl_right(hg__report_tl_t *tl, const char *s, size_t end);
/* Pads with spaces to column col (one space when the line is already past it). */
void hg__report_tl_col(hg__report_tl_t *tl, size_t col);
/* Starts an SGR colour (HG_SGR_*) when colour is on; takes no columns. */
void hg__report_tl_color(hg__report_tl_t *tl, const char *sgr);
/* Ends the line (trailing spaces dropped) and writes it out. */
void hg__report_tl_end(hg__report_tl_t *tl);
/* A blank line, then the heading in bold. */
void hg__report_tl_heading(hg__report_tl_t *tl, const char *title);
/* Notes an allocation failure on the output (the report would be incomplete). */
void hg__report_tl_nomem(hg__report_tl_t *tl);
/* The columns s takes once sanitized. */
size_t hg__report_tl_width(const char *s);

/* Right-aligned numbers ending at column end: a byte count in binary units, a plain count. */
void hg__report_tl_bytes(hg__report_tl_t *tl, uint64_t bytes, size_t end);
void hg__report_tl_count(hg__report_tl_t *tl, uint64_t n, size_t end);

/* The sections, in report order (text.c writes the verdict, totals and processes). */
void hg__report_text_sites(hg__report_tl_t *tl);
void hg__report_text_anomalies(hg__report_tl_t *tl);
void hg__report_text_heaps(hg__report_tl_t *tl);
void hg__report_text_lifetime(hg__report_tl_t *tl);
void hg__report_text_trace(hg__report_tl_t *tl);

/* Appends frame f of a stack (formatted by hg_rframe_format), shortened to max_cols. */
void hg__report_tl_frame(hg__report_tl_t *tl, const hg_rframe_t *f, size_t max_cols);

#endif
