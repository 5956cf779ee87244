/* test_frag.c - fragmentation figures (heap-semantics.md §4 items 1-8) on a layout computed by
 * hand, and the rounding tables.
 *
 * 64-bit Windows heap, Source 3, chunk = round_up(size + 16, 16) starting 16 bytes before the
 * address. Final live blocks:
 *   A 0x10010 size 32  -> chunk 48  [0x10000, 0x10030)
 *   B 0x10110 size 16  -> chunk 32  [0x10100, 0x10120)   hole A-B 0xD0  = 208
 *   C 0x10410 size 100 -> chunk 128 [0x10400, 0x10480)   hole B-C 0x2E0 = 736
 *   D 0x300010 size 64 -> chunk 80  [0x300000, 0x300050) gap 0x2EFB80 > 1 MiB: new cluster
 * live 212 in 4 blocks, rounded 288, 2 clusters, span 0x480 + 0x50 = 1232, holes 2, free 944,
 * largest 736; histogram: 208 in [128,256) bucket 7, 736 in [512,1024) bucket 9;
 * external = 1 - 736/944; Sawicki = 1 - sqrt(208^2 + 736^2)/944.
 * Requests: 300 x3 (E, allocated and freed far away), 32 x2, 16, 64, 100 x1 each: the five
 * most requested sizes are 300, 32, 16, 64, 100. Fit ratios: 300 -> (0 + 2)/3; 32 -> (6+23)/29;
 * 16 -> (13+46)/59; 64 -> (3+11)/14; 100 -> (2+7)/9.
 * Peak: with E (300, chunk 320) live at the sample at t=1000, live 512 and span 1552, so the
 * peak ratio is 1552/512 - 1. */
#include "tk.h"
#include "tracker_priv.h"

#include <criterion/criterion.h>
#include <math.h>

#define H 0x100

static hg_tracker_t *layout(void) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.sample_interval_ns = 1000;
    hg_tracker_t *t = tk_new_opt(&opt);
    tk_start(t, 0, 1);
    tk_alloc_src(t, 1, 1, H, 0x10010, 32, 1, HG_SOURCE_MAIN);
    tk_alloc_src(t, 2, 1, H, 0x10110, 16, 1, HG_SOURCE_MAIN);
    tk_alloc_src(t, 3, 1, H, 0x10410, 100, 1, HG_SOURCE_MAIN);
    tk_alloc_src(t, 4, 1, H, 0x300010, 64, 1, HG_SOURCE_MAIN);
    tk_alloc_src(t, 500, 1, H, 0x500010, 300, 2, HG_SOURCE_MAIN);
    tk_free(t, 1000, 1, H, 0x500010);
    tk_alloc_src(t, 1001, 1, H, 0x500010, 300, 2, HG_SOURCE_MAIN);
    tk_free(t, 1002, 1, H, 0x500010);
    tk_alloc_src(t, 1003, 1, H, 0x500010, 300, 2, HG_SOURCE_MAIN);
    tk_free(t, 1004, 1, H, 0x500010);
    tk_alloc_src(t, 1005, 1, H, 0x600010, 32, 2, HG_SOURCE_MAIN);
    tk_free(t, 1006, 1, H, 0x600010);
    tk_finish(t);
    return t;
}

Test(frag, figures_of_a_hand_computed_layout) {
    hg_tracker_t *t = layout();
    hg_heap_summary_t h = tk_heap_summary(t, 0, H);
    const hg_frag_t *f = &h.frag;
    cr_assert_eq(f->live_bytes, 212);
    cr_assert_eq(f->live_blocks, 4);
    cr_assert_eq(f->rounded_bytes, 288);
    cr_assert_eq(f->clusters, 2);
    cr_assert_eq(f->span_bytes, 1232);
    cr_assert_float_eq(f->utilisation, 212.0 / 1232.0, 1e-12);
    cr_assert_float_eq(f->span_overhead, 1232.0 / 212.0 - 1.0, 1e-12);
    cr_assert_eq(f->holes, 2);
    cr_assert_eq(f->free_bytes, 944);
    cr_assert_eq(f->largest_hole, 736);
    cr_assert_eq(f->hole_hist[7], 1);
    cr_assert_eq(f->hole_hist[9], 1);
    cr_assert_eq(f->hole_hist[8], 0);
    cr_assert_float_eq(f->external, 1.0 - 736.0 / 944.0, 1e-12);
    cr_assert_float_eq(f->sawicki, 1.0 - sqrt(208.0 * 208.0 + 736.0 * 736.0) / 944.0, 1e-12);
    hg_tracker_free(t);
}

Test(frag, fit_ratios_for_the_most_requested_sizes) {
    hg_tracker_t *t = layout();
    hg_heap_summary_t h = tk_heap_summary(t, 0, H);
    const hg_frag_t *f = &h.frag;
    static const struct {
        uint64_t size, requests;
        double ratio;
    } want[] = {{300, 3, 2.0 / 3.0}, {32, 2, 1.0}, {16, 1, 1.0}, {64, 1, 1.0}, {100, 1, 1.0}};
    cr_assert_eq(f->nfit, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(f->fit[i].size, want[i].size, "fit[%d]", i);
        cr_assert_eq(f->fit[i].requests, want[i].requests, "fit[%d]", i);
        cr_assert(f->fit[i].defined);
        cr_assert_float_eq(f->fit[i].ratio, want[i].ratio, 1e-12, "fit[%d]", i);
    }
    hg_tracker_free(t);
}

Test(frag, peaks_and_peak_ratio) {
    hg_tracker_t *t = layout();
    hg_heap_summary_t h = tk_heap_summary(t, 0, H);
    cr_assert_eq(h.peak_live_bytes, 512);
    cr_assert_eq(h.peak_live_ts_ns, 500);
    cr_assert_eq(h.peak_live_blocks, 5);
    cr_assert_eq(h.max_span_bytes, 1552);
    cr_assert_float_eq(h.peak_ratio, 1552.0 / 512.0 - 1.0, 1e-12);
    cr_assert_eq(h.allocs, 8);
    cr_assert_eq(h.frees, 4);
    cr_assert_eq(h.source_allocs[HG_SOURCE_MAIN], 8);
    hg_tracker_free(t);
}

Test(frag, fit_undefined_when_free_space_is_smaller) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1010, 4000, 1);
    tk_alloc(t, 2, 1, 0, 0x2010, 16, 1); /* hole after A: 0x2000 - (0x1000 + 4016) = 80 */
    tk_finish(t);
    hg_heap_summary_t h = tk_heap_summary(t, 0, 0);
    const hg_frag_t *f = &h.frag;
    cr_assert_eq(f->free_bytes, 80);
    cr_assert_eq(f->fit[0].size, 16);
    cr_assert(f->fit[0].defined);
    cr_assert_eq(f->fit[1].size, 4000);
    cr_assert(!f->fit[1].defined);
    cr_assert_eq(f->external, 0, "one hole is no external fragmentation");
    cr_assert_eq(f->sawicki, 0);
    hg_tracker_free(t);
}

/* Sizes from HG__SMALL_SIZES up are counted in another table (tracker/sizes.c): ties still go
 * to the smaller size, on both sides of the boundary. */
Test(frag, fit_sizes_order_ties_across_small_and_large_sizes) {
    hg_tracker_t *t = tk_new();
    static const uint64_t sizes[] = {20000, HG__SMALL_SIZES, HG__SMALL_SIZES - 1, 48, 1 << 20, 64};
    uint64_t addr = 0x100000;
    for (int i = 0; i < 6; i++) {
        tk_alloc(t, (uint64_t)i + 1, 1, 0, addr, sizes[i], 1);
        addr += 2u << 20;
    }
    tk_alloc(t, 7, 1, 0, addr, 1 << 20, 1); /* the most requested size */
    tk_finish(t);
    hg_heap_summary_t h = tk_heap_summary(t, 0, 0);
    static const uint64_t want[] = {1 << 20, 48, 64, HG__SMALL_SIZES - 1, HG__SMALL_SIZES};
    cr_assert_eq(h.frag.nfit, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(h.frag.fit[i].size, want[i], "fit[%d]", i);
        cr_assert_eq(h.frag.fit[i].requests, i == 0 ? 2 : 1, "fit[%d]", i);
    }
    hg_tracker_free(t);
}

Test(frag, heaps_are_measured_separately) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 1, 0x10010, 16, 1);
    tk_alloc(t, 2, 1, 1, 0x10110, 16, 1);
    tk_alloc(t, 3, 1, 2, 0x900010, 16, 1);
    tk_finish(t);
    cr_assert_eq(tk_heap_summary(t, 0, 1).frag.holes, 1);
    cr_assert_eq(tk_heap_summary(t, 0, 2).frag.holes, 0);
    cr_assert_eq(tk_heap_summary(t, 0, 2).frag.span_bytes, 32);
    hg_tracker_free(t);
}

Test(rounding, windows_heap_and_lfh_buckets) {
    cr_assert_eq(hg__round_chunk(100, HG_SOURCE_MAIN, 0, 8, HG_ALLOCATOR_WINDOWS), 128);
    cr_assert_eq(hg__round_chunk(100, HG_SOURCE_MAIN, 0, 4, HG_ALLOCATOR_WINDOWS), 112);
    cr_assert_eq(hg__round_chunk(100, HG_SOURCE_LFH, 0, 4, HG_ALLOCATOR_WINDOWS), 112);
    cr_assert_eq(hg__round_chunk(300, HG_SOURCE_LFH, 0, 8, HG_ALLOCATOR_WINDOWS), 320);
    cr_assert_eq(hg__round_chunk(1000, HG_SOURCE_LFH, 0, 8, HG_ALLOCATOR_WINDOWS), 1024);
    cr_assert_eq(hg__round_chunk(5000, HG_SOURCE_LFH, 0, 8, HG_ALLOCATOR_WINDOWS), 5120);
    cr_assert_eq(hg__round_chunk(20000, HG_SOURCE_LFH, 0, 8, HG_ALLOCATOR_WINDOWS), 20016);
    cr_assert_eq(hg__round_chunk(0, 0, 0, 8, HG_ALLOCATOR_UNKNOWN), 16);
}

Test(rounding, glibc_chunks) {
    cr_assert_eq(hg__round_chunk(0, 0, 0, 8, HG_ALLOCATOR_GLIBC), 32);
    cr_assert_eq(hg__round_chunk(24, 0, 0, 8, HG_ALLOCATOR_GLIBC), 32);
    cr_assert_eq(hg__round_chunk(25, 0, 0, 8, HG_ALLOCATOR_GLIBC), 48);
    cr_assert_eq(hg__round_chunk(1000, 0, 0, 8, HG_ALLOCATOR_GLIBC), 1008);
    cr_assert_eq(hg__round_chunk(12, 0, 0, 4, HG_ALLOCATOR_GLIBC), 16);
    cr_assert_eq(hg__round_chunk(13, 0, 0, 4, HG_ALLOCATOR_GLIBC), 24);
    cr_assert_eq(hg__round_chunk(200000, 0, HG__BF_MMAPPED, 8, HG_ALLOCATOR_GLIBC), 200704);
    cr_assert_eq(hg__chunk_header(8), 16);
    cr_assert_eq(hg__chunk_header(4), 8);
}
