/* sarif_priv.h - a small streaming JSON emitter for the SARIF writer (sarif.c, sarif_emit.c):
 * indented with two spaces down to HG_SJ_PRETTY_DEPTH (a result's members), compact below, keys
 * in the order written, strings escaped and made valid
 * UTF-8 by hg__report_json_string. Private to reports/sarif*.c. */
#ifndef HG_REPORTS_SARIF_PRIV_H
#define HG_REPORTS_SARIF_PRIV_H

#include "internal.h"

#define HG_SJ_MAX_DEPTH    24
#define HG_SJ_PRETTY_DEPTH 5 /* levels indented; deeper ones are written compactly */

typedef struct hg__sj {
    hg_out_t *o;
    unsigned depth;
    bool first[HG_SJ_MAX_DEPTH];
} hg__sj_t;

/* Opens an object ('{') or array ('[') as a member (key) or an element (key NULL). */
void hg__sj_open(hg__sj_t *w, const char *key, char bracket);
void hg__sj_close(hg__sj_t *w, char bracket);
void hg__sj_str(hg__sj_t *w, const char *key, const char *s); /* NULL writes null */
void hg__sj_u64(hg__sj_t *w, const char *key, uint64_t v);
void hg__sj_bool(hg__sj_t *w, const char *key, bool v);
/* A member whose value is text already in buffer form (an escaped string is written). */
void hg__sj_buf(hg__sj_t *w, const char *key, const hg_buf_t *b);
/* {"text": s} as a SARIF message object (SARIF 2.1.0 section 3.11). */
void hg__sj_message(hg__sj_t *w, const char *key, const char *text);

#endif
