/* hgbench_mem.c - feeds a trace to a tracker and reports its speed and its memory per live
 * block, as the tracker itself counts it (hg_tracker_memory_bytes: every allocation the tool
 * makes through hg_malloc, Judy arrays included).
 *
 *   hgbench_mem TRACE
 *
 * The sink between the reader and the tracker counts live blocks from the events (+1 per
 * allocation, -1 per free; exact for the benchmark traces, which have no anomalies) and, every
 * 65536 events, samples the tracker's memory; the sample with the most memory gives the bytes
 * per live block. Times (wall clock and the process's CPU time) cover reading and tracking
 * (hg_read_file) and hg_tracker_finish.
 * Prints key=value lines for bench/run.sh. */
#include "formats.h"

#include <stdio.h>
#include <time.h>

#define SAMPLE_EVERY 65536

typedef struct probe {
    hg_tracker_t *t;
    hg_sink_t inner;
    uint64_t events, live, peak_bytes, live_at_peak, peak_live;
} probe_t;

static void sample(probe_t *pr) {
    uint64_t bytes = hg_tracker_memory_bytes(pr->t);
    if (bytes > pr->peak_bytes) {
        pr->peak_bytes = bytes;
        pr->live_at_peak = pr->live;
    }
}

static void count_live(probe_t *pr, const hg_event_t *ev) {
    bool born = (ev->kind == HG_EV_ALLOC || (ev->kind == HG_EV_REALLOC && ev->old_addr == 0));
    if (born && ev->addr) {
        pr->live++;
    } else if (ev->kind == HG_EV_FREE && ev->addr && pr->live) {
        pr->live--;
    }
    if (pr->live > pr->peak_live) {
        pr->peak_live = pr->live;
    }
}

static int on_event(void *ctx, const hg_event_t *ev) {
    probe_t *pr = ctx;
    count_live(pr, ev);
    if (++pr->events % SAMPLE_EVERY == 0) {
        sample(pr);
    }
    return pr->inner.ops->event(pr->inner.ctx, ev);
}

static int on_trace(void *ctx, const hg_trace_info_t *i) {
    probe_t *pr = ctx;
    return pr->inner.ops->trace(pr->inner.ctx, i);
}
static int on_process(void *ctx, const hg_process_info_t *i) {
    probe_t *pr = ctx;
    return pr->inner.ops->process(pr->inner.ctx, i);
}
static int on_stack(void *ctx, uint32_t id, const uint64_t *f, uint32_t n) {
    probe_t *pr = ctx;
    return pr->inner.ops->stack(pr->inner.ctx, id, f, n);
}
static int on_stats(void *ctx, const hg_alloc_stats_t *s) {
    probe_t *pr = ctx;
    return pr->inner.ops->stats(pr->inner.ctx, s);
}

static const hg_sink_ops_t probe_ops = {on_trace, on_process, NULL, on_stack, on_event, on_stats};

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock and CPU seconds: on a shared machine the CPU figure is the steadier one. */
static void report(const probe_t *pr, double seconds, double cpu_seconds) {
    printf("events=%llu\n", (unsigned long long)pr->events);
    printf("seconds=%.3f\n", seconds);
    printf("events_per_s=%.0f\n", seconds > 0 ? (double)pr->events / seconds : 0.0);
    printf("cpu_seconds=%.3f\n", cpu_seconds);
    printf("events_per_cpu_s=%.0f\n", cpu_seconds > 0 ? (double)pr->events / cpu_seconds : 0.0);
    printf("peak_live_blocks=%llu\n", (unsigned long long)pr->peak_live);
    printf("peak_tracker_bytes=%llu\n", (unsigned long long)pr->peak_bytes);
    printf("live_blocks_at_peak=%llu\n", (unsigned long long)pr->live_at_peak);
    printf("bytes_per_live_block=%.1f\n",
           pr->live_at_peak ? (double)pr->peak_bytes / (double)pr->live_at_peak : 0.0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hgbench_mem TRACE\n");
        return 2;
    }
    probe_t pr = {.t = hg_tracker_new(NULL)};
    if (!pr.t) {
        return 2;
    }
    pr.inner = hg_tracker_sink(pr.t);
    hg_sink_t sink = {&probe_ops, &pr};
    hg_read_result_t res;
    hg_error_t err;
    hg_error_clear(&err);
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    int rc = hg_read_file(argv[1], sink, NULL, &res, &err);
    sample(&pr);
    rc = rc ? rc : hg_tracker_finish(pr.t);
    double seconds = clock_s(CLOCK_MONOTONIC) - t0;
    double cpu_seconds = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc) {
        fprintf(stderr, "hgbench_mem: %s\n", err.msg[0] ? err.msg : hg_strerror(rc));
    } else {
        report(&pr, seconds, cpu_seconds);
    }
    hg_tracker_free(pr.t);
    return rc ? 2 : 0;
}
