/* etl_pending.c - events held back until their stacks are known, then delivered in the order
 * they came (which is time order).
 *
 * A heap event's stack arrives after it: a StackWalk event or stack-key references with the
 * event's timestamp and thread (docs/etw-format.md §3.1, §3.2), possibly as a kernel part and a
 * later user part. The queue is a ring of items; an item "waits" until it is done: it received a
 * part that reaches user space (the caller clears waiting), its thread produced a later item or a
 * stack for a later time (a thread cannot log again before the stack of its previous event is
 * written), or it is older than the horizon. The ring grows to cap_max items; when full, the
 * oldest item is delivered as it is (counted in forced). Items behind a waiting one wait too,
 * so delivery keeps the input's order. Memory is bounded by cap_max items. */
#include "etl_priv.h"

#include <string.h>

void hg__pending_init(hg__pending_t *q, size_t cap_max, uint64_t horizon, hg__pend_deliver_fn fn,
                      void *ud) {
    memset(q, 0, sizeof *q);
    q->cap_max = cap_max;
    q->horizon = horizon;
    q->deliver = fn;
    q->ud = ud;
}

void hg__pending_free(hg__pending_t *q) {
    for (uint64_t s = q->head; s < q->tail; s++) {
        hg_free(q->ring[s & (q->cap - 1)].info);
    }
    hg_free(q->ring);
    hg__map_free(&q->by_tid);
    memset(q, 0, sizeof *q);
}

static hg__pend_item_t *item(const hg__pending_t *q, uint64_t seq) {
    return &q->ring[seq & (q->cap - 1)];
}

/* Entries of by_tid are not removed when their item leaves: an entry older than the head is
 * stale and ignored; stale entries are swept when they outnumber the queue. */
static int deliver_head(hg__pending_t *q) {
    hg__pend_item_t *it = item(q, q->head);
    q->head++;
    int rc = q->deliver(q->ud, it);
    hg_free(it->info);
    it->info = NULL;
    return rc;
}

static bool still_queued(void *ud, uint64_t key, uint64_t seq) {
    (void)key;
    return seq >= ((const hg__pending_t *)ud)->head;
}

static void sweep(hg__pending_t *q) {
    if (q->by_tid.n > 4096 && q->by_tid.n > 2 * (q->tail - q->head)) {
        hg__map_keep(&q->by_tid, still_queued, q);
    }
}

/* Doubles the ring, keeping the items' positions by sequence number. */
static int grow(hg__pending_t *q) {
    size_t cap = q->cap ? q->cap * 2 : 256;
    hg__pend_item_t *ring = hg_malloc(cap * sizeof *ring);
    if (!ring) {
        return HG_ENOMEM;
    }
    for (uint64_t s = q->head; s < q->tail; s++) {
        ring[s & (cap - 1)] = *item(q, s);
    }
    hg_free(q->ring);
    q->ring = ring;
    q->cap = cap;
    return 0;
}

static int make_room(hg__pending_t *q) {
    if (q->tail - q->head < q->cap) {
        return 0;
    }
    if (q->cap < q->cap_max) {
        return grow(q);
    }
    q->forced += item(q, q->head)->waiting;
    return deliver_head(q);
}

/* A new item of thread tid: that thread's earlier item is done. */
static int thread_moved_on(hg__pending_t *q, uint32_t tid, bool waiting) {
    uint64_t seq;
    int had =
        waiting ? hg__map_swap(&q->by_tid, tid, q->tail, &seq) : hg__map_get(&q->by_tid, tid, &seq);
    if (had < 0) {
        return had;
    }
    if (had && seq >= q->head && seq < q->tail) {
        item(q, seq)->waiting = false;
    }
    return 0;
}

int hg__pending_push(hg__pending_t *q, const hg_event_t *ev, uint64_t raw_ts, bool waiting,
                     hg_process_info_t *info, hg__pend_item_t **out) {
    int rc = make_room(q);
    if (rc == 0) {
        sweep(q);
        rc = thread_moved_on(q, ev->tid, waiting);
    }
    if (rc != 0) {
        hg_free(info);
        return rc;
    }
    hg__pend_item_t *it = item(q, q->tail);
    it->ev = *ev;
    it->raw_ts = raw_ts;
    it->part_k = it->part_u = 0;
    it->seq = q->tail;
    it->waiting = waiting;
    it->info = info;
    q->tail++;
    if (out) {
        *out = it;
    }
    return 0;
}

hg__pend_item_t *hg__pending_find(hg__pending_t *q, uint32_t tid, uint64_t raw_ts) {
    uint64_t seq;
    if (!hg__map_get(&q->by_tid, tid, &seq) || seq < q->head) {
        return NULL;
    }
    hg__pend_item_t *it = item(q, seq);
    if (it->raw_ts == raw_ts) {
        return it;
    }
    if (raw_ts > it->raw_ts) {
        it->waiting = false; /* the thread has gone on to a later event */
    }
    return NULL;
}

int hg__pending_drain(hg__pending_t *q, uint64_t now) {
    while (q->head < q->tail) {
        hg__pend_item_t *it = item(q, q->head);
        if (it->waiting && (now < it->raw_ts || now - it->raw_ts <= q->horizon)) {
            return 0;
        }
        int rc = deliver_head(q);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int hg__pending_flush(hg__pending_t *q) {
    while (q->head < q->tail) {
        int rc = deliver_head(q);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}
