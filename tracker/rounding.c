/* rounding.c - the allocator footprint of a requested size, as estimated in
 * docs/heap-semantics.md §4 item 2 (approximations; reports say so):
 *   Windows heap: round_up(size + header, g), g = 8 (32-bit) / 16 (64-bit), header 8 / 16;
 *     LFH blocks (Source 2) round to their bucket: the XP-era table, step 8 up to 256 B, 16 to
 *     512, 32 to 1024, 64 to 2048, 128 to 4096, 256 to 8192, 512 to 16384 (applied to
 *     size + header, never finer than g).
 *   glibc: chunk = max(32, (size + 8 + 15) & ~15) on 64-bit, max(16, (size + 4 + 7) & ~7) on
 *     32-bit; mmapped chunks (size + 2 words) rounded to 4 KiB pages.
 * Either way a block's chunk starts 2 pointer sizes before the address the program sees
 * (the Windows HEAP_ENTRY and glibc's prev_size/size words). */
#include "tracker_priv.h"

static uint64_t round_up(uint64_t v, uint64_t g) {
    uint64_t r = (v + g - 1) & ~(g - 1);
    return r < v ? v : r; /* saturate rather than wrap for absurd sizes */
}

static uint64_t lfh_step(uint64_t block) {
    static const struct {
        uint64_t upto, step;
    } buckets[] = {{256, 8},    {512, 16},   {1024, 32},  {2048, 64},
                   {4096, 128}, {8192, 256}, {16384, 512}};
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        if (block <= buckets[i].upto) {
            return buckets[i].step;
        }
    }
    return 0; /* beyond the LFH */
}

static uint64_t windows_chunk(uint64_t size, unsigned source, uint8_t ptr) {
    uint64_t g = ptr == 4 ? 8 : 16, header = g;
    uint64_t block = size + header;
    if (source == HG_SOURCE_LFH) {
        uint64_t step = lfh_step(block);
        if (step) {
            return round_up(block, step > g ? step : g);
        }
    }
    return round_up(block, g);
}

static uint64_t glibc_chunk(uint64_t size, unsigned flags, uint8_t ptr) {
    uint64_t word = ptr == 4 ? 4 : 8, align = 2 * word, min = 4 * word;
    if (flags & HG__BF_MMAPPED) {
        return round_up(size + 2 * word, 4096);
    }
    uint64_t chunk = round_up(size + word, align);
    return chunk < min ? min : chunk;
}

uint64_t hg__round_chunk(uint64_t size, unsigned source, unsigned flags, uint8_t pointer_size,
                         uint8_t allocator) {
    if (allocator == HG_ALLOCATOR_GLIBC) {
        return glibc_chunk(size, flags, pointer_size);
    }
    return windows_chunk(size, source, pointer_size);
}

uint64_t hg__chunk_header(uint8_t pointer_size) {
    return 2u * (pointer_size == 4 ? 4u : 8u);
}
