/* workload_a.c - the benchmark workload as a real program, for heaptrack to record.
 *
 *   workload_a [a|b|c|tiny]      (default a)
 *
 * Runs the operation sequence of workload.h with malloc, free and realloc. Allocations go
 * through one of four call paths of one to four functions each, reallocs and leaks through
 * paths of their own, so a recorder sees distinct stacks as hgbench_gen.c writes them. The
 * functions are noinline and the target is built without sibling-call optimisation, so every
 * path keeps its frames; each block's first and last bytes are written so the allocations are
 * real work the compiler cannot remove. */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline, noclone))

static void **pool;
static void *volatile leaked; /* the last leak, so the compiler keeps the call */

static void *touched(void *p, uint32_t size) {
    if (!p) {
        fprintf(stderr, "workload_a: out of memory\n");
        exit(2);
    }
    ((volatile char *)p)[0] = 1;
    ((volatile char *)p)[size - 1] = 2;
    return p;
}

/* path 0: one function */
NOINLINE static void *record_new(uint32_t size) {
    return touched(malloc(size), size);
}

/* path 1: two functions */
NOINLINE static void *buffer_alloc(uint32_t size) {
    return touched(malloc(size), size);
}
NOINLINE static void *buffer_make(uint32_t size) {
    return buffer_alloc(size);
}

/* path 2: three functions */
NOINLINE static void *node_alloc(uint32_t size) {
    return touched(malloc(size), size);
}
NOINLINE static void *tree_node(uint32_t size) {
    return node_alloc(size);
}
NOINLINE static void *tree_insert(uint32_t size) {
    return tree_node(size);
}

/* path 3: four functions */
NOINLINE static void *field_alloc(uint32_t size) {
    return touched(malloc(size), size);
}
NOINLINE static void *msg_field(uint32_t size) {
    return field_alloc(size);
}
NOINLINE static void *msg_parse(uint32_t size) {
    return msg_field(size);
}
NOINLINE static void *msg_decode(uint32_t size) {
    return msg_parse(size);
}

/* the realloc path */
NOINLINE static void *buffer_grow(void *p, uint32_t size) {
    return touched(realloc(p, size), size);
}

/* the leak path: two functions */
NOINLINE static void *config_entry(uint32_t size) {
    return touched(malloc(size), size);
}
NOINLINE static void *config_load(uint32_t size) {
    return config_entry(size);
}

static void on_alloc(void *ud, uint32_t slot, uint32_t size, unsigned path) {
    (void)ud;
    switch (path) {
    case 0:
        pool[slot] = record_new(size);
        break;
    case 1:
        pool[slot] = buffer_make(size);
        break;
    case 2:
        pool[slot] = tree_insert(size);
        break;
    default:
        pool[slot] = msg_decode(size);
        break;
    }
}

static void on_free(void *ud, uint32_t slot) {
    (void)ud;
    free(pool[slot]);
    pool[slot] = NULL;
}

static void on_realloc(void *ud, uint32_t slot, uint32_t size) {
    (void)ud;
    pool[slot] = buffer_grow(pool[slot], size);
}

static void on_leak(void *ud, uint32_t size) {
    (void)ud;
    leaked = config_load(size);
}

int main(int argc, char **argv) {
    const hg_wl_params_t *p = hg_wl_find(argc > 1 ? argv[1] : "a");
    if (!p || argc > 2) {
        fprintf(stderr, "usage: workload_a [a|b|c|tiny]\n");
        return 2;
    }
    pool = calloc(p->slots, sizeof *pool);
    if (!pool) {
        return 2;
    }
    hg_wl_ops_t ops = {on_alloc, on_free, on_realloc, on_leak};
    hg_wl_run(p, &ops, NULL);
    free(pool);
    return 0;
}
