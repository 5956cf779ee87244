/* heaps.c - a process's heap registry: handle -> heap record, created on HeapCreate or on
 * first use (heap-semantics.md §3 A11: events on a heap never created are normal for heaps that
 * predate the trace). A destroyed handle that comes back is a new heap record. Each heap keeps
 * its live and peak figures and a table of requested sizes (sizes.c; fit ratios, A13). Nearly
 * every event names the heap of the event before: a one-entry cache skips the JudyL then. */
#include "tracker_priv.h"

#include <string.h>

void hg__heaps_free(hg__heaps_t *hs) {
    for (uint32_t i = 0; i < hs->n; i++) {
        hg__sizes_free(&hs->v[i].sizes);
    }
    JudyLFreeArray(&hs->by_handle, PJE0);
    hg_free(hs->v);
    memset(hs, 0, sizeof *hs);
}

static uint32_t heaps_append(hg__heaps_t *hs, uint64_t handle, uint64_t ts_ns, bool created) {
    if (hs->n == hs->cap) {
        uint32_t cap = hs->cap ? hs->cap * 2 : 4;
        hg__heap_t *v = hg_realloc(hs->v, cap * sizeof *v);
        if (!v) {
            return HG__NONE;
        }
        hs->v = v;
        hs->cap = cap;
    }
    PWord_t slot = (PWord_t)JudyLIns(&hs->by_handle, (Word_t)handle, PJE0);
    if (slot == PJERR) {
        return HG__NONE;
    }
    hg__heap_t *h = &hs->v[hs->n];
    memset(h, 0, sizeof *h);
    h->handle = handle;
    h->created_in_trace = created;
    h->create_ts_ns = ts_ns;
    *slot = hs->n + 1;
    hs->last_handle = handle;
    hs->last_index = hs->n;
    return hs->n++;
}

uint32_t hg__heaps_find(const hg__heaps_t *hs, uint64_t handle) {
    PWord_t slot = (PWord_t)JudyLGet(hs->by_handle, (Word_t)handle, PJE0);
    return slot ? (uint32_t)(*slot - 1) : HG__NONE;
}

uint32_t hg__heaps_lookup(hg__heaps_t *hs, uint64_t handle, uint64_t ts_ns) {
    if (hs->n && hs->last_handle == handle && !hs->v[hs->last_index].destroyed) {
        return hs->last_index; /* nearly every event uses the heap of the one before */
    }
    uint32_t i = hg__heaps_find(hs, handle);
    if (i != HG__NONE && !hs->v[i].destroyed) {
        hs->last_handle = handle;
        hs->last_index = i;
        return i;
    }
    return heaps_append(hs, handle, ts_ns, false);
}

uint32_t hg__heaps_create(hg__heaps_t *hs, uint64_t handle, uint64_t ts_ns) {
    uint32_t i = hg__heaps_find(hs, handle);
    if (i != HG__NONE && !hs->v[i].destroyed && hs->v[i].allocs == 0 && hs->v[i].live_blocks == 0) {
        hs->v[i].created_in_trace = true;
        hs->v[i].create_ts_ns = ts_ns;
        return i;
    }
    return heaps_append(hs, handle, ts_ns, true);
}

void hg__heap_add_live(hg__heap_t *h, uint64_t size, uint64_t ts_ns) {
    h->live_bytes += size;
    h->live_blocks++;
    if (h->live_bytes > h->peak_live_bytes) {
        h->peak_live_bytes = h->live_bytes;
        h->peak_live_ts_ns = ts_ns;
    }
    if (h->live_blocks > h->peak_live_blocks) {
        h->peak_live_blocks = h->live_blocks;
    }
}

void hg__heap_note_measure(hg__heap_t *h, const hg_frag_t *f) {
    if (f->span_bytes > h->max_span_bytes) {
        h->max_span_bytes = f->span_bytes;
    }
    if (f->live_bytes > h->max_measured_live) {
        h->max_measured_live = f->live_bytes;
    }
}

void hg__heap_sub_live(hg__heap_t *h, uint64_t size) {
    h->live_bytes -= size;
    h->live_blocks--;
}

int hg__heap_count_size(hg__heap_t *h, uint64_t size, unsigned source, const hg_event_t *ev,
                        uint32_t site) {
    return hg__sizes_count(&h->sizes, size, source, ev, site);
}
