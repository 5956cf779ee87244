/* sizes.c - a heap's table of requested sizes: how often each size was asked for, with the
 * first request's details (fit ratios pick the most requested sizes, A13 looks for sizes the
 * LFH never served).
 *
 * Every allocation counts its size, so the lookup is on the hot path. Sizes below
 * HG__SMALL_SIZES index a flat array of stat numbers directly (32 KiB per heap, allocated on
 * the first small size); the rare larger ones go through a JudyL. The stats themselves sit in
 * one dense array in order of first appearance. Visits go in ascending size order: the flat
 * array first, then the JudyL, whose sizes are all larger. */
#include "tracker_priv.h"

#include <string.h>

void hg__sizes_free(hg__sizes_t *sz) {
    hg_free(sz->small);
    JudyLFreeArray(&sz->large, PJE0);
    hg_free(sz->v);
    memset(sz, 0, sizeof *sz);
}

/* A new zeroed stat; its index, or HG__NONE on ENOMEM. */
static uint32_t append(hg__sizes_t *sz) {
    if (sz->n == sz->cap) {
        uint32_t cap = sz->cap ? sz->cap * 2 : 16;
        hg__size_stat_t *v = hg_realloc(sz->v, cap * sizeof *v);
        if (!v) {
            return HG__NONE;
        }
        sz->v = v;
        sz->cap = cap;
    }
    memset(&sz->v[sz->n], 0, sizeof sz->v[0]);
    return sz->n++;
}

static hg__size_stat_t *get_small(hg__sizes_t *sz, uint64_t size, bool *created) {
    if (!sz->small && !(sz->small = hg_calloc(HG__SMALL_SIZES, sizeof *sz->small))) {
        return NULL;
    }
    uint32_t *slot = &sz->small[size];
    if (*slot == 0) {
        uint32_t i = append(sz);
        if (i == HG__NONE) {
            return NULL;
        }
        *slot = i + 1;
        *created = true;
    }
    return &sz->v[*slot - 1];
}

static hg__size_stat_t *get_large(hg__sizes_t *sz, uint64_t size, bool *created) {
    PWord_t slot = (PWord_t)JudyLIns(&sz->large, (Word_t)size, PJE0);
    if (slot == PJERR) {
        return NULL;
    }
    if (*slot == 0) {
        uint32_t i = append(sz);
        if (i == HG__NONE) {
            JudyLDel(&sz->large, (Word_t)size, PJE0);
            return NULL;
        }
        *slot = (Word_t)i + 1;
        *created = true;
    }
    return &sz->v[*slot - 1];
}

hg__size_stat_t *hg__sizes_get(hg__sizes_t *sz, uint64_t size, bool *created) {
    *created = false;
    return size < HG__SMALL_SIZES ? get_small(sz, size, created) : get_large(sz, size, created);
}

int hg__sizes_visit(const hg__sizes_t *sz, uint64_t max_size, hg__size_cb cb, void *ud) {
    for (uint64_t s = 0; sz->small && s < HG__SMALL_SIZES && s <= max_size; s++) {
        int rc = sz->small[s] ? cb(ud, s, &sz->v[sz->small[s] - 1]) : 0;
        if (rc) {
            return rc;
        }
    }
    Word_t size = HG__SMALL_SIZES;
    for (PWord_t v = (PWord_t)JudyLFirst(sz->large, &size, PJE0); v && size <= max_size;
         v = (PWord_t)JudyLNext(sz->large, &size, PJE0)) {
        int rc = cb(ud, size, &sz->v[*v - 1]);
        if (rc) {
            return rc;
        }
    }
    return 0;
}
