/* html_priv.h - what the HTML writer's files share (html.c: the page and its tables,
 * html_chart.c: SVG line charts, html_flame.c: the icicle graph); private to reports/html*.c.
 *
 * Every string from the report goes out through hg__html_text or hg__html_attr (escaped by
 * hg__report_xml_escape), so the page stays well-formed whatever a trace holds; numbers the
 * tests compare with the model are repeated in data-* attributes as exact integers. */
#ifndef HG_REPORTS_HTML_PRIV_H
#define HG_REPORTS_HTML_PRIV_H

#include "internal.h"

typedef struct hg__html {
    const hg_report_t *r;
    const hg_write_options_t *opt;
    hg_out_t *o;
    hg_buf_t b; /* scratch for formatted frames and names */
} hg__html_t;

/* Series colours, shared by charts and their legends. */
#define HG_HTML_NCOLORS 8
extern const char *const hg__html_colors[HG_HTML_NCOLORS];

void hg__html_text(hg__html_t *h, const char *s);
/* ' name="value"' with the value escaped. */
void hg__html_attr(hg__html_t *h, const char *name, const char *value);
void hg__html_attr_u64(hg__html_t *h, const char *name, uint64_t v);
/* A table cell with a byte count: human size shown, exact count in data-value and title. */
void hg__html_bytes_cell(hg__html_t *h, uint64_t bytes);
void hg__html_count_cell(hg__html_t *h, uint64_t n);
/* A frame as every writer names it (hg_rframe_format), escaped. */
void hg__html_frame(hg__html_t *h, const hg_rframe_t *f);
/* The name a site is shown by: its source frame, else its innermost frame, else "(no stack)". */
void hg__html_site_name(hg__html_t *h, const hg_rsite_t *s);

/* Sections written by html_chart.c and html_flame.c. */
void hg__html_charts(hg__html_t *h);
void hg__html_icicle(hg__html_t *h);

#endif
