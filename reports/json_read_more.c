/* json_read_more.c - the JSON report reader's later sections: fragmentation and heaps,
 * timeline, allocator statistics, trace quality, suppressions and the gate (see json_read.c
 * for the rules every key follows). */
#include "json_read_priv.h"

#include <stdio.h>
#include <string.h>

typedef bool (*item_fn)(hg__rd_t *, const json_t *, const char *, hg_report_t *);

static bool each_in(hg__rd_t *rd, const json_t *parent, const char *pwhere, const char *key,
                    item_fn fn, hg_report_t *r) {
    bool ok;
    json_t *a = hg__rd_array(rd, parent, pwhere, key, &ok), *e;
    size_t i;
    char where[96];
    json_array_foreach(a, i, e) {
        snprintf(where, sizeof where, "%s%s%s[%zu]", pwhere, *pwhere ? "." : "", key, i);
        if (!json_is_object(e)) {
            return hg__rd_fail(rd, where, NULL, "an object");
        }
        if (!ok || !(ok = fn(rd, e, where, r))) {
            break;
        }
    }
    return ok;
}

/* ---- fragmentation ------------------------------------------------------------------------ */

static bool read_holes(hg__rd_t *rd, const json_t *f, const char *w, hg_rfrag_t *fr) {
    bool ok;
    json_t *a = hg__rd_array(rd, f, w, "hole_histogram", &ok), *e;
    size_t i;
    json_array_foreach(a, i, e) {
        uint64_t bucket = HG_RHOLE_BUCKETS, count = 0;
        if (!json_is_object(e) || !hg__rd_u64(rd, e, w, "bucket", &bucket) ||
            !hg__rd_u64(rd, e, w, "count", &count) || bucket >= HG_RHOLE_BUCKETS) {
            return hg__rd_fail(rd, w, "hole_histogram", "[{bucket 0..63, count}]");
        }
        fr->hole_hist[bucket] = count;
    }
    return ok;
}

static bool read_fit(hg__rd_t *rd, const json_t *f, const char *w, hg_rfrag_t *fr) {
    bool ok;
    json_t *a = hg__rd_array(rd, f, w, "fit", &ok), *e;
    size_t i;
    json_array_foreach(a, i, e) {
        hg_rfit_t *fit = &fr->fit[i < 5 ? i : 4];
        if (i >= 5 || !json_is_object(e)) {
            return hg__rd_fail(rd, w, "fit", "at most 5 objects");
        }
        if (!hg__rd_u64(rd, e, w, "size", &fit->size) ||
            !hg__rd_u64(rd, e, w, "requests", &fit->requests) ||
            !hg__rd_bool(rd, e, w, "defined", &fit->defined) ||
            !hg__rd_double(rd, e, w, "ratio", &fit->ratio)) {
            return false;
        }
        fit->ratio = fit->defined ? fit->ratio : 0;
        fr->nfit = i + 1;
    }
    return ok;
}

static bool read_frag(hg__rd_t *rd, const json_t *h, const char *w, hg_rfrag_t *f) {
    bool ok;
    json_t *o = hg__rd_object(rd, h, w, "frag", &ok);
    if (!o) {
        return ok;
    }
    return hg__rd_u64(rd, o, w, "ts_ns", &f->ts_ns) &&
           hg__rd_u64(rd, o, w, "live_bytes", &f->live_bytes) &&
           hg__rd_u64(rd, o, w, "live_blocks", &f->live_blocks) &&
           hg__rd_u64(rd, o, w, "rounded_bytes", &f->rounded_bytes) &&
           hg__rd_u64(rd, o, w, "clusters", &f->clusters) &&
           hg__rd_u64(rd, o, w, "span_bytes", &f->span_bytes) &&
           hg__rd_double(rd, o, w, "utilisation", &f->utilisation) &&
           hg__rd_double(rd, o, w, "span_overhead", &f->span_overhead) &&
           hg__rd_u64(rd, o, w, "holes", &f->holes) &&
           hg__rd_u64(rd, o, w, "free_bytes", &f->free_bytes) &&
           hg__rd_u64(rd, o, w, "largest_hole", &f->largest_hole) &&
           hg__rd_double(rd, o, w, "external", &f->external) &&
           hg__rd_double(rd, o, w, "sawicki", &f->sawicki) && read_holes(rd, o, w, f) &&
           read_fit(rd, o, w, f);
}

static bool read_sources(hg__rd_t *rd, const json_t *h, const char *w, uint64_t counts[8]) {
    static const char *const names[8] = {"na",   "lookaside", "lfh",     "main",
                                         "slow", "invalid",   "segment", "other"};
    bool ok;
    json_t *o = hg__rd_object(rd, h, w, "source_allocs", &ok);
    for (int i = 0; o && ok && i < 8; i++) {
        ok = hg__rd_u64(rd, o, w, names[i], &counts[i]);
    }
    return ok;
}

static bool read_heap(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rheap_t *h = hg_report_add_heap(r);
    if (!h) {
        return hg__rd_nomem(rd);
    }
    return hg__rd_u32(rd, o, w, "pid", &h->pid) && hg__rd_u32(rd, o, w, "process", &h->process) &&
           hg__rd_hex(rd, o, w, "handle", &h->handle) &&
           hg__rd_bool(rd, o, w, "created_in_trace", &h->created_in_trace) &&
           hg__rd_bool(rd, o, w, "destroyed", &h->destroyed) &&
           hg__rd_u64(rd, o, w, "create_ts_ns", &h->create_ts_ns) &&
           hg__rd_u64(rd, o, w, "destroy_ts_ns", &h->destroy_ts_ns) &&
           hg__rd_u64(rd, o, w, "allocs", &h->allocs) && hg__rd_u64(rd, o, w, "frees", &h->frees) &&
           hg__rd_u64(rd, o, w, "alloc_bytes", &h->alloc_bytes) &&
           hg__rd_u64(rd, o, w, "peak_live_bytes", &h->peak_live_bytes) &&
           hg__rd_u64(rd, o, w, "peak_live_ts_ns", &h->peak_live_ts_ns) &&
           hg__rd_u64(rd, o, w, "peak_live_blocks", &h->peak_live_blocks) &&
           hg__rd_u64(rd, o, w, "max_span_bytes", &h->max_span_bytes) &&
           hg__rd_double(rd, o, w, "peak_ratio", &h->peak_ratio) &&
           read_sources(rd, o, w, h->source_allocs) &&
           hg__rd_str(rd, o, w, "growth_signal", &h->growth_signal) &&
           read_frag(rd, o, w, &h->frag);
}

bool hg__rd_fragmentation(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    bool ok;
    json_t *o = hg__rd_object(rd, doc, "", "fragmentation", &ok);
    if (!o) {
        return ok;
    }
    return hg__rd_u64(rd, o, "fragmentation", "cluster_gap_bytes", &r->cluster_gap_bytes) &&
           each_in(rd, o, "fragmentation", "heaps", read_heap, r);
}

/* ---- timeline and allocator statistics ---------------------------------------------------- */

static bool read_sample(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rsample_t *s = hg_report_add_sample(r);
    if (!s) {
        return hg__rd_nomem(rd);
    }
    s->external = 0;
    bool ok = hg__rd_u64(rd, o, w, "ts_ns", &s->ts_ns) &&
              hg__rd_u32(rd, o, w, "process", &s->process) &&
              hg__rd_hex(rd, o, w, "heap", &s->heap) &&
              hg__rd_u64(rd, o, w, "live_bytes", &s->live_bytes) &&
              hg__rd_u64(rd, o, w, "live_blocks", &s->live_blocks) &&
              hg__rd_bool(rd, o, w, "measured", &s->measured) &&
              hg__rd_u64(rd, o, w, "span_bytes", &s->span_bytes) &&
              hg__rd_u64(rd, o, w, "free_bytes", &s->free_bytes) &&
              hg__rd_u64(rd, o, w, "largest_hole", &s->largest_hole) &&
              hg__rd_double(rd, o, w, "external", &s->external) &&
              hg__rd_u64(rd, o, w, "allocs_total", &s->allocs_total) &&
              hg__rd_u64(rd, o, w, "slow_allocs_total", &s->slow_allocs_total);
    if (ok && !s->measured) { /* null span figures: not measured, whatever else was there */
        s->span_bytes = s->free_bytes = s->largest_hole = 0;
        s->external = 0;
    }
    return ok;
}

static bool read_stats(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rstats_t *s = hg_report_add_stats(r);
    if (!s) {
        return hg__rd_nomem(rd);
    }
    return hg__rd_u32(rd, o, w, "process", &s->process) &&
           hg__rd_u64(rd, o, w, "ts_ns", &s->ts_ns) &&
           hg__rd_u64(rd, o, w, "arena_bytes", &s->arena_bytes) &&
           hg__rd_u64(rd, o, w, "in_use_bytes", &s->in_use_bytes) &&
           hg__rd_u64(rd, o, w, "free_bytes", &s->free_bytes) &&
           hg__rd_u64(rd, o, w, "mmapped_bytes", &s->mmapped_bytes) &&
           hg__rd_u64(rd, o, w, "rss_bytes", &s->rss_bytes);
}

bool hg__rd_series(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    return each_in(rd, doc, "", "timeline", read_sample, r) &&
           each_in(rd, doc, "", "allocator_stats", read_stats, r);
}

/* ---- trace quality ------------------------------------------------------------------------ */

bool hg__rd_trace(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    bool ok;
    const char *w = "trace";
    json_t *o = hg__rd_object(rd, doc, "", w, &ok);
    hg_rtrace_t *t = &r->trace;
    if (!o) {
        return ok;
    }
    return hg__rd_u64(rd, o, w, "events", &t->events) &&
           hg__rd_u64(rd, o, w, "filtered_events", &t->filtered_events) &&
           hg__rd_u64(rd, o, w, "unmatched_frees", &t->unmatched_frees) &&
           hg__rd_u64(rd, o, w, "failed_allocations", &t->failed_allocations) &&
           hg__rd_u64(rd, o, w, "allocs", &t->allocs) &&
           hg__rd_u64(rd, o, w, "reallocs", &t->reallocs) &&
           hg__rd_u64(rd, o, w, "frees", &t->frees) &&
           hg__rd_u64(rd, o, w, "heap_creates", &t->heap_creates) &&
           hg__rd_u64(rd, o, w, "heap_destroys", &t->heap_destroys) &&
           hg__rd_u64(rd, o, w, "lost_events", &t->lost_events) &&
           hg__rd_u64(rd, o, w, "lost_buffers", &t->lost_buffers) &&
           hg__rd_bool(rd, o, w, "lost_counts_known", &t->lost_counts_known) &&
           hg__rd_bool(rd, o, w, "truncated", &t->truncated) &&
           hg__rd_u64(rd, o, w, "first_ts_ns", &t->first_ts_ns) &&
           hg__rd_u64(rd, o, w, "last_ts_ns", &t->last_ts_ns) &&
           hg__rd_u64(rd, o, w, "start_wall_ns", &t->start_wall_ns) &&
           hg__rd_u64(rd, o, w, "stacks_defined", &t->stacks_defined) &&
           hg__rd_u64(rd, o, w, "stacks_undefined", &t->stacks_undefined) &&
           hg__rd_u64(rd, o, w, "markers", &t->markers) &&
           hg__rd_u64(rd, o, w, "settle_ignored_blocks", &t->settle_ignored_blocks) &&
           hg__rd_u64(rd, o, w, "settle_ignored_bytes", &t->settle_ignored_bytes) &&
           hg__rd_u64(rd, o, w, "out_of_order_events", &t->out_of_order_events);
}

/* ---- suppressions and gate ---------------------------------------------------------------- */

static bool read_rule(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rsuppression_t *s = hg_report_add_suppression(r);
    if (!s) {
        return hg__rd_nomem(rd);
    }
    return hg__rd_str(rd, o, w, "pattern", &s->pattern) &&
           hg__rd_bool(rd, o, w, "builtin", &s->builtin) &&
           hg__rd_u64(rd, o, w, "sites", &s->sites) && hg__rd_u64(rd, o, w, "bytes", &s->bytes) &&
           hg__rd_u64(rd, o, w, "blocks", &s->blocks);
}

bool hg__rd_suppressions(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    bool ok;
    json_t *o = hg__rd_object(rd, doc, "", "suppressions", &ok);
    if (!o) {
        return ok;
    }
    return hg__rd_u64(rd, o, "suppressions", "sites", &r->suppressed_sites) &&
           hg__rd_totals(rd, o, "suppressions", &r->suppressed) &&
           each_in(rd, o, "suppressions", "rules", read_rule, r);
}

static bool read_check(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rcheck_t *c = hg_report_add_check(r);
    if (!c) {
        return hg__rd_nomem(rd);
    }
    return hg__rd_str(rd, o, w, "name", &c->name) &&
           hg__rd_str(rd, o, w, "measured", &c->measured) &&
           hg__rd_str(rd, o, w, "limit", &c->limit) &&
           hg__rd_bool(rd, o, w, "passed", &c->passed) &&
           hg__rd_str(rd, o, w, "detail", &c->detail) && hg__rd_str(rd, o, w, "site", &c->site);
}

bool hg__rd_gate(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    bool ok;
    json_t *o = hg__rd_object(rd, doc, "", "gate", &ok);
    const char *v = o ? json_string_value(json_object_get(o, "verdict")) : NULL;
    if (!o) {
        return ok;
    }
    if (!v || (strcmp(v, "pass") && strcmp(v, "fail") && strcmp(v, "not evaluated"))) {
        return hg__rd_fail(rd, "gate", "verdict", "\"pass\", \"fail\" or \"not evaluated\"");
    }
    r->gate.evaluated = strcmp(v, "not evaluated") != 0;
    r->gate.passed = strcmp(v, "pass") == 0;
    return each_in(rd, o, "gate", "checks", read_check, r);
}
