/* rules.c - what each heap event does to a process: the leak and anomaly rules of
 * docs/heap-semantics.md §1 and §3.
 *
 * An allocation checks its size, address and Source (A8, A9, A10, A12), retires any live block
 * it overlaps as "freed (inferred)" (A4), and becomes live in its heap and at its site. A free
 * finds its block by exact address; a block found in another heap is a wrong-heap free (A3)
 * that still releases it; an address not live is a double free when it was freed recently
 * (A2), else a free of an unknown address (A1). A realloc ends the old block and makes the new
 * one live (same address = resize), with its own alloc/free companions grouped (threads.c).
 * HeapDestroy releases the heap's live blocks ("released by destroy", A5). */
#include "tracker_priv.h"

#define A8_ZERO  1
#define A8_LARGE 0

static uint64_t size_cap(const hg_tracker_t *t, const hg__process_t *p) {
    return hg__process_ptr(t, p) == 4 ? t->opt.extreme_size_32 : t->opt.extreme_size_64;
}

static uint32_t stack_of_site(const hg__process_t *p, uint32_t site) {
    return site == HG__NONE ? 0 : p->sites.v[site].stack_id;
}

/* The site a new block belongs to, HG__NONE when it was allocated before --settle. */
static uint32_t site_for(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    if (ev->ts_ns < t->opt.settle_ns) {
        t->q.settle_ignored_blocks++;
        t->q.settle_ignored_bytes += ev->size;
        return HG__NONE;
    }
    return hg__sites_lookup(&p->sites, ev->stack_id);
}

/* Source checks every heap event gets (A9 invalid, A10 undocumented). */
static int check_source(hg__process_t *p, const hg_event_t *ev, uint64_t addr, uint32_t stack_id) {
    if (ev->source == HG_SOURCE_INVALID) {
        return hg__anomaly_note(p, HG_A9_SOURCE_INVALID, 0, stack_id, ev, addr, 0);
    }
    if (ev->source >= HG_SOURCE_SEGMENT) {
        return hg__anomaly_note(p, HG_A10_SOURCE_UNDOCUMENTED, 0, stack_id, ev, addr, ev->source);
    }
    return 0;
}

/* Checks for a block about to become live at addr (A8, A12). */
static int check_new_block(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev, uint64_t addr,
                           uint32_t stack_id) {
    int rc = 0;
    if (ev->size == 0) {
        rc = hg__anomaly_note(p, HG_A8_SIZE, A8_ZERO, stack_id, ev, addr, 0);
    } else if (ev->size >= size_cap(t, p)) {
        rc = hg__anomaly_note(p, HG_A8_SIZE, A8_LARGE, stack_id, ev, addr, size_cap(t, p));
    }
    uint64_t align = hg__process_ptr(t, p) == 4 ? 8 : 16;
    if (rc == 0 && addr % align != 0) {
        rc = hg__anomaly_note(p, HG_A12_MISALIGNED, 0, stack_id, ev, addr, align);
    }
    return rc;
}

/* Ends a live block: its site, heap, process and lifetime counters, then the live set. */
static void end_block(hg_tracker_t *t, hg__process_t *p, uint64_t addr, hg__block_t *b,
                      uint64_t ts_ns) {
    uint64_t size = hg__block_size(b);
    if (b->site != HG__NONE) {
        hg__site_t *s = &p->sites.v[b->site];
        s->live_blocks--;
        s->live_bytes -= size;
    }
    hg__heap_sub_live(&p->heaps.v[hg__block_heap(b)], size);
    p->live_bytes -= size;
    hg__lifetime_end(t, p, b, ts_ns);
    hg__live_remove(&p->live, addr, b);
}

/* The end of [addr, addr+size), a zero size counting as one byte; saturates at the top. */
static uint64_t end_of(uint64_t addr, uint64_t size) {
    uint64_t end = addr + (size ? size : 1);
    return end < addr ? UINT64_MAX : end;
}

/* A4: every live block intersecting [addr, addr+size) is retired as freed (inferred). */
static int retire_overlaps(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev, uint64_t addr) {
    uint64_t last = end_of(addr, ev->size) - 1;
    uint64_t baddr;
    hg__block_t *b;
    while ((b = hg__live_overlap_candidate(&p->live, addr, last, &baddr)) != NULL) {
        if (end_of(baddr, hg__block_size(b)) <= addr) {
            return 0;
        }
        int rc = hg__anomaly_note(p, HG_A4_OVERLAP, 0, stack_of_site(p, b->site), ev, addr, baddr);
        if (rc) {
            return rc;
        }
        end_block(t, p, baddr, b, ev->ts_ns);
    }
    return 0;
}

static void count_heap_alloc(hg__heap_t *h, const hg_event_t *ev) {
    h->allocs++;
    h->alloc_bytes += ev->size;
    h->source_allocs[ev->source < 7 ? ev->source : 7]++;
    h->slow_allocs += ev->source == HG_SOURCE_SLOW;
}

/* Makes [addr, addr+size) live in heap hi at site. */
static int add_block(hg__process_t *p, const hg_event_t *ev, uint64_t addr, uint32_t hi,
                     uint32_t site) {
    hg__block_t *b = hg__live_insert(&p->live, addr);
    if (!b) {
        return HG_ENOMEM;
    }
    unsigned flags = (site == HG__NONE ? HG__BF_IGNORED : 0) |
                     ((ev->flags & HG_EVF_MMAPPED) ? HG__BF_MMAPPED : 0);
    hg__block_set(b, ev->size, flags, hi, ev->source);
    b->ts_ns = ev->ts_ns;
    b->site = site;
    if (site != HG__NONE) {
        hg__site_on_alloc(&p->sites.v[site], hg__block_size(b), ev->ts_ns);
    }
    hg__heap_add_live(&p->heaps.v[hi], hg__block_size(b), ev->ts_ns);
    p->alloc_bytes += ev->size;
    p->live_bytes += hg__block_size(b);
    if (p->live_bytes > p->peak_live_bytes) {
        p->peak_live_bytes = p->live_bytes;
        p->peak_live_ts_ns = ev->ts_ns;
    }
    return 0;
}

/* A new block at addr in heap hi (allocation or realloc's new block). */
static int new_block(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev, uint64_t addr,
                     uint32_t hi, uint32_t site) {
    uint32_t stack_id = site == HG__NONE ? ev->stack_id : p->sites.v[site].stack_id;
    hg__heap_t *h = &p->heaps.v[hi];
    count_heap_alloc(h, ev);
    int rc = check_source(p, ev, addr, stack_id);
    if (!rc) {
        rc = hg__heap_count_size(h, ev->size, ev->source, ev, site);
    }
    if (!rc && ev->source == HG_SOURCE_INVALID) {
        /* A9: not counted live; remembered so its free is not called unknown */
        return hg__recent_put(&p->recent, t->opt.recent_frees, addr, ev->ts_ns, site,
                              HG__RF_INVALID);
    }
    if (!rc) {
        rc = check_new_block(t, p, ev, addr, stack_id);
    }
    if (!rc) {
        rc = retire_overlaps(t, p, ev, addr);
    }
    return rc ? rc : add_block(p, ev, addr, hi, site);
}

/* Whether p's reallocs may come with their own alloc/free events (heap-semantics.md, moving
 * reallocs: the Windows heap's ETW events). glibc's realloc is one call, recorded once by the
 * agent: there, a block freed and handed out again next to a realloc is no companion of it. */
static bool has_companions(const hg__process_t *p) {
    return p->allocator != HG_ALLOCATOR_GLIBC;
}

int hg__rule_alloc(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    if (ev->addr == 0) {
        t->q.failed_allocations++;
        return 0;
    }
    if (has_companions(p) && hg__threads_companion(&p->threads, ev->tid, HG_EV_ALLOC, ev->addr)) {
        return 0; /* the realloc just before already made this block live */
    }
    uint32_t hi = hg__heaps_lookup(&p->heaps, ev->heap, ev->ts_ns);
    uint32_t site = hi == HG__NONE ? HG__NONE : site_for(t, p, ev);
    if (hi == HG__NONE || (site == HG__NONE && ev->ts_ns >= t->opt.settle_ns)) {
        return HG_ENOMEM;
    }
    p->allocs++;
    return new_block(t, p, ev, ev->addr, hi, site);
}

/* A free or realloc of an address that is not live: A2 when freed recently, else kind. */
static int unknown_block(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev, uint64_t addr,
                         int kind) {
    const hg__recent_entry_t *e = hg__recent_get(&p->recent, addr);
    if (e && (e->flags & HG__RF_INVALID)) {
        return 0; /* the Source=invalid block (A9) that never became live */
    }
    t->q.unmatched_frees++;
    if (e && kind == HG_A1_FREE_UNKNOWN) {
        return hg__anomaly_note(p, HG_A2_DOUBLE_FREE, 0, stack_of_site(p, e->site), ev, addr,
                                e->ts_ns);
    }
    return hg__anomaly_note(p, kind, 0, 0, ev, addr, 0);
}

/* Checks a live block being freed or reallocated from heap handle (A3, A7). */
static int check_release(hg__process_t *p, const hg_event_t *ev, uint64_t addr,
                         const hg__block_t *b) {
    uint64_t block_heap = p->heaps.v[hg__block_heap(b)].handle;
    uint32_t stack_id = stack_of_site(p, b->site);
    int rc = 0;
    if (block_heap != ev->heap) {
        rc = hg__anomaly_note(p, HG_A3_WRONG_HEAP, 0, stack_id, ev, addr, block_heap);
    }
    if (!rc && ev->kind == HG_EV_REALLOC && (ev->flags & HG_EVF_OLD_SIZE) &&
        ev->old_size != hg__block_size(b)) {
        rc = hg__anomaly_note(p, HG_A7_REALLOC_SIZE, 0, stack_id, ev, addr, hg__block_size(b));
    }
    return rc;
}

/* Ends the live block at addr on behalf of ev (a free or a realloc's old block). */
static int release(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev, uint64_t addr,
                   hg__block_t *b) {
    int rc = check_release(p, ev, addr, b);
    if (rc) {
        return rc;
    }
    p->heaps.v[hg__block_heap(b)].frees++;
    uint32_t site = b->site;
    end_block(t, p, addr, b, ev->ts_ns);
    return hg__recent_put(&p->recent, t->opt.recent_frees, addr, ev->ts_ns, site, 0);
}

int hg__rule_free(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    if (ev->addr == 0) {
        return 0; /* free(NULL) */
    }
    if (has_companions(p) && hg__threads_companion(&p->threads, ev->tid, HG_EV_FREE, ev->addr)) {
        return 0; /* the realloc just before already ended this block */
    }
    p->frees++;
    if (hg__heaps_lookup(&p->heaps, ev->heap, ev->ts_ns) == HG__NONE) {
        return HG_ENOMEM;
    }
    hg__block_t *b = hg__live_get(&p->live, ev->addr);
    int rc = check_source(p, ev, ev->addr, b ? stack_of_site(p, b->site) : 0);
    if (rc) {
        return rc;
    }
    return b ? release(t, p, ev, ev->addr, b)
             : unknown_block(t, p, ev, ev->addr, HG_A1_FREE_UNKNOWN);
}

/* The realloc's old block: released when live, else A6. Returns its site through *site. */
static int realloc_old(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev, uint32_t *site) {
    hg__block_t *b = hg__live_get(&p->live, ev->old_addr);
    if (!b) {
        return unknown_block(t, p, ev, ev->old_addr, HG_A6_REALLOC_UNKNOWN);
    }
    *site = b->site;
    return release(t, p, ev, ev->old_addr, b);
}

/* The site of the realloc's new block: its own stack's, or the old block's when the realloc
 * recorded no stack. */
static uint32_t realloc_site(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev,
                             uint32_t old_site) {
    if (ev->stack_id == 0 && old_site != HG__NONE && ev->ts_ns >= t->opt.settle_ns) {
        return old_site;
    }
    return site_for(t, p, ev);
}

int hg__rule_realloc(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    if (ev->old_addr == 0) {
        hg_event_t as_alloc = *ev;
        as_alloc.kind = HG_EV_ALLOC;
        return hg__rule_alloc(t, p, &as_alloc);
    }
    if (ev->addr == 0) {
        t->q.failed_allocations++; /* a failed realloc leaves the old block as it was */
        return 0;
    }
    p->reallocs++;
    uint32_t hi = hg__heaps_lookup(&p->heaps, ev->heap, ev->ts_ns);
    hg__realloc_group_t group = {false, false};
    int rc = hi == HG__NONE ? HG_ENOMEM : 0;
    if (!rc && ev->addr != ev->old_addr && has_companions(p)) {
        rc = hg__threads_realloc(&p->threads, ev->tid, ev->old_addr, ev->addr, &group);
    }
    uint32_t old_site = HG__NONE;
    if (!rc && !group.free_seen) {
        rc = realloc_old(t, p, ev, &old_site);
    }
    if (rc || group.alloc_seen) {
        return rc;
    }
    uint32_t site = realloc_site(t, p, ev, old_site);
    if (site == HG__NONE && ev->ts_ns >= t->opt.settle_ns) {
        return HG_ENOMEM;
    }
    return new_block(t, p, ev, ev->addr, hi, site);
}

int hg__rule_heap_create(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    (void)t;
    return hg__heaps_create(&p->heaps, ev->heap, ev->ts_ns) == HG__NONE ? HG_ENOMEM : 0;
}

/* Releases every live block of heap hi ("released by destroy"). */
static void release_heap(hg_tracker_t *t, hg__process_t *p, uint32_t hi, uint64_t ts_ns) {
    uint64_t addr = 0;
    for (hg__block_t *b = hg__live_first(&p->live, &addr); b && p->heaps.v[hi].live_blocks;
         b = hg__live_next(&p->live, &addr)) {
        if (hg__block_heap(b) != hi) {
            continue;
        }
        if (b->site != HG__NONE) {
            hg__site_t *s = &p->sites.v[b->site];
            s->released_blocks++;
            s->released_bytes += hg__block_size(b);
        }
        end_block(t, p, addr, b, ts_ns);
    }
}

/* Takes heap hi's final fragmentation figures now (before its blocks go). */
static int heap_final(const hg_tracker_t *t, hg__process_t *p, uint32_t hi, uint64_t ts_ns) {
    hg_frag_t *all = hg_calloc(p->heaps.n, sizeof *all);
    if (!all) {
        return HG_ENOMEM;
    }
    int rc = hg__frag_compute(t, p, all, true, ts_ns);
    if (!rc) {
        hg__heap_t *h = &p->heaps.v[hi];
        h->final = all[hi];
        h->final_taken = true;
        hg__heap_note_measure(h, &all[hi]);
    }
    hg_free(all);
    return rc;
}

int hg__rule_heap_destroy(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    uint32_t hi = hg__heaps_lookup(&p->heaps, ev->heap, ev->ts_ns);
    if (hi == HG__NONE) {
        return HG_ENOMEM;
    }
    hg__heap_t *h = &p->heaps.v[hi];
    int rc = heap_final(t, p, hi, ev->ts_ns);
    if (!rc && h->live_blocks) {
        hg_event_t ex = *ev;
        ex.size = h->live_bytes;
        rc = hg__anomaly_note(p, HG_A5_DESTROY_LIVE, 0, 0, &ex, 0, h->live_blocks);
        release_heap(t, p, hi, ev->ts_ns);
    }
    if (!rc) {
        rc = hg__anomalies_lfh(p, h);
    }
    h->destroyed = true;
    h->destroy_ts_ns = ev->ts_ns;
    return rc;
}
