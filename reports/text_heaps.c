/* text_heaps.c - the text report's fragmentation table, lifetime classes and trace quality.
 *
 * Fragmentation shows one row per heap, largest span first (at most opt->top heaps), with the
 * figures of docs/heap-semantics.md section 4 and the growth signal beneath; the section says
 * that they are estimates. Lifetime classes appear only when a window was given. Trace
 * quality closes the report: what was read, what could not be matched, what was lost. */
#include "text_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- fragmentation ------------------------------------------------------------------------ */

/* Right-aligned fixed-point figure ending at column end; "-" when not finite. */
static void put_figure(hg__report_tl_t *tl, const char *fmt, double v, size_t end) {
    char b[32];
    if (isfinite(v)) {
        snprintf(b, sizeof b, fmt, v);
    } else {
        snprintf(b, sizeof b, "-");
    }
    hg__report_tl_right(tl, b, end);
}

static void put_heap_header(hg__report_tl_t *tl) {
    static const struct {
        const char *title;
        size_t end;
    } cols[] = {{"live", 39},    {"span", 49}, {"util", 56},    {"holes", 64},
                {"largest", 75}, {"ext", 82},  {"Sawicki", 90}, {"peak", 97}};
    hg__report_tl_right(tl, "pid", 8);
    hg__report_tl_col(tl, 10);
    hg__report_tl_put(tl, "heap");
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        hg__report_tl_right(tl, cols[i].title, cols[i].end);
    }
    hg__report_tl_end(tl);
}

static void put_heap_growth(hg__report_tl_t *tl, const hg_rheap_t *h) {
    char b[32], t[32];
    hg__report_tl_col(tl, 10);
    hg__report_tl_put(tl, "growth: ");
    hg__report_tl_fit(tl, h->growth_signal ? h->growth_signal : "unknown", 30);
    hg__report_tl_putf(tl, "; peak live %s at %s", hg_format_bytes(h->peak_live_bytes, b, sizeof b),
                       hg_format_duration(h->peak_live_ts_ns, t, sizeof t));
    if (h->destroyed) {
        hg__report_tl_put(tl, "; destroyed");
    }
    hg__report_tl_end(tl);
}

static void put_heap(hg__report_tl_t *tl, const hg_rheap_t *h) {
    const hg_rfrag_t *f = &h->frag;
    char handle[24];
    snprintf(handle, sizeof handle, "0x%llx", (unsigned long long)h->handle);
    hg__report_tl_count(tl, h->pid, 8);
    hg__report_tl_col(tl, 10);
    hg__report_tl_put(tl, handle);
    hg__report_tl_bytes(tl, f->live_bytes, 39);
    hg__report_tl_bytes(tl, f->span_bytes, 49);
    put_figure(tl, "%.1f%%", f->utilisation * 100, 56);
    hg__report_tl_count(tl, f->holes, 64);
    hg__report_tl_bytes(tl, f->largest_hole, 75);
    put_figure(tl, "%.1f%%", f->external * 100, 82);
    put_figure(tl, "%.3f", f->sawicki, 90);
    put_figure(tl, "%.2f", h->peak_ratio, 97);
    hg__report_tl_end(tl);
    put_heap_growth(tl, h);
}

static int cmp_span_desc(const void *a, const void *b) {
    const hg_rheap_t *x = *(const hg_rheap_t *const *)a, *y = *(const hg_rheap_t *const *)b;
    uint64_t sx = x->frag.span_bytes, sy = y->frag.span_bytes;
    if (sx != sy) {
        return sx > sy ? -1 : 1;
    }
    return x < y ? -1 : x > y; /* keep report order among equals */
}

/* Heap pointers, largest span first (caller frees); NULL when out of memory (noted on tl). */
static const hg_rheap_t **heaps_by_span(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    const hg_rheap_t **order = hg_malloc(r->nheaps * sizeof *order);
    if (!order) {
        hg__report_tl_nomem(tl);
        return NULL;
    }
    for (size_t i = 0; i < r->nheaps; i++) {
        order[i] = &r->heaps[i];
    }
    qsort(order, r->nheaps, sizeof *order, cmp_span_desc);
    return order;
}

void hg__report_text_heaps(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    size_t shown = tl->opt->top && tl->opt->top < r->nheaps ? tl->opt->top : r->nheaps;
    hg__report_tl_heading(tl, "Fragmentation");
    hg__report_tl_putf(tl, " (%zu heaps)", r->nheaps);
    hg__report_tl_end(tl);
    if (r->nheaps == 0) {
        return;
    }
    hg__report_tl_put(tl, "  estimates from block addresses and requested sizes, not the "
                          "allocator's real state");
    hg__report_tl_end(tl);
    const hg_rheap_t **order = heaps_by_span(tl);
    if (!order) {
        return;
    }
    put_heap_header(tl);
    for (size_t i = 0; i < shown; i++) {
        put_heap(tl, order[i]);
    }
    if (shown < r->nheaps) {
        hg__report_tl_putf(tl, "  ... %zu more heaps with smaller spans", r->nheaps - shown);
        hg__report_tl_end(tl);
    }
    hg_free((void *)order);
}

/* ---- lifetime classes --------------------------------------------------------------------- */

static void put_class(hg__report_tl_t *tl, const char *name, const char *meaning, uint64_t blocks,
                      uint64_t bytes) {
    hg__report_tl_col(tl, 2);
    hg__report_tl_put(tl, name);
    hg__report_tl_col(tl, 8);
    hg__report_tl_put(tl, meaning);
    hg__report_tl_count(tl, blocks, 64);
    hg__report_tl_bytes(tl, bytes, 78);
    hg__report_tl_count(tl, bytes, 96);
    hg__report_tl_end(tl);
}

void hg__report_text_lifetime(hg__report_tl_t *tl) {
    const hg_rlifetime_t *l = &tl->r->lifetime;
    char t0[32], t1[32], b[32];
    if (!l->enabled) {
        return;
    }
    hg__report_tl_heading(tl, "Lifetime classes");
    hg__report_tl_putf(tl, " in [%s, %s]", hg_format_duration(l->t0_ns, t0, sizeof t0),
                       hg_format_duration(l->t1_ns, t1, sizeof t1));
    hg__report_tl_end(tl);
    hg__report_tl_right(tl, "blocks", 64);
    hg__report_tl_right(tl, "size", 78);
    hg__report_tl_right(tl, "bytes", 96);
    hg__report_tl_end(tl);
    put_class(tl, "AIFI", "allocated and freed inside (transient)", l->aifi_blocks, l->aifi_bytes);
    put_class(tl, "AIFO", "allocated inside, not freed (potential leak)", l->aifo_blocks,
              l->aifo_bytes);
    put_class(tl, "AOFI", "allocated before, freed inside", l->aofi_blocks, l->aofi_bytes);
    put_class(tl, "AOFO", "allocated before, not freed (long-lived)", l->aofo_blocks,
              l->aofo_bytes);
    uint64_t magnitude =
        l->impacting_bytes < 0 ? 0 - (uint64_t)l->impacting_bytes : (uint64_t)l->impacting_bytes;
    hg__report_tl_putf(tl, "  impacting size %c%s (%lld B)", l->impacting_bytes < 0 ? '-' : '+',
                       hg_format_bytes(magnitude, b, sizeof b), (long long)l->impacting_bytes);
    hg__report_tl_end(tl);
}

/* ---- trace quality ------------------------------------------------------------------------ */

static void put_quality_row(hg__report_tl_t *tl, const char *label) {
    hg__report_tl_col(tl, 2);
    hg__report_tl_put(tl, label);
    hg__report_tl_col(tl, 22);
}

static void put_wall_start(hg__report_tl_t *tl, uint64_t wall_ns) {
    time_t secs = (time_t)(wall_ns / 1000000000u);
    struct tm tm;
    char b[64];
    if (wall_ns && gmtime_r(&secs, &tm) && strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", &tm)) {
        hg__report_tl_put(tl, "; recording started ");
        hg__report_tl_put(tl, b);
    }
}

static void put_quality_events(hg__report_tl_t *tl, const hg_rtrace_t *t) {
    char a[32], b[32];
    put_quality_row(tl, "events");
    hg__report_tl_putf(tl, "%llu", (unsigned long long)t->events);
    hg__report_tl_end(tl);
    put_quality_row(tl, "heap events");
    hg__report_tl_putf(tl, "%llu allocs, %llu reallocs, %llu frees, %llu creates, %llu destroys",
                       (unsigned long long)t->allocs, (unsigned long long)t->reallocs,
                       (unsigned long long)t->frees, (unsigned long long)t->heap_creates,
                       (unsigned long long)t->heap_destroys);
    hg__report_tl_end(tl);
    put_quality_row(tl, "time");
    hg__report_tl_putf(tl, "%s to %s", hg_format_duration(t->first_ts_ns, a, sizeof a),
                       hg_format_duration(t->last_ts_ns, b, sizeof b));
    put_wall_start(tl, t->start_wall_ns);
    hg__report_tl_end(tl);
}

static void put_quality_count(hg__report_tl_t *tl, const char *label, uint64_t n,
                              const char *unit) {
    put_quality_row(tl, label);
    hg__report_tl_putf(tl, "%llu%s", (unsigned long long)n, unit);
    hg__report_tl_end(tl);
}

static void put_quality_loss(hg__report_tl_t *tl, const hg_rtrace_t *t) {
    char b[32];
    put_quality_row(tl, "lost");
    hg__report_tl_putf(tl, "%llu events, %llu buffers%s", (unsigned long long)t->lost_events,
                       (unsigned long long)t->lost_buffers,
                       t->lost_counts_known ? "" : " (the recorder does not count losses)");
    hg__report_tl_end(tl);
    put_quality_row(tl, "truncated");
    hg__report_tl_put(tl, t->truncated ? "yes: read up to the last whole chunk" : "no");
    hg__report_tl_end(tl);
    put_quality_row(tl, "stacks");
    hg__report_tl_putf(tl, "%llu defined, %llu referenced but never defined",
                       (unsigned long long)t->stacks_defined,
                       (unsigned long long)t->stacks_undefined);
    hg__report_tl_end(tl);
    put_quality_row(tl, "settle window");
    hg__report_tl_putf(tl, "%llu blocks (%s) allocated before it, not counted",
                       (unsigned long long)t->settle_ignored_blocks,
                       hg_format_bytes(t->settle_ignored_bytes, b, sizeof b));
    hg__report_tl_end(tl);
}

void hg__report_text_trace(hg__report_tl_t *tl) {
    const hg_rtrace_t *t = &tl->r->trace;
    hg__report_tl_heading(tl, "Trace quality");
    hg__report_tl_end(tl);
    put_quality_events(tl, t);
    put_quality_count(tl, "unmatched frees", t->unmatched_frees, "");
    put_quality_count(tl, "failed allocations", t->failed_allocations, "");
    put_quality_loss(tl, t);
    put_quality_count(tl, "filtered events", t->filtered_events, " (--pid / --process)");
    put_quality_count(tl, "out of order", t->out_of_order_events, " events (kept, clamped)");
    put_quality_count(tl, "markers", t->markers, "");
}
