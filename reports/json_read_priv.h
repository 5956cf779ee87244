/* json_read_priv.h - the JSON report reader's shared pieces (json_read.c: the document, header,
 * processes, sites, anomalies; json_read_more.c: fragmentation, timeline, lifetime, trace,
 * suppressions, gate). Private to reports/json_read*.c. */
#ifndef HG_REPORTS_JSON_READ_PRIV_H
#define HG_REPORTS_JSON_READ_PRIV_H

#include "internal.h"

#include <jansson.h>

/* The reading of one document: its name for messages and the first error. Every getter
 * returns false once an error is set, so readers can chain them with &&. */
typedef struct hg__rd {
    const char *name;
    hg_error_t *err;
    int rc;
} hg__rd_t;

/* Fails with HG_EFORMAT: "NAME: WHERE.KEY: expected WANT". Returns false. */
bool hg__rd_fail(hg__rd_t *rd, const char *where, const char *key, const char *want);
/* Notes an allocation failure. Returns false. */
bool hg__rd_nomem(hg__rd_t *rd);

/* Getters: a missing key or null leaves the default (0, false, NULL, NaN for doubles). */
bool hg__rd_u64(hg__rd_t *rd, const json_t *o, const char *where, const char *key, uint64_t *v);
bool hg__rd_u32(hg__rd_t *rd, const json_t *o, const char *where, const char *key, uint32_t *v);
bool hg__rd_i64(hg__rd_t *rd, const json_t *o, const char *where, const char *key, int64_t *v);
bool hg__rd_hex(hg__rd_t *rd, const json_t *o, const char *where, const char *key, uint64_t *v);
bool hg__rd_bool(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *v);
bool hg__rd_double(hg__rd_t *rd, const json_t *o, const char *where, const char *key, double *v);
bool hg__rd_str(hg__rd_t *rd, const json_t *o, const char *where, const char *key, char **v);
/* The member key of o as an object or array (NULL when missing or null; an error when it is
 * of another type). *ok tells whether reading may go on. */
json_t *hg__rd_object(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *ok);
json_t *hg__rd_array(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *ok);
bool hg__rd_totals(hg__rd_t *rd, const json_t *o, const char *where, hg_rtotals_t *t);
bool hg__rd_lifetime(hg__rd_t *rd, const json_t *o, const char *where, hg_rlifetime_t *l);

/* Sections read by json_read_more.c. */
bool hg__rd_fragmentation(hg__rd_t *rd, const json_t *doc, hg_report_t *r);
bool hg__rd_series(hg__rd_t *rd, const json_t *doc, hg_report_t *r);
bool hg__rd_trace(hg__rd_t *rd, const json_t *doc, hg_report_t *r);
bool hg__rd_suppressions(hg__rd_t *rd, const json_t *doc, hg_report_t *r);
bool hg__rd_gate(hg__rd_t *rd, const json_t *doc, hg_report_t *r);

#endif
