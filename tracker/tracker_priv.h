/* tracker_priv.h - private to tracker/: the tracker's state and the modules that share it.
 *
 * Layout of the state:
 *   tracker  -> processes (one record per process instance; pid reuse makes a new instance)
 *   process  -> live set (JudyL address -> block record in a slab), heaps, sites (one per stack
 *               id), anomalies (one per kind+site), recently freed addresses, thread slots used
 *               to group moving reallocs with their alloc/free companions, lifetime counters
 *   tracker  -> stacks (id -> frames), timeline samples, allocator statistics, trace quality
 * Nothing here is visible outside tracker/. */
#ifndef HG_TRACKER_PRIV_H
#define HG_TRACKER_PRIV_H

#include "tracker.h"

#include <Judy.h>

#define HG__NONE UINT32_MAX

/* ---- live blocks ---------------------------------------------------------------------------
 * 24 bytes per block; the JudyL index adds its own few bytes per key. */

#define HG__BF_IGNORED 0x01u /* allocated before --settle: no site, not a leak */
#define HG__BF_MMAPPED 0x02u
#define HG__SIZE_BITS  56
#define HG__SIZE_MAX   ((UINT64_C(1) << HG__SIZE_BITS) - 1)

typedef struct hg__block {
    uint64_t size_flags;  /* size in the low 56 bits, HG__BF_* in the top 8 */
    uint64_t ts_ns;       /* allocation time */
    uint32_t site;        /* index into the process's sites, HG__NONE when ignored */
    uint32_t heap_source; /* heap index in the low 24 bits, Source in the top 8 */
} hg__block_t;

static inline uint64_t hg__block_size(const hg__block_t *b) {
    return b->size_flags & HG__SIZE_MAX;
}
static inline unsigned hg__block_flags(const hg__block_t *b) {
    return (unsigned)(b->size_flags >> HG__SIZE_BITS);
}
static inline uint32_t hg__block_heap(const hg__block_t *b) {
    return b->heap_source & 0xffffffu;
}
static inline unsigned hg__block_source(const hg__block_t *b) {
    return b->heap_source >> 24;
}
void hg__block_set(hg__block_t *b, uint64_t size, unsigned flags, uint32_t heap, unsigned source);

/* A direct-mapped cache of exact lookups in front of the JudyL: entry (addr, block) means addr
 * is live with that record (removals clear their entry). Sized to about twice the live count,
 * at most HG__HINTS_MAX entries, cleared when it grows: a miss just asks the JudyL. */
#define HG__HINTS_MIN 1024u
#define HG__HINTS_MAX 65536u

typedef struct hg__live_hint {
    uint64_t addr;
    hg__block_t *block; /* NULL: empty */
} hg__live_hint_t;

typedef struct hg__liveset {
    Pvoid_t judy; /* address -> hg__block_t* */
    hg__live_hint_t *hints;
    uint32_t nhints;      /* a power of two, 0 before the first insertion */
    hg__block_t **chunks; /* slab chunks; blocks never move */
    size_t nchunks;
    size_t used_in_last;    /* blocks handed out from the last chunk */
    hg__block_t *free_list; /* released blocks, linked through size_flags */
    uint64_t count;
} hg__liveset_t;

void hg__live_init(hg__liveset_t *ls);
void hg__live_clear(hg__liveset_t *ls); /* frees everything */
hg__block_t *hg__live_get(const hg__liveset_t *ls, uint64_t addr);
/* Inserts addr (which must not be live) and returns its zeroed record, or NULL (ENOMEM). */
hg__block_t *hg__live_insert(hg__liveset_t *ls, uint64_t addr);
void hg__live_remove(hg__liveset_t *ls, uint64_t addr, hg__block_t *b);
/* The live block with the greatest address <= key: its address in *addr, or NULL. */
hg__block_t *hg__live_at_or_before(const hg__liveset_t *ls, uint64_t key, uint64_t *addr);
/* Walk in address order: first block at or after *addr, then the next after *addr. */
hg__block_t *hg__live_first(const hg__liveset_t *ls, uint64_t *addr);
hg__block_t *hg__live_next(const hg__liveset_t *ls, uint64_t *addr);
uint64_t hg__live_memory(const hg__liveset_t *ls);

/* ---- heaps ---------------------------------------------------------------------------------- */

typedef struct hg__size_stat {
    uint64_t requests;     /* allocations of this size (all sources) */
    uint64_t etw_requests; /* of them with an ETW Source (1..255) */
    bool lfh_seen;
    uint64_t first_ts_ns, first_addr;
    uint32_t first_tid, first_site;
} hg__size_stat_t;

/* Requested sizes of one heap -> their stats. Every allocation counts its size, so sizes below
 * HG__SMALL_SIZES (nearly all of them) count their requests in a flat array indexed by size,
 * the one thing an allocation without an ETW Source touches; their other stats, and all stats
 * of larger sizes (found through a JudyL), sit in one dense array (they move when it grows:
 * hold no pointers to them). */
#define HG__SMALL_SIZES 4096

typedef struct hg__sizes {
    uint64_t *small_requests; /* by size; allocated with small_stat on the first small size */
    uint32_t *small_stat;     /* size -> index + 1 into v */
    Pvoid_t large;            /* JudyL size -> index + 1 into v, sizes >= HG__SMALL_SIZES */
    hg__size_stat_t *v;       /* v[i].requests is kept for large sizes only */
    uint32_t n, cap;
} hg__sizes_t;

void hg__sizes_free(hg__sizes_t *sz);
/* Counts one allocation of size with source; the first of a size keeps ev's time, address and
 * thread and site as its example. Returns 0 or HG_ENOMEM (nothing counted). */
int hg__sizes_count(hg__sizes_t *sz, uint64_t size, unsigned source, const hg_event_t *ev,
                    uint32_t site);
/* Calls cb for each size <= max_size in ascending order with its stats (requests included); cb
 * returns nonzero to stop (that value is returned). */
typedef int (*hg__size_cb)(void *ud, uint64_t size, const hg__size_stat_t *st);
int hg__sizes_visit(const hg__sizes_t *sz, uint64_t max_size, hg__size_cb cb, void *ud);

typedef struct hg__heap {
    uint64_t handle;
    bool created_in_trace, destroyed;
    uint64_t create_ts_ns, destroy_ts_ns;
    uint64_t live_bytes, live_blocks;
    uint64_t peak_live_bytes, peak_live_ts_ns, peak_live_blocks;
    uint64_t allocs, frees, alloc_bytes, slow_allocs;
    uint64_t source_allocs[8];
    uint64_t max_span_bytes;    /* largest span measured (timeline walks, final figure) */
    uint64_t max_measured_live; /* largest live bytes at those same measurements */
    hg__sizes_t sizes;          /* requested sizes (fit ratios, A13) */
    bool final_taken;
    hg_frag_t final;
} hg__heap_t;

typedef struct hg__heaps {
    Pvoid_t by_handle; /* handle -> index + 1 of the current heap with that handle */
    hg__heap_t *v;
    uint32_t n, cap;
    uint64_t last_handle; /* one-entry cache of by_handle (valid when n > 0) */
    uint32_t last_index;
} hg__heaps_t;

void hg__heaps_free(hg__heaps_t *hs);
/* The current heap for handle, created (created_in_trace = false) when unseen; HG__NONE on
 * ENOMEM. */
uint32_t hg__heaps_lookup(hg__heaps_t *hs, uint64_t handle, uint64_t ts_ns);
/* HeapCreate: a new heap record unless the handle's current heap is alive and unused. */
uint32_t hg__heaps_create(hg__heaps_t *hs, uint64_t handle, uint64_t ts_ns);
/* The current heap for handle without creating one, or HG__NONE. */
uint32_t hg__heaps_find(const hg__heaps_t *hs, uint64_t handle);
void hg__heap_add_live(hg__heap_t *h, uint64_t size, uint64_t ts_ns);
/* Keeps the largest span and live bytes seen by walks (peak ratio, heap-semantics.md §4). */
void hg__heap_note_measure(hg__heap_t *h, const hg_frag_t *f);
void hg__heap_sub_live(hg__heap_t *h, uint64_t size);
/* Counts one allocation of size with source in the heap's size table; HG_ENOMEM on failure. */
int hg__heap_count_size(hg__heap_t *h, uint64_t size, unsigned source, const hg_event_t *ev,
                        uint32_t site);

/* ---- sites ---------------------------------------------------------------------------------- */

typedef struct hg__site {
    uint32_t stack_id;
    uint64_t live_blocks, live_bytes, peak_live_bytes;
    uint64_t released_blocks, released_bytes;
    uint64_t allocs, alloc_bytes;
    uint64_t first_ts_ns, last_ts_ns;
    uint64_t aifo_blocks, aifo_bytes;
} hg__site_t;

typedef struct hg__site_slot {
    uint32_t stack_id;
    uint32_t index1; /* site index + 1; 0 = empty slot */
} hg__site_slot_t;

typedef struct hg__sites {
    hg__site_slot_t *table; /* stack id -> site: open addressing, at most half full */
    uint32_t mask;          /* table size - 1 */
    hg__site_t *v;
    uint32_t n, cap;
    uint32_t last_stack, last_index; /* one-entry cache for runs of one stack */
} hg__sites_t;

void hg__sites_free(hg__sites_t *ss);
/* The site index for stack_id, created on first use; HG__NONE on ENOMEM. */
uint32_t hg__sites_lookup(hg__sites_t *ss, uint32_t stack_id);
void hg__site_on_alloc(hg__site_t *s, uint64_t size, uint64_t ts_ns);

/* ---- recently freed addresses (double-free memory) ---------------------------------------- */

#define HG__RF_INVALID 0x1u /* the block was never live (Source = invalid) */

typedef struct hg__recent_entry {
    uint64_t addr;
    uint64_t ts_ns;
    uint32_t site;
    uint32_t flags;
} hg__recent_entry_t;

typedef struct hg__recent {
    hg__recent_entry_t *v; /* direct-mapped, allocated on first use */
    uint32_t mask;
} hg__recent_t;

void hg__recent_free(hg__recent_t *r);
int hg__recent_put(hg__recent_t *r, uint32_t slots, uint64_t addr, uint64_t ts_ns, uint32_t site,
                   uint32_t flags);
const hg__recent_entry_t *hg__recent_get(const hg__recent_t *r, uint64_t addr);

/* ---- per-thread state for grouping moving reallocs (heap-semantics.md §3) ---------------- */

#define HG__THREAD_SLOTS 256

typedef struct hg__thread_slot {
    uint32_t tid;
    bool used;
    uint8_t recent_kind[2]; /* the thread's last two alloc/free events, [0] newest */
    uint64_t recent_addr[2];
    uint64_t pending_alloc, pending_free; /* companions still expected after a realloc */
    uint8_t pending_ttl;
} hg__thread_slot_t;

typedef struct hg__threads {
    hg__thread_slot_t *slots; /* allocated on the first moving realloc */
} hg__threads_t;

typedef struct hg__realloc_group {
    bool alloc_seen; /* the new block's own alloc came just before */
    bool free_seen;  /* the old block's own free came just before */
} hg__realloc_group_t;

void hg__threads_free(hg__threads_t *th);
/* Notes an alloc/free of tid; true when it is the companion of a moving realloc that came just
 * before (it must then be skipped). */
bool hg__threads_companion(hg__threads_t *th, uint32_t tid, uint8_t kind, uint64_t addr);
/* Notes a moving realloc of tid and says which companions came just before it. */
int hg__threads_realloc(hg__threads_t *th, uint32_t tid, uint64_t old_addr, uint64_t new_addr,
                        hg__realloc_group_t *out);

/* ---- anomalies ------------------------------------------------------------------------------ */

typedef struct hg__anomalies {
    Pvoid_t by_key; /* (kind << 40 | variant << 32 | stack id) -> hg_anomaly_t* */
    uint32_t count;
} hg__anomalies_t;

void hg__anomalies_free(hg__anomalies_t *as);

/* ---- lifetime classes ----------------------------------------------------------------------- */

typedef struct hg__lifetime {
    uint64_t aifi_blocks, aifi_bytes, aifo_blocks, aifo_bytes;
    uint64_t aofi_blocks, aofi_bytes, aofo_blocks, aofo_bytes;
} hg__lifetime_t;

/* ---- processes ------------------------------------------------------------------------------ */

typedef struct hg__process {
    uint32_t index;
    uint32_t pid, parent_pid, instance;
    char *name, *cmdline;
    uint8_t pointer_size, allocator;
    bool traced_from_start, ended, ignored, has_events, heap_events;
    uint64_t start_ts_ns, end_ts_ns;
    hg__liveset_t live;
    hg__heaps_t heaps;
    hg__sites_t sites;
    hg__anomalies_t anomalies;
    hg__recent_t recent;
    hg__threads_t threads;
    hg__lifetime_t lifetime;
    uint64_t allocs, reallocs, frees, alloc_bytes;
    uint64_t live_bytes, peak_live_bytes, peak_live_ts_ns;
} hg__process_t;

/* ---- timeline ------------------------------------------------------------------------------- */

typedef struct hg__timeline {
    hg_sample_t *v;
    size_t n, cap;
    uint64_t interval_ns, next_ns;
    uint32_t times; /* distinct sample times kept */
    uint64_t events_since_walk;
    hg_stats_sample_t *stats;
    size_t nstats, capstats;
} hg__timeline_t;

/* ---- the tracker ---------------------------------------------------------------------------- */

struct hg_tracker {
    hg_tracker_options_t opt;
    char *process_filter;
    hg__process_t **procs;
    uint32_t nprocs, capprocs;
    uint32_t *visible; /* indices of processes reported (not filtered), built at finish */
    uint32_t nvisible;
    Pvoid_t by_pid; /* pid -> index + 1 of the current instance */
    hg__process_t *last_proc;
    uint32_t last_pid;
    Pvoid_t stacks; /* stack id -> uint64_t* (frames[0] = count, then the frames) */
    hg__timeline_t timeline;
    hg_trace_quality_t q;
    uint8_t default_pointer_size;
    uint64_t duration_hint_ns;
    uint64_t last_ts_ns;
    bool finished, failed;
};

/* process.c */
hg__process_t *hg__process_for_event(hg_tracker_t *t, uint32_t pid, uint64_t ts_ns);
int hg__process_start(hg_tracker_t *t, const hg_event_t *ev);
int hg__process_end(hg_tracker_t *t, hg__process_t *p, uint64_t ts_ns);
int hg__process_info(hg_tracker_t *t, const hg_process_info_t *info);
void hg__process_free(hg__process_t *p);
/* Leaves the process's final state: fragmentation taken, lifetime of live blocks counted,
 * live set released. */
int hg__process_close(hg_tracker_t *t, hg__process_t *p, uint64_t ts_ns);
uint8_t hg__process_ptr(const hg_tracker_t *t, const hg__process_t *p);

/* rules.c: what each heap event does to the process state */
int hg__rule_alloc(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev);
int hg__rule_free(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev);
int hg__rule_realloc(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev);
int hg__rule_heap_create(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev);
int hg__rule_heap_destroy(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev);

/* anomaly.c */
/* Counts one anomaly of kind at the site of stack_id; the first one keeps ev, addr (the block
 * concerned) and other (a kind-specific value, see hg_anomaly_t) as its example. */
int hg__anomaly_note(hg__process_t *p, int kind, int variant, uint32_t stack_id,
                     const hg_event_t *ev, uint64_t addr, uint64_t other);
/* Final severities from the trace's completeness and the process's start (docs §3). */
void hg__anomalies_settle(hg_tracker_t *t, hg__process_t *p);
/* A13, evaluated per heap from its size table at the end. */
int hg__anomalies_lfh(hg__process_t *p, const hg__heap_t *h);

/* lifetime.c */
void hg__lifetime_end(hg_tracker_t *t, hg__process_t *p, const hg__block_t *b, uint64_t ts_ns);
void hg__lifetime_never(hg_tracker_t *t, hg__process_t *p, const hg__block_t *b);

/* rounding.c: estimated allocator footprint (heap-semantics.md §4 item 2) */
uint64_t hg__round_chunk(uint64_t size, unsigned source, unsigned flags, uint8_t pointer_size,
                         uint8_t allocator);
uint64_t hg__chunk_header(uint8_t pointer_size);

/* frag.c: one ordered walk over a process's live set computes every heap's figures.
 * out has p->heaps.n entries; fit sizes come from each heap's size table when with_fit. */
int hg__frag_compute(const hg_tracker_t *t, const hg__process_t *p, hg_frag_t *out, bool with_fit,
                     uint64_t ts_ns);

/* timeline.c */
int hg__timeline_tick(hg_tracker_t *t, uint64_t ts_ns);
int hg__timeline_final(hg_tracker_t *t, uint64_t ts_ns);
void hg__timeline_free(hg__timeline_t *tl);
int hg__timeline_add_stats(hg_tracker_t *t, uint32_t process, const hg_alloc_stats_t *st);

/* stacks.c */
int hg__stacks_define(hg_tracker_t *t, uint32_t id, const uint64_t *frames, uint32_t n);
void hg__stacks_free(hg_tracker_t *t);

#endif
