/* record.c - the recording path every hook goes through.
 *
 * An event is prepared outside the lock (the stack is unwound, the block's heap read from its
 * chunk header), then coded into the main chunk under one process-wide lock, which is also
 * where its timestamp is taken: within a process the stream's order is the order of the
 * operations and time never goes back. Frees are recorded before the real free and
 * allocations after the real call, and realloc runs under the lock (rec_realloc), so an
 * address is never seen handed out again before its release is in the stream.
 *
 * A hook entered while the same thread is already inside one (a signal handler that allocates,
 * interrupting the agent) must not take the lock: its event goes to a small table of deferred
 * events, coded by whoever unlocks next. When that table is full the event is counted and a
 * LOST event tells heapgate. Chunks are sent when full, by the helper thread every flush
 * interval, at fork, exec and exit; after the program started to exit in attach mode, after
 * every event (nothing runs later to flush them). */
#include "agent.h"
#include "encode.h"

#include <string.h>
#include <sys/uio.h>

/* Events from signal handlers that interrupted the agent wait here until the lock is next
 * released. A handler may run many times while its thread waits for the lock (the helper
 * thread sending a chunk to a busy heapgate): what does not fit is counted as lost. About 1 KB
 * each, in pages touched only when used. */
#define DEFER_SLOTS 128

typedef struct deferred {
    atomic_int state; /* 0 free, 1 being written, 2 ready */
    bool has_stack;
    hg__ev_t ev;
    hg__stack_t st;
} deferred_t;

atomic_int hg__recording;
atomic_int hg__flush_each;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static deferred_t deferred[DEFER_SLOTS];
static atomic_int deferred_ready;
static atomic_uint_fast64_t lost_events;

uint64_t hg__now_ns(void) {
    uint64_t now = hg__tick_ns();
    return now > hg__cfg.t0_mono_ns ? now - hg__cfg.t0_mono_ns : 0;
}

static inline uint32_t my_tid(void) {
    if (HG_UNLIKELY(hg__tls.tid == 0)) {
        hg__tls.tid = hg__gettid();
    }
    return hg__tls.tid;
}

/* ---- flushing ----------------------------------------------------------------------------- */

void hg__rec_flush_locked(void) {
    for (int attempt = 0; attempt < 2; attempt++) {
        struct iovec iov[2 + HG__STREAMS];
        if (hg__chunk_empty(&hg__main_chunk)) {
            return;
        }
        if (!hg__conn_ensure()) {
            break;
        }
        int n = hg__chunk_iov(&hg__main_chunk, iov);
        if (hg__conn_send(iov, n)) {
            hg__chunk_sent(&hg__main_chunk);
            return;
        }
        hg__conn_close(); /* broken, or taken over by the program: one more connection */
    }
    hg__chunk_clear(&hg__main_chunk);
    atomic_store(&hg__recording, 0); /* heapgate is gone: the program runs on, untraced */
}

/* ---- coding ------------------------------------------------------------------------------- */

static void need_room(size_t meta_bytes) {
    if (!hg__chunk_room(&hg__main_chunk, meta_bytes)) {
        hg__rec_flush_locked();
    }
}

static void code_locked(hg__ev_t *ev, const hg__stack_t *st) {
    if (st && st->n > 0) {
        bool is_new = false;
        ev->stack_id = hg__stacks_id(st, &is_new);
        if (is_new) {
            need_room(16 + (size_t)st->n * 10);
            hg__chunk_stack(&hg__main_chunk, ev->stack_id, st->frames, st->n);
        }
    }
    need_room(0);
    ev->pid = hg__pid;
    ev->ts_ns = hg__now_ns();
    hg__chunk_event(&hg__main_chunk, ev);
}

static void code_lost_locked(void) {
    uint64_t n = atomic_exchange(&lost_events, 0);
    if (n) {
        hg__ev_t ev = {.kind = HG_AG_LOST, .tid = my_tid(), .size = n};
        code_locked(&ev, NULL);
    }
}

static void drain_deferred_locked(void) {
    for (int i = 0; i < DEFER_SLOTS && atomic_load(&deferred_ready) > 0; i++) {
        deferred_t *d = &deferred[i];
        if (atomic_load(&d->state) == 2) {
            if (atomic_load(&hg__recording)) {
                code_locked(&d->ev, d->has_stack ? &d->st : NULL);
            }
            atomic_store(&d->state, 0);
            atomic_fetch_sub(&deferred_ready, 1);
        }
    }
    code_lost_locked();
}

void hg__rec_lock(void) {
    pthread_mutex_lock(&rec_lock);
}

bool hg__rec_trylock(void) {
    return pthread_mutex_trylock(&rec_lock) == 0;
}

void hg__rec_unlock(void) {
    if (HG_UNLIKELY(atomic_load_explicit(&deferred_ready, memory_order_relaxed) > 0 ||
                    atomic_load_explicit(&lost_events, memory_order_relaxed) > 0)) {
        drain_deferred_locked();
    }
    if (HG_UNLIKELY(atomic_load_explicit(&hg__flush_each, memory_order_relaxed))) {
        hg__rec_flush_locked();
    }
    pthread_mutex_unlock(&rec_lock);
}

/* ---- events ------------------------------------------------------------------------------- */

/* A hook nested in another on this thread (a signal handler): queue the event. */
static void defer(const hg__ev_t *ev, bool with_stack) {
    for (int i = 0; i < DEFER_SLOTS; i++) {
        deferred_t *d = &deferred[i];
        int expected = 0;
        if (atomic_compare_exchange_strong(&d->state, &expected, 1)) {
            d->ev = *ev;
            d->ev.tid = my_tid();
            d->has_stack = with_stack;
            if (with_stack) {
                hg__unwind(&d->st);
            }
            atomic_store(&d->state, 2);
            atomic_fetch_add(&deferred_ready, 1);
            return;
        }
    }
    atomic_fetch_add(&lost_events, 1);
}

static void record(hg__ev_t *ev, bool with_stack) {
    if (HG_UNLIKELY(hg__tls.depth > 0)) {
        defer(ev, with_stack);
        return;
    }
    hg__tls.depth++;
    hg__stack_t st;
    st.n = 0;
    if (with_stack) {
        hg__unwind(&st);
    }
    ev->tid = my_tid();
    hg__rec_lock();
    if (atomic_load_explicit(&hg__recording, memory_order_relaxed)) {
        code_locked(ev, with_stack ? &st : NULL);
    }
    hg__rec_unlock();
    hg__tls.depth--;
}

void hg__rec_alloc(void *p, size_t size) {
    hg__ev_t ev = {.kind = HG_AG_ALLOC, .addr = (uintptr_t)p, .size = size};
    ev.heap = hg__heap_of(p, &ev.flags);
    record(&ev, true);
}

void hg__rec_free(void *p) {
    if (p) {
        hg__ev_t ev = {.kind = HG_AG_FREE, .addr = (uintptr_t)p};
        ev.heap = hg__heap_of(p, &ev.flags);
        record(&ev, false);
    }
}

/* The realloc event for a call that returned new_p. The event's heap is the old block's (its
 * chunk header is read before the call); the new block's own header says whether it is
 * mmapped. */
static void realloc_event(hg__ev_t *ev, void *old, uint64_t old_heap, void *new_p, size_t size) {
    uint16_t unused = 0;
    *ev = (hg__ev_t){.kind = HG_AG_REALLOC,
                     .heap = old_heap,
                     .addr = (uintptr_t)new_p,
                     .size = size,
                     .old_addr = (uintptr_t)old};
    hg__heap_of(new_p, &unused);
    ev->flags = unused;
}

void *hg__rec_realloc(void *old, size_t size) {
    uint16_t old_flags = 0;
    uint64_t old_heap = hg__heap_of(old, &old_flags);
    hg__ev_t ev;
    if (HG_UNLIKELY(hg__tls.depth > 0)) {
        void *q = hg__real.realloc(old, size);
        realloc_event(&ev, old, old_heap, q, size);
        if (q) {
            defer(&ev, true);
        }
        return q;
    }
    hg__tls.depth++;
    hg__stack_t st;
    hg__unwind(&st);
    hg__rec_lock();
    void *q = hg__real.realloc(old, size);
    if (q && atomic_load_explicit(&hg__recording, memory_order_relaxed)) {
        realloc_event(&ev, old, old_heap, q, size);
        ev.tid = my_tid();
        code_locked(&ev, &st);
    }
    hg__rec_unlock();
    hg__tls.depth--;
    return q;
}

/* A process lifetime event (start, end), under the lock. */
void hg__rec_process_event_locked(uint8_t kind) {
    hg__ev_t ev = {.kind = kind, .tid = my_tid(), .heap = HG_AG_MAIN_ARENA};
    code_locked(&ev, NULL);
}

void hg__rec_after_fork_child(void) {
    pthread_mutex_init(&rec_lock, NULL);
    for (int i = 0; i < DEFER_SLOTS; i++) {
        atomic_store(&deferred[i].state, 0);
    }
    atomic_store(&deferred_ready, 0);
    atomic_store(&lost_events, 0);
    hg__chunk_clear(&hg__main_chunk);
    hg__stream_reset();
    hg__tls.tid = 0;
}
