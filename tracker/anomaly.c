/* anomaly.c - aggregation of anomalies by (kind, site) with a count and the first example, the
 * LFH rule (A13) evaluated from a heap's size table, and the final severities: the defaults of
 * docs/heap-semantics.md §3, demoted when the trace is incomplete (lost events or buffers, cut
 * short) or the process was not traced from its start. */
#include "tracker_priv.h"

#define LFH_MIN_REQUESTS 18            /* heap-semantics.md §3 A13 */
#define LFH_MAX_SIZE     (16u * 1024u) /* LFH serves blocks below about 16 KB */

static Word_t key_of(int kind, int variant, uint32_t stack_id) {
    return ((Word_t)kind << 40) | ((Word_t)(variant & 0xff) << 32) | stack_id;
}

void hg__anomalies_free(hg__anomalies_t *as) {
    Word_t key = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(as->by_key, &key, PJE0); v;
         v = (PWord_t)JudyLNext(as->by_key, &key, PJE0)) {
        hg_free((void *)*v);
    }
    JudyLFreeArray(&as->by_key, PJE0);
    as->count = 0;
}

static void set_example(hg_anomaly_t *a, const hg_event_t *ev, uint64_t addr, uint64_t other) {
    a->example.ts_ns = ev->ts_ns;
    a->example.pid = ev->pid;
    a->example.tid = ev->tid;
    a->example.heap = ev->heap;
    a->example.addr = addr;
    a->example.size = ev->size;
    a->example.other = other;
}

int hg__anomaly_note(hg__process_t *p, int kind, int variant, uint32_t stack_id,
                     const hg_event_t *ev, uint64_t addr, uint64_t other) {
    PWord_t slot = (PWord_t)JudyLIns(&p->anomalies.by_key, key_of(kind, variant, stack_id), PJE0);
    if (slot == PJERR) {
        return HG_ENOMEM;
    }
    hg_anomaly_t *a = (hg_anomaly_t *)*slot;
    if (!a) {
        a = hg_calloc(1, sizeof *a);
        if (!a) {
            JudyLDel(&p->anomalies.by_key, key_of(kind, variant, stack_id), PJE0);
            return HG_ENOMEM;
        }
        a->kind = (uint8_t)kind;
        a->variant = (uint8_t)variant;
        a->stack_id = stack_id;
        set_example(a, ev, addr, other);
        *slot = (Word_t)a;
        p->anomalies.count++;
    }
    a->count++;
    return 0;
}

/* One A13 finding for a size of heap h. */
static int note_lfh(hg__process_t *p, const hg__heap_t *h, uint64_t size,
                    const hg__size_stat_t *st) {
    hg_event_t ev = {.kind = HG_EV_ALLOC,
                     .pid = p->pid,
                     .tid = st->first_tid,
                     .ts_ns = st->first_ts_ns,
                     .heap = h->handle,
                     .addr = st->first_addr,
                     .size = size};
    uint32_t stack_id = st->first_site == HG__NONE ? 0 : p->sites.v[st->first_site].stack_id;
    return hg__anomaly_note(p, HG_A13_NO_LFH, 0, stack_id, &ev, ev.addr, st->etw_requests);
}

typedef struct lfh_check {
    hg__process_t *p;
    const hg__heap_t *h;
} lfh_check_t;

static int check_lfh_size(void *ud, uint64_t size, const hg__size_stat_t *st) {
    const lfh_check_t *c = ud;
    if (st->etw_requests >= LFH_MIN_REQUESTS && !st->lfh_seen) {
        return note_lfh(c->p, c->h, size, st);
    }
    return 0;
}

int hg__anomalies_lfh(hg__process_t *p, const hg__heap_t *h) {
    lfh_check_t c = {p, h};
    return hg__sizes_visit(&h->sizes, LFH_MAX_SIZE - 1, check_lfh_size, &c);
}

/* The severity of kind in a trace that is (in)complete, for a process traced from its start
 * or not (heap-semantics.md §3 table and data-quality gate). */
static int severity_of(const hg_anomaly_t *a, const hg_trace_quality_t *q, bool from_start) {
    bool incomplete = q->incomplete;
    switch (a->kind) {
    case HG_A1_FREE_UNKNOWN:
    case HG_A6_REALLOC_UNKNOWN:
        return (incomplete || !from_start) ? HG_SEV_INFO : HG_SEV_WARNING;
    case HG_A2_DOUBLE_FREE:
        return incomplete ? HG_SEV_INFO : q->lost_counts_known ? HG_SEV_ERROR : HG_SEV_WARNING;
    case HG_A3_WRONG_HEAP:
        return HG_SEV_ERROR;
    case HG_A4_OVERLAP:
        return incomplete ? HG_SEV_INFO : HG_SEV_WARNING;
    case HG_A8_SIZE:
        return a->variant == 1 ? HG_SEV_INFO : HG_SEV_WARNING;
    case HG_A9_SOURCE_INVALID:
    case HG_A12_MISALIGNED:
        return HG_SEV_WARNING;
    default:
        return HG_SEV_INFO; /* A5, A7, A10, A13 */
    }
}

void hg__anomalies_settle(hg_tracker_t *t, hg__process_t *p) {
    Word_t key = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(p->anomalies.by_key, &key, PJE0); v;
         v = (PWord_t)JudyLNext(p->anomalies.by_key, &key, PJE0)) {
        hg_anomaly_t *a = (hg_anomaly_t *)*v;
        a->severity = (uint8_t)severity_of(a, &t->q, p->traced_from_start);
    }
}
