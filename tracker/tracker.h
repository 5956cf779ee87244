/* tracker.h - heapgate's core: the event model every input is turned into, the sink through
 * which readers deliver it, and the tracker that turns the stream into leaks, anomalies,
 * lifetime classes and fragmentation figures.
 *
 * The tracker knows nothing of files, symbols or output. Readers (tracker/formats) call a
 * hg_sink_t; the tracker offers one (hg_tracker_sink) and so does the .hgt writer. After
 * hg_tracker_finish the results are read back through the query functions at the end. */
#ifndef HG_TRACKER_H
#define HG_TRACKER_H

#include "base.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- the event model ---------------------------------------------------------------------- */

typedef enum hg_event_kind {
    HG_EV_ALLOC = 1,
    HG_EV_REALLOC = 2,
    HG_EV_FREE = 3,
    HG_EV_HEAP_CREATE = 4,
    HG_EV_HEAP_DESTROY = 5,
    HG_EV_PROCESS_START = 6,
    HG_EV_PROCESS_END = 7,
    HG_EV_LOST = 8,   /* size = events lost, old_size = buffers lost */
    HG_EV_MARKER = 9, /* addr = a marker value chosen by the recorder */
    HG_EV_KIND_MAX = 9
} hg_event_kind_t;

/* ETW heap event Source values (docs/heap-semantics.md §3; ARCHITECTURE.md). 0 means "not
 * applicable": Linux agent and hand-written traces; source-path rules apply only to ETW. */
enum {
    HG_SOURCE_NA = 0,
    HG_SOURCE_LOOKASIDE = 1,
    HG_SOURCE_LFH = 2,
    HG_SOURCE_MAIN = 3,
    HG_SOURCE_SLOW = 4,
    HG_SOURCE_INVALID = 5,
    HG_SOURCE_SEGMENT = 6,
};

/* hg_event_t.flags */
#define HG_EVF_OLD_SIZE 0x0001u /* realloc: old_size was recorded and can be checked */
#define HG_EVF_MMAPPED  0x0002u /* block served directly by mmap (Linux agent) */

/* One event. Which fields matter depends on kind:
 *   ALLOC    heap, addr, size, source, stack_id
 *   REALLOC  heap, addr (new), size (new), old_addr, old_size (flag OLD_SIZE), source, stack_id
 *   FREE     heap, addr, source
 *   HEAP_CREATE / HEAP_DESTROY  heap
 *   PROCESS_START / PROCESS_END (metadata comes through hg_sink_ops_t.process)
 *   LOST     size = events lost, old_size = buffers lost
 * ts_ns counts from the trace start. stack_id 0 means "no stack". */
typedef struct hg_event {
    uint8_t kind;
    uint8_t source;
    uint16_t flags;
    uint32_t stack_id;
    uint32_t pid;
    uint32_t tid;
    uint64_t ts_ns;
    uint64_t heap;
    uint64_t addr;
    uint64_t size;
    uint64_t old_addr;
    uint64_t old_size;
} hg_event_t;

typedef enum hg_allocator {
    HG_ALLOCATOR_UNKNOWN = 0, /* treated as the Windows heap for rounding */
    HG_ALLOCATOR_WINDOWS = 1,
    HG_ALLOCATOR_GLIBC = 2,
} hg_allocator_t;

/* Process metadata. Strings belong to the caller and are copied. */
typedef struct hg_process_info {
    uint32_t pid;
    uint32_t parent_pid;
    const char *name;     /* may be NULL */
    const char *cmdline;  /* may be NULL */
    uint8_t pointer_size; /* 4 or 8; 0 = the trace's default */
    uint8_t allocator;    /* hg_allocator_t */
} hg_process_info_t;

/* A loaded module (image). Strings and bytes belong to the caller. */
typedef struct hg_module_info {
    uint32_t pid;
    bool unload; /* this record unloads the module loaded at base */
    uint64_t base;
    uint64_t size;
    uint64_t ts_ns;
    const char *path;
    const uint8_t *build_id; /* ELF build-id; may be NULL */
    uint32_t build_id_len;
    const char *pdb_name; /* PDB identity (DbgID_RSDS); NULL when unknown */
    uint8_t pdb_guid[16]; /* GUID as the 16 bytes of its Windows in-memory layout */
    uint32_t pdb_age;
    uint32_t pe_timestamp; /* PE TimeDateStamp; 0 when unknown */
} hg_module_info_t;

/* Allocator statistics recorded by an in-process agent (glibc mallinfo2 and /proc RSS). */
typedef struct hg_alloc_stats {
    uint32_t pid;
    uint64_t ts_ns;
    uint64_t arena_bytes;   /* non-mmapped bytes obtained from the system */
    uint64_t in_use_bytes;  /* bytes in allocated chunks */
    uint64_t free_bytes;    /* bytes in free chunks */
    uint64_t mmapped_bytes; /* bytes in mmapped chunks */
    uint64_t rss_bytes;     /* resident set size; 0 when unknown */
} hg_alloc_stats_t;

/* What a reader knows about the whole trace, told once before the first event. */
typedef struct hg_trace_info {
    const char *format;        /* "hgt", "text", "etl", ... */
    uint64_t start_wall_ns;    /* Unix time (ns) of ts 0; 0 when unknown */
    uint64_t duration_hint_ns; /* expected length; 0 when unknown (sizes the timeline) */
    uint8_t pointer_size;      /* default for processes that do not say; 0 = 8 */
    bool lost_counts_known;    /* the recorder reports lost events (HG_EV_LOST) reliably */
} hg_trace_info_t;

/* The stream a reader produces. Every callback returns 0 to go on, or a negative HG_E... code
 * that the reader passes back to its caller unchanged (stop). Pointers are valid during the
 * call only.
 *
 * Stack ids are chosen by the reader, unique within one trace, 1..2^32-1, and should be dense
 * (small integers): the tracker indexes by them. A stack may be defined before or after the
 * events that use it (late binding, ARCHITECTURE.md), or never (its frames stay unknown).
 * Frames are return addresses, innermost (allocator side) first. A NULL callback means "not
 * interested": readers skip it. */
typedef struct hg_sink_ops {
    int (*trace)(void *ctx, const hg_trace_info_t *info);
    int (*process)(void *ctx, const hg_process_info_t *info);
    int (*module)(void *ctx, const hg_module_info_t *info);
    int (*stack)(void *ctx, uint32_t stack_id, const uint64_t *frames, uint32_t nframes);
    int (*event)(void *ctx, const hg_event_t *ev);
    int (*stats)(void *ctx, const hg_alloc_stats_t *stats);
} hg_sink_ops_t;

typedef struct hg_sink {
    const hg_sink_ops_t *ops;
    void *ctx;
} hg_sink_t;

#define HG_MAX_FRAMES 256 /* deeper stacks are cut to their innermost frames */

/* Gives frame arrays dense ids (1, 2, ... in order of first appearance), for readers whose
 * input carries a stack with each event rather than stack ids. Memory grows with the number of
 * distinct stacks. */
typedef struct hg_stack_interner hg_stack_interner_t;

hg_stack_interner_t *hg_stack_interner_new(void); /* NULL when out of memory */
void hg_stack_interner_free(hg_stack_interner_t *si);
/* The id of frames[0..nframes); *is_new tells whether it was first seen now (the reader then
 * defines it through its sink). Returns 0 when out of memory or out of ids. */
uint32_t hg_stack_interner_intern(hg_stack_interner_t *si, const uint64_t *frames, uint32_t nframes,
                                  bool *is_new);
uint32_t hg_stack_interner_count(const hg_stack_interner_t *si);

/* ---- anomalies ---------------------------------------------------------------------------- */

/* docs/heap-semantics.md §3. A11 (event on a heap never created) is not an anomaly: the heap
 * record is created and counted (hg_heap_summary_t.created_in_trace = false). */
typedef enum hg_anomaly_kind {
    HG_A1_FREE_UNKNOWN = 1,
    HG_A2_DOUBLE_FREE = 2,
    HG_A3_WRONG_HEAP = 3,
    HG_A4_OVERLAP = 4,
    HG_A5_DESTROY_LIVE = 5,
    HG_A6_REALLOC_UNKNOWN = 6,
    HG_A7_REALLOC_SIZE = 7,
    HG_A8_SIZE = 8,
    HG_A9_SOURCE_INVALID = 9,
    HG_A10_SOURCE_UNDOCUMENTED = 10,
    HG_A12_MISALIGNED = 12,
    HG_A13_NO_LFH = 13,
    HG_ANOMALY_KIND_MAX = 13
} hg_anomaly_kind_t;

typedef enum hg_severity {
    HG_SEV_INFO = 1,
    HG_SEV_WARNING = 2,
    HG_SEV_ERROR = 3,
} hg_severity_t;

/* "A3" */
const char *hg_anomaly_id(int kind);
/* "wrong-heap-free" */
const char *hg_anomaly_name(int kind);
/* One line saying what the anomaly means. */
const char *hg_anomaly_description(int kind);
/* "info", "warning", "error" */
const char *hg_severity_name(int severity);
/* Accepts "A3", "a3", "wrong-heap-free"; returns the kind or 0. */
int hg_anomaly_parse(const char *s);
/* Accepts "info", "warning", "error"; returns the severity or 0. */
int hg_severity_parse(const char *s);

/* ---- the tracker -------------------------------------------------------------------------- */

typedef struct hg_tracker hg_tracker_t;

typedef struct hg_tracker_options {
    bool window; /* lifetime classes for [window_t0_ns, window_t1_ns] */
    uint64_t window_t0_ns;
    uint64_t window_t1_ns;
    uint64_t settle_ns;          /* allocations before this time are not counted as leaks */
    uint64_t cluster_gap_bytes;  /* fragmentation cluster split (default 1 MiB) */
    uint32_t max_samples;        /* timeline samples kept (default 128) */
    uint64_t sample_interval_ns; /* first sampling interval (default: from the duration hint) */
    uint64_t extreme_size_32;    /* A8 cap for 32-bit processes (default 2^31) */
    uint64_t extreme_size_64;    /* A8 cap for 64-bit processes (default 2^36) */
    uint32_t recent_frees;       /* double-free memory per process (default 16384) */
    bool pid_filter_set;         /* only this pid */
    uint32_t pid_filter;
    const char *process_filter; /* only processes with this name (basename, case-insensitive) */
} hg_tracker_options_t;

/* Fills opt with the defaults above. */
void hg_tracker_options_init(hg_tracker_options_t *opt);

/* Returns a new tracker (caller frees with hg_tracker_free) or NULL when out of memory.
 * opt may be NULL (defaults); its strings are copied. */
hg_tracker_t *hg_tracker_new(const hg_tracker_options_t *opt);
void hg_tracker_free(hg_tracker_t *t);

/* A sink that feeds this tracker; valid as long as the tracker. Its callbacks fail only with
 * HG_ENOMEM (the tracker is then unusable). */
hg_sink_t hg_tracker_sink(hg_tracker_t *t);

/* The same operations, called directly. */
int hg_tracker_feed(hg_tracker_t *t, const hg_event_t *ev);
int hg_tracker_define_stack(hg_tracker_t *t, uint32_t stack_id, const uint64_t *frames,
                            uint32_t nframes);
int hg_tracker_set_process(hg_tracker_t *t, const hg_process_info_t *info);
int hg_tracker_set_trace(hg_tracker_t *t, const hg_trace_info_t *info);
int hg_tracker_add_stats(hg_tracker_t *t, const hg_alloc_stats_t *stats);

/* The trace was cut short (reason is copied): the report is incomplete. */
void hg_tracker_mark_truncated(hg_tracker_t *t, const char *reason);

/* Ends the trace: live blocks of running processes become outstanding, final fragmentation and
 * the source-path rules (A13) are computed, severities are settled. Feeding after this is an
 * error. Returns 0 or HG_ENOMEM. */
int hg_tracker_finish(hg_tracker_t *t);

/* ---- results (valid after hg_tracker_finish, until hg_tracker_free) ---------------------- */

typedef struct hg_totals {
    uint64_t leaked_bytes, leaked_blocks;           /* live when their process ended */
    uint64_t outstanding_bytes, outstanding_blocks; /* live at trace end, process running */
    uint64_t released_bytes, released_blocks;       /* released by HeapDestroy */
} hg_totals_t;

typedef struct hg_trace_quality {
    uint64_t events; /* events read (all kinds) */
    uint64_t events_by_kind[HG_EV_KIND_MAX + 1];
    uint64_t filtered_events;    /* dropped by --pid / --process */
    uint64_t unmatched_frees;    /* frees and reallocs of unknown blocks (A1 + A2 + A6) */
    uint64_t failed_allocations; /* allocations that returned address 0 */
    uint64_t lost_events, lost_buffers;
    bool lost_counts_known;
    bool truncated;
    char truncated_reason[256];
    bool incomplete; /* lost > 0 or truncated */
    uint64_t first_ts_ns, last_ts_ns;
    uint64_t start_wall_ns;
    uint64_t stacks_defined;
    uint64_t stacks_undefined; /* referenced by events, never defined */
    uint64_t markers;
    uint64_t settle_ignored_blocks, settle_ignored_bytes; /* allocations before --settle */
    uint64_t out_of_order_events; /* timestamps that went backwards (kept, clamped) */
} hg_trace_quality_t;

typedef struct hg_process_summary {
    uint32_t index; /* 0..count-1 */
    uint32_t pid, parent_pid;
    uint32_t instance;          /* 0 for the first process with this pid, 1 for a reused pid, ... */
    const char *name, *cmdline; /* NULL when unknown */
    uint8_t pointer_size, allocator;
    bool traced_from_start, ended;
    uint64_t start_ts_ns, end_ts_ns; /* start = first event when not traced from start */
    hg_totals_t totals;
    uint64_t allocs, reallocs, frees, alloc_bytes;
    uint64_t peak_live_bytes, peak_live_ts_ns;
    uint32_t heaps, sites, anomalies;
} hg_process_summary_t;

typedef struct hg_site_stats {
    uint32_t stack_id;
    uint64_t live_blocks, live_bytes; /* leaked (process ended) or outstanding (running) */
    uint64_t released_blocks, released_bytes;
    uint64_t allocs, alloc_bytes;
    uint64_t peak_live_bytes;
    uint64_t first_ts_ns, last_ts_ns; /* first and last allocation */
    uint64_t aifo_blocks, aifo_bytes; /* allocated in the window, not freed in it */
} hg_site_stats_t;

#define HG_FIT_SIZES    5
#define HG_HOLE_BUCKETS 64 /* bucket i: holes with 2^i <= size < 2^(i+1) */

/* Fragmentation of one heap at one time (docs/heap-semantics.md §4 items 1-7). Estimates from
 * addresses and requested sizes, not the allocator's real state. */
typedef struct hg_frag {
    uint64_t ts_ns;
    uint64_t live_bytes, live_blocks;
    uint64_t rounded_bytes; /* sum of estimated chunk sizes; internal waste = rounded - live */
    uint64_t clusters, span_bytes;
    double utilisation;   /* live / span; 0 when span is 0 */
    double span_overhead; /* span / live - 1 */
    uint64_t holes, free_bytes, largest_hole;
    uint64_t hole_hist[HG_HOLE_BUCKETS];
    double external; /* 1 - largest_hole / free_bytes */
    double sawicki;  /* 1 - sqrt(sum h^2) / sum h */
    uint32_t nfit;
    struct {
        uint64_t size, requests;
        bool defined; /* false when free_bytes < size */
        double ratio;
    } fit[HG_FIT_SIZES];
} hg_frag_t;

typedef struct hg_heap_summary {
    uint32_t index;
    uint64_t handle;
    bool created_in_trace, destroyed;
    uint64_t create_ts_ns, destroy_ts_ns;
    uint64_t allocs, frees, alloc_bytes;
    uint64_t peak_live_bytes, peak_live_ts_ns, peak_live_blocks;
    uint64_t max_span_bytes;   /* over the timeline samples and the final figure */
    double peak_ratio;         /* max span / max live - 1 (item 8), both over the walks */
    uint64_t source_allocs[8]; /* allocations per Source value 0..6; [7] = other values */
    const char *growth_signal; /* item 9: "leak-like growth", "fragmentation-driven growth",
                                  "stable" or "too few samples" */
    hg_frag_t frag;            /* at the end of the trace, or just before HeapDestroy */
} hg_heap_summary_t;

typedef struct hg_anomaly {
    uint8_t kind;      /* hg_anomaly_kind_t */
    uint8_t variant;   /* A8: 0 = too large, 1 = zero size; otherwise 0 */
    uint8_t severity;  /* settled at finish (demotions applied) */
    uint32_t stack_id; /* the site that allocated the block; 0 = no stack */
    uint64_t count;
    struct {
        uint64_t ts_ns;
        uint32_t pid, tid;
        uint64_t heap, addr, size;
        uint64_t other; /* A3: heap the block lives in; A7: recorded size; A13: allocations */
    } example;
} hg_anomaly_t;

typedef struct hg_lifetime {
    bool enabled;
    uint64_t t0_ns, t1_ns;
    uint64_t aifi_blocks, aifi_bytes;
    uint64_t aifo_blocks, aifo_bytes;
    uint64_t aofi_blocks, aofi_bytes;
    uint64_t aofo_blocks, aofo_bytes;
    int64_t impacting_bytes; /* outstanding at t1 minus at t0, blocks touched in the window */
} hg_lifetime_t;

/* One timeline point for one heap of one process. Cumulative counters let any two samples
 * give the share of slow-path allocations between them. Live figures are exact at every
 * sample; span and holes need a walk of the live set, which is done only when enough events
 * have passed since the last walk to pay for it (at most one block visited per event), so a
 * huge live set with few events has samples with measured = false. */
typedef struct hg_sample {
    uint64_t ts_ns;
    uint32_t process; /* process index */
    uint32_t heap;    /* heap index within the process */
    uint64_t live_bytes, live_blocks;
    bool measured; /* span_bytes, free_bytes, largest_hole and external are valid */
    uint64_t span_bytes, free_bytes, largest_hole;
    double external;
    uint64_t allocs_total, slow_allocs_total; /* cumulative */
} hg_sample_t;

typedef struct hg_stats_sample {
    uint32_t process;
    hg_alloc_stats_t stats;
} hg_stats_sample_t;

const hg_trace_quality_t *hg_tracker_quality(const hg_tracker_t *t);
/* Processes with at least one heap event that no filter excluded. */
size_t hg_tracker_process_count(const hg_tracker_t *t);
/* Fills out for process i (0..count-1); strings stay owned by the tracker. */
void hg_tracker_process(const hg_tracker_t *t, size_t i, hg_process_summary_t *out);
/* Totals over all processes. */
hg_totals_t hg_tracker_totals(const hg_tracker_t *t);

/* Visitors call cb once per item, in a stable order; cb returns 0 to go on, nonzero to stop
 * (that value is returned). */
typedef int (*hg_site_cb)(void *ud, const hg_site_stats_t *site);
typedef int (*hg_heap_cb)(void *ud, const hg_heap_summary_t *heap);
typedef int (*hg_anomaly_cb)(void *ud, const hg_anomaly_t *anomaly);
int hg_tracker_visit_sites(const hg_tracker_t *t, size_t process, hg_site_cb cb, void *ud);
int hg_tracker_visit_heaps(const hg_tracker_t *t, size_t process, hg_heap_cb cb, void *ud);
int hg_tracker_visit_anomalies(const hg_tracker_t *t, size_t process, hg_anomaly_cb cb, void *ud);
void hg_tracker_lifetime(const hg_tracker_t *t, size_t process, hg_lifetime_t *out);

/* The frames of a stack (innermost first), or NULL with *nframes = 0 when never defined. */
const uint64_t *hg_tracker_stack(const hg_tracker_t *t, uint32_t stack_id, uint32_t *nframes);

/* Timeline samples in time order (process, heap order within one time). */
const hg_sample_t *hg_tracker_samples(const hg_tracker_t *t, size_t *count);
const hg_stats_sample_t *hg_tracker_stats_samples(const hg_tracker_t *t, size_t *count);

/* Bytes the tracker holds for its own state (Judy arrays included). */
uint64_t hg_tracker_memory_bytes(const hg_tracker_t *t);

#endif
