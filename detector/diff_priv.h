/* diff_priv.h - `heapgate diff`'s model and writers; private to detector/diff*.c. */
#ifndef HG_DETECTOR_DIFF_PRIV_H
#define HG_DETECTOR_DIFF_PRIV_H

#include "detector_priv.h"

typedef enum hg_dstatus {
    HG_DS_NEW,    /* leaks in NEW, not in OLD */
    HG_DS_GROWN,  /* leaks in both, more in NEW */
    HG_DS_SHRUNK, /* leaks in both, less in NEW */
    HG_DS_FIXED,  /* leaked in OLD, not in NEW */
    HG_DS_SAME,   /* the same leaked bytes in both */
    HG_DS_COUNT
} hg_dstatus_t;

typedef struct hg_dsite {
    hg_dstatus_t status;
    const hg_rsite_t *site; /* NEW's site, or OLD's for a fixed one */
    uint64_t old_bytes, new_bytes, old_blocks, new_blocks;
    bool beyond; /* fails the diff: new, or grown by more than --max-growth-bytes */
} hg_dsite_t;

typedef struct hg_danomaly {
    bool gone; /* in OLD only; else in NEW only */
    const hg_ranomaly_t *a;
} hg_danomaly_t;

typedef struct hg_diff {
    const char *old_path, *new_path;
    const hg_report_t *old_r, *new_r;
    uint64_t max_growth_bytes;
    hg_dsite_t *sites;
    size_t nsites;
    size_t counts[HG_DS_COUNT];
    hg_danomaly_t *anomalies;
    size_t nanomalies, new_anomalies, gone_anomalies, new_errors;
    uint64_t old_bytes, new_bytes, old_blocks, new_blocks; /* counted as the gate counts */
    bool failed;
} hg_diff_t;

const char *hg__dstatus_name(hg_dstatus_t s);
/* The diff's JSON (jansson) and text, written to o. */
int hg__diff_write_json(const hg_diff_t *d, hg_out_t *o);
void hg__diff_write_text(const hg_diff_t *d, unsigned top, hg_out_t *o);

#endif
