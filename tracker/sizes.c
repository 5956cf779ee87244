/* sizes.c - a heap's table of requested sizes: how often each size was asked for, with the
 * first request's details (fit ratios pick the most requested sizes, A13 looks for sizes the
 * LFH never served).
 *
 * Every allocation counts its size, so counting is on the hot path and touches as little as
 * it can. Sizes below HG__SMALL_SIZES count requests in a flat array indexed by size (32 KiB
 * per heap, allocated on the first small size): an allocation without an ETW Source does one
 * increment there and nothing else. The first request of a size creates its stat (the example
 * of A13) in a dense array, found through a second flat array of stat numbers; larger sizes
 * find theirs through a JudyL and count there. Visits go in ascending size order: the small
 * sizes first, then the JudyL's, which are all larger. */
#include "tracker_priv.h"

#include <string.h>

void hg__sizes_free(hg__sizes_t *sz) {
    hg_free(sz->small_requests);
    hg_free(sz->small_stat);
    JudyLFreeArray(&sz->large, PJE0);
    hg_free(sz->v);
    memset(sz, 0, sizeof *sz);
}

/* A new stat holding ev as its first request; its number, or HG__NONE on ENOMEM. */
static uint32_t append(hg__sizes_t *sz, const hg_event_t *ev, uint32_t site) {
    if (sz->n == sz->cap) {
        uint32_t cap = sz->cap ? sz->cap * 2 : 16;
        hg__size_stat_t *v = hg_realloc(sz->v, cap * sizeof *v);
        if (!v) {
            return HG__NONE;
        }
        sz->v = v;
        sz->cap = cap;
    }
    hg__size_stat_t *st = &sz->v[sz->n];
    memset(st, 0, sizeof *st);
    st->first_ts_ns = ev->ts_ns;
    st->first_addr = ev->addr;
    st->first_tid = ev->tid;
    st->first_site = site;
    return sz->n++;
}

static int small_init(hg__sizes_t *sz) {
    sz->small_requests = hg_calloc(HG__SMALL_SIZES, sizeof *sz->small_requests);
    sz->small_stat = sz->small_requests ? hg_calloc(HG__SMALL_SIZES, sizeof *sz->small_stat) : NULL;
    if (!sz->small_stat) {
        hg_free(sz->small_requests);
        sz->small_requests = NULL;
        return HG_ENOMEM;
    }
    return 0;
}

/* The stat of small size, created for its first request. */
static hg__size_stat_t *small_stat(hg__sizes_t *sz, uint64_t size, const hg_event_t *ev,
                                   uint32_t site) {
    uint32_t *slot = &sz->small_stat[size];
    if (*slot == 0) {
        uint32_t i = append(sz, ev, site);
        if (i == HG__NONE) {
            return NULL;
        }
        *slot = i + 1;
    }
    return &sz->v[*slot - 1];
}

static hg__size_stat_t *large_stat(hg__sizes_t *sz, uint64_t size, const hg_event_t *ev,
                                   uint32_t site) {
    PWord_t slot = (PWord_t)JudyLIns(&sz->large, (Word_t)size, PJE0);
    if (slot == PJERR) {
        return NULL;
    }
    if (*slot == 0) {
        uint32_t i = append(sz, ev, site);
        if (i == HG__NONE) {
            JudyLDel(&sz->large, (Word_t)size, PJE0);
            return NULL;
        }
        *slot = (Word_t)i + 1;
    }
    return &sz->v[*slot - 1];
}

/* A small size: the request counter, and the stat when it is new or there is a Source. */
static int count_small(hg__sizes_t *sz, uint64_t size, unsigned source, const hg_event_t *ev,
                       uint32_t site) {
    if (!sz->small_requests && small_init(sz) != 0) {
        return HG_ENOMEM;
    }
    if (sz->small_requests[size] != 0 && source == HG_SOURCE_NA) {
        sz->small_requests[size]++; /* the hot path */
        return 0;
    }
    hg__size_stat_t *st = small_stat(sz, size, ev, site);
    if (!st) {
        return HG_ENOMEM;
    }
    sz->small_requests[size]++;
    st->etw_requests += source != HG_SOURCE_NA;
    st->lfh_seen |= source == HG_SOURCE_LFH;
    return 0;
}

int hg__sizes_count(hg__sizes_t *sz, uint64_t size, unsigned source, const hg_event_t *ev,
                    uint32_t site) {
    if (size < HG__SMALL_SIZES) {
        return count_small(sz, size, source, ev, site);
    }
    hg__size_stat_t *st = large_stat(sz, size, ev, site);
    if (!st) {
        return HG_ENOMEM;
    }
    st->requests++;
    st->etw_requests += source != HG_SOURCE_NA;
    st->lfh_seen |= source == HG_SOURCE_LFH;
    return 0;
}

static int visit_small(const hg__sizes_t *sz, uint64_t max_size, hg__size_cb cb, void *ud) {
    for (uint64_t s = 0; s < HG__SMALL_SIZES && s <= max_size; s++) {
        if (sz->small_requests[s] == 0) {
            continue;
        }
        hg__size_stat_t st = sz->v[sz->small_stat[s] - 1];
        st.requests = sz->small_requests[s];
        int rc = cb(ud, s, &st);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

int hg__sizes_visit(const hg__sizes_t *sz, uint64_t max_size, hg__size_cb cb, void *ud) {
    int rc = sz->small_requests ? visit_small(sz, max_size, cb, ud) : 0;
    Word_t size = HG__SMALL_SIZES;
    for (PWord_t v = (PWord_t)JudyLFirst(sz->large, &size, PJE0); !rc && v && size <= max_size;
         v = (PWord_t)JudyLNext(sz->large, &size, PJE0)) {
        rc = cb(ud, size, &sz->v[*v - 1]);
    }
    return rc;
}
