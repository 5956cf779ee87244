/* sites.c - leak sites: one aggregate per allocation stack id within a process (live count and
 * bytes, totals, peak, first and last allocation). Blocks refer to their site by index, so a
 * free costs no lookup; allocations look the stack id up in a JudyL behind a one-entry cache
 * (runs of one stack are common). Stack frames may be defined later (late binding): sites only
 * know the id. */
#include "tracker_priv.h"

#include <string.h>

void hg__sites_free(hg__sites_t *ss) {
    JudyLFreeArray(&ss->by_stack, PJE0);
    hg_free(ss->v);
    memset(ss, 0, sizeof *ss);
}

static uint32_t sites_append(hg__sites_t *ss, uint32_t stack_id) {
    if (ss->n == ss->cap) {
        uint32_t cap = ss->cap ? ss->cap * 2 : 16;
        hg__site_t *v = hg_realloc(ss->v, cap * sizeof *v);
        if (!v) {
            return HG__NONE;
        }
        ss->v = v;
        ss->cap = cap;
    }
    memset(&ss->v[ss->n], 0, sizeof ss->v[0]);
    ss->v[ss->n].stack_id = stack_id;
    return ss->n++;
}

uint32_t hg__sites_lookup(hg__sites_t *ss, uint32_t stack_id) {
    if (ss->n && ss->last_stack == stack_id) {
        return ss->last_index;
    }
    PWord_t slot = (PWord_t)JudyLIns(&ss->by_stack, stack_id, PJE0);
    if (slot == PJERR) {
        return HG__NONE;
    }
    if (*slot == 0) {
        uint32_t i = sites_append(ss, stack_id);
        if (i == HG__NONE) {
            JudyLDel(&ss->by_stack, stack_id, PJE0);
            return HG__NONE;
        }
        *slot = (Word_t)i + 1;
    }
    ss->last_stack = stack_id;
    ss->last_index = (uint32_t)(*slot - 1);
    return ss->last_index;
}

void hg__site_on_alloc(hg__site_t *s, uint64_t size, uint64_t ts_ns) {
    if (s->allocs == 0) {
        s->first_ts_ns = ts_ns;
    }
    s->allocs++;
    s->alloc_bytes += size;
    s->last_ts_ns = ts_ns;
    s->live_blocks++;
    s->live_bytes += size;
    if (s->live_bytes > s->peak_live_bytes) {
        s->peak_live_bytes = s->live_bytes;
    }
}
