/* heap.c - which glibc arena a block belongs to, read from the block's own chunk header, so a
 * block freed by another thread keeps the arena it was allocated in (a cross-thread free is not
 * a wrong-heap free).
 *
 * glibc 2.36 malloc/malloc.c: a chunk starts two words before the pointer malloc returns; the
 * second word is the chunk size whose low bits are PREV_INUSE (0x1), IS_MMAPPED (0x2) and
 * NON_MAIN_ARENA (0x4). malloc/arena.c: a non-main arena's chunks live in heaps aligned to
 * HEAP_MAX_SIZE (2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB on 64-bit), each starting with a
 * heap_info whose first member is the arena pointer (heap_for_ptr, arena_for_chunk). Mmapped
 * chunks carry no NON_MAIN_ARENA bit: glibc's arena_for_chunk gives them the main arena, and so
 * does the agent, marking them HG_EVF_MMAPPED. (The glibc.malloc.hugetlb=2 tunable changes the
 * heap alignment; the agent then still names main-arena and mmapped blocks right.)
 *
 * Handles: 1 for the main arena, the struct malloc_state address for thread arenas. When the
 * real malloc is not glibc's the layout is unknown and every block gets handle 1. */
#include "agent.h"

#define HG_SIZE_IS_MMAPPED     0x2u
#define HG_SIZE_NON_MAIN_ARENA 0x4u
#define HG_HEAP_MAX_SIZE       (UINT64_C(64) << 20)

uint64_t hg__heap_of(const void *p, uint16_t *flags) {
    if (!p || !hg__glibc_malloc) {
        return HG_AG_MAIN_ARENA;
    }
    uint64_t size_word = ((const uint64_t *)p)[-1];
    if (size_word & HG_SIZE_IS_MMAPPED) {
        *flags |= HG_AG_EVF_MMAPPED;
        return HG_AG_MAIN_ARENA;
    }
    if (size_word & HG_SIZE_NON_MAIN_ARENA) {
        uintptr_t heap_info = (uintptr_t)p & ~(uintptr_t)(HG_HEAP_MAX_SIZE - 1);
        return (uint64_t) * (const uintptr_t *)heap_info;
    }
    return HG_AG_MAIN_ARENA;
}
