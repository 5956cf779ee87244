/* anomaly_names.c - ids, names, descriptions and severities of the anomaly catalogue
 * (docs/heap-semantics.md §3), and their parsers for --fail-on. */
#include "tracker.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *id, *name, *description;
} catalogue[HG_ANOMALY_KIND_MAX + 1] = {
    [HG_A1_FREE_UNKNOWN] = {"A1", "free-unknown", "free of an address never seen live"},
    [HG_A2_DOUBLE_FREE] = {"A2", "double-free",
                           "free of an address already freed, with no allocation at it since"},
    [HG_A3_WRONG_HEAP] = {"A3", "wrong-heap-free",
                          "block freed on a heap other than the one it was allocated from"},
    [HG_A4_OVERLAP] = {"A4", "overlapping-allocation",
                       "allocation overlapping a live block (the old block is retired as freed)"},
    [HG_A5_DESTROY_LIVE] = {"A5", "destroy-with-live-blocks",
                            "heap destroyed while it still held live blocks"},
    [HG_A6_REALLOC_UNKNOWN] = {"A6", "realloc-unknown",
                               "realloc of a block never seen live (the new block still lives)"},
    [HG_A7_REALLOC_SIZE] = {"A7", "realloc-size-mismatch",
                            "realloc's recorded old size differs from the block's size"},
    [HG_A8_SIZE] = {"A8", "extreme-size", "allocation of size 0 or above the configured cap"},
    [HG_A9_SOURCE_INVALID] = {"A9", "invalid-source",
                              "heap event with Source = 5 (invalid); block not counted live"},
    [HG_A10_SOURCE_UNDOCUMENTED] = {"A10", "undocumented-source",
                                    "heap event with Source 6 or beyond the documented values"},
    [HG_A12_MISALIGNED] = {"A12", "misaligned-address",
                           "block address not aligned to the heap granularity"},
    [HG_A13_NO_LFH] = {"A13", "lfh-never-engaged",
                       "18+ allocations of one size below 16 KiB on a heap, none from the LFH"},
};

static bool known(int kind) {
    return kind > 0 && kind <= HG_ANOMALY_KIND_MAX && catalogue[kind].id != NULL;
}

const char *hg_anomaly_id(int kind) {
    return known(kind) ? catalogue[kind].id : "A?";
}

const char *hg_anomaly_name(int kind) {
    return known(kind) ? catalogue[kind].name : "unknown";
}

const char *hg_anomaly_description(int kind) {
    return known(kind) ? catalogue[kind].description : "unknown anomaly";
}

const char *hg_severity_name(int severity) {
    switch (severity) {
    case HG_SEV_INFO:
        return "info";
    case HG_SEV_WARNING:
        return "warning";
    case HG_SEV_ERROR:
        return "error";
    default:
        return "none";
    }
}

int hg_anomaly_parse(const char *s) {
    for (int k = 1; k <= HG_ANOMALY_KIND_MAX; k++) {
        if (known(k) &&
            (strcasecmp(s, catalogue[k].id) == 0 || strcasecmp(s, catalogue[k].name) == 0)) {
            return k;
        }
    }
    return 0;
}

int hg_severity_parse(const char *s) {
    for (int sev = HG_SEV_INFO; sev <= HG_SEV_ERROR; sev++) {
        if (strcasecmp(s, hg_severity_name(sev)) == 0) {
            return sev;
        }
    }
    return 0;
}
