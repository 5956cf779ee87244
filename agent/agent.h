/* agent.h - private to agent/: the pieces of libheapgate-agent.so, the Linux capture library
 * that `heapgate run` preloads (LD_PRELOAD) and `heapgate attach` loads into a running process.
 *
 * The agent intercepts the allocation functions, captures a stack per allocation, and streams
 * events to the heapgate process as .hgt stored chunks (docs/agent-stream.md). It never
 * symbolizes and never allocates through malloc in its hooks: its memory is static or mmapped
 * and bounded. Pieces:
 *   boot.c      the real functions (dlsym) and the bootstrap allocator for dlsym-time calls
 *   hooks.c     malloc, free, calloc, realloc, ... (the exported interposers)
 *   hooks_proc.c  dlopen/dlclose, _exit, abort and the exec family
 *   record.c    the recording path: thread state, lock, deferred (nested) events, flushing
 *   encode.c    the .hgt stored-chunk encoder (streams, headers, CRC-32)
 *   stacks.c    per-process stack deduplication (hash -> id)
 *   unwind.c    stack capture (libunwind or frame pointers), the agent's own frames trimmed
 *   modules.c   the module map (dl_iterate_phdr, build-ids) and its changes
 *   heap.c      the glibc arena a block belongs to, and mmapped chunks
 *   conn.c      the socket to heapgate (reconnects when the program closed it)
 *   helper.c    the helper thread: periodic flush, allocator statistics, commands (detach)
 *   life.c      configuration, start, fork, exec, exit, fatal signals, attach and detach
 *   got.c       GOT/PLT rewriting, the hooks of `attach` (LD_PRELOAD no longer applies)
 *   sys.c       small helpers on raw system calls (files, numbers, time) */
#ifndef HG_AGENT_H
#define HG_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define HG_AGENT_EXPORT __attribute__((visibility("default")))
#define HG_TLS          __thread __attribute__((tls_model("initial-exec")))
#define HG_LIKELY(x)    __builtin_expect(!!(x), 1)
#define HG_UNLIKELY(x)  __builtin_expect(!!(x), 0)

/* hg_event_kind_t and flags of tracker/tracker.h, restated: the agent links nothing of heapgate. */
enum {
    HG_AG_ALLOC = 1,
    HG_AG_REALLOC = 2,
    HG_AG_FREE = 3,
    HG_AG_PROCESS_START = 6,
    HG_AG_PROCESS_END = 7,
    HG_AG_LOST = 8,
};
#define HG_AG_EVF_MMAPPED 0x0002u
#define HG_AG_MAX_DEPTH   128 /* --depth is capped here */

/* ---- boot.c: the real functions ------------------------------------------------------------ */

typedef struct hg__real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    void *(*dlopen)(const char *, int);
    int (*dlclose)(void *);
    void (*exit_)(int);
    void (*Exit_)(int);
    void (*abort)(void);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
} hg__real_t;

extern hg__real_t hg__real;
/* Resolves hg__real (idempotent; the first caller does the work, others wait). During the
 * resolution dlsym's own allocations are served by the bootstrap allocator. */
void hg__boot_resolve(void);
bool hg__boot_resolved(void);
/* The bootstrap allocator: a static arena for calls made before the real functions are known. */
void *hg__boot_alloc(size_t size, size_t align, bool zero);
bool hg__boot_owns(const void *p);
size_t hg__boot_size(const void *p);
/* Whether the real malloc is glibc's (arena identity and statistics rely on its layout). */
extern bool hg__glibc_malloc;

/* ---- per-thread state ---------------------------------------------------------------------- */

typedef struct hg__tls {
    uintptr_t stack_hi; /* top of this thread's stack (frame-pointer walks); 0 = unknown */
    uint32_t tid;       /* cached gettid(); 0 = unknown */
    uint8_t depth;      /* hook nesting: > 0 inside a hook (a signal handler nests) */
    uint8_t internal;   /* > 0 while the agent calls code that may allocate: pass through */
    uint8_t booting;    /* this thread resolves the real functions */
} hg__tls_t;

extern HG_TLS hg__tls_t hg__tls;

/* ---- record.c ------------------------------------------------------------------------------ */

/* Whether events are being recorded (the agent started and was not stopped). */
extern atomic_int hg__recording;
/* Send every event at once (attach mode, once the program began to exit). */
extern atomic_int hg__flush_each;

/* Captured stack of the current event (innermost first, agent frames trimmed). */
typedef struct hg__stack {
    uint32_t n;
    uint64_t frames[HG_AG_MAX_DEPTH + 1]; /* the hook's position, then depth frames */
} hg__stack_t;

void hg__rec_alloc(void *p, size_t size);
void hg__rec_free(void *p);
/* Calls the real realloc(old, size) (old != NULL, size > 0) and records it. The call is made
 * under the lock: the old block is free inside realloc, and another thread's allocation at its
 * address must not be recorded before this realloc. */
void *hg__rec_realloc(void *old, size_t size);
/* Takes the lock; drains deferred events before unlock. */
void hg__rec_lock(void);
bool hg__rec_trylock(void);
void hg__rec_unlock(void);
/* Under the lock: writes what is buffered to heapgate. */
void hg__rec_flush_locked(void);
/* A process lifetime event (HG_AG_PROCESS_START/END) now, under the lock. */
void hg__rec_process_event_locked(uint8_t kind);
/* Resets the recording state in a forked child (one thread, lock reinitialised). */
void hg__rec_after_fork_child(void);
/* Current time in ns since heapgate's start (the trace's time 0), at the kernel tick's
 * resolution; never before time 0. */
uint64_t hg__now_ns(void);

/* ---- encode.c (encode.h): .hgt stored chunks ---------------------------------------------- */

typedef struct hg__ev {
    uint8_t kind;
    uint16_t flags;
    uint32_t pid, tid, stack_id;
    uint64_t ts_ns, heap, addr, size, old_addr, old_size;
} hg__ev_t;

uint32_t hg__crc32(uint32_t crc, const void *data, size_t n);

/* ---- stacks.c ------------------------------------------------------------------------------ */

/* The id of st in this process, 0 when out of memory; *is_new says it must be defined. */
uint32_t hg__stacks_id(const hg__stack_t *st, bool *is_new);
void hg__stacks_reset(void); /* a new id space (forked child) */

/* ---- unwind.c ------------------------------------------------------------------------------ */

void hg__unwind_init(bool use_fp, uint32_t depth);
/* Captures the caller's stack, trimming the agent's own frames. */
void hg__unwind(hg__stack_t *st);
/* The agent's text, for trimming. */
void hg__unwind_set_self(uint64_t lo, uint64_t hi);

/* ---- modules.c ----------------------------------------------------------------------------- */

/* Rescans the loaded objects (outside the recording lock): new objects are dated at the
 * previous scan (no later than their load), vanished ones become unloads dated now. */
void hg__modules_scan(void);
/* Whether objects were added or removed since the last scan (cheap). */
bool hg__modules_changed(void);
/* Marks every known module unsent (a new stream in a forked child must define them again). */
void hg__modules_resend(void);
/* Under the lock: writes module records not yet sent. */
void hg__modules_emit_locked(void);
/* fork: hold the module locks across the fork (scan lock first, table lock last), reset them
 * in the child. */
void hg__modules_fork_lock(void);
void hg__modules_fork_unlock(void);
void hg__modules_fork_table_lock(void);
void hg__modules_fork_table_unlock(void);
void hg__modules_after_fork_child(void);
/* [lo, hi) of the object containing addr; false when none. */
bool hg__modules_range_of(const void *addr, uint64_t *lo, uint64_t *hi);

/* ---- heap.c -------------------------------------------------------------------------------- */

#define HG_AG_MAIN_ARENA 1u /* heap handle of glibc's main arena (docs/agent-stream.md) */
/* The heap handle of a live block from glibc's malloc; sets HG_AG_EVF_MMAPPED in *flags. */
uint64_t hg__heap_of(const void *p, uint16_t *flags);

/* ---- conn.c -------------------------------------------------------------------------------- */

void hg__conn_set_name(const char *abstract_name);
/* Connected to heapgate (connecting, with a new stream's header and preamble, when the socket
 * is gone or was taken over by the program). False when heapgate cannot be reached. */
bool hg__conn_ensure(void);
/* Sends iov on the current connection; false when it is broken or no longer the agent's. */
bool hg__conn_send(struct iovec *iov, int n);
int hg__conn_fd(void); /* -1 when not connected (or the descriptor is not the agent's) */
void hg__conn_close(void);

/* ---- helper.c ------------------------------------------------------------------------------ */

void hg__helper_start(void);
/* Stops the helper's work for good; it blocks until the process ends (its stack must stay in
 * use: __libc_freeres would free a finished thread's, which the agent never recorded). */
void hg__helper_park(void);
void hg__helper_forget(void); /* forked child: the parent's helper does not exist here */
/* Records allocator statistics (mallinfo2 and RSS) now; takes the lock itself. */
void hg__stats_record(void);

/* ---- life.c -------------------------------------------------------------------------------- */

typedef struct hg__config {
    char sock[108];
    uint64_t t0_mono_ns; /* CLOCK_MONOTONIC at heapgate's start: the trace's time 0 */
    uint64_t wall0_ns;   /* Unix time of time 0 */
    uint32_t depth;
    bool use_fp;
    bool follow;
    bool attach;
    uint32_t flush_ms, stats_ms;
} hg__config_t;

extern hg__config_t hg__cfg;
extern uint32_t hg__pid;
/* Starts the agent on first use (preload mode): boot, configuration, first records. */
void hg__life_ensure_started(void);
/* The records every stream starts with: trace, process, and the process start when the image
 * is traced from its start and this is its first stream. */
struct hg__chunk;
void hg__life_preamble(struct hg__chunk *c);
/* The end of the process: last statistics, PROCESS_END, END, flushed. Idempotent. */
void hg__life_finish(bool process_ends);
/* Stops recording after heapgate went away (attach: the hooks are removed too). */
void hg__life_stop(void);
/* heapgate asked to detach: hooks removed, the stream ended, the connection closed. */
void hg__life_detach(void);
/* A forked child's first event starts its helper thread. */
extern atomic_int hg__helper_pending;
void hg__life_child_first_event(void);
/* exec returned: the image goes on, on a new stream. */
void hg__life_exec_failed(void);
/* exec: flush what is buffered; the image ends if the call succeeds. */
void hg__life_before_exec(void);

/* ---- got.c --------------------------------------------------------------------------------- */

/* Points the GOT entries of every loaded object (but the agent and ld.so) for the hooked
 * functions at the agent's hooks; objects already patched are skipped. Returns slots patched. */
int hg__got_install(void);
/* Restores every slot the agent patched. */
void hg__got_uninstall(void);

/* ---- sys.c --------------------------------------------------------------------------------- */

uint32_t hg__gettid(void);
uint64_t hg__mono_ns(void);
uint64_t hg__tick_ns(void); /* CLOCK_MONOTONIC_COARSE: cheap, at the kernel tick's resolution */
uint64_t hg__wall_ns(void);
/* Reads up to cap - 1 bytes of a small file (NUL-terminated); returns the length or -1. */
long hg__read_file(const char *path, char *buf, size_t cap);
/* Decimal and hex formatting into buf (NUL-terminated); return the length. */
size_t hg__fmt_u64(char *buf, uint64_t v);
bool hg__parse_u64(const char *s, size_t n, uint64_t *out);
/* Counts the process's threads (/proc/self/status); 0 when unknown. */
uint32_t hg__thread_count(void);

#endif
