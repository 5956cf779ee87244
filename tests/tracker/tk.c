/* tk.c - tracker test helpers (see tk.h). */
#include "tk.h"

#include <criterion/criterion.h>
#include <string.h>

hg_tracker_t *tk_new_opt(const hg_tracker_options_t *opt) {
    hg_tracker_t *t = hg_tracker_new(opt);
    cr_assert_not_null(t);
    return t;
}

hg_tracker_t *tk_new(void) {
    return tk_new_opt(NULL);
}

void tk_feed(hg_tracker_t *t, hg_event_t ev) {
    cr_assert_eq(hg_tracker_feed(t, &ev), 0, "feed failed (kind %d at %llu)", ev.kind,
                 (unsigned long long)ev.ts_ns);
}

void tk_start(hg_tracker_t *t, uint64_t ts, uint32_t pid) {
    tk_feed(t, (hg_event_t){.kind = HG_EV_PROCESS_START, .ts_ns = ts, .pid = pid});
}

void tk_end(hg_tracker_t *t, uint64_t ts, uint32_t pid) {
    tk_feed(t, (hg_event_t){.kind = HG_EV_PROCESS_END, .ts_ns = ts, .pid = pid});
}

void tk_alloc_src(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t addr,
                  uint64_t size, uint32_t stack, uint8_t source) {
    tk_feed(t, (hg_event_t){.kind = HG_EV_ALLOC,
                            .ts_ns = ts,
                            .pid = pid,
                            .tid = 1,
                            .heap = heap,
                            .addr = addr,
                            .size = size,
                            .stack_id = stack,
                            .source = source});
}

void tk_alloc(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t addr,
              uint64_t size, uint32_t stack) {
    tk_alloc_src(t, ts, pid, heap, addr, size, stack, 0);
}

void tk_free(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t addr) {
    tk_feed(t,
            (hg_event_t){
                .kind = HG_EV_FREE, .ts_ns = ts, .pid = pid, .tid = 1, .heap = heap, .addr = addr});
}

void tk_realloc(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t old_addr,
                uint64_t addr, uint64_t size, uint32_t stack) {
    tk_feed(t, (hg_event_t){.kind = HG_EV_REALLOC,
                            .ts_ns = ts,
                            .pid = pid,
                            .tid = 1,
                            .heap = heap,
                            .addr = addr,
                            .size = size,
                            .old_addr = old_addr,
                            .stack_id = stack});
}

void tk_heap(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint8_t kind, uint64_t heap) {
    tk_feed(t, (hg_event_t){.kind = kind, .ts_ns = ts, .pid = pid, .heap = heap});
}

void tk_finish(hg_tracker_t *t) {
    cr_assert_eq(hg_tracker_finish(t), 0);
}

typedef struct find {
    int kind;
    uint64_t count;
    size_t aggregates;
    bool found;
    hg_anomaly_t first;
} find_t;

static int find_cb(void *ud, const hg_anomaly_t *a) {
    find_t *f = ud;
    f->aggregates++;
    if (a->kind == f->kind) {
        f->count += a->count;
        if (!f->found) {
            f->first = *a;
            f->found = true;
        }
    }
    return 0;
}

uint64_t tk_anomaly_count(const hg_tracker_t *t, size_t proc, int kind) {
    find_t f = {.kind = kind};
    hg_tracker_visit_anomalies(t, proc, find_cb, &f);
    return f.count;
}

hg_anomaly_t tk_anomaly(const hg_tracker_t *t, size_t proc, int kind) {
    find_t f = {.kind = kind};
    hg_tracker_visit_anomalies(t, proc, find_cb, &f);
    cr_assert(f.found, "no anomaly of kind %s", hg_anomaly_id(kind));
    return f.first;
}

size_t tk_anomaly_kinds(const hg_tracker_t *t, size_t proc) {
    find_t f = {.kind = -1};
    hg_tracker_visit_anomalies(t, proc, find_cb, &f);
    return f.aggregates;
}

typedef struct site_find {
    uint32_t stack;
    bool found;
    hg_site_stats_t s;
} site_find_t;

static int site_cb(void *ud, const hg_site_stats_t *s) {
    site_find_t *f = ud;
    if (s->stack_id == f->stack) {
        f->s = *s;
        f->found = true;
        return 1;
    }
    return 0;
}

hg_site_stats_t tk_site(const hg_tracker_t *t, size_t proc, uint32_t stack) {
    site_find_t f = {.stack = stack};
    hg_tracker_visit_sites(t, proc, site_cb, &f);
    cr_assert(f.found, "no site for stack %u", stack);
    return f.s;
}

typedef struct heap_find {
    uint64_t handle;
    bool found;
    hg_heap_summary_t h;
} heap_find_t;

static int heap_cb(void *ud, const hg_heap_summary_t *h) {
    heap_find_t *f = ud;
    if (h->handle == f->handle) {
        f->h = *h; /* the last record with this handle (a re-created heap comes later) */
        f->found = true;
    }
    return 0;
}

hg_heap_summary_t tk_heap_summary(const hg_tracker_t *t, size_t proc, uint64_t handle) {
    heap_find_t f = {.handle = handle};
    hg_tracker_visit_heaps(t, proc, heap_cb, &f);
    cr_assert(f.found, "no heap 0x%llx", (unsigned long long)handle);
    return f.h;
}

hg_process_summary_t tk_process(const hg_tracker_t *t, size_t proc) {
    cr_assert_lt(proc, hg_tracker_process_count(t));
    hg_process_summary_t s;
    hg_tracker_process(t, proc, &s);
    return s;
}
