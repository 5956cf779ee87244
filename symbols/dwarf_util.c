/* dwarf_util.c - small helpers the ELF/DWARF backend's files share: growing arrays and the
 * binary search over its sorted address tables (each table's entries begin with a uint64_t
 * start address). */
#include "dwarf_priv.h"

int hg__dw_grow(void **items, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) {
        return 0;
    }
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need) {
        n *= 2;
    }
    void *p = n <= SIZE_MAX / size ? hg_realloc(*items, n * size) : NULL;
    if (!p) {
        return HG_ENOMEM;
    }
    *items = p;
    *cap = n;
    return 0;
}

size_t hg__dw_upper_bound(const void *items, size_t n, size_t stride, uint64_t addr) {
    const char *base = items;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (*(const uint64_t *)(const void *)(base + mid * stride) <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}
