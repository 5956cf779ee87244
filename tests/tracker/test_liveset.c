/* test_liveset.c - the address-indexed live set: exact lookup, containing block, ordered walk,
 * record reuse. */
#include "tracker_priv.h"

#include <criterion/criterion.h>

Test(liveset, insert_find_walk_remove) {
    hg__liveset_t ls;
    hg__live_init(&ls);
    uint64_t addrs[] = {0x3000, 0x1000, 0x2000};
    for (int i = 0; i < 3; i++) {
        hg__block_t *b = hg__live_insert(&ls, addrs[i]);
        cr_assert_not_null(b);
        hg__block_set(b, 0x100 * (i + 1), 0, 7, 2);
    }
    cr_assert_eq(ls.count, 3);
    hg__block_t *b = hg__live_get(&ls, 0x1000);
    cr_assert_eq(hg__block_size(b), 0x200);
    cr_assert_eq(hg__block_heap(b), 7);
    cr_assert_eq(hg__block_source(b), 2);
    cr_assert_null(hg__live_get(&ls, 0x1001));

    uint64_t at = 0;
    cr_assert_not_null(hg__live_at_or_before(&ls, 0x2fff, &at));
    cr_assert_eq(at, 0x2000);
    cr_assert_null(hg__live_at_or_before(&ls, 0xfff, &at));

    uint64_t walk[3], a = 0;
    int n = 0;
    for (hg__block_t *w = hg__live_first(&ls, &a); w; w = hg__live_next(&ls, &a)) {
        walk[n++] = a;
    }
    cr_assert_eq(n, 3);
    cr_assert(walk[0] == 0x1000 && walk[1] == 0x2000 && walk[2] == 0x3000);

    hg__live_remove(&ls, 0x2000, hg__live_get(&ls, 0x2000));
    cr_assert_eq(ls.count, 2);
    hg__block_t *reused = hg__live_insert(&ls, 0x5000);
    cr_assert_eq(reused->size_flags, 0, "records come back zeroed");
    hg__live_clear(&ls);
}

/* The block at or before a key: the key itself when live, a lower one otherwise, up to the top
 * of the address space (which has no key + 1). */
Test(liveset, at_or_before_exact_lower_and_top_keys) {
    hg__liveset_t ls;
    hg__live_init(&ls);
    cr_assert_not_null(hg__live_insert(&ls, 0x1000));
    cr_assert_not_null(hg__live_insert(&ls, UINT64_MAX - 15));
    uint64_t at = 0;
    cr_assert_not_null(hg__live_at_or_before(&ls, 0x1000, &at));
    cr_assert_eq(at, 0x1000);
    cr_assert_not_null(hg__live_at_or_before(&ls, UINT64_MAX - 16, &at));
    cr_assert_eq(at, 0x1000);
    cr_assert_not_null(hg__live_at_or_before(&ls, UINT64_MAX, &at));
    cr_assert_eq(at, UINT64_MAX - 15);
    cr_assert_not_null(hg__live_insert(&ls, UINT64_MAX));
    cr_assert_not_null(hg__live_at_or_before(&ls, UINT64_MAX, &at));
    cr_assert_eq(at, UINT64_MAX);
    cr_assert_null(hg__live_at_or_before(&ls, 0xfff, &at));
    hg__live_clear(&ls);
}

Test(liveset, sizes_are_capped_and_flags_kept) {
    hg__block_t b;
    hg__block_set(&b, UINT64_MAX, HG__BF_MMAPPED | HG__BF_IGNORED, 0xffffff, 255);
    cr_assert_eq(hg__block_size(&b), HG__SIZE_MAX);
    cr_assert_eq(hg__block_flags(&b), HG__BF_MMAPPED | HG__BF_IGNORED);
    cr_assert_eq(hg__block_heap(&b), 0xffffff);
    cr_assert_eq(hg__block_source(&b), 255);
}

Test(liveset, many_blocks_recycle_records) {
    hg__liveset_t ls;
    hg__live_init(&ls);
    for (uint64_t i = 0; i < 20000; i++) {
        cr_assert_not_null(hg__live_insert(&ls, 0x100000 + i * 32));
    }
    for (uint64_t i = 0; i < 20000; i++) {
        hg__live_remove(&ls, 0x100000 + i * 32, hg__live_get(&ls, 0x100000 + i * 32));
    }
    size_t chunks = ls.nchunks;
    for (uint64_t i = 0; i < 20000; i++) {
        cr_assert_not_null(hg__live_insert(&ls, 0x900000 + i * 32));
    }
    cr_assert_eq(ls.nchunks, chunks, "freed records are reused before new chunks");
    hg__live_clear(&ls);
}

/* The exact-lookup cache in front of the JudyL (liveset.c) never answers for an address that
 * is not live, nor with another record: random inserts and removes over addresses that share
 * cache entries, with the cache growing on the way, each lookup checked against the JudyL. */
Test(liveset, cached_lookups_agree_with_the_index) {
    hg__liveset_t ls;
    hg__live_init(&ls);
    enum { ADDRS = 6000 };
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (int step = 0; step < 60000; step++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        uint32_t i = (uint32_t)(r % ADDRS);
        uint64_t addr = 0x7f0000000000u + (uint64_t)i * 48 + (r >> 60 & 8);
        hg__block_t *got = hg__live_get(&ls, addr);
        PWord_t v = (PWord_t)JudyLGet(ls.judy, (Word_t)addr, PJE0);
        cr_assert_eq(got, v ? (hg__block_t *)*v : NULL, "step %d", step);
        if (got) {
            hg__live_remove(&ls, addr, got);
        } else {
            cr_assert_not_null(hg__live_insert(&ls, addr));
        }
    }
    cr_assert_gt(ls.nhints, HG__HINTS_MIN, "the cache grew with the live set");
    hg__live_clear(&ls);
    cr_assert_null(hg__live_get(&ls, 0x7f0000000000u));
}

Test(stacks, interner_gives_dense_ids) {
    hg_stack_interner_t *si = hg_stack_interner_new();
    uint64_t a[] = {1, 2, 3}, b[] = {1, 2}, c[] = {1, 2, 3};
    bool fresh;
    cr_assert_eq(hg_stack_interner_intern(si, a, 3, &fresh), 1);
    cr_assert(fresh);
    cr_assert_eq(hg_stack_interner_intern(si, b, 2, &fresh), 2);
    cr_assert_eq(hg_stack_interner_intern(si, c, 3, &fresh), 1);
    cr_assert(!fresh);
    cr_assert_eq(hg_stack_interner_count(si), 2);
    hg_stack_interner_free(si);
}
