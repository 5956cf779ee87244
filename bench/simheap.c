/* simheap.c - the simulated glibc-like allocator of the trace generator (see simheap.h). */
#include "simheap.h"

#include <stdio.h>
#include <stdlib.h>

#define HEADER_BYTES 16 /* prev_size and size words before the program's address */

static uint64_t chunk_of(uint32_t size) {
    uint64_t chunk = ((uint64_t)size + 8 + 15) & ~(uint64_t)15;
    return chunk < 32 ? 32 : chunk;
}

static void *must(void *p) {
    if (!p) {
        fprintf(stderr, "simheap: out of memory\n");
        exit(2);
    }
    return p;
}

void hg_simheap_init(hg_simheap_t *h, uint64_t base, uint32_t max_size) {
    h->top = base;
    h->nclasses = (uint32_t)(chunk_of(max_size) / 16) + 1;
    h->free = must(calloc(h->nclasses, sizeof *h->free));
}

void hg_simheap_destroy(hg_simheap_t *h) {
    for (uint32_t i = 0; i < h->nclasses; i++) {
        free(h->free[i].v);
    }
    free(h->free);
    h->free = NULL;
}

static hg_simheap_list_t *list_of(hg_simheap_t *h, uint64_t chunk) {
    if (chunk / 16 >= h->nclasses) {
        fprintf(stderr, "simheap: chunk of %llu bytes above the heap's maximum\n",
                (unsigned long long)chunk);
        exit(2);
    }
    return &h->free[chunk / 16];
}

uint64_t hg_simheap_alloc(hg_simheap_t *h, uint32_t size) {
    uint64_t chunk = chunk_of(size);
    hg_simheap_list_t *l = list_of(h, chunk);
    if (l->n) {
        return l->v[--l->n] + HEADER_BYTES;
    }
    uint64_t at = h->top;
    h->top += chunk;
    return at + HEADER_BYTES;
}

void hg_simheap_release(hg_simheap_t *h, uint64_t addr, uint32_t size) {
    hg_simheap_list_t *l = list_of(h, chunk_of(size));
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = must(realloc(l->v, l->cap * sizeof *l->v));
    }
    l->v[l->n++] = addr - HEADER_BYTES;
}

uint64_t hg_simheap_realloc(hg_simheap_t *h, uint64_t addr, uint32_t old_size, uint32_t size) {
    if (chunk_of(old_size) == chunk_of(size)) {
        return addr;
    }
    uint64_t moved = hg_simheap_alloc(h, size);
    hg_simheap_release(h, addr, old_size);
    return moved;
}
