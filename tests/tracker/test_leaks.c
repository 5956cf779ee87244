/* test_leaks.c - leak accounting: leaked vs outstanding, HeapDestroy, realloc (in place,
 * moving, grouped with its alloc/free companions), pid reuse, settle window, filters. */
#include "tk.h"

#include <criterion/criterion.h>

Test(leaks, leaked_when_process_ended_outstanding_when_running) {
    hg_tracker_t *t = tk_new();
    tk_start(t, 0, 10);
    tk_alloc(t, 1, 10, 0, 0x1000, 100, 1);
    tk_alloc(t, 2, 10, 0, 0x2000, 50, 1);
    tk_alloc(t, 3, 10, 0, 0x3000, 7, 2);
    tk_free(t, 4, 10, 0, 0x2000);
    tk_end(t, 5, 10);
    tk_start(t, 6, 20);
    tk_alloc(t, 7, 20, 0, 0x1000, 30, 1);
    tk_finish(t);

    cr_assert_eq(hg_tracker_process_count(t), 2);
    hg_process_summary_t a = tk_process(t, 0), b = tk_process(t, 1);
    cr_assert(a.ended && a.traced_from_start);
    cr_assert_eq(a.totals.leaked_bytes, 107);
    cr_assert_eq(a.totals.leaked_blocks, 2);
    cr_assert_eq(a.totals.outstanding_bytes, 0);
    cr_assert(!b.ended);
    cr_assert_eq(b.totals.outstanding_bytes, 30);
    cr_assert_eq(b.totals.leaked_bytes, 0);
    hg_totals_t sum = hg_tracker_totals(t);
    cr_assert_eq(sum.leaked_bytes, 107);
    cr_assert_eq(sum.outstanding_blocks, 1);

    hg_site_stats_t s1 = tk_site(t, 0, 1);
    cr_assert_eq(s1.allocs, 2);
    cr_assert_eq(s1.alloc_bytes, 150);
    cr_assert_eq(s1.live_bytes, 100);
    cr_assert_eq(s1.peak_live_bytes, 150);
    cr_assert_eq(s1.first_ts_ns, 1);
    cr_assert_eq(s1.last_ts_ns, 2);
    hg_tracker_free(t);
}

Test(leaks, heap_destroy_releases_blocks) {
    hg_tracker_t *t = tk_new();
    tk_start(t, 0, 1);
    tk_heap(t, 1, 1, HG_EV_HEAP_CREATE, 0x500000);
    tk_alloc(t, 2, 1, 0x500000, 0x500100, 64, 3);
    tk_alloc(t, 3, 1, 0x500000, 0x500200, 32, 3);
    tk_alloc(t, 4, 1, 0x700000, 0x700100, 16, 4); /* another heap, unseen before (A11) */
    tk_heap(t, 5, 1, HG_EV_HEAP_DESTROY, 0x500000);
    tk_end(t, 6, 1);
    tk_finish(t);

    hg_process_summary_t p = tk_process(t, 0);
    cr_assert_eq(p.totals.released_bytes, 96);
    cr_assert_eq(p.totals.released_blocks, 2);
    cr_assert_eq(p.totals.leaked_bytes, 16);
    hg_site_stats_t s = tk_site(t, 0, 3);
    cr_assert_eq(s.released_blocks, 2);
    cr_assert_eq(s.live_blocks, 0);
    hg_heap_summary_t h = tk_heap_summary(t, 0, 0x500000);
    cr_assert(h.created_in_trace && h.destroyed);
    cr_assert_eq(h.destroy_ts_ns, 5);
    cr_assert_eq(h.frag.live_bytes, 96, "fragmentation taken just before the destroy");
    hg_heap_summary_t other = tk_heap_summary(t, 0, 0x700000);
    cr_assert(!other.created_in_trace);
    hg_anomaly_t a5 = tk_anomaly(t, 0, HG_A5_DESTROY_LIVE);
    cr_assert_eq(a5.severity, HG_SEV_INFO);
    cr_assert_eq(a5.example.size, 96);
    cr_assert_eq(a5.example.other, 2);
    hg_tracker_free(t);
}

Test(leaks, destroyed_handle_reused_is_a_new_heap) {
    hg_tracker_t *t = tk_new();
    tk_heap(t, 1, 1, HG_EV_HEAP_CREATE, 0x10);
    tk_heap(t, 2, 1, HG_EV_HEAP_DESTROY, 0x10);
    tk_heap(t, 3, 1, HG_EV_HEAP_CREATE, 0x10);
    tk_alloc(t, 4, 1, 0x10, 0x100, 8, 1);
    tk_finish(t);
    cr_assert_eq(tk_process(t, 0).heaps, 2);
    hg_heap_summary_t h = tk_heap_summary(t, 0, 0x10);
    cr_assert(!h.destroyed);
    cr_assert_eq(h.allocs, 1);
    hg_tracker_free(t);
}

Test(leaks, realloc_in_place_and_moving) {
    hg_tracker_t *t = tk_new();
    tk_start(t, 0, 1);
    tk_alloc(t, 1, 1, 0, 0x1000, 10, 1);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x1000, 20, 2); /* resize */
    tk_realloc(t, 3, 1, 0, 0x1000, 0x9000, 40, 3); /* move */
    tk_end(t, 4, 1);
    tk_finish(t);
    hg_process_summary_t p = tk_process(t, 0);
    cr_assert_eq(p.totals.leaked_bytes, 40);
    cr_assert_eq(p.totals.leaked_blocks, 1);
    cr_assert_eq(p.reallocs, 2);
    cr_assert_eq(tk_site(t, 0, 1).live_blocks, 0);
    cr_assert_eq(tk_site(t, 0, 2).live_blocks, 0);
    cr_assert_eq(tk_site(t, 0, 3).live_bytes, 40);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 0);
    hg_tracker_free(t);
}

Test(leaks, realloc_without_stack_keeps_the_allocation_site) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 10, 7);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 30, 0);
    tk_finish(t);
    cr_assert_eq(tk_site(t, 0, 7).live_bytes, 30);
    hg_tracker_free(t);
}

/* heap-semantics.md §3: a moving realloc with its own alloc/free is one operation. */
static void check_grouped(hg_tracker_t *t) {
    tk_finish(t);
    hg_process_summary_t p = tk_process(t, 0);
    cr_assert_eq(p.totals.outstanding_bytes, 64, "counted once");
    cr_assert_eq(p.totals.outstanding_blocks, 1);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 0, "no overlap, no unknown free");
    cr_assert_eq(hg_tracker_quality(t)->unmatched_frees, 0);
    hg_tracker_free(t);
}

Test(leaks, realloc_then_its_alloc_and_free) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 64, 2);
    tk_alloc(t, 2, 1, 0, 0x2000, 64, 2);
    tk_free(t, 2, 1, 0, 0x1000);
    check_grouped(t);
}

Test(leaks, alloc_and_free_then_their_realloc) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_alloc(t, 2, 1, 0, 0x2000, 64, 2);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 64, 2);
    check_grouped(t);
}

Test(leaks, alloc_then_realloc_then_free) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_alloc(t, 2, 1, 0, 0x2000, 64, 2);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 64, 2);
    tk_free(t, 2, 1, 0, 0x1000);
    check_grouped(t);
}

/* An address that changes hands next to a moving realloc is no companion: glibc hands a freed
 * chunk straight back, so free(a) alloc(a) realloc(a -> b), realloc(a -> b) free(b) alloc(b)
 * and realloc(a -> b) alloc(a) free(a) are ordinary events of a single-threaded program. */
static void check_separate(hg_tracker_t *t, uint64_t outstanding_blocks,
                           uint64_t outstanding_bytes) {
    tk_finish(t);
    hg_process_summary_t p = tk_process(t, 0);
    cr_assert_eq(p.totals.outstanding_blocks, outstanding_blocks);
    cr_assert_eq(p.totals.outstanding_bytes, outstanding_bytes);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 0, "no double free, no overlap");
    cr_assert_eq(hg_tracker_quality(t)->unmatched_frees, 0);
    hg_tracker_free(t);
}

Test(leaks, realloc_of_an_address_freed_and_allocated_again) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_free(t, 2, 1, 0, 0x1000);
    tk_alloc(t, 3, 1, 0, 0x1000, 16, 1);
    tk_realloc(t, 4, 1, 0, 0x1000, 0x2000, 64, 2);
    tk_free(t, 5, 1, 0, 0x2000);
    check_separate(t, 0, 0);
}

Test(leaks, new_address_of_a_realloc_freed_and_allocated_again) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 64, 2);
    tk_free(t, 3, 1, 0, 0x2000);
    tk_alloc(t, 4, 1, 0, 0x2000, 32, 1);
    check_separate(t, 1, 32);
}

Test(leaks, old_address_of_a_realloc_allocated_and_freed_again) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 64, 2);
    tk_alloc(t, 3, 1, 0, 0x1000, 32, 1);
    tk_free(t, 4, 1, 0, 0x1000);
    check_separate(t, 1, 64);
}

Test(leaks, companions_from_another_thread_are_not_grouped) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 16, 1);
    tk_realloc(t, 2, 1, 0, 0x1000, 0x2000, 64, 2);
    tk_feed(t, (hg_event_t){.kind = HG_EV_FREE, .ts_ns = 3, .pid = 1, .tid = 9, .addr = 0x1000});
    tk_finish(t);
    cr_assert_eq(tk_anomaly_count(t, 0, HG_A2_DOUBLE_FREE), 1);
    hg_tracker_free(t);
}

Test(leaks, pid_reuse_starts_a_new_instance) {
    hg_tracker_t *t = tk_new();
    tk_start(t, 0, 5);
    tk_alloc(t, 1, 5, 0, 0x1000, 8, 1);
    tk_start(t, 2, 5); /* no end event for the first one */
    tk_alloc(t, 3, 5, 0, 0x1000, 4, 1);
    tk_finish(t);
    cr_assert_eq(hg_tracker_process_count(t), 2);
    cr_assert(tk_process(t, 0).ended);
    cr_assert_eq(tk_process(t, 0).totals.leaked_bytes, 8);
    cr_assert_eq(tk_process(t, 1).instance, 1);
    cr_assert_eq(tk_process(t, 1).totals.outstanding_bytes, 4);
    cr_assert_eq(tk_anomaly_kinds(t, 1), 0, "same address in a new process is no overlap");
    hg_tracker_free(t);
}

Test(leaks, process_seen_without_start_is_not_traced_from_start) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 3, 0, 0x1000, 8, 1);
    tk_finish(t);
    cr_assert(!tk_process(t, 0).traced_from_start);
    hg_tracker_free(t);
}

Test(leaks, settle_ignores_early_allocations) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.settle_ns = 100;
    hg_tracker_t *t = tk_new_opt(&opt);
    tk_start(t, 0, 1);
    tk_alloc(t, 10, 1, 0, 0x1000, 1000, 1); /* warm-up, never freed */
    tk_alloc(t, 20, 1, 0, 0x2000, 50, 1);
    tk_free(t, 150, 1, 0, 0x2000); /* freeing an early block is no anomaly */
    tk_alloc(t, 200, 1, 0, 0x3000, 10, 2);
    tk_end(t, 300, 1);
    tk_finish(t);
    hg_process_summary_t p = tk_process(t, 0);
    cr_assert_eq(p.totals.leaked_bytes, 10);
    cr_assert_eq(hg_tracker_quality(t)->settle_ignored_blocks, 2);
    cr_assert_eq(hg_tracker_quality(t)->settle_ignored_bytes, 1050);
    cr_assert_eq(tk_anomaly_kinds(t, 0), 0);
    hg_tracker_free(t);
}

Test(leaks, pid_and_process_filters) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.process_filter = "App";
    hg_tracker_t *t = tk_new_opt(&opt);
    hg_process_info_t a = {.pid = 1, .name = "C:\\bin\\app.exe"};
    hg_process_info_t b = {.pid = 2, .name = "other.exe"};
    cr_assert_eq(hg_tracker_set_process(t, &a), 0);
    cr_assert_eq(hg_tracker_set_process(t, &b), 0);
    tk_alloc(t, 1, 1, 0, 0x1000, 8, 1);
    tk_alloc(t, 2, 2, 0, 0x1000, 8, 1);
    tk_alloc(t, 3, 2, 0, 0x2000, 8, 1);
    tk_finish(t);
    cr_assert_eq(hg_tracker_process_count(t), 1);
    cr_assert_str_eq(tk_process(t, 0).name, "C:\\bin\\app.exe");
    cr_assert_eq(hg_tracker_quality(t)->filtered_events, 2);
    hg_tracker_free(t);

    hg_tracker_options_init(&opt);
    opt.pid_filter_set = true;
    opt.pid_filter = 2;
    t = tk_new_opt(&opt);
    tk_alloc(t, 1, 1, 0, 0x1000, 8, 1);
    tk_alloc(t, 2, 2, 0, 0x1000, 8, 1);
    tk_finish(t);
    cr_assert_eq(hg_tracker_process_count(t), 1);
    cr_assert_eq(tk_process(t, 0).pid, 2);
    hg_tracker_free(t);
}

Test(leaks, late_bound_stacks) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 1, 1, 0, 0x1000, 8, 42);
    tk_alloc(t, 2, 1, 0, 0x2000, 8, 43);
    uint64_t frames[] = {0x401000, 0x402000};
    cr_assert_eq(hg_tracker_define_stack(t, 42, frames, 2), 0);
    tk_finish(t);
    uint32_t n = 0;
    const uint64_t *f = hg_tracker_stack(t, 42, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(f[1], 0x402000);
    cr_assert_null(hg_tracker_stack(t, 43, &n));
    cr_assert_eq(hg_tracker_quality(t)->stacks_defined, 1);
    cr_assert_eq(hg_tracker_quality(t)->stacks_undefined, 1);
    cr_assert_eq(tk_site(t, 0, 42).live_bytes, 8);
    hg_tracker_free(t);
}

Test(leaks, trace_quality_counts) {
    hg_tracker_t *t = tk_new();
    tk_alloc(t, 5, 1, 0, 0x1000, 8, 1);
    tk_alloc(t, 3, 1, 0, 0x2000, 8, 1); /* earlier than the previous event */
    tk_alloc(t, 6, 1, 0, 0, 8, 1);      /* failed allocation */
    tk_feed(t, (hg_event_t){.kind = HG_EV_LOST, .ts_ns = 7, .size = 12, .old_size = 2});
    tk_feed(t, (hg_event_t){.kind = HG_EV_MARKER, .ts_ns = 8, .addr = 1});
    tk_finish(t);
    const hg_trace_quality_t *q = hg_tracker_quality(t);
    cr_assert_eq(q->events, 5);
    cr_assert_eq(q->events_by_kind[HG_EV_ALLOC], 3);
    cr_assert_eq(q->out_of_order_events, 1);
    cr_assert_eq(q->failed_allocations, 1);
    cr_assert_eq(q->lost_events, 12);
    cr_assert_eq(q->lost_buffers, 2);
    cr_assert(q->incomplete);
    cr_assert_eq(q->markers, 1);
    cr_assert_eq(q->first_ts_ns, 5);
    cr_assert_eq(q->last_ts_ns, 8);
    hg_tracker_free(t);
}

Test(leaks, feeding_after_finish_fails) {
    hg_tracker_t *t = tk_new();
    tk_finish(t);
    hg_event_t ev = {.kind = HG_EV_ALLOC, .addr = 0x10, .size = 1};
    cr_assert_eq(hg_tracker_feed(t, &ev), HG_EUSAGE);
    ev.kind = 0;
    hg_tracker_t *t2 = tk_new();
    cr_assert_eq(hg_tracker_feed(t2, &ev), HG_EFORMAT);
    hg_tracker_free(t);
    hg_tracker_free(t2);
}

Test(leaks, out_of_memory_is_reported_not_crashed) {
    for (long n = 0; n < 60; n++) {
        hg_tracker_t *t = hg_tracker_new(NULL);
        if (!t) {
            continue;
        }
        hg_mem_fail_after(n);
        hg_event_t ev = {.kind = HG_EV_ALLOC, .pid = 1, .addr = 0x1000, .size = 8, .stack_id = 1};
        int rc = 0;
        for (int i = 0; i < 20 && rc == 0; i++) {
            ev.addr += 0x100;
            ev.ts_ns++;
            rc = hg_tracker_feed(t, &ev);
        }
        int frc = rc ? hg_tracker_finish(t) : 0;
        hg_mem_fail_after(-1);
        cr_assert(rc == 0 || rc == HG_ENOMEM);
        cr_assert(rc == 0 || frc == HG_ENOMEM);
        hg_tracker_free(t);
    }
}
