/* liveset.c - a process's live blocks, indexed by address.
 *
 * A JudyL maps each live block's address to its 24-byte record. Records come from a slab of
 * fixed chunks (they never move, so the JudyL value can hold a plain pointer) with a free list
 * of released records: no malloc per block, and memory per live block stays near 24 bytes plus
 * Judy's index (STYLE.md: a few bytes per key for clustered addresses, about 21 for random).
 * Exact lookups (every free and realloc makes one) try a small direct-mapped cache of recent
 * insertions first (tracker_priv.h): a hit skips one JudyL descent.
 *
 * A freed block's record usually stays in the JudyL, marked HG__BF_DEAD, instead of being
 * deleted: allocators hand the same addresses out again and again, and an allocation at an
 * address still indexed reuses its key and record in place, where a deletion and a later
 * insertion would cost two of the JudyL's most expensive operations. At most dead_max() such
 * records are kept (beyond it a free deletes), so they cost a few bytes per live block at most.
 * Lookups and walks skip them. One invariant keeps the overlap search short: no dead key lies
 * strictly inside a live block. Live blocks are disjoint, so a key dies outside every live
 * block, and a block becoming live first drops the dead keys inside its range
 * (hg__live_overlap_candidate, which the allocation path calls before inserting). */
#include "tracker_priv.h"

#include <string.h>

#define CHUNK_BLOCKS 4096

void hg__block_set(hg__block_t *b, uint64_t size, unsigned flags, uint32_t heap, unsigned source) {
    if (size > HG__SIZE_MAX) {
        size = HG__SIZE_MAX; /* absurd sizes are flagged by A8; the record keeps the cap */
    }
    b->size_flags = size | ((uint64_t)(flags & 0xffu) << HG__SIZE_BITS);
    b->heap_source = (heap & 0xffffffu) | ((uint32_t)(source & 0xffu) << 24);
}

void hg__live_init(hg__liveset_t *ls) {
    memset(ls, 0, sizeof *ls);
}

void hg__live_clear(hg__liveset_t *ls) {
    JudyLFreeArray(&ls->judy, PJE0);
    hg_free(ls->hints);
    for (size_t i = 0; i < ls->nchunks; i++) {
        hg_free(ls->chunks[i]);
    }
    hg_free(ls->chunks);
    hg__live_init(ls);
}

static hg__block_t *slab_take(hg__liveset_t *ls) {
    if (ls->free_list) {
        hg__block_t *b = ls->free_list;
        ls->free_list = (hg__block_t *)(uintptr_t)b->size_flags;
        return b;
    }
    if (ls->nchunks == 0 || ls->used_in_last == CHUNK_BLOCKS) {
        hg__block_t **chunks = hg_realloc(ls->chunks, (ls->nchunks + 1) * sizeof *chunks);
        if (!chunks) {
            return NULL;
        }
        ls->chunks = chunks;
        chunks[ls->nchunks] = hg_malloc(CHUNK_BLOCKS * sizeof(hg__block_t));
        if (!chunks[ls->nchunks]) {
            return NULL;
        }
        ls->nchunks++;
        ls->used_in_last = 0;
    }
    return &ls->chunks[ls->nchunks - 1][ls->used_in_last++];
}

static void slab_give(hg__liveset_t *ls, hg__block_t *b) {
    b->size_flags = (uint64_t)(uintptr_t)ls->free_list;
    ls->free_list = b;
}

static bool is_dead(const hg__block_t *b) {
    return (hg__block_flags(b) & HG__BF_DEAD) != 0;
}

/* How many dead records may be indexed before a free deletes instead: a sixteenth of the live
 * count, at least 4096, but no more than the live count, so walks in address order (which skip
 * dead records) stay near the live set's length while it is steady. */
static uint64_t dead_max(const hg__liveset_t *ls) {
    uint64_t n = ls->count / 16;
    n = n > 4096 ? n : 4096;
    return n < ls->count ? n : ls->count;
}

static hg__live_hint_t *hint_of(const hg__liveset_t *ls, uint64_t addr) {
    uint64_t h = (addr >> 4) * UINT64_C(0x9e3779b97f4a7c15); /* Fibonacci hashing */
    return &ls->hints[(h >> 32) & (ls->nhints - 1)];
}

/* Keeps the cache at about twice the live count (bounded); a new table starts empty. Failing
 * to allocate one keeps the old: the cache is only a shortcut. */
static void hints_fit(hg__liveset_t *ls) {
    if (ls->nhints >= HG__HINTS_MAX || (ls->nhints && ls->count < ls->nhints / 2)) {
        return;
    }
    uint32_t n = ls->nhints ? ls->nhints * 2 : HG__HINTS_MIN;
    hg__live_hint_t *v = hg_calloc(n, sizeof *v);
    if (v) {
        hg_free(ls->hints);
        ls->hints = v;
        ls->nhints = n;
    }
}

hg__block_t *hg__live_get(const hg__liveset_t *ls, uint64_t addr) {
    if (ls->nhints) {
        const hg__live_hint_t *e = hint_of(ls, addr);
        if (e->block && e->addr == addr) {
            return e->block;
        }
    }
    PWord_t v = (PWord_t)JudyLGet(ls->judy, (Word_t)addr, PJE0);
    return v && !is_dead((hg__block_t *)*v) ? (hg__block_t *)*v : NULL;
}

hg__block_t *hg__live_insert(hg__liveset_t *ls, uint64_t addr) {
    PWord_t v = (PWord_t)JudyLIns(&ls->judy, (Word_t)addr, PJE0);
    if (v == PJERR) {
        return NULL;
    }
    hg__block_t *b = (hg__block_t *)*v;
    if (b) {
        ls->dead--; /* the dead record of an earlier block at addr, reused in place */
    } else if ((b = slab_take(ls)) != NULL) {
        *v = (Word_t)b;
    } else {
        JudyLDel(&ls->judy, (Word_t)addr, PJE0);
        return NULL;
    }
    memset(b, 0, sizeof *b);
    ls->count++;
    hints_fit(ls);
    if (ls->nhints) {
        *hint_of(ls, addr) = (hg__live_hint_t){addr, b};
    }
    return b;
}

/* Takes addr out of the index and gives its record back to the slab. */
static void unindex(hg__liveset_t *ls, uint64_t addr, hg__block_t *b) {
    JudyLDel(&ls->judy, (Word_t)addr, PJE0);
    slab_give(ls, b);
}

void hg__live_remove(hg__liveset_t *ls, uint64_t addr, hg__block_t *b) {
    if (ls->nhints) {
        hg__live_hint_t *e = hint_of(ls, addr);
        if (e->addr == addr) {
            e->block = NULL;
        }
    }
    ls->count--;
    if (ls->dead < dead_max(ls)) {
        b->size_flags |= (uint64_t)HG__BF_DEAD << HG__SIZE_BITS;
        ls->dead++;
        return;
    }
    unindex(ls, addr, b);
}

/* The record, live or dead, with the greatest address <= key. JudyLLast looks key up exactly
 * before it looks for a predecessor; JudyLPrev from key + 1 finds the same record in one
 * descent, which counts on the allocation path. */
static hg__block_t *any_at_or_before(const hg__liveset_t *ls, uint64_t key, uint64_t *addr) {
    Word_t k = (Word_t)key;
    PWord_t v;
    if (key == UINT64_MAX) {
        v = (PWord_t)JudyLLast(ls->judy, &k, PJE0);
    } else {
        k++;
        v = (PWord_t)JudyLPrev(ls->judy, &k, PJE0);
    }
    if (!v) {
        return NULL;
    }
    *addr = k;
    return (hg__block_t *)*v;
}

hg__block_t *hg__live_at_or_before(const hg__liveset_t *ls, uint64_t key, uint64_t *addr) {
    hg__block_t *b = any_at_or_before(ls, key, addr);
    while (b && is_dead(b)) {
        b = *addr ? any_at_or_before(ls, *addr - 1, addr) : NULL;
    }
    return b;
}

/* A dead key at or below start means no live block reaches start: the live blocks below it
 * end at or before it (the invariant above). */
hg__block_t *hg__live_overlap_candidate(hg__liveset_t *ls, uint64_t start, uint64_t last,
                                        uint64_t *addr) {
    hg__block_t *b;
    while ((b = any_at_or_before(ls, last, addr)) != NULL && is_dead(b)) {
        if (*addr <= start) {
            return NULL;
        }
        unindex(ls, *addr, b);
        ls->dead--;
    }
    return b;
}

/* The first live record at or after (first) or after (next) *addr. */
static hg__block_t *live_from(const hg__liveset_t *ls, uint64_t *addr, bool first) {
    Word_t k = (Word_t)*addr;
    PWord_t v =
        first ? (PWord_t)JudyLFirst(ls->judy, &k, PJE0) : (PWord_t)JudyLNext(ls->judy, &k, PJE0);
    while (v && is_dead((hg__block_t *)*v)) {
        v = (PWord_t)JudyLNext(ls->judy, &k, PJE0);
    }
    *addr = k;
    return v ? (hg__block_t *)*v : NULL;
}

hg__block_t *hg__live_first(const hg__liveset_t *ls, uint64_t *addr) {
    return live_from(ls, addr, true);
}

hg__block_t *hg__live_next(const hg__liveset_t *ls, uint64_t *addr) {
    return live_from(ls, addr, false);
}

uint64_t hg__live_memory(const hg__liveset_t *ls) {
    return (uint64_t)JudyLMemUsed(ls->judy) +
           (uint64_t)ls->nchunks * CHUNK_BLOCKS * sizeof(hg__block_t) +
           (uint64_t)ls->nhints * sizeof(hg__live_hint_t);
}
