/* simheap.h - a simulated allocator that gives the generated traces plausible addresses.
 *
 * It lays chunks out as glibc's malloc does on x86-64 (chunk = max(32, size + 8 rounded up to
 * 16), the program's address 16 bytes into its chunk), takes fresh chunks from a bump pointer
 * and reuses freed ones from exact-size LIFO free lists. Blocks never overlap; a realloc whose
 * chunk size does not change stays in place, any other moves. No coalescing, no splitting: the
 * point is realistic addresses (clustered, reused, 16-aligned), not glibc's exact layout. */
#ifndef HG_BENCH_SIMHEAP_H
#define HG_BENCH_SIMHEAP_H

#include <stdint.h>

typedef struct hg_simheap_list {
    uint64_t *v; /* free chunks of one size, newest last */
    uint32_t n, cap;
} hg_simheap_list_t;

typedef struct hg_simheap {
    uint64_t top; /* the next fresh chunk */
    uint32_t nclasses;
    hg_simheap_list_t *free; /* by chunk size / 16 */
} hg_simheap_t;

/* A heap starting at base (16-aligned) for sizes up to max_size. Exits when out of memory:
 * it serves benchmark tools only. */
void hg_simheap_init(hg_simheap_t *h, uint64_t base, uint32_t max_size);
void hg_simheap_destroy(hg_simheap_t *h);
uint64_t hg_simheap_alloc(hg_simheap_t *h, uint32_t size);
void hg_simheap_release(hg_simheap_t *h, uint64_t addr, uint32_t size);
/* The block's new address: addr itself when its chunk size stays the same. */
uint64_t hg_simheap_realloc(hg_simheap_t *h, uint64_t addr, uint32_t old_size, uint32_t size);

#endif
