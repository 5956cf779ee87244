/* json.c - the whole report model as JSON (docs/report-json.md documents every key).
 *
 * A small streaming emitter writes straight to the hg_out_t: no tree is built, so 100,000 sites
 * cost one pass and no memory beyond the output buffer. Output is pretty-printed with two
 * spaces and keys always come in the same order, so golden files diff well. Addresses and
 * handles are hex strings (JSON numbers lose precision above 2^53), counts and byte counts are
 * integers, unknown values are null, doubles that are not finite are null, and strings from the
 * trace are escaped and made valid UTF-8 by hg__report_json_string. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The nesting of the report is fixed and at most 5 deep; 16 leaves room for additions. */
#define JW_MAX_DEPTH 16

static const char *const ESTIMATE_NOTE =
    "estimates from block addresses and requested sizes, not the allocator's real state; "
    "chunk rounding uses approximate size-class tables (docs/heap-semantics.md section 4)";

typedef struct jw {
    hg_out_t *o;
    unsigned depth;
    bool first[JW_MAX_DEPTH];
} jw_t;

/* ---- the emitter -------------------------------------------------------------------------- */

/* Starts an object member (key != NULL) or an array element (key == NULL): the separator, a
 * newline, the indentation and the key, in one write. Keys are ASCII literals. */
static void jw_item(jw_t *w, const char *key) {
    char b[128];
    size_t n = 0, klen = key ? strlen(key) : 0;
    if (w->depth > 0) {
        if (!w->first[w->depth]) {
            b[n++] = ',';
        }
        w->first[w->depth] = false;
        b[n++] = '\n';
        memset(b + n, ' ', 2 * w->depth);
        n += 2 * w->depth;
    }
    if (key && klen < sizeof b - n - 4) {
        b[n++] = '"';
        memcpy(b + n, key, klen);
        n += klen;
        memcpy(b + n, "\": ", 3);
        n += 3;
    }
    hg_out_write(w->o, b, n);
}

static void jw_open(jw_t *w, const char *key, char bracket) {
    jw_item(w, key);
    hg_out_write(w->o, &bracket, 1);
    w->depth++;
    w->first[w->depth] = true;
}

static void jw_close(jw_t *w, char bracket) {
    bool empty = w->first[w->depth];
    w->depth--;
    if (!empty) {
        char b[2 + 2 * JW_MAX_DEPTH];
        b[0] = '\n';
        memset(b + 1, ' ', 2 * w->depth);
        hg_out_write(w->o, b, 1 + 2 * w->depth);
    }
    hg_out_write(w->o, &bracket, 1);
}

static void put_u64(hg_out_t *o, uint64_t v) {
    char b[20], *p = b + sizeof b;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    hg_out_write(o, p, (size_t)(b + sizeof b - p));
}

static void jw_u64(jw_t *w, const char *key, uint64_t v) {
    jw_item(w, key);
    put_u64(w->o, v);
}

static void jw_i64(jw_t *w, const char *key, int64_t v) {
    jw_item(w, key);
    if (v < 0) {
        hg_out_write(w->o, "-", 1);
    }
    put_u64(w->o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

static void jw_hex(jw_t *w, const char *key, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char b[20], *p = b + sizeof b;
    *--p = '"';
    do {
        *--p = digits[v & 15];
        v >>= 4;
    } while (v);
    memcpy(p -= 3, "\"0x", 3);
    jw_item(w, key);
    hg_out_write(w->o, p, (size_t)(b + sizeof b - p));
}

static void jw_null(jw_t *w, const char *key) {
    jw_item(w, key);
    hg_out_write(w->o, "null", 4);
}

static void jw_bool(jw_t *w, const char *key, bool v) {
    jw_item(w, key);
    hg_out_puts(w->o, v ? "true" : "false");
}

static void jw_str(jw_t *w, const char *key, const char *s) {
    jw_item(w, key);
    hg__report_json_string(w->o, s);
}

/* Ten significant digits; a locale's decimal comma is put back to a point. */
static void jw_double(jw_t *w, const char *key, double v) {
    if (!isfinite(v)) {
        jw_null(w, key);
        return;
    }
    char b[40];
    int n = snprintf(b, sizeof b, "%.10g", v);
    for (int i = 0; i < n; i++) {
        b[i] = b[i] == ',' ? '.' : b[i];
    }
    jw_item(w, key);
    hg_out_write(w->o, b, (size_t)n);
}

/* For fields where 0 means "unknown" (line numbers, wall-clock start). */
static void jw_u64_known(jw_t *w, const char *key, uint64_t v, bool known) {
    if (known) {
        jw_u64(w, key, v);
    } else {
        jw_null(w, key);
    }
}

/* ---- shared pieces ------------------------------------------------------------------------ */

static void put_totals(jw_t *w, const hg_rtotals_t *t) {
    jw_u64(w, "leaked_bytes", t->leaked_bytes);
    jw_u64(w, "leaked_blocks", t->leaked_blocks);
    jw_u64(w, "outstanding_bytes", t->outstanding_bytes);
    jw_u64(w, "outstanding_blocks", t->outstanding_blocks);
    jw_u64(w, "released_by_destroy_bytes", t->released_by_destroy_bytes);
    jw_u64(w, "released_by_destroy_blocks", t->released_by_destroy_blocks);
}

static void put_lifetime(jw_t *w, const char *key, const hg_rlifetime_t *l) {
    jw_open(w, key, '{');
    jw_bool(w, "enabled", l->enabled);
    jw_u64(w, "t0_ns", l->t0_ns);
    jw_u64(w, "t1_ns", l->t1_ns);
    jw_u64(w, "aifi_blocks", l->aifi_blocks);
    jw_u64(w, "aifi_bytes", l->aifi_bytes);
    jw_u64(w, "aifo_blocks", l->aifo_blocks);
    jw_u64(w, "aifo_bytes", l->aifo_bytes);
    jw_u64(w, "aofi_blocks", l->aofi_blocks);
    jw_u64(w, "aofi_bytes", l->aofi_bytes);
    jw_u64(w, "aofo_blocks", l->aofo_blocks);
    jw_u64(w, "aofo_bytes", l->aofo_bytes);
    jw_i64(w, "impacting_bytes", l->impacting_bytes);
    jw_close(w, '}');
}

/* The pid of process index i, or null when the index is outside the report. */
static void put_pid_of(jw_t *w, const hg_report_t *r, uint32_t i) {
    jw_u64_known(w, "pid", i < r->nprocesses ? r->processes[i].pid : 0, i < r->nprocesses);
}

/* ---- header and processes ----------------------------------------------------------------- */

static void put_inputs(jw_t *w, const hg_report_t *r) {
    jw_open(w, "inputs", '[');
    for (size_t i = 0; i < r->ninputs; i++) {
        jw_open(w, NULL, '{');
        jw_str(w, "path", r->inputs[i]);
        jw_str(w, "format", r->input_formats ? r->input_formats[i] : NULL);
        jw_close(w, '}');
    }
    jw_close(w, ']');
}

static void put_header(jw_t *w, const hg_report_t *r) {
    jw_i64(w, "schema_version", r->schema_version);
    jw_str(w, "tool_version", r->tool_version);
    put_inputs(w, r);
    put_totals(w, &r->totals);
    jw_bool(w, "incomplete", r->incomplete);
    jw_open(w, "warnings", '[');
    for (size_t i = 0; i < r->nwarnings; i++) {
        jw_str(w, NULL, r->warnings[i]);
    }
    jw_close(w, ']');
}

static void put_process(jw_t *w, const hg_rprocess_t *p) {
    jw_open(w, NULL, '{');
    jw_u64(w, "pid", p->pid);
    jw_str(w, "name", p->name);
    jw_bool(w, "ended", p->ended);
    jw_bool(w, "traced_from_start", p->traced_from_start);
    put_totals(w, &p->totals);
    jw_u64(w, "parent_pid", p->parent_pid);
    jw_u64(w, "instance", p->instance);
    jw_str(w, "cmdline", p->cmdline);
    jw_u64(w, "pointer_size", p->pointer_size);
    jw_str(w, "allocator", p->allocator);
    jw_u64(w, "start_ts_ns", p->start_ts_ns);
    jw_u64_known(w, "end_ts_ns", p->end_ts_ns, p->ended);
    jw_u64(w, "allocs", p->allocs);
    jw_u64(w, "reallocs", p->reallocs);
    jw_u64(w, "frees", p->frees);
    jw_u64(w, "alloc_bytes", p->alloc_bytes);
    jw_u64(w, "peak_live_bytes", p->peak_live_bytes);
    jw_u64(w, "peak_live_ts_ns", p->peak_live_ts_ns);
    put_lifetime(w, "lifetime", &p->lifetime);
    jw_str(w, "input", p->input);
    jw_close(w, '}');
}

static void put_processes(jw_t *w, const hg_report_t *r) {
    jw_open(w, "processes", '[');
    for (size_t i = 0; i < r->nprocesses; i++) {
        put_process(w, &r->processes[i]);
    }
    jw_close(w, ']');
}

/* ---- sites -------------------------------------------------------------------------------- */

static void put_frame(jw_t *w, const hg_rframe_t *f) {
    jw_open(w, NULL, '{');
    jw_hex(w, "addr", f->addr);
    jw_str(w, "module", f->module);
    if (f->module) {
        jw_hex(w, "offset", f->offset);
    } else {
        jw_null(w, "offset");
    }
    jw_str(w, "function", f->function);
    jw_str(w, "file", f->file);
    jw_u64_known(w, "line", f->line, f->line != 0);
    jw_u64_known(w, "column", f->column, f->column != 0);
    jw_bool(w, "inlined", f->inlined);
    jw_close(w, '}');
}

static void put_site(jw_t *w, const hg_rsite_t *s) {
    jw_open(w, NULL, '{');
    jw_str(w, "id", s->id);
    jw_open(w, "frames", '[');
    for (size_t i = 0; i < s->nframes; i++) {
        put_frame(w, &s->frames[i]);
    }
    jw_close(w, ']');
    put_totals(w, &s->totals);
    jw_u64(w, "allocs", s->allocs);
    jw_u64(w, "alloc_bytes", s->alloc_bytes);
    jw_u64(w, "peak_live_bytes", s->peak_live_bytes);
    jw_u64(w, "first_ts_ns", s->first_ts_ns);
    jw_u64(w, "last_ts_ns", s->last_ts_ns);
    jw_u64(w, "aifo_blocks", s->aifo_blocks);
    jw_u64(w, "aifo_bytes", s->aifo_bytes);
    jw_open(w, "pids", '[');
    for (size_t i = 0; i < s->npids; i++) {
        jw_u64(w, NULL, s->pids[i]);
    }
    jw_close(w, ']');
    jw_str(w, "suppressed_by", s->suppressed_by);
    jw_bool(w, "runtime", s->runtime);
    jw_close(w, '}');
}

/* Stops early once the output has failed: nothing more of it will be kept. */
static void put_sites(jw_t *w, const hg_report_t *r) {
    jw_open(w, "sites", '[');
    for (size_t i = 0; i < r->nsites && !hg__report_out_failed(w->o); i++) {
        put_site(w, &r->sites[i]);
    }
    jw_close(w, ']');
}

/* ---- anomalies ---------------------------------------------------------------------------- */

static const char *severity_name(int severity) {
    static const char *const names[] = {"unknown", "info", "warning", "error"};
    return severity >= 1 && severity <= 3 ? names[severity] : names[0];
}

static void put_example(jw_t *w, int kind, const hg_rexample_t *e) {
    jw_open(w, "example", '{');
    jw_u64(w, "ts_ns", e->ts_ns);
    jw_u64(w, "pid", e->pid);
    jw_u64(w, "tid", e->tid);
    jw_hex(w, "heap", e->heap);
    jw_hex(w, "addr", e->addr);
    jw_u64(w, "size", e->size);
    if (kind == 3) {
        jw_hex(w, "other", e->other); /* A3: the heap the block lives in */
    } else {
        jw_u64(w, "other", e->other);
    }
    jw_close(w, '}');
}

static void put_anomaly(jw_t *w, const hg_ranomaly_t *a) {
    char id[16];
    snprintf(id, sizeof id, "A%d", a->kind);
    jw_open(w, NULL, '{');
    jw_str(w, "kind", a->id ? a->id : id);
    jw_str(w, "id", a->id ? a->id : id);
    jw_str(w, "name", a->name);
    jw_str(w, "severity", severity_name(a->severity));
    jw_u64(w, "count", a->count);
    jw_str(w, "site", a->site);
    jw_str(w, "description", a->description);
    put_example(w, a->kind, &a->example);
    jw_close(w, '}');
}

static void put_anomalies(jw_t *w, const hg_report_t *r) {
    jw_open(w, "anomalies", '[');
    for (size_t i = 0; i < r->nanomalies; i++) {
        put_anomaly(w, &r->anomalies[i]);
    }
    jw_close(w, ']');
}

/* ---- fragmentation ------------------------------------------------------------------------ */

static void put_hole_histogram(jw_t *w, const hg_rfrag_t *f) {
    jw_open(w, "hole_histogram", '[');
    for (unsigned i = 0; i < HG_RHOLE_BUCKETS; i++) {
        if (f->hole_hist[i]) {
            jw_open(w, NULL, '{');
            jw_u64(w, "bucket", i);
            jw_u64(w, "min_bytes", (uint64_t)1 << i);
            jw_u64(w, "count", f->hole_hist[i]);
            jw_close(w, '}');
        }
    }
    jw_close(w, ']');
}

static void put_fit(jw_t *w, const hg_rfrag_t *f) {
    size_t n = f->nfit < 5 ? f->nfit : 5;
    jw_open(w, "fit", '[');
    for (size_t i = 0; i < n; i++) {
        const hg_rfit_t *fit = &f->fit[i];
        jw_open(w, NULL, '{');
        jw_u64(w, "size", fit->size);
        jw_u64(w, "requests", fit->requests);
        jw_bool(w, "defined", fit->defined);
        if (fit->defined) {
            jw_double(w, "ratio", fit->ratio);
        } else {
            jw_null(w, "ratio");
        }
        jw_close(w, '}');
    }
    jw_close(w, ']');
}

static void put_frag(jw_t *w, const hg_rfrag_t *f) {
    jw_open(w, "frag", '{');
    jw_u64(w, "ts_ns", f->ts_ns);
    jw_u64(w, "live_bytes", f->live_bytes);
    jw_u64(w, "live_blocks", f->live_blocks);
    jw_u64(w, "rounded_bytes", f->rounded_bytes);
    jw_u64(w, "internal_waste_bytes",
           f->rounded_bytes > f->live_bytes ? f->rounded_bytes - f->live_bytes : 0);
    jw_u64(w, "clusters", f->clusters);
    jw_u64(w, "span_bytes", f->span_bytes);
    jw_double(w, "utilisation", f->utilisation);
    jw_double(w, "span_overhead", f->span_overhead);
    jw_u64(w, "holes", f->holes);
    jw_u64(w, "free_bytes", f->free_bytes);
    jw_u64(w, "largest_hole", f->largest_hole);
    jw_double(w, "external", f->external);
    jw_double(w, "sawicki", f->sawicki);
    put_hole_histogram(w, f);
    put_fit(w, f);
    jw_close(w, '}');
}

static void put_sources(jw_t *w, const uint64_t counts[8]) {
    static const char *const names[8] = {"na",   "lookaside", "lfh",     "main",
                                         "slow", "invalid",   "segment", "other"};
    jw_open(w, "source_allocs", '{');
    for (int i = 0; i < 8; i++) {
        jw_u64(w, names[i], counts[i]);
    }
    jw_close(w, '}');
}

static void put_heap(jw_t *w, const hg_rheap_t *h) {
    jw_open(w, NULL, '{');
    jw_u64(w, "pid", h->pid);
    jw_u64(w, "process", h->process);
    jw_hex(w, "handle", h->handle);
    jw_bool(w, "created_in_trace", h->created_in_trace);
    jw_bool(w, "destroyed", h->destroyed);
    jw_u64_known(w, "create_ts_ns", h->create_ts_ns, h->created_in_trace);
    jw_u64_known(w, "destroy_ts_ns", h->destroy_ts_ns, h->destroyed);
    jw_u64(w, "allocs", h->allocs);
    jw_u64(w, "frees", h->frees);
    jw_u64(w, "alloc_bytes", h->alloc_bytes);
    jw_u64(w, "peak_live_bytes", h->peak_live_bytes);
    jw_u64(w, "peak_live_ts_ns", h->peak_live_ts_ns);
    jw_u64(w, "peak_live_blocks", h->peak_live_blocks);
    jw_u64(w, "max_span_bytes", h->max_span_bytes);
    jw_double(w, "peak_ratio", h->peak_ratio);
    put_sources(w, h->source_allocs);
    jw_str(w, "growth_signal", h->growth_signal);
    put_frag(w, &h->frag);
    jw_close(w, '}');
}

static void put_fragmentation(jw_t *w, const hg_report_t *r) {
    jw_open(w, "fragmentation", '{');
    jw_u64(w, "cluster_gap_bytes", r->cluster_gap_bytes);
    jw_str(w, "estimate_note", ESTIMATE_NOTE);
    jw_open(w, "heaps", '[');
    for (size_t i = 0; i < r->nheaps; i++) {
        put_heap(w, &r->heaps[i]);
    }
    jw_close(w, ']');
    jw_close(w, '}');
}

/* ---- timeline and allocator statistics ---------------------------------------------------- */

static void put_sample(jw_t *w, const hg_report_t *r, const hg_rsample_t *s) {
    jw_open(w, NULL, '{');
    jw_u64(w, "ts_ns", s->ts_ns);
    jw_u64(w, "process", s->process);
    put_pid_of(w, r, s->process);
    jw_hex(w, "heap", s->heap);
    jw_u64(w, "live_bytes", s->live_bytes);
    jw_u64(w, "live_blocks", s->live_blocks);
    jw_bool(w, "measured", s->measured);
    jw_u64_known(w, "span_bytes", s->span_bytes, s->measured);
    jw_u64_known(w, "free_bytes", s->free_bytes, s->measured);
    jw_u64_known(w, "largest_hole", s->largest_hole, s->measured);
    if (s->measured) {
        jw_double(w, "external", s->external);
    } else {
        jw_null(w, "external");
    }
    jw_u64(w, "allocs_total", s->allocs_total);
    jw_u64(w, "slow_allocs_total", s->slow_allocs_total);
    jw_close(w, '}');
}

static void put_stats(jw_t *w, const hg_report_t *r, const hg_rstats_t *s) {
    jw_open(w, NULL, '{');
    jw_u64(w, "process", s->process);
    put_pid_of(w, r, s->process);
    jw_u64(w, "ts_ns", s->ts_ns);
    jw_u64(w, "arena_bytes", s->arena_bytes);
    jw_u64(w, "in_use_bytes", s->in_use_bytes);
    jw_u64(w, "free_bytes", s->free_bytes);
    jw_u64(w, "mmapped_bytes", s->mmapped_bytes);
    jw_u64_known(w, "rss_bytes", s->rss_bytes, s->rss_bytes != 0);
    jw_close(w, '}');
}

static void put_series(jw_t *w, const hg_report_t *r) {
    jw_open(w, "timeline", '[');
    for (size_t i = 0; i < r->ntimeline; i++) {
        put_sample(w, r, &r->timeline[i]);
    }
    jw_close(w, ']');
    jw_open(w, "allocator_stats", '[');
    for (size_t i = 0; i < r->nallocator_stats; i++) {
        put_stats(w, r, &r->allocator_stats[i]);
    }
    jw_close(w, ']');
}

/* ---- trace, suppressions, gate ------------------------------------------------------------ */

static void put_trace(jw_t *w, const hg_rtrace_t *t) {
    jw_open(w, "trace", '{');
    jw_u64(w, "events", t->events);
    jw_u64(w, "filtered_events", t->filtered_events);
    jw_u64(w, "unmatched_frees", t->unmatched_frees);
    jw_u64(w, "failed_allocations", t->failed_allocations);
    jw_u64(w, "allocs", t->allocs);
    jw_u64(w, "reallocs", t->reallocs);
    jw_u64(w, "frees", t->frees);
    jw_u64(w, "heap_creates", t->heap_creates);
    jw_u64(w, "heap_destroys", t->heap_destroys);
    jw_u64(w, "lost_events", t->lost_events);
    jw_u64(w, "lost_buffers", t->lost_buffers);
    jw_bool(w, "lost_counts_known", t->lost_counts_known);
    jw_bool(w, "truncated", t->truncated);
    jw_u64(w, "first_ts_ns", t->first_ts_ns);
    jw_u64(w, "last_ts_ns", t->last_ts_ns);
    jw_u64_known(w, "start_wall_ns", t->start_wall_ns, t->start_wall_ns != 0);
    jw_u64(w, "stacks_defined", t->stacks_defined);
    jw_u64(w, "stacks_undefined", t->stacks_undefined);
    jw_u64(w, "markers", t->markers);
    jw_u64(w, "settle_ignored_blocks", t->settle_ignored_blocks);
    jw_u64(w, "settle_ignored_bytes", t->settle_ignored_bytes);
    jw_u64(w, "out_of_order_events", t->out_of_order_events);
    jw_close(w, '}');
}

static void put_rule(jw_t *w, const hg_rsuppression_t *s) {
    jw_open(w, NULL, '{');
    jw_str(w, "pattern", s->pattern);
    jw_bool(w, "builtin", s->builtin);
    jw_u64(w, "sites", s->sites);
    jw_u64(w, "bytes", s->bytes);
    jw_u64(w, "blocks", s->blocks);
    jw_close(w, '}');
}

static void put_suppressions(jw_t *w, const hg_report_t *r) {
    const hg_rtotals_t *t = &r->suppressed;
    jw_open(w, "suppressions", '{');
    jw_u64(w, "sites", r->suppressed_sites);
    jw_u64(w, "bytes", t->leaked_bytes + t->outstanding_bytes);
    jw_u64(w, "blocks", t->leaked_blocks + t->outstanding_blocks);
    put_totals(w, t);
    jw_open(w, "rules", '[');
    for (size_t i = 0; i < r->nsuppressions; i++) {
        put_rule(w, &r->suppressions[i]);
    }
    jw_close(w, ']');
    jw_close(w, '}');
}

static void put_check(jw_t *w, const hg_rcheck_t *c) {
    jw_open(w, NULL, '{');
    jw_str(w, "name", c->name);
    jw_str(w, "measured", c->measured);
    jw_str(w, "limit", c->limit);
    jw_bool(w, "passed", c->passed);
    jw_str(w, "detail", c->detail);
    jw_str(w, "site", c->site);
    jw_close(w, '}');
}

static void put_gate(jw_t *w, const hg_rgate_t *g) {
    jw_open(w, "gate", '{');
    jw_str(w, "verdict", !g->evaluated ? "not evaluated" : g->passed ? "pass" : "fail");
    jw_open(w, "checks", '[');
    for (size_t i = 0; i < g->nchecks; i++) {
        put_check(w, &g->checks[i]);
    }
    jw_close(w, ']');
    jw_close(w, '}');
}

/* ---- the report --------------------------------------------------------------------------- */

void hg_report_write_json(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    (void)opt; /* JSON always carries everything */
    jw_t w = {.o = o};
    jw_open(&w, NULL, '{');
    put_header(&w, r);
    put_processes(&w, r);
    put_sites(&w, r);
    put_anomalies(&w, r);
    put_fragmentation(&w, r);
    put_series(&w, r);
    put_lifetime(&w, "lifetime", &r->lifetime);
    put_trace(&w, &r->trace);
    put_suppressions(&w, r);
    put_gate(&w, &r->gate);
    jw_close(&w, '}');
    hg_out_write(o, "\n", 1);
}
