/* merge.c - `heapgate merge REPORT... [-o FILE]`: one report from the reports of many test runs
 * (a test pass spread over machines or processes), then the gate on the sum.
 *
 * Inputs are JSON reports (or traces, analysed with the given options). Sites with the same
 * ASLR-stable id are one site: totals, allocations, allocated and AIFO figures are summed,
 * peak live is the largest, first/last allocation the earliest/latest, process ids the union;
 * the frames and suppression of the first report that has the site are kept. Anomalies with
 * the same (kind, site) are summed (the worst severity, the first example). Processes, heaps,
 * timeline samples and allocator statistics are appended (their process indices shifted), so
 * a sample's time still counts from its own trace's start. Trace quality, lifetime classes
 * and suppression rules (by pattern) are summed; inputs and warnings are appended; the
 * report is incomplete when any input was. The top-level totals are recomputed from the
 * sites, the report's own gate is dropped and the gate options of this command are evaluated
 * on the sum (the default gate without any). Exit status as for analyze. */
#include "detector_priv.h"

#include <Judy.h>
#include <string.h>

typedef struct merger {
    hg_report_t *r;
    Pvoid_t sites; /* hash of id (+ probe) -> site index + 1 */
    Pvoid_t anomalies;
    uint32_t proc_base;
} merger_t;

/* ---- strings and small helpers ------------------------------------------------------------ */

static bool dup_into(char **dst, const char *src) {
    *dst = src ? hg_strdup(src) : NULL;
    return !src || *dst;
}

static void add_totals(hg_rtotals_t *d, const hg_rtotals_t *s) {
    d->leaked_bytes += s->leaked_bytes;
    d->leaked_blocks += s->leaked_blocks;
    d->outstanding_bytes += s->outstanding_bytes;
    d->outstanding_blocks += s->outstanding_blocks;
    d->released_by_destroy_bytes += s->released_by_destroy_bytes;
    d->released_by_destroy_blocks += s->released_by_destroy_blocks;
}

static uint64_t max_u64(uint64_t a, uint64_t b) {
    return a > b ? a : b;
}

/* The slot for key in a JudyL map whose values are index + 1 into items; same(i) tells
 * whether item i has this key. Linear probing on hash collisions. NULL when out of memory. */
static PWord_t slot_for(Pvoid_t *map, uint64_t h, bool (*same)(const void *, size_t, const void *),
                        const void *ctx, const void *key) {
    for (;; h++) {
        PWord_t slot = (PWord_t)JudyLIns(map, (Word_t)h, PJE0);
        if (slot == PJERR || !*slot || same(ctx, *slot - 1, key)) {
            return slot == PJERR ? NULL : slot;
        }
    }
}

/* ---- sites -------------------------------------------------------------------------------- */

static bool same_site(const void *ctx, size_t i, const void *key) {
    const hg_report_t *r = ctx;
    return strcmp(r->sites[i].id ? r->sites[i].id : "", key) == 0;
}

static int copy_frames(hg_rsite_t *d, const hg_rsite_t *s) {
    d->frames = s->nframes ? hg_calloc(s->nframes, sizeof *d->frames) : NULL;
    if (s->nframes && !d->frames) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < s->nframes; i++) {
        hg_rframe_t *f = &d->frames[i];
        *f = s->frames[i];
        f->module = f->function = f->file = NULL;
        d->nframes = i + 1;
        if (!dup_into(&f->module, s->frames[i].module) ||
            !dup_into(&f->function, s->frames[i].function) ||
            !dup_into(&f->file, s->frames[i].file)) {
            return HG_ENOMEM;
        }
    }
    return 0;
}

static int new_site(hg_rsite_t *d, const hg_rsite_t *s) {
    int rc = copy_frames(d, s);
    d->runtime = s->runtime;
    d->first_ts_ns = s->first_ts_ns;
    bool ok = !rc && dup_into(&d->id, s->id ? s->id : "") &&
              dup_into(&d->suppressed_by, s->suppressed_by);
    return ok ? 0 : HG_ENOMEM;
}

static int add_pids(hg_rsite_t *d, const hg_rsite_t *s) {
    for (size_t i = 0; i < s->npids; i++) {
        size_t k = 0;
        while (k < d->npids && d->pids[k] != s->pids[i]) {
            k++;
        }
        if (k == d->npids) {
            uint32_t *v = hg_realloc(d->pids, (d->npids + 1) * sizeof *v);
            if (!v) {
                return HG_ENOMEM;
            }
            d->pids = v;
            d->pids[d->npids++] = s->pids[i];
        }
    }
    return 0;
}

static int sum_site(hg_rsite_t *d, const hg_rsite_t *s) {
    add_totals(&d->totals, &s->totals);
    d->allocs += s->allocs;
    d->alloc_bytes += s->alloc_bytes;
    d->peak_live_bytes = max_u64(d->peak_live_bytes, s->peak_live_bytes);
    d->first_ts_ns = s->first_ts_ns < d->first_ts_ns ? s->first_ts_ns : d->first_ts_ns;
    d->last_ts_ns = max_u64(d->last_ts_ns, s->last_ts_ns);
    d->aifo_blocks += s->aifo_blocks;
    d->aifo_bytes += s->aifo_bytes;
    return add_pids(d, s);
}

static int merge_site(merger_t *m, const hg_rsite_t *s) {
    const char *id = s->id ? s->id : "";
    PWord_t slot = slot_for(&m->sites, hg_fnv1a(HG_FNV_INIT, id, strlen(id)), same_site, m->r, id);
    if (!slot) {
        return HG_ENOMEM;
    }
    if (!*slot) {
        hg_rsite_t *d = hg_report_add_site(m->r);
        int rc = d ? new_site(d, s) : HG_ENOMEM;
        if (rc) {
            return rc; /* d stays, half filled: the report is freed by the caller */
        }
        *slot = m->r->nsites;
    }
    return sum_site(&m->r->sites[*slot - 1], s);
}

/* ---- anomalies ---------------------------------------------------------------------------- */

static bool same_anomaly(const void *ctx, size_t i, const void *key) {
    const hg_ranomaly_t *a = &((const hg_report_t *)ctx)->anomalies[i], *b = key;
    return a->kind == b->kind &&
           ((!a->site && !b->site) || (a->site && b->site && strcmp(a->site, b->site) == 0));
}

static int new_anomaly(hg_ranomaly_t *d, const hg_ranomaly_t *s) {
    *d = *s;
    d->id = d->name = d->description = d->site = NULL;
    d->count = 0;
    bool ok = dup_into(&d->id, s->id) && dup_into(&d->name, s->name) &&
              dup_into(&d->description, s->description) && dup_into(&d->site, s->site);
    return ok ? 0 : HG_ENOMEM;
}

static int merge_anomaly(merger_t *m, const hg_ranomaly_t *a) {
    uint64_t h = hg_fnv1a(HG_FNV_INIT, &a->kind, sizeof a->kind);
    h = hg_fnv1a(h, a->site ? a->site : "", a->site ? strlen(a->site) : 0);
    PWord_t slot = slot_for(&m->anomalies, h, same_anomaly, m->r, a);
    if (!slot) {
        return HG_ENOMEM;
    }
    if (!*slot) {
        hg_ranomaly_t *d = hg_report_add_anomaly(m->r);
        int rc = d ? new_anomaly(d, a) : HG_ENOMEM;
        if (rc) {
            return rc;
        }
        *slot = m->r->nanomalies;
    }
    hg_ranomaly_t *d = &m->r->anomalies[*slot - 1];
    d->count += a->count;
    d->severity = a->severity > d->severity ? a->severity : d->severity;
    return 0;
}

/* ---- processes, heaps, series ------------------------------------------------------------- */

static int merge_process(merger_t *m, const hg_rprocess_t *s) {
    hg_rprocess_t *d = hg_report_add_process(m->r);
    if (!d) {
        return HG_ENOMEM;
    }
    *d = *s;
    d->name = d->cmdline = d->allocator = d->input = NULL;
    bool ok = dup_into(&d->name, s->name) && dup_into(&d->cmdline, s->cmdline) &&
              dup_into(&d->allocator, s->allocator) && dup_into(&d->input, s->input);
    return ok ? 0 : HG_ENOMEM;
}

static int merge_heap(merger_t *m, const hg_rheap_t *s) {
    hg_rheap_t *d = hg_report_add_heap(m->r);
    if (!d) {
        return HG_ENOMEM;
    }
    *d = *s;
    d->process += m->proc_base;
    d->growth_signal = NULL;
    return dup_into(&d->growth_signal, s->growth_signal) ? 0 : HG_ENOMEM;
}

static int merge_series(merger_t *m, const hg_report_t *in) {
    for (size_t i = 0; i < in->ntimeline; i++) {
        hg_rsample_t *d = hg_report_add_sample(m->r);
        if (!d) {
            return HG_ENOMEM;
        }
        *d = in->timeline[i];
        d->process += m->proc_base;
    }
    for (size_t i = 0; i < in->nallocator_stats; i++) {
        hg_rstats_t *d = hg_report_add_stats(m->r);
        if (!d) {
            return HG_ENOMEM;
        }
        *d = in->allocator_stats[i];
        d->process += m->proc_base;
    }
    return 0;
}

/* ---- report-wide figures ------------------------------------------------------------------ */

static void sum_lifetime(hg_rlifetime_t *d, const hg_rlifetime_t *s) {
    if (s->enabled && !d->enabled) {
        d->t0_ns = s->t0_ns;
        d->t1_ns = s->t1_ns;
    }
    d->enabled |= s->enabled;
    d->aifi_blocks += s->aifi_blocks;
    d->aifi_bytes += s->aifi_bytes;
    d->aifo_blocks += s->aifo_blocks;
    d->aifo_bytes += s->aifo_bytes;
    d->aofi_blocks += s->aofi_blocks;
    d->aofi_bytes += s->aofi_bytes;
    d->aofo_blocks += s->aofo_blocks;
    d->aofo_bytes += s->aofo_bytes;
    d->impacting_bytes += s->impacting_bytes;
}

static void sum_trace(hg_rtrace_t *d, const hg_rtrace_t *s, bool first) {
    d->events += s->events;
    d->filtered_events += s->filtered_events;
    d->unmatched_frees += s->unmatched_frees;
    d->failed_allocations += s->failed_allocations;
    d->allocs += s->allocs;
    d->reallocs += s->reallocs;
    d->frees += s->frees;
    d->heap_creates += s->heap_creates;
    d->heap_destroys += s->heap_destroys;
    d->lost_events += s->lost_events;
    d->lost_buffers += s->lost_buffers;
    d->lost_counts_known =
        first ? s->lost_counts_known : d->lost_counts_known && s->lost_counts_known;
    d->truncated |= s->truncated;
    d->first_ts_ns = first || s->first_ts_ns < d->first_ts_ns ? s->first_ts_ns : d->first_ts_ns;
    d->last_ts_ns = max_u64(d->last_ts_ns, s->last_ts_ns);
    d->start_wall_ns = d->start_wall_ns ? d->start_wall_ns : s->start_wall_ns;
    d->stacks_defined += s->stacks_defined;
    d->stacks_undefined += s->stacks_undefined;
    d->markers += s->markers;
    d->settle_ignored_blocks += s->settle_ignored_blocks;
    d->settle_ignored_bytes += s->settle_ignored_bytes;
    d->out_of_order_events += s->out_of_order_events;
}

static int merge_rule(merger_t *m, const hg_rsuppression_t *s) {
    for (size_t i = 0; i < m->r->nsuppressions; i++) {
        hg_rsuppression_t *d = &m->r->suppressions[i];
        if (d->builtin == s->builtin &&
            strcmp(d->pattern ? d->pattern : "", s->pattern ? s->pattern : "") == 0) {
            d->sites += s->sites;
            d->bytes += s->bytes;
            d->blocks += s->blocks;
            return 0;
        }
    }
    hg_rsuppression_t *d = hg_report_add_suppression(m->r);
    if (!d) {
        return HG_ENOMEM;
    }
    *d = *s;
    d->pattern = NULL;
    return dup_into(&d->pattern, s->pattern ? s->pattern : "") ? 0 : HG_ENOMEM;
}

static int merge_header(merger_t *m, const hg_report_t *in) {
    int rc = 0;
    for (size_t i = 0; !rc && i < in->ninputs; i++) {
        rc = hg_report_add_input(m->r, in->inputs[i] ? in->inputs[i] : "",
                                 in->input_formats && in->input_formats[i] ? in->input_formats[i]
                                                                           : "unknown");
    }
    for (size_t i = 0; !rc && i < in->nwarnings; i++) {
        rc = hg_report_add_warning(m->r, in->warnings[i] ? in->warnings[i] : "");
    }
    for (size_t i = 0; !rc && i < in->nsuppressions; i++) {
        rc = merge_rule(m, &in->suppressions[i]);
    }
    m->r->incomplete |= in->incomplete;
    m->r->cluster_gap_bytes =
        m->r->cluster_gap_bytes ? m->r->cluster_gap_bytes : in->cluster_gap_bytes;
    add_totals(&m->r->suppressed, &in->suppressed);
    sum_lifetime(&m->r->lifetime, &in->lifetime);
    sum_trace(&m->r->trace, &in->trace, m->r->nprocesses == 0 && m->r->ninputs == in->ninputs);
    return rc;
}

/* ---- one input, then all ------------------------------------------------------------------ */

static int merge_one(merger_t *m, const hg_report_t *in) {
    int rc = merge_header(m, in);
    m->proc_base = (uint32_t)m->r->nprocesses;
    for (size_t i = 0; !rc && i < in->nprocesses; i++) {
        rc = merge_process(m, &in->processes[i]);
    }
    for (size_t i = 0; !rc && i < in->nsites; i++) {
        rc = merge_site(m, &in->sites[i]);
    }
    for (size_t i = 0; !rc && i < in->nanomalies; i++) {
        rc = merge_anomaly(m, &in->anomalies[i]);
    }
    for (size_t i = 0; !rc && i < in->nheaps; i++) {
        rc = merge_heap(m, &in->heaps[i]);
    }
    return rc ? rc : merge_series(m, in);
}

static void finish(hg_report_t *r) {
    r->suppressed_sites = 0;
    for (size_t i = 0; i < r->nsites; i++) {
        r->suppressed_sites += r->sites[i].suppressed_by != NULL;
    }
    hg__report_totals(r);
    hg_report_sort(r);
}

static int merge_all(const hg_analyze_opts_t *o, hg_report_t *r, hg_error_t *err) {
    merger_t m = {.r = r};
    int rc = 0;
    for (size_t i = 0; !rc && i < o->ninputs; i++) {
        hg_report_t *in = NULL;
        rc = hg__load_report(o, o->inputs[i], &in, err);
        if (!rc && merge_one(&m, in) != 0) {
            rc = hg_error_set(err, HG_ENOMEM, "%s: out of memory while merging", o->inputs[i]);
        }
        hg_report_free(in);
    }
    JudyLFreeArray(&m.sites, PJE0);
    JudyLFreeArray(&m.anomalies, PJE0);
    if (!rc) {
        finish(r);
    }
    return rc;
}

/* ---- the command -------------------------------------------------------------------------- */

static int apply_suppressions(const hg_analyze_opts_t *o, hg_report_t *r, hg_error_t *err) {
    hg_suppressions_t *s = o->nsuppression_files ? hg__suppressions_new() : NULL;
    int rc = o->nsuppression_files && !s ? HG_ENOMEM : 0;
    for (size_t i = 0; !rc && s && i < o->nsuppression_files; i++) {
        rc = hg__suppressions_load(s, o->suppression_files[i], err);
    }
    if (!rc && s) {
        rc = hg__suppressions_apply(s, r);
    }
    hg__suppressions_free(s);
    return rc;
}

static int run_merge(hg_analyze_opts_t *o, hg_report_t *r, hg_error_t *err) {
    int rc = hg__baseline_load(&o->gate, err);
    if (!rc) {
        rc = merge_all(o, r, err);
    }
    if (!rc) {
        rc = apply_suppressions(o, r, err);
    }
    if (!rc) {
        r->tool_version = hg_strdup(hg__version());
        rc = r->tool_version ? hg__gate_evaluate(&o->gate, r) : HG_ENOMEM;
        rc = rc ? hg_error_set(err, rc, "out of memory while merging") : 0;
    }
    return rc ? rc : hg__write_outputs(o, r, stdout, err);
}

static int parse_merge_args(int argc, char **argv, hg_analyze_opts_t *o, hg_error_t *err) {
    hg_args_t a = {argc, 1, argv, "merge"};
    char buf[64];
    while (a.i < argc) {
        const char *name, *value;
        if (hg__next_arg(&a, hg__analyze_opt_arity, &name, &value, buf, sizeof buf)) {
            return hg_error_set(err, HG_EUSAGE, "%s", "");
        }
        if (!name && o->ninputs >= HG_MAX_LIST) {
            return hg_error_set(err, HG_EUSAGE, "at most %d reports", HG_MAX_LIST);
        }
        if (!name) {
            o->inputs[o->ninputs++] = value;
        } else if (hg__analyze_opt(o, name, value, err)) {
            return HG_EUSAGE;
        }
    }
    if (o->ninputs == 0) {
        return hg_error_set(err, HG_EUSAGE, "no report given");
    }
    return hg__analyze_opts_finish(o, err);
}

int hg__cmd_merge(int argc, char **argv) {
    hg_analyze_opts_t o;
    int status = hg__cmd_start("merge", argc, argv, &o, parse_merge_args);
    if (status >= 0) {
        return status;
    }
    hg_error_t err;
    hg_error_clear(&err);
    hg_report_t *r = hg_report_new();
    int rc = r ? run_merge(&o, r, &err) : hg_error_set(&err, HG_ENOMEM, "out of memory");
    status = rc ? HG_EXIT_ERROR : r->gate.passed ? HG_EXIT_PASS : HG_EXIT_GATE_FAILED;
    if (rc) {
        fprintf(stderr, "heapgate: %s\n", err.msg[0] ? err.msg : hg_strerror(rc));
    }
    hg__baseline_free(&o.gate);
    hg_report_free(r);
    return status;
}
