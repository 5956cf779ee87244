/* sites.c - leak sites: one aggregate per allocation stack id within a process (live count and
 * bytes, totals, peak, first and last allocation). Blocks refer to their site by index, so a
 * free costs no lookup. Allocations find the site of their stack id behind a one-entry cache
 * (runs of one stack are common) in a hash table: open addressing with linear probing, at most
 * half full, rebuilt twice as large from the site array when it would be fuller. Every
 * allocation of a program that interleaves call paths misses the cache, so the table, not an
 * ordered index, is the hot path. Stack frames may be defined later (late binding): sites only
 * know the id. */
#include "tracker_priv.h"

#include <string.h>

void hg__sites_free(hg__sites_t *ss) {
    hg_free(ss->table);
    hg_free(ss->v);
    memset(ss, 0, sizeof *ss);
}

/* The slot of stack_id: where it is, or the empty slot where it would go. */
static hg__site_slot_t *slot_of(const hg__sites_t *ss, uint32_t stack_id) {
    uint32_t i = (uint32_t)(((uint64_t)stack_id * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & ss->mask;
    while (ss->table[i].index1 && ss->table[i].stack_id != stack_id) {
        i = (i + 1) & ss->mask;
    }
    return &ss->table[i];
}

/* Makes room for one more site in the table (kept at most half full). */
static int table_reserve(hg__sites_t *ss) {
    uint32_t size = ss->table ? ss->mask + 1 : 0;
    if ((uint64_t)(ss->n + 1) * 2 <= size) {
        return 0;
    }
    uint32_t grown = size ? size * 2 : 64;
    hg__site_slot_t *table = hg_calloc(grown, sizeof *table);
    if (!table) {
        return HG_ENOMEM;
    }
    hg_free(ss->table);
    ss->table = table;
    ss->mask = grown - 1;
    for (uint32_t i = 0; i < ss->n; i++) {
        hg__site_slot_t *s = slot_of(ss, ss->v[i].stack_id);
        s->stack_id = ss->v[i].stack_id;
        s->index1 = i + 1;
    }
    return 0;
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

/* A new site for stack_id, in the array and the table; HG__NONE on ENOMEM. */
static uint32_t sites_add(hg__sites_t *ss, uint32_t stack_id) {
    if (table_reserve(ss) != 0) {
        return HG__NONE;
    }
    uint32_t i = sites_append(ss, stack_id);
    if (i != HG__NONE) {
        hg__site_slot_t *s = slot_of(ss, stack_id);
        s->stack_id = stack_id;
        s->index1 = i + 1;
    }
    return i;
}

uint32_t hg__sites_lookup(hg__sites_t *ss, uint32_t stack_id) {
    if (ss->n && ss->last_stack == stack_id) {
        return ss->last_index;
    }
    const hg__site_slot_t *s = ss->table ? slot_of(ss, stack_id) : NULL;
    uint32_t i = s && s->index1 ? s->index1 - 1 : sites_add(ss, stack_id);
    if (i != HG__NONE) {
        ss->last_stack = stack_id;
        ss->last_index = i;
    }
    return i;
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
