/* report.h - the report model (plain data, no behaviour beyond building and freeing it) and the
 * writers that turn it into text, JSON and the other formats, optionally gzip-compressed.
 *
 * The detector builds a hg_report_t from the tracker's results and the symbolizer; the gate
 * reads it and records its verdict in it; writers only read it. Every string in the model is
 * owned by the model (allocated with hg_malloc) and freed by hg_report_free. Vocabulary and
 * units follow ARCHITECTURE.md's report vocabulary (docs/report-json.md documents the JSON). */
#ifndef HG_REPORT_H
#define HG_REPORT_H

#include "base.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HG_REPORT_SCHEMA_VERSION 1

typedef struct hg_rtotals {
    uint64_t leaked_bytes, leaked_blocks;
    uint64_t outstanding_bytes, outstanding_blocks;
    uint64_t released_by_destroy_bytes, released_by_destroy_blocks;
} hg_rtotals_t;

/* One frame of a site's stack, innermost first. Unresolved frames have function == NULL and
 * are shown as module+0xoffset (or the raw address when no module covers it). */
typedef struct hg_rframe {
    uint64_t addr;
    char *module;    /* module file name (no directory); NULL when no module covers addr */
    uint64_t offset; /* addr - module base */
    char *function;  /* NULL when unresolved */
    char *file;      /* NULL when unknown */
    uint32_t line;   /* 0 when unknown */
    uint32_t column; /* 0 when unknown */
    bool inlined;    /* an inline frame within the next (outer) frame's function */
} hg_rframe_t;

typedef struct hg_rsite {
    char *id;            /* 16 hex digits: hash of the ASLR-stable identity (module+offset
                            or function names) */
    hg_rframe_t *frames; /* innermost first, allocator frames already trimmed */
    size_t nframes;
    hg_rtotals_t totals;
    uint64_t allocs, alloc_bytes, peak_live_bytes;
    uint64_t first_ts_ns, last_ts_ns;
    uint64_t aifo_blocks, aifo_bytes;
    uint32_t *pids; /* processes the site allocated in */
    size_t npids;
    char *suppressed_by; /* the suppression pattern that matched; NULL when not suppressed */
    bool runtime;        /* matched a built-in runtime suppression: shown, never gated */
} hg_rsite_t;

typedef struct hg_rexample {
    uint64_t ts_ns;
    uint32_t pid, tid;
    uint64_t heap, addr, size;
    uint64_t other; /* A3: the heap the block lives in; A7: recorded size; A13: allocations */
} hg_rexample_t;

typedef struct hg_ranomaly {
    int kind;          /* 1..13 (A1..A13) */
    char *id;          /* "A3" */
    char *name;        /* "wrong-heap-free" */
    char *description; /* one line */
    int severity;      /* 1 info, 2 warning, 3 error */
    uint64_t count;
    char *site; /* id of the site that allocated the block; NULL = no stack */
    hg_rexample_t example;
} hg_ranomaly_t;

typedef struct hg_rfit {
    uint64_t size, requests;
    bool defined;
    double ratio;
} hg_rfit_t;

#define HG_RHOLE_BUCKETS 64

typedef struct hg_rfrag {
    uint64_t ts_ns;
    uint64_t live_bytes, live_blocks, rounded_bytes;
    uint64_t clusters, span_bytes;
    double utilisation, span_overhead;
    uint64_t holes, free_bytes, largest_hole;
    uint64_t hole_hist[HG_RHOLE_BUCKETS]; /* bucket i: 2^i <= hole < 2^(i+1) */
    double external, sawicki;
    hg_rfit_t fit[5];
    size_t nfit;
} hg_rfrag_t;

typedef struct hg_rheap {
    uint32_t pid;
    uint32_t process; /* index into hg_report_t.processes */
    uint64_t handle;
    bool created_in_trace, destroyed;
    uint64_t create_ts_ns, destroy_ts_ns;
    uint64_t allocs, frees, alloc_bytes;
    uint64_t peak_live_bytes, peak_live_ts_ns, peak_live_blocks;
    uint64_t max_span_bytes;
    double peak_ratio;
    uint64_t source_allocs[8]; /* Source 0..6, [7] other */
    char *growth_signal;
    hg_rfrag_t frag;
} hg_rheap_t;

typedef struct hg_rsample {
    uint64_t ts_ns;
    uint32_t process; /* index into processes */
    uint64_t heap;    /* heap handle */
    uint64_t live_bytes, live_blocks;
    bool measured; /* the next four are valid (the tracker walked the live set) */
    uint64_t span_bytes, free_bytes, largest_hole;
    double external;
    uint64_t allocs_total, slow_allocs_total;
} hg_rsample_t;

typedef struct hg_rstats {
    uint32_t process;
    uint64_t ts_ns;
    uint64_t arena_bytes, in_use_bytes, free_bytes, mmapped_bytes, rss_bytes;
} hg_rstats_t;

typedef struct hg_rlifetime {
    bool enabled;
    uint64_t t0_ns, t1_ns;
    uint64_t aifi_blocks, aifi_bytes, aifo_blocks, aifo_bytes;
    uint64_t aofi_blocks, aofi_bytes, aofo_blocks, aofo_bytes;
    int64_t impacting_bytes;
} hg_rlifetime_t;

typedef struct hg_rprocess {
    uint32_t pid, parent_pid, instance;
    char *name, *cmdline;
    uint8_t pointer_size;
    char *allocator; /* "windows", "glibc", "unknown" */
    bool ended, traced_from_start;
    uint64_t start_ts_ns, end_ts_ns;
    hg_rtotals_t totals;
    uint64_t allocs, reallocs, frees, alloc_bytes;
    uint64_t peak_live_bytes, peak_live_ts_ns;
    hg_rlifetime_t lifetime;
    char *input; /* the file it came from */
} hg_rprocess_t;

typedef struct hg_rtrace {
    uint64_t events, filtered_events, unmatched_frees, failed_allocations;
    uint64_t allocs, reallocs, frees, heap_creates, heap_destroys;
    uint64_t lost_events, lost_buffers;
    bool lost_counts_known;
    bool truncated;
    uint64_t first_ts_ns, last_ts_ns;
    uint64_t start_wall_ns; /* 0 when unknown */
    uint64_t stacks_defined, stacks_undefined, markers;
    uint64_t settle_ignored_blocks, settle_ignored_bytes;
    uint64_t out_of_order_events;
} hg_rtrace_t;

typedef struct hg_rsuppression {
    char *pattern; /* "leak:foo" as written */
    bool builtin;  /* a built-in runtime rule */
    uint64_t sites, bytes, blocks;
} hg_rsuppression_t;

typedef struct hg_rcheck {
    char *name;     /* "max-leaked-bytes", "fail-on:error", ... */
    char *measured; /* the measured value as text ("1024") */
    char *limit;    /* the threshold as text */
    bool passed;
    char *detail; /* one line: why it failed, or what was checked */
    char *site;   /* for per-site checks: the site id; NULL otherwise */
} hg_rcheck_t;

typedef struct hg_rgate {
    bool evaluated;
    bool passed;
    hg_rcheck_t *checks;
    size_t nchecks;
} hg_rgate_t;

typedef struct hg_report {
    int schema_version;
    char *tool_version;
    char **inputs;
    size_t ninputs;
    char **input_formats; /* parallel to inputs: "hgt", "text", ... */
    hg_rtotals_t totals;  /* sums over processes, suppressed sites excluded */
    bool incomplete;
    char **warnings; /* truncation and other input warnings */
    size_t nwarnings;
    hg_rprocess_t *processes;
    size_t nprocesses;
    hg_rsite_t *sites; /* every site that allocated; sorted: leaked, outstanding, total bytes */
    size_t nsites;
    hg_ranomaly_t *anomalies; /* sorted: severity, count */
    size_t nanomalies;
    hg_rheap_t *heaps;
    size_t nheaps;
    hg_rsample_t *timeline;
    size_t ntimeline;
    hg_rstats_t *allocator_stats;
    size_t nallocator_stats;
    hg_rlifetime_t lifetime; /* sums over processes */
    hg_rtrace_t trace;
    hg_rsuppression_t *suppressions;
    size_t nsuppressions;
    hg_rtotals_t suppressed; /* what suppressions removed from the totals */
    uint64_t suppressed_sites;
    uint64_t cluster_gap_bytes;
    hg_rgate_t gate;
} hg_report_t;

/* A new empty report (schema version set) or NULL when out of memory. */
hg_report_t *hg_report_new(void);
void hg_report_free(hg_report_t *r);

/* Array growth helpers for builders: append one zeroed element, return it or NULL (ENOMEM). */
hg_rsite_t *hg_report_add_site(hg_report_t *r);
hg_ranomaly_t *hg_report_add_anomaly(hg_report_t *r);
hg_rprocess_t *hg_report_add_process(hg_report_t *r);
hg_rheap_t *hg_report_add_heap(hg_report_t *r);
hg_rsample_t *hg_report_add_sample(hg_report_t *r);
hg_rstats_t *hg_report_add_stats(hg_report_t *r);
hg_rcheck_t *hg_report_add_check(hg_report_t *r);
hg_rsuppression_t *hg_report_add_suppression(hg_report_t *r);
int hg_report_add_input(hg_report_t *r, const char *path, const char *format);
int hg_report_add_warning(hg_report_t *r, const char *msg);

/* Frees what site s owns (frames, strings, pids) and zeroes it; s itself is not freed. */
void hg_rsite_clear(hg_rsite_t *s);

/* Sorts sites (leaked bytes, outstanding bytes, alloc bytes, id) and anomalies (severity,
 * count, id) into report order. */
void hg_report_sort(hg_report_t *r);
/* The site with this id, or NULL. */
const hg_rsite_t *hg_report_find_site(const hg_report_t *r, const char *id);

/* ---- output ------------------------------------------------------------------------------ */

typedef enum hg_report_format {
    HG_RF_TEXT = 0,
    HG_RF_JSON,
    HG_RF_HTML,
    HG_RF_PPROF,
    HG_RF_SARIF,
    HG_RF_JUNIT,
    HG_RF_COLLAPSED,
    HG_RF_COUNT
} hg_report_format_t;

/* "text", "json", ...; parse returns -1 for an unknown name. */
const char *hg_report_format_name(hg_report_format_t f);
int hg_report_format_parse(const char *name);
/* The format a file name asks for by its suffix (".json", ".json.gz", ...), -1 when the suffix
 * names none; *gzip tells whether a further ".gz" asks for compression. */
int hg_report_format_from_path(const char *path, bool *gzip);
/* Whether a writer for f exists in this build. */
bool hg_report_format_available(hg_report_format_t f);

/* A destination: a regular file (written under a temporary name beside it and renamed by
 * hg_out_commit), a non-regular file such as /dev/null or a FIFO (written directly), "-" or a
 * stream (stdout, stderr). Optionally gzip-compressed through zlib. */
typedef struct hg_out hg_out_t;

hg_out_t *hg_out_open(const char *path, bool gzip, hg_error_t *err);
hg_out_t *hg_out_stream(FILE *fp, const char *name, bool gzip, hg_error_t *err);
void hg_out_write(hg_out_t *o, const void *data, size_t n);
void hg_out_puts(hg_out_t *o, const char *s);
void hg_out_printf(hg_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Finishes the output (gzip trailer, rename). Returns 0, or HG_EIO with err set when anything
 * written so far failed (nothing is left under the final name then). Frees o. */
int hg_out_commit(hg_out_t *o, hg_error_t *err);
/* Drops the output (the temporary file is removed). Frees o. */
void hg_out_abort(hg_out_t *o);

typedef struct hg_write_options {
    unsigned top;        /* sites shown in detail by human formats (default 10; 0 = all) */
    bool color;          /* ANSI colour in text output */
    unsigned max_frames; /* frames shown per stack in text (default 16; 0 = all) */
} hg_write_options_t;

void hg_write_options_init(hg_write_options_t *opt);

/* Writes r in format f to o. Returns 0 or HG_EUSAGE for a format this build cannot write;
 * output errors surface at hg_out_commit. */
int hg_report_write(const hg_report_t *r, hg_report_format_t f, const hg_write_options_t *opt,
                    hg_out_t *o);

/* Per-format writers (hg_report_write dispatches to these). */
void hg_report_write_text(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);
void hg_report_write_json(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);
void hg_report_write_html(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);
/* Always gzip-compressed itself (pprof files are gzip): open o without gzip. */
void hg_report_write_pprof(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);
void hg_report_write_sarif(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);
void hg_report_write_junit(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);
void hg_report_write_collapsed(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o);

/* ---- reading a JSON report back (reports/json_read.c) ------------------------------------- */

/* Reads a JSON report (docs/report-json.md; plain or gzip-compressed) into a new, sorted
 * model. Returns NULL with err set on failure: HG_EFORMAT naming the file and the key's path
 * (or the line and column of a syntax error), HG_EIO, HG_ELIMIT, HG_ENOMEM. Keys it does not
 * know are ignored; schema_version must be present and equal HG_REPORT_SCHEMA_VERSION. */
hg_report_t *hg_report_read_json(const char *path, hg_error_t *err);
/* The same from memory (len bytes, no NUL needed); name is used in messages. */
hg_report_t *hg_report_parse_json(const void *data, size_t len, const char *name, hg_error_t *err);

/* Formats an address frame the way every writer shows it: "function (file:line)",
 * "module+0x1a2b" or "0x7ffe12345678". */
void hg_rframe_format(const hg_rframe_t *f, hg_buf_t *out);
/* The frame's name alone: its function, else module+0xoffset, else the address. */
void hg_rframe_name(const hg_rframe_t *f, hg_buf_t *out);

#endif
