/* lifetime.c - WPA's lifetime classes for a window [t0, t1] (docs/heap-semantics.md §2):
 * AIFI allocated and freed inside, AIFO allocated inside and freed after t1 or never, AOFI
 * allocated before t0 and freed inside, AOFO allocated before t0 and freed after t1 or never.
 * Blocks allocated after t1 belong to no class. A realloc ends the old block and starts the new
 * one at its time; blocks released by HeapDestroy or retired by an overlap end then too. */
#include "tracker_priv.h"

static void add(uint64_t *blocks, uint64_t *bytes, uint64_t size) {
    (*blocks)++;
    *bytes += size;
}

static void aifo(hg__process_t *p, const hg__block_t *b) {
    add(&p->lifetime.aifo_blocks, &p->lifetime.aifo_bytes, hg__block_size(b));
    if (b->site != HG__NONE) {
        hg__site_t *s = &p->sites.v[b->site];
        add(&s->aifo_blocks, &s->aifo_bytes, hg__block_size(b));
    }
}

void hg__lifetime_end(hg_tracker_t *t, hg__process_t *p, const hg__block_t *b, uint64_t ts_ns) {
    uint64_t t0 = t->opt.window_t0_ns, t1 = t->opt.window_t1_ns, size = hg__block_size(b);
    if (!t->opt.window || b->ts_ns > t1 || ts_ns < t0) {
        return; /* allocated after the window, or freed before it */
    }
    hg__lifetime_t *l = &p->lifetime;
    if (b->ts_ns < t0) {
        if (ts_ns <= t1) {
            add(&l->aofi_blocks, &l->aofi_bytes, size);
        } else {
            add(&l->aofo_blocks, &l->aofo_bytes, size);
        }
    } else if (ts_ns <= t1) {
        add(&l->aifi_blocks, &l->aifi_bytes, size);
    } else {
        aifo(p, b);
    }
}

void hg__lifetime_never(hg_tracker_t *t, hg__process_t *p, const hg__block_t *b) {
    if (!t->opt.window || b->ts_ns > t->opt.window_t1_ns) {
        return;
    }
    if (b->ts_ns < t->opt.window_t0_ns) {
        add(&p->lifetime.aofo_blocks, &p->lifetime.aofo_bytes, hg__block_size(b));
    } else {
        aifo(p, b);
    }
}
