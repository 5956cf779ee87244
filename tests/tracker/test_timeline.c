/* test_timeline.c - timeline sampling: bounded, evenly spaced samples; exact live figures;
 * walks only when paid for by events. */
#include "tk.h"

#include <criterion/criterion.h>

static size_t distinct_times(const hg_sample_t *v, size_t n) {
    size_t times = 0;
    for (size_t i = 0; i < n; i++) {
        times += i == 0 || v[i].ts_ns != v[i - 1].ts_ns;
    }
    return times;
}

Test(timeline, bounded_and_evenly_spaced) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.max_samples = 16;
    opt.sample_interval_ns = 10;
    hg_tracker_t *t = tk_new_opt(&opt);
    for (uint64_t i = 0; i < 5000; i++) {
        tk_alloc(t, 1 + i * 3, 1, 0, 0x10000 + 0x40 * (i % 64), 8, 1);
        tk_free(t, 2 + i * 3, 1, 0, 0x10000 + 0x40 * (i % 64));
    }
    tk_finish(t);
    size_t n = 0;
    const hg_sample_t *v = hg_tracker_samples(t, &n);
    size_t times = distinct_times(v, n);
    cr_assert_leq(times, 17, "max samples plus the final one");
    cr_assert_geq(times, 8, "thinning keeps at least half");
    uint64_t step = v[1].ts_ns - v[0].ts_ns;
    for (size_t i = 2; i + 1 < n; i++) { /* all but the final sample */
        cr_assert_eq(v[i].ts_ns - v[i - 1].ts_ns, step, "evenly spaced at %zu", i);
    }
    cr_assert_eq(v[n - 1].ts_ns, 3 * 4999 + 2, "final sample at the end of the trace");
    cr_assert(v[n - 1].measured);
    hg_tracker_free(t);
}

Test(timeline, live_figures_exact_and_walks_paid_by_events) {
    hg_tracker_options_t opt;
    hg_tracker_options_init(&opt);
    opt.sample_interval_ns = 10;
    hg_tracker_t *t = tk_new_opt(&opt);
    for (uint64_t i = 1; i <= 100; i++) {
        tk_alloc(t, i, 1, 0, 0x10000 + 0x40 * i, 8, 1);
    }
    tk_finish(t);
    size_t n = 0, measured = 0, unmeasured = 0;
    const hg_sample_t *v = hg_tracker_samples(t, &n);
    for (size_t i = 0; i < n; i++) {
        /* a sample at time ts is taken before the event at ts: ts - 1 blocks are live */
        uint64_t want = v[i].ts_ns == 100 && i == n - 1 ? 100 : v[i].ts_ns - 1;
        cr_assert_eq(v[i].live_blocks, want, "sample %zu at %llu", i,
                     (unsigned long long)v[i].ts_ns);
        measured += v[i].measured;
        unmeasured += !v[i].measured;
    }
    cr_assert_gt(unmeasured, 0, "a growing live set is not walked at every sample");
    cr_assert_gt(measured, 1);
    hg_tracker_free(t);
}

Test(timeline, allocator_stats_kept) {
    hg_tracker_t *t = tk_new();
    hg_alloc_stats_t st = {.pid = 4, .ts_ns = 5, .arena_bytes = 100, .rss_bytes = 4096};
    tk_alloc(t, 1, 4, 0, 0x1000, 8, 1);
    cr_assert_eq(hg_tracker_add_stats(t, &st), 0);
    tk_finish(t);
    size_t n = 0;
    const hg_stats_sample_t *s = hg_tracker_stats_samples(t, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(s[0].process, 0);
    cr_assert_eq(s[0].stats.rss_bytes, 4096);
    hg_tracker_free(t);
}
