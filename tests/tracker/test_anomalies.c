/* test_anomalies.c - every anomaly of heap-semantics.md §3, its aggregation by (kind, site),
 * its first example and its severity, with the demotions for incomplete traces and processes
 * not traced from their start. */
#include "tk.h"

#include <criterion/criterion.h>

static hg_tracker_t *started(void) {
    hg_tracker_t *t = tk_new();
    tk_start(t, 0, 1);
    return t;
}

static void lose_events(hg_tracker_t *t, uint64_t ts) {
    tk_feed(t, (hg_event_t){.kind = HG_EV_LOST, .ts_ns = ts, .size = 3});
}

Test(anomalies, a1_free_unknown) {
    hg_tracker_t *t = started();
    tk_free(t, 5, 1, 0, 0xdead0);
    tk_free(t, 6, 1, 0, 0xdead0);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A1_FREE_UNKNOWN);
    cr_assert_eq(a.count, 2, "never live twice: A1 twice, not a double free");
    cr_assert_eq(a.severity, HG_SEV_WARNING);
    cr_assert_eq(a.stack_id, 0);
    cr_assert_eq(a.example.addr, 0xdead0);
    cr_assert_eq(a.example.ts_ns, 5);
    cr_assert_eq(a.example.pid, 1);
    cr_assert_eq(hg_tracker_quality(t)->unmatched_frees, 2);
    hg_tracker_free(t);
}

Test(anomalies, a1_is_info_when_not_traced_from_start) {
    hg_tracker_t *t = tk_new();
    tk_free(t, 5, 1, 0, 0xdead0);
    tk_finish(t);
    cr_assert_eq(tk_anomaly(t, 0, HG_A1_FREE_UNKNOWN).severity, HG_SEV_INFO);
    hg_tracker_free(t);
}

Test(anomalies, a1_is_info_when_events_were_lost) {
    hg_tracker_t *t = started();
    tk_free(t, 5, 1, 0, 0xdead0);
    lose_events(t, 6);
    tk_finish(t);
    cr_assert_eq(tk_anomaly(t, 0, HG_A1_FREE_UNKNOWN).severity, HG_SEV_INFO);
    hg_tracker_free(t);
}

Test(anomalies, a2_double_free_belongs_to_the_allocating_site) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 32, 9);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_free(t, 3, 1, 0, 0x1000);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A2_DOUBLE_FREE);
    cr_assert_eq(a.count, 1);
    cr_assert_eq(a.stack_id, 9);
    cr_assert_eq(a.severity, HG_SEV_ERROR);
    cr_assert_eq(a.example.ts_ns, 3);
    cr_assert_eq(a.example.other, 2, "time of the first free");
    cr_assert_eq(tk_anomaly_count(t, 0, HG_A1_FREE_UNKNOWN), 0);
    hg_tracker_free(t);
}

Test(anomalies, a2_after_reallocation_is_no_double_free) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 32, 9);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_alloc(t, 3, 1, 0, 0x1000, 16, 9);
    tk_free(t, 4, 1, 0, 0x1000);
    tk_finish(t);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 0);
    hg_tracker_free(t);
}

Test(anomalies, a2_severity_follows_lost_counts) {
    hg_tracker_t *t = started();
    hg_trace_info_t info = {.format = "test", .lost_counts_known = false};
    cr_assert_eq(hg_tracker_set_trace(t, &info), 0);
    tk_alloc(t, 1, 1, 0, 0x1000, 32, 9);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_free(t, 3, 1, 0, 0x1000);
    tk_finish(t);
    cr_assert_eq(tk_anomaly(t, 0, HG_A2_DOUBLE_FREE).severity, HG_SEV_WARNING);
    hg_tracker_free(t);

    t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 32, 9);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_free(t, 3, 1, 0, 0x1000);
    hg_tracker_mark_truncated(t, "cut");
    tk_finish(t);
    cr_assert_eq(tk_anomaly(t, 0, HG_A2_DOUBLE_FREE).severity, HG_SEV_INFO);
    cr_assert(hg_tracker_quality(t)->incomplete);
    hg_tracker_free(t);
}

Test(anomalies, a3_wrong_heap_free_releases_the_block) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0xA0000, 0x1000, 32, 4);
    tk_free(t, 2, 1, 0xB0000, 0x1000);
    tk_end(t, 3, 1);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A3_WRONG_HEAP);
    cr_assert_eq(a.severity, HG_SEV_ERROR);
    cr_assert_eq(a.stack_id, 4);
    cr_assert_eq(a.example.heap, 0xB0000);
    cr_assert_eq(a.example.other, 0xA0000);
    cr_assert_eq(tk_process(t, 0).totals.leaked_bytes, 0);
    hg_tracker_free(t);
}

Test(anomalies, a4_overlap_retires_the_old_block) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 0x100, 5);
    tk_alloc(t, 2, 1, 0, 0x1080, 0x10, 6); /* inside the first block */
    tk_alloc(t, 3, 1, 0, 0x2000, 0x10, 7);
    tk_alloc(t, 4, 1, 0, 0x1ff8, 0x10, 8); /* overlaps the start of 0x2000 */
    tk_end(t, 5, 1);
    tk_finish(t);
    cr_assert_eq(tk_anomaly_count(t, 0, HG_A4_OVERLAP), 2);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A4_OVERLAP);
    cr_assert_eq(a.stack_id, 5, "attributed to the block whose free was missed");
    cr_assert_eq(a.example.addr, 0x1080);
    cr_assert_eq(a.example.other, 0x1000);
    cr_assert_eq(a.severity, HG_SEV_WARNING);
    hg_process_summary_t p = tk_process(t, 0);
    cr_assert_eq(p.totals.leaked_blocks, 2, "retired blocks are not leaks");
    cr_assert_eq(p.totals.leaked_bytes, 0x20);
    hg_tracker_free(t);
}

Test(anomalies, a4_adjacent_blocks_do_not_overlap) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 0x100, 5);
    tk_alloc(t, 2, 1, 0, 0x1100, 0x100, 5);
    tk_alloc(t, 3, 1, 0, 0x0f00, 0x100, 5);
    tk_finish(t);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 0);
    hg_tracker_free(t);
}

Test(anomalies, a6_realloc_unknown_still_makes_the_new_block_live) {
    hg_tracker_t *t = started();
    tk_realloc(t, 1, 1, 0, 0x5000, 0x6000, 80, 3);
    tk_end(t, 2, 1);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A6_REALLOC_UNKNOWN);
    cr_assert_eq(a.example.addr, 0x5000);
    cr_assert_eq(a.severity, HG_SEV_WARNING);
    cr_assert_eq(tk_process(t, 0).totals.leaked_bytes, 80);
    hg_tracker_free(t);
}

Test(anomalies, a7_realloc_size_mismatch) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 24, 2);
    tk_feed(t, (hg_event_t){.kind = HG_EV_REALLOC,
                            .ts_ns = 2,
                            .pid = 1,
                            .addr = 0x1000,
                            .old_addr = 0x1000,
                            .size = 48,
                            .old_size = 32,
                            .flags = HG_EVF_OLD_SIZE,
                            .stack_id = 2});
    tk_feed(t, (hg_event_t){.kind = HG_EV_REALLOC,
                            .ts_ns = 3,
                            .pid = 1,
                            .addr = 0x1000,
                            .old_addr = 0x1000,
                            .size = 64,
                            .old_size = 48,
                            .flags = HG_EVF_OLD_SIZE,
                            .stack_id = 2});
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A7_REALLOC_SIZE);
    cr_assert_eq(a.count, 1);
    cr_assert_eq(a.example.other, 24, "the size heapgate had recorded");
    cr_assert_eq(a.severity, HG_SEV_INFO);
    hg_tracker_free(t);
}

Test(anomalies, a8_zero_and_extreme_sizes) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1000, 0, 1);
    tk_alloc(t, 2, 1, 0, 0x100000000, UINT64_C(1) << 36, 1);
    hg_process_info_t info = {.pid = 2, .pointer_size = 4};
    cr_assert_eq(hg_tracker_set_process(t, &info), 0);
    tk_alloc(t, 3, 2, 0, 0x10000, UINT64_C(1) << 31, 1);
    tk_alloc(t, 4, 2, 0, 0x90000000, (UINT64_C(1) << 31) - 1, 1);
    tk_alloc(t, 5, 3, 0, 0x1000, 0, 1);
    tk_finish(t);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 2, "zero and large are separate aggregates");
    cr_assert_eq(tk_anomaly_count(t, 0, HG_A8_SIZE), 2);
    hg_anomaly_t big64 = tk_anomaly(t, 0, HG_A8_SIZE);
    cr_assert_eq(big64.variant, 0);
    cr_assert_eq(big64.example.other, UINT64_C(1) << 36, "the 64-bit cap");
    cr_assert_eq(tk_anomaly_count(t, 1, HG_A8_SIZE), 1);
    hg_anomaly_t big = tk_anomaly(t, 1, HG_A8_SIZE);
    cr_assert_eq(big.variant, 0);
    cr_assert_eq(big.severity, HG_SEV_WARNING);
    cr_assert_eq(big.example.other, UINT64_C(1) << 31, "the 32-bit cap");
    hg_anomaly_t zero = tk_anomaly(t, 2, HG_A8_SIZE);
    cr_assert_eq(zero.variant, 1);
    cr_assert_eq(zero.severity, HG_SEV_INFO);
    hg_tracker_free(t);
}

Test(anomalies, a9_invalid_source_block_not_live) {
    hg_tracker_t *t = started();
    tk_alloc_src(t, 1, 1, 0, 0x1000, 64, 3, HG_SOURCE_INVALID);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_alloc_src(t, 3, 1, 0, 0x2000, 64, 3, HG_SOURCE_INVALID);
    tk_end(t, 4, 1);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A9_SOURCE_INVALID);
    cr_assert_eq(a.count, 2);
    cr_assert_eq(a.severity, HG_SEV_WARNING);
    cr_assert_eq(tk_process(t, 0).totals.leaked_bytes, 0);
    cr_assert_eq(tk_anomaly_count(t, 0, HG_A1_FREE_UNKNOWN), 0);
    hg_tracker_free(t);
}

Test(anomalies, a10_undocumented_sources) {
    hg_tracker_t *t = started();
    tk_alloc_src(t, 1, 1, 0, 0x1000, 64, 3, HG_SOURCE_SEGMENT);
    tk_alloc_src(t, 2, 1, 0, 0x2000, 64, 3, 9);
    tk_alloc_src(t, 3, 1, 0, 0x3000, 64, 3, HG_SOURCE_SLOW);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A10_SOURCE_UNDOCUMENTED);
    cr_assert_eq(a.count, 2);
    cr_assert_eq(a.example.other, 6);
    cr_assert_eq(a.severity, HG_SEV_INFO);
    cr_assert_eq(tk_process(t, 0).totals.outstanding_blocks, 3, "blocks still live");
    hg_heap_summary_t h = tk_heap_summary(t, 0, 0);
    cr_assert_eq(h.source_allocs[6], 1);
    cr_assert_eq(h.source_allocs[7], 1);
    cr_assert_eq(h.source_allocs[4], 1);
    hg_tracker_free(t);
}

Test(anomalies, a12_misaligned_by_pointer_size) {
    hg_tracker_t *t = started();
    tk_alloc(t, 1, 1, 0, 0x1008, 8, 1); /* 64-bit: 16-byte alignment */
    hg_process_info_t info = {.pid = 2, .pointer_size = 4};
    cr_assert_eq(hg_tracker_set_process(t, &info), 0);
    tk_alloc(t, 2, 2, 0, 0x1008, 8, 1); /* 32-bit: 8 is fine */
    tk_alloc(t, 3, 2, 0, 0x2004, 8, 1);
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A12_MISALIGNED);
    cr_assert_eq(a.example.other, 16);
    cr_assert_eq(a.severity, HG_SEV_WARNING);
    cr_assert_eq(tk_anomaly_count(t, 1, HG_A12_MISALIGNED), 1);
    cr_assert_eq(tk_anomaly(t, 1, HG_A12_MISALIGNED).example.addr, 0x2004);
    hg_tracker_free(t);
}

Test(anomalies, a13_lfh_never_engaged) {
    hg_tracker_t *t = started();
    for (int i = 0; i < 18; i++) {
        tk_alloc_src(t, 1 + i, 1, 0x100, 0x10000 + 0x100 * i, 48, 2, HG_SOURCE_MAIN);
    }
    for (int i = 0; i < 17; i++) { /* only 17 of this size: below the threshold */
        tk_alloc_src(t, 30 + i, 1, 0x100, 0x20000 + 0x100 * i, 96, 2, HG_SOURCE_MAIN);
    }
    for (int i = 0; i < 20; i++) { /* LFH engaged for this size */
        tk_alloc_src(t, 50 + i, 1, 0x100, 0x30000 + 0x100 * i, 128, 2,
                     i < 19 ? HG_SOURCE_MAIN : HG_SOURCE_LFH);
    }
    for (int i = 0; i < 20; i++) { /* too large for the LFH */
        tk_alloc_src(t, 80 + i, 1, 0x100, 0x100000 + 0x10000 * i, 20000, 2, HG_SOURCE_MAIN);
    }
    for (int i = 0; i < 20; i++) { /* no ETW source: the rule does not apply */
        tk_alloc(t, 110 + i, 1, 0x200, 0x900000 + 0x100 * i, 48, 2);
    }
    tk_finish(t);
    hg_anomaly_t a = tk_anomaly(t, 0, HG_A13_NO_LFH);
    cr_assert_eq(a.count, 1);
    cr_assert_eq(a.example.size, 48);
    cr_assert_eq(a.example.other, 18);
    cr_assert_eq(a.example.heap, 0x100);
    cr_assert_eq(a.example.addr, 0x10000);
    cr_assert_eq(a.stack_id, 2);
    cr_assert_eq(a.severity, HG_SEV_INFO);
    hg_tracker_free(t);
}

Test(anomalies, aggregated_by_kind_and_site) {
    hg_tracker_t *t = started();
    for (uint32_t s = 1; s <= 3; s++) {
        for (int i = 0; i < 4; i++) {
            uint64_t a = 0x1000 * s + 0x40 * i;
            tk_alloc(t, 1, 1, 0, a, 8, s);
            tk_free(t, 2, 1, 0, a);
            tk_free(t, 3, 1, 0, a);
        }
    }
    tk_finish(t);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 3);
    cr_assert_eq(tk_anomaly_count(t, 0, HG_A2_DOUBLE_FREE), 12);
    hg_tracker_free(t);
}

Test(anomalies, catalogue_names_and_parsing) {
    cr_assert_str_eq(hg_anomaly_id(HG_A3_WRONG_HEAP), "A3");
    cr_assert_str_eq(hg_anomaly_name(HG_A3_WRONG_HEAP), "wrong-heap-free");
    cr_assert_eq(hg_anomaly_parse("a3"), HG_A3_WRONG_HEAP);
    cr_assert_eq(hg_anomaly_parse("wrong-heap-free"), HG_A3_WRONG_HEAP);
    cr_assert_eq(hg_anomaly_parse("A13"), HG_A13_NO_LFH);
    cr_assert_eq(hg_anomaly_parse("A11"), 0, "A11 is not an anomaly");
    cr_assert_eq(hg_anomaly_parse("nope"), 0);
    cr_assert_eq(hg_severity_parse("Warning"), HG_SEV_WARNING);
    cr_assert_eq(hg_severity_parse("fatal"), 0);
    for (int k = 1; k <= HG_ANOMALY_KIND_MAX; k++) {
        if (k != 11) {
            cr_assert_eq(hg_anomaly_parse(hg_anomaly_name(k)), k);
            cr_assert_eq(hg_anomaly_parse(hg_anomaly_id(k)), k);
        }
    }
}
