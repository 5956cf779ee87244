/* etl_priv.h - private to the ETL reader (etl_*.c) and the xperf reader, which shares its
 * pending-event queue. The pieces, in the order data flows through them:
 *
 *   etl_file.c     buffers: index of the file, loading (LZ77), per-CPU merge into time order
 *   etl_event.c    one event: the header kinds of docs/etw-format.md §1.5
 *   etl_header.c   TRACE_LOGFILE_HEADER (§1.6) and the clock (§1.7)
 *   etl_heap.c     heap events (§2.2, §2.3) -> hg_event_t
 *   etl_kernel.c   processes (§3.5), images (§3.3), ImageID/DbgID (§3.4), volume names
 *   etl_stacks.c   StackWalk parts and stack keys (§3.1, §3.2) -> late-bound stack ids
 *   etl_pending.c  events held until their stacks have arrived, delivered in time order
 *   etl_map.c      the small hash map the others use
 *   etl_read.c     hg_etl_read: ties them together
 */
#ifndef HG_FORMATS_ETL_PRIV_H
#define HG_FORMATS_ETL_PRIV_H

#include "formats.h"

#include <stdbool.h>
#include <stdint.h>

#define ETL_BUFFER_HEADER_BYTES 0x48u /* WMI_BUFFER_HEADER, §1.2 */

static inline uint16_t hg__get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t hg__get_u32(const uint8_t *p) {
    return (uint32_t)hg__get_u16(p) | (uint32_t)hg__get_u16(p + 2) << 16;
}
static inline uint64_t hg__get_u64(const uint8_t *p) {
    return (uint64_t)hg__get_u32(p) | (uint64_t)hg__get_u32(p + 4) << 32;
}
/* A pointer-sized field (ptr 4 or 8). */
static inline uint64_t hg__get_ptr(const uint8_t *p, unsigned ptr) {
    return ptr == 8 ? hg__get_u64(p) : hg__get_u32(p);
}
/* Kernel-space addresses: the upper half of the address space (§3.2). */
static inline bool hg__is_kernel_addr(uint64_t a, unsigned ptr) {
    return ptr == 8 ? a >= UINT64_C(0xFFFF800000000000) : a >= UINT64_C(0x80000000);
}

/* ---- etl_map.c: open addressing, u64 key -> u64 value ------------------------------------ */

typedef struct hg__map_slot {
    uint64_t key, val; /* val 0 = empty slot (values are stored + 1) */
} hg__map_slot_t;

typedef struct hg__map {
    hg__map_slot_t *slots;
    size_t cap, n; /* cap is a power of two (or 0) */
} hg__map_t;

void hg__map_free(hg__map_t *m);

/* A 64-bit mixer (murmur3's finalizer): spreads keys over the table. */
static inline uint64_t hg__map_hash(uint64_t x) {
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

/* The slot holding key, or the empty slot where it would go (m->cap > 0). */
static inline size_t hg__map_find_slot(const hg__map_t *m, uint64_t key) {
    size_t mask = m->cap - 1, i = hg__map_hash(key) & mask;
    while (m->slots[i].val && m->slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return i;
}

/* The value for key, or false. Inline: the readers look up a few keys per event. */
static inline bool hg__map_get(const hg__map_t *m, uint64_t key, uint64_t *val) {
    if (m->n == 0) {
        return false;
    }
    const hg__map_slot_t *s = &m->slots[hg__map_find_slot(m, key)];
    *val = s->val - 1;
    return s->val != 0;
}
/* Sets key to val (val < UINT64_MAX). Returns 0 or HG_ENOMEM. */
int hg__map_put(hg__map_t *m, uint64_t key, uint64_t val);
void hg__map_del(hg__map_t *m, uint64_t key);
/* Sets key to val; returns 1 with the value it had in *old, 0 when it had none, or HG_ENOMEM. */
int hg__map_swap(hg__map_t *m, uint64_t key, uint64_t val, uint64_t *old);
/* Drops the entries keep() says no to (the map is rebuilt). */
void hg__map_keep(hg__map_t *m, bool (*keep)(void *ud, uint64_t key, uint64_t val), void *ud);

/* ---- etl_event.c: event headers (§1.5) --------------------------------------------------- */

enum {
    ETL_CLASS_HOOK = 1, /* SYSTEM, COMPACT, PERFINFO: identified by HookId */
    ETL_CLASS_GUID = 2, /* FULL, INSTANCE, EVENT_HEADER: identified by GUID + opcode */
    ETL_CLASS_MESSAGE = 3,
};

typedef struct hg__etl_event {
    uint8_t type;    /* header type (byte 2), 0x0F for MESSAGE */
    uint8_t cls;     /* ETL_CLASS_* */
    uint8_t ptr;     /* pointer size of the payload: 4 or 8 */
    uint8_t version; /* class / event version */
    uint16_t hook;   /* ETL_CLASS_HOOK: (group << 8) | type */
    uint8_t opcode;  /* ETL_CLASS_GUID: Class.Type / opcode */
    bool has_ids;    /* pid and tid come from the header */
    uint32_t pid, tid;
    uint64_t ts;         /* raw timestamp in the logger's clock */
    const uint8_t *guid; /* ETL_CLASS_GUID: 16 bytes, else NULL */
    uint32_t size;       /* whole event, header included */
    const uint8_t *data; /* payload */
    uint32_t data_len;
} hg__etl_event_t;

/* Parses the event at p with avail bytes left in the buffer. Returns 1 with *ev filled, 0 at
 * the end of the buffer's events (fewer than 4 bytes left or the 0xFFFFFFFF filler), or -1
 * with *why set when the header is unknown or its size impossible. */
int hg__etl_parse_event(const uint8_t *p, size_t avail, hg__etl_event_t *ev, const char **why);

/* ---- etl_file.c: buffers and the per-CPU merge (§1.1-§1.4) ------------------------------ */

typedef struct hg__etl_buf_ix {
    uint64_t off, seq;
    uint32_t size;
    uint16_t cpu;
    bool compressed;
} hg__etl_buf_ix_t;

typedef struct hg__etl_cursor {
    size_t first, count, next; /* this CPU's buffers in the index; next one to load */
    uint8_t *data;             /* the current buffer, decompressed */
    size_t cap;
    uint32_t len, pos; /* valid bytes (SavedOffset); offset of the event in ev */
    uint64_t buf_off;  /* file offset of the current buffer */
    bool compressed;
    hg__etl_event_t ev; /* the next event of this CPU */
} hg__etl_cursor_t;

typedef struct hg__etl_file {
    FILE *fp;
    const char *name;
    uint64_t size;
    hg_error_t *err;
    hg__etl_buf_ix_t *ix;
    size_t nix;
    hg__etl_cursor_t *cur;
    size_t ncur;
    uint32_t *heap; /* cursors with events, ordered by (timestamp, cpu) */
    size_t nheap;
    bool popped;      /* the heap's top was handed out and must advance first */
    uint8_t *scratch; /* compressed bytes of one buffer */
    size_t scratch_cap;
    uint16_t compression; /* COMPRESSION_FORMAT_* from the first buffer's State */
    bool truncated;
    uint64_t end; /* offset after the last whole buffer */
    char warning[256];
    uint64_t buffers, compressed_buffers, events, bytes_loaded;
    uint8_t *first; /* the first buffer (uncompressed), for the trace header */
    uint32_t first_len;
} hg__etl_file_t;

/* Indexes fp's buffers (cut-short files stop at the last whole one), loads each CPU's first
 * buffer. Returns 0, HG_EIO, HG_ENOMEM or HG_EFORMAT (err names the file and offset). */
int hg__etl_file_open(hg__etl_file_t *f, FILE *fp, const char *name, uint64_t size,
                      hg_error_t *err);
void hg__etl_file_close(hg__etl_file_t *f);
/* The next event in time order: returns 1 with *ev valid until the next call, 0 at the end,
 * or an error. */
int hg__etl_file_next(hg__etl_file_t *f, const hg__etl_event_t **ev);
/* "buffer at offset X, event at byte Y" for messages about the current event. */
void hg__etl_file_where(const hg__etl_file_t *f, char *buf, size_t cap);

/* ---- etl_header.c: TRACE_LOGFILE_HEADER (§1.6, §1.7) ------------------------------------- */

typedef struct hg__etl_header {
    uint32_t buffer_size, provider_version, processors;
    uint32_t log_file_mode, buffers_written, pointer_size;
    uint32_t events_lost, buffers_lost, clock_type, cpu_mhz;
    uint64_t perf_freq; /* ticks per second of the event timestamps */
    int64_t start_time; /* FILETIME (100 ns since 1601) */
    int64_t end_time;
    uint64_t ts0;         /* raw timestamp of the header event: time 0 */
    uint64_t ns_per_tick; /* when perf_freq divides 10^9, else 0 */
} hg__etl_header_t;

/* Decodes the header event (HookId 0). Returns NULL, or a reason it is not one. */
const char *hg__etl_header_decode(const hg__etl_event_t *ev, hg__etl_header_t *h);
/* ns since the header event of raw timestamp ts (0 for earlier times). */
uint64_t hg__etl_ts_ns(const hg__etl_header_t *h, uint64_t ts);
/* Fills info from the header ("etl", wall clock start, duration, pointer size). */
void hg__etl_trace_info(const hg__etl_header_t *h, hg_trace_info_t *info);

/* ---- etl_heap.c: heap events (§2.2, §2.3) ----------------------------------------------- */

/* Fills the heap fields and kind of ev from e (HookId 0x1020-0x102E). Returns 1, 0 for heap
 * events that carry no block or heap change, or -1 with *why when the payload is too short. */
int hg__etl_heap_decode(const hg__etl_event_t *e, hg_event_t *ev, const char **why);

/* ---- etl_pending.c: events waiting for their stacks -------------------------------------- */

typedef struct hg__pend_item {
    hg_event_t ev;   /* kind 0: no event (process information only) */
    uint64_t raw_ts; /* matched against StackWalk EventTimeStamp */
    uint32_t part_k; /* stack part ending in kernel space (0: none) */
    uint32_t part_u; /* stack part reaching user space, or a stack id (xperf) */
    uint64_t seq;
    bool waiting;            /* may still receive stack parts */
    hg_process_info_t *info; /* owned; delivered before ev */
} hg__pend_item_t;

typedef int (*hg__pend_deliver_fn)(void *ud, hg__pend_item_t *it);

typedef struct hg__pending {
    hg__pend_item_t *ring;
    size_t cap, cap_max; /* powers of two */
    uint64_t head, tail; /* sequence numbers; items [head, tail) are queued */
    hg__map_t by_tid;    /* tid -> seq + 1 of that thread's newest waiting item */
    uint64_t horizon;    /* raw ticks an item may wait */
    hg__pend_deliver_fn deliver;
    void *ud;
    uint64_t forced; /* items delivered before their stacks were known to be complete */
} hg__pending_t;

void hg__pending_init(hg__pending_t *q, size_t cap_max, uint64_t horizon, hg__pend_deliver_fn fn,
                      void *ud);
void hg__pending_free(hg__pending_t *q);
/* Queues a copy of ev (stamped raw_ts); info (owned by the queue from now on, even on error)
 * may be NULL. A waiting item may receive stack parts until its thread's next item, a later
 * stack of its thread, or the horizon. *out (may be NULL) points at the queued item until the
 * next call. Returns 0, HG_ENOMEM, or what delivering the oldest items returned. */
int hg__pending_push(hg__pending_t *q, const hg_event_t *ev, uint64_t raw_ts, bool waiting,
                     hg_process_info_t *info, hg__pend_item_t **out);
/* The waiting item of thread tid stamped raw_ts, or NULL. A stack for a later time of that
 * thread ends the wait of its earlier item. */
hg__pend_item_t *hg__pending_find(hg__pending_t *q, uint32_t tid, uint64_t raw_ts);
/* Delivers the oldest items that are done or older than the horizon at time now. */
int hg__pending_drain(hg__pending_t *q, uint64_t now);
/* Delivers everything (end of input). */
int hg__pending_flush(hg__pending_t *q);

/* ---- etl_stacks.c: stack parts, keys and late-bound stack ids ---------------------------- */

typedef struct hg__etl_stacks hg__etl_stacks_t;

hg__etl_stacks_t *hg__etl_stacks_new(hg_sink_t sink);
void hg__etl_stacks_free(hg__etl_stacks_t *s);
/* A part whose frames are known now (a StackWalk Stack event). Returns its id, 0 = no memory. */
uint32_t hg__etl_stacks_frames(hg__etl_stacks_t *s, const uint64_t *frames, uint32_t n);
/* The part a stack key reference stands for (the key's current generation). 0 = no memory. */
uint32_t hg__etl_stacks_key_ref(hg__etl_stacks_t *s, bool kernel, uint64_t key);
/* A key definition (KeyDelete / KeyRundown): the referenced generation gets its frames and
 * every stack waiting on it that is now whole is defined through the sink. */
int hg__etl_stacks_key_def(hg__etl_stacks_t *s, bool kernel, uint64_t key, const uint64_t *frames,
                           uint32_t n);
/* The stack id for an event with these parts (either may be 0); 0 when both are 0. Defines it
 * through the sink at once when its frames are known. Returns 0 or an error. */
int hg__etl_stacks_id(hg__etl_stacks_t *s, uint32_t part_k, uint32_t part_u, uint32_t *id);
/* Stack ids handed out, and those whose frames never became whole. */
uint32_t hg__etl_stacks_count(const hg__etl_stacks_t *s);

/* ---- etl_read.c / etl_kernel.c: the reader -------------------------------------------- */

/* Kernel records as decoded, for tests that compare them with PerfView's decoding. */
enum {
    ETL_REC_PROCESS = 1, /* opcode: 1 Start, 2 End, 3 DCStart, 4 DCEnd, 39 Defunct */
    ETL_REC_IMAGE,       /* opcode: 10 Load, 2 Unload, 3 DCStart, 4 DCEnd */
    ETL_REC_IMAGE_ID,    /* KernelTraceControl ImageID (opcode 0) */
    ETL_REC_DBG_ID,      /* DbgID_RSDS (opcode 36) */
    ETL_REC_OTHER_ID,    /* DbgID_ILRSDS (37), FileVersion (64), other KernelTraceControl */
};

typedef struct hg__etl_record {
    int kind;
    uint8_t opcode, version, header_type;
    uint64_t ts_ns;
    uint32_t hdr_pid, hdr_tid;
    uint64_t unique_key, dir_base; /* process */
    uint32_t pid, parent_pid, session_id, flags;
    int32_t exit_status;
    const char *name, *cmdline;
    uint64_t base, size, default_base; /* image, ImageID, DbgID */
    uint32_t checksum, time_date_stamp;
    const char *path; /* image: DOS path when the volume is known; ImageID: OriginalFileName */
    uint8_t guid[16];
    uint32_t age;
    const char *pdb;
} hg__etl_record_t;

typedef struct hg__etl_observer {
    void (*record)(void *ud, const hg__etl_record_t *rec);
    void *ud;
} hg__etl_observer_t;

typedef struct hg__etl_stats {
    uint64_t buffers, compressed_buffers, events, events_by_type[32];
    uint64_t heap_events, stack_events, stack_refs, stack_defs;
    uint64_t unmatched_stacks, forced, unsupported_versions;
    uint64_t modules, processes;
    hg__etl_header_t header;
} hg__etl_stats_t;

typedef struct hg__etl_image hg__etl_image_t;
typedef struct hg__etl_volume hg__etl_volume_t;

typedef struct hg__etl_kernel {
    uint64_t group_ts; /* images and their ImageID/DbgID records share a timestamp (§3.4) */
    hg__etl_image_t *group;
    size_t ngroup, capgroup;
    hg__etl_volume_t *volumes; /* NT device prefix -> DOS drive */
    size_t nvolumes;
    char *windows_dir;       /* SysConfigEx SystemPaths: "C:\\Windows\\" */
    hg_module_info_t *kmods; /* kernel images (pid 0), lent to every process with heap events */
    size_t nkmods, capkmods;
    hg__map_t loaded; /* hash(pid, base) of images loaded: DCEnd repeats only the unknown */
} hg__etl_kernel_t;

typedef struct hg__etl_proc {
    uint8_t ptr;         /* pointer size announced to the sink (0: none yet) */
    uint32_t kmods_sent; /* kernel images already lent to this process */
} hg__etl_proc_t;

typedef struct hg__etl_reader {
    const char *name;
    hg_sink_t sink;
    hg_error_t *err;
    const hg__etl_observer_t *obs;
    hg__etl_file_t file;
    hg__etl_header_t hdr;
    hg__pending_t pending;
    hg__etl_stacks_t *stacks;
    hg__etl_kernel_t kernel;
    hg__map_t procs; /* pid -> index in procv */
    hg__etl_proc_t *procv;
    size_t nprocs, capprocs;
    uint32_t last_pid; /* the process of the previous heap event (they come in runs) */
    size_t last_proc;
    hg__etl_stats_t stats;
    uint64_t now; /* raw timestamp of the event being read */
} hg__etl_reader_t;

/* HG_EFORMAT naming the file and the current event's offset. */
int hg__etl_fail(hg__etl_reader_t *r, const char *why);
/* Handles process, image and KernelTraceControl events; returns 0 (also for others) or an
 * error. */
int hg__etl_kernel_event(hg__etl_reader_t *r, const hg__etl_event_t *e);
/* Delivers the images of the timestamp group that ended (call before each later event and at
 * the end). */
int hg__etl_kernel_flush(hg__etl_reader_t *r);
/* Lends kernel images not yet sent to process pid; *sent counts what it has. */
int hg__etl_kernel_lend(hg__etl_reader_t *r, uint32_t pid, uint32_t *sent);
void hg__etl_kernel_free(hg__etl_kernel_t *k);

/* UTF-16LE (NUL-terminated within max bytes) to UTF-8 in out (cap bytes, always terminated).
 * Returns the input bytes used, NUL included. */
size_t hg__utf16_to_utf8(const uint8_t *p, size_t max, char *out, size_t cap);

/* The reader with a test observer and statistics; hg_etl_read is this with neither. */
int hg__etl_read_observed(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                          const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err,
                          const hg__etl_observer_t *obs, hg__etl_stats_t *stats);

#endif
