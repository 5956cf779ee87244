/* workload.h - the benchmark workloads as one operation sequence (bench/README.md).
 *
 * A workload is a pool of slots, filled first, then a number of rounds: each round picks a
 * random slot and either frees its block and allocates a new one there through one of several
 * call paths, or (one round in realloc_every) reallocates it. A given number of leaks, spread
 * evenly over the rounds, go through a call path of their own and are never freed. At the end
 * the pool is freed (or left live). Every random draw comes from one PRNG with a fixed seed,
 * so the real program (workload_a.c, calling malloc) and the trace generator (hgbench_gen.c,
 * simulating an allocator) see the same operations in the same order: both run hg_workload_run
 * with their own callbacks. */
#ifndef HG_BENCH_WORKLOAD_H
#define HG_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#define HG_WL_PATHS 4 /* call paths allocations go through (the leak path is a fifth) */

typedef struct hg_wl_params {
    const char *name;
    uint32_t slots;         /* pool size: blocks live during the rounds */
    uint64_t rounds;        /* free + allocate (or realloc) rounds */
    uint32_t realloc_every; /* one round in this many reallocates instead */
    uint32_t min_size, max_size;
    uint32_t leaks;   /* blocks allocated through the leak path, never freed */
    bool free_at_end; /* free the pool after the rounds (else it stays live) */
    uint64_t seed;
} hg_wl_params_t;

/* What a workload does, one callback per operation. slot < slots; path < HG_WL_PATHS. */
typedef struct hg_wl_ops {
    void (*alloc)(void *ud, uint32_t slot, uint32_t size, unsigned path);
    void (*free)(void *ud, uint32_t slot);
    void (*realloc)(void *ud, uint32_t slot, uint32_t size);
    void (*leak)(void *ud, uint32_t size);
} hg_wl_ops_t;

/* The named workload's parameters ("a", "b", "c", "tiny"), or NULL. */
const hg_wl_params_t *hg_wl_find(const char *name);

/* Runs the operation sequence of p through ops. */
void hg_wl_run(const hg_wl_params_t *p, const hg_wl_ops_t *ops, void *ud);

/* Heap events the sequence is expected to produce (a realloc is one event): exact but for the
 * share of realloc rounds, which is random. Sizes the generator's duration hint. */
uint64_t hg_wl_expected_events(const hg_wl_params_t *p);

/* A small, fast PRNG (xorshift64*, Vigna 2016) also used by the generator for timing. */
typedef struct hg_wl_rng {
    uint64_t s;
} hg_wl_rng_t;

void hg_wl_rng_seed(hg_wl_rng_t *r, uint64_t seed);
uint64_t hg_wl_rng_next(hg_wl_rng_t *r);
/* Uniform in [lo, hi] (the modulo bias is irrelevant at these ranges). */
uint32_t hg_wl_rng_range(hg_wl_rng_t *r, uint32_t lo, uint32_t hi);

#endif
