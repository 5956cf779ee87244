/* workload.c - the operation sequence of the benchmark workloads (see workload.h).
 *
 * The parameters live in one table so the program, the generator and bench/README.md agree.
 * Random draws, in order, per round: the slot, whether it reallocates, the new size, then (for
 * an allocation) the call path. The fill draws a size and a path per slot; a leak draws a size.
 * Leak k happens before round (2k + 1) * rounds / (2 * leaks): evenly spread, none at the edges. */
#include "workload.h"

#include <string.h>

static const hg_wl_params_t workloads[] = {
    /* name    slots    rounds     realloc sizes      leaks free   seed */
    {"a", 4096, 5000000, 8, 16, 4096, 300, true, 0xa11ce5eedULL},
    {"b", 1000000, 4000000, 8, 16, 4096, 0, false, 0xb16b10cULL},
    {"c", 100000, 120000000, 8, 16, 4096, 300, true, 0xc0ffeeULL},
    {"tiny", 16, 1000, 8, 16, 4096, 1, true, 0x7177ULL},
};

const hg_wl_params_t *hg_wl_find(const char *name) {
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        if (strcmp(workloads[i].name, name) == 0) {
            return &workloads[i];
        }
    }
    return NULL;
}

void hg_wl_rng_seed(hg_wl_rng_t *r, uint64_t seed) {
    r->s = seed ? seed : 0x9e3779b97f4a7c15ULL; /* xorshift state must not be 0 */
}

uint64_t hg_wl_rng_next(hg_wl_rng_t *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dULL;
}

uint32_t hg_wl_rng_range(hg_wl_rng_t *r, uint32_t lo, uint32_t hi) {
    return lo + (uint32_t)(hg_wl_rng_next(r) % ((uint64_t)hi - lo + 1));
}

static uint32_t draw_size(const hg_wl_params_t *p, hg_wl_rng_t *r) {
    return hg_wl_rng_range(r, p->min_size, p->max_size);
}

static void fill(const hg_wl_params_t *p, const hg_wl_ops_t *ops, void *ud, hg_wl_rng_t *r) {
    for (uint32_t slot = 0; slot < p->slots; slot++) {
        uint32_t size = draw_size(p, r);
        ops->alloc(ud, slot, size, (unsigned)(hg_wl_rng_next(r) % HG_WL_PATHS));
    }
}

static void round_once(const hg_wl_params_t *p, const hg_wl_ops_t *ops, void *ud, hg_wl_rng_t *r) {
    uint32_t slot = (uint32_t)(hg_wl_rng_next(r) % p->slots);
    bool re = hg_wl_rng_next(r) % p->realloc_every == 0;
    uint32_t size = draw_size(p, r);
    if (re) {
        ops->realloc(ud, slot, size);
        return;
    }
    ops->free(ud, slot);
    ops->alloc(ud, slot, size, (unsigned)(hg_wl_rng_next(r) % HG_WL_PATHS));
}

/* The round before which leak k happens. */
static uint64_t leak_round(const hg_wl_params_t *p, uint64_t k) {
    return (2 * k + 1) * p->rounds / (2 * (uint64_t)p->leaks);
}

void hg_wl_run(const hg_wl_params_t *p, const hg_wl_ops_t *ops, void *ud) {
    hg_wl_rng_t r;
    hg_wl_rng_seed(&r, p->seed);
    fill(p, ops, ud, &r);
    uint64_t k = 0;
    for (uint64_t round = 0; round < p->rounds; round++) {
        while (k < p->leaks && leak_round(p, k) == round) {
            ops->leak(ud, draw_size(p, &r));
            k++;
        }
        round_once(p, ops, ud, &r);
    }
    if (p->free_at_end) {
        for (uint32_t slot = 0; slot < p->slots; slot++) {
            ops->free(ud, slot);
        }
    }
}

uint64_t hg_wl_expected_events(const hg_wl_params_t *p) {
    uint64_t reallocs = p->rounds / p->realloc_every;
    return p->slots + 2 * (p->rounds - reallocs) + reallocs + p->leaks +
           (p->free_at_end ? p->slots : 0);
}
