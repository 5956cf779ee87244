/* test_lifetime.c - lifetime classes for a window (heap-semantics.md §2), with hand-counted
 * blocks: each class gets a distinct size so the byte totals identify the blocks. */
#include "tk.h"

#include <criterion/criterion.h>

Test(lifetime, the_four_classes_and_impacting_size) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.window = true;
    opt.window_t0_ns = 100;
    opt.window_t1_ns = 200;
    hg_tracker_t *t = tk_new_opt(&opt);
    tk_start(t, 0, 1);
    tk_alloc(t, 10, 1, 0, 0x1000, 1, 1); /* before, freed before: no class */
    tk_free(t, 20, 1, 0, 0x1000);
    tk_alloc(t, 30, 1, 0, 0x2000, 2, 1);   /* AOFI */
    tk_alloc(t, 40, 1, 0, 0x3000, 4, 1);   /* AOFO: freed after t1 */
    tk_alloc(t, 50, 1, 0, 0x4000, 8, 1);   /* AOFO: never freed */
    tk_alloc(t, 100, 1, 0, 0x5000, 16, 2); /* AIFI (t0 inclusive) */
    tk_alloc(t, 120, 1, 0, 0x6000, 32, 2); /* AIFO: freed after t1 */
    tk_free(t, 150, 1, 0, 0x2000);
    tk_alloc(t, 200, 1, 0, 0x7000, 64, 3); /* AIFO: never freed (t1 inclusive) */
    tk_free(t, 200, 1, 0, 0x5000);
    tk_alloc(t, 210, 1, 0, 0x8000, 128, 3); /* after the window: no class */
    tk_free(t, 250, 1, 0, 0x3000);
    tk_free(t, 260, 1, 0, 0x6000);
    tk_end(t, 300, 1);
    tk_finish(t);

    hg_lifetime_t l;
    hg_tracker_lifetime(t, 0, &l);
    cr_assert(l.enabled);
    cr_assert_eq(l.aifi_bytes, 16);
    cr_assert_eq(l.aifi_blocks, 1);
    cr_assert_eq(l.aifo_bytes, 96);
    cr_assert_eq(l.aifo_blocks, 2);
    cr_assert_eq(l.aofi_bytes, 2);
    cr_assert_eq(l.aofi_blocks, 1);
    cr_assert_eq(l.aofo_bytes, 12);
    cr_assert_eq(l.aofo_blocks, 2);
    cr_assert_eq(l.impacting_bytes, 96 - 2);
    cr_assert_eq(tk_site(t, 0, 2).aifo_bytes, 32);
    cr_assert_eq(tk_site(t, 0, 3).aifo_bytes, 64);
    cr_assert_eq(tk_site(t, 0, 1).aifo_bytes, 0);
    hg_tracker_free(t);
}

Test(lifetime, realloc_and_destroy_end_blocks_in_the_window) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.window = true;
    opt.window_t0_ns = 100;
    opt.window_t1_ns = 200;
    hg_tracker_t *t = tk_new_opt(&opt);
    tk_alloc(t, 50, 1, 0x10, 0x1000, 8, 1);
    tk_alloc(t, 60, 1, 0x20, 0x3000, 40, 1);
    tk_realloc(t, 150, 1, 0x10, 0x1000, 0x2000, 24, 1); /* AOFI 8, then AIFO 24 */
    tk_heap(t, 160, 1, HG_EV_HEAP_DESTROY, 0x20);       /* AOFI 40 */
    tk_finish(t);
    hg_lifetime_t l;
    hg_tracker_lifetime(t, 0, &l);
    cr_assert_eq(l.aofi_bytes, 48);
    cr_assert_eq(l.aifo_bytes, 24);
    cr_assert_eq(l.impacting_bytes, 24 - 48);
    hg_tracker_free(t);
}

Test(lifetime, disabled_without_window) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 50, 1, 0, 0x1000, 8, 1);
    tk_finish(t);
    hg_lifetime_t l;
    hg_tracker_lifetime(t, 0, &l);
    cr_assert(!l.enabled);
    cr_assert_eq(l.aifo_bytes, 0);
    hg_tracker_free(t);
}
