/* analyze.c - `heapgate analyze`: every input is read into its own tracker and symbolizer,
 * added to one report (sites merged by identity), then suppressions (hg__analyze_report, also
 * used by diff and merge for inputs that are traces), the gate (with --baseline's checks) and
 * the outputs.
 * Exit status: 0 pass, 1 gate failed, 2 usage or input error (nothing written then).
 *
 * The steps after the traces are in (hg__report_run) are shared with the commands that trace
 * a live program (run.c, attach.c): they fill the report from their own tracker instead of
 * files. Reports with a glibc process get the built-in runtime suppressions (runtime_rules.c). */
#include "detector_priv.h"

#include <string.h>

static void print_error(const hg_error_t *err) {
    fprintf(stderr, "heapgate: %s\n", err->msg[0] ? err->msg : hg_strerror(err->code));
}

static int note_truncation(hg_report_t *r, hg_tracker_t *t, const hg_input_result_t *res) {
    fprintf(stderr, "heapgate: warning: %s\n", res->warning);
    hg_tracker_mark_truncated(t, res->warning);
    return hg_report_add_warning(r, res->warning);
}

/* A symbolizer warning (a damaged debug file, a failed download): on stderr and in the
 * report's warnings (dropped from the report when there is no memory for it). */
static void sym_warning(void *ctx, const char *msg) {
    fprintf(stderr, "heapgate: warning: %s\n", msg);
    (void)hg_report_add_warning(ctx, msg);
}

/* Reads one input and adds it to the report through b. */
static int analyze_input(const hg_analyze_opts_t *o, const char *path, hg_report_t *r,
                         hg_builder_t *b, hg_error_t *err) {
    hg_sym_options_t so = o->sym;
    so.on_warning = sym_warning;
    so.warning_ctx = r;
    hg_tracker_t *t = hg_tracker_new(&o->tracker);
    hg_symbolizer_t *sym = t ? hg_sym_open(&so, err) : NULL;
    hg_input_result_t res;
    int rc = sym ? 0 : hg_error_set(err, HG_ENOMEM, "out of memory");
    if (!rc) {
        rc = hg__ingest(path, t, sym, hg__progress_wanted(o->progress), &res, err);
    }
    if (!rc && res.truncated) {
        rc = note_truncation(r, t, &res);
    }
    if (!rc) {
        rc = hg_tracker_finish(t);
    }
    if (!rc) {
        rc = hg__builder_add(b, t, sym, path, hg_format_name(res.format),
                             o->tracker.cluster_gap_bytes);
    }
    if (rc == HG_ENOMEM && !err->msg[0]) {
        hg_error_set(err, rc, "%s: out of memory", path);
    }
    hg_sym_close(sym);
    hg_tracker_free(t);
    return rc;
}

static int load_suppressions(const hg_analyze_opts_t *o, hg_suppressions_t *s, hg_error_t *err) {
    for (size_t i = 0; i < o->nsuppression_files; i++) {
        int rc = hg__suppressions_load(s, o->suppression_files[i], err);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

static int fill_from_inputs(void *ud, hg_report_t *r, hg_builder_t *b, hg_error_t *err) {
    const hg_analyze_opts_t *o = ud;
    int rc = 0;
    for (size_t i = 0; !rc && i < o->ninputs; i++) {
        rc = analyze_input(o, o->inputs[i], r, b, err);
    }
    return rc;
}

static int build_report(hg_report_fill_fn fill, void *ud, hg_report_t *r, const hg_trim_t *trim,
                        hg_error_t *err) {
    hg_builder_t *b = hg__builder_new(r, trim);
    int rc = b ? fill(ud, r, b, err) : hg_error_set(err, HG_ENOMEM, "out of memory");
    hg__builder_free(b);
    return rc;
}

static bool has_glibc_process(const hg_report_t *r) {
    for (size_t i = 0; i < r->nprocesses; i++) {
        if (r->processes[i].allocator && strcmp(r->processes[i].allocator, "glibc") == 0) {
            return true;
        }
    }
    return false;
}

static int finish_report(hg_report_t *r, hg_suppressions_t *s, hg_error_t *err) {
    r->tool_version = hg_strdup(hg__version());
    hg_report_sort(r);
    int rc = r->tool_version ? 0 : HG_ENOMEM;
    if (!rc && has_glibc_process(r)) {
        rc = hg__runtime_rules_add(s);
    }
    rc = rc ? rc : hg__suppressions_apply(s, r);
    return rc ? hg_error_set(err, rc, "out of memory while building the report") : 0;
}

/* The report of the traces fill adds, suppressions applied, no gate; *out is the caller's
 * (NULL on failure, err set). */
static int report_build(const hg_analyze_opts_t *o, hg_report_fill_fn fill, void *ud,
                        hg_report_t **out, hg_error_t *err) {
    hg_report_t *r = hg_report_new();
    hg_suppressions_t *s = hg__suppressions_new();
    hg_trim_t *trim = hg__trim_new(o->trim_patterns, o->ntrim_patterns, o->no_default_trim);
    int rc = r && s && trim ? load_suppressions(o, s, err)
                            : hg_error_set(err, HG_ENOMEM, "out of memory");
    if (!rc) {
        rc = build_report(fill, ud, r, trim, err);
    }
    if (!rc) {
        rc = finish_report(r, s, err);
    }
    hg__trim_free(trim);
    hg__suppressions_free(s);
    if (rc) {
        hg_report_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

int hg__analyze_report(const hg_analyze_opts_t *o, const char *const *inputs, size_t ninputs,
                       hg_report_t **out, hg_error_t *err) {
    hg_analyze_opts_t one = *o;
    one.ninputs = ninputs < HG_MAX_LIST ? ninputs : HG_MAX_LIST;
    for (size_t i = 0; i < one.ninputs; i++) {
        one.inputs[i] = inputs[i];
    }
    return report_build(&one, fill_from_inputs, &one, out, err);
}

int hg__report_run(hg_analyze_opts_t *o, hg_report_fill_fn fill, void *ud, FILE *default_stream) {
    hg_error_t err;
    hg_error_clear(&err);
    hg_report_t *r = NULL;
    /* before the long part: a bad baseline fails fast */
    int rc = hg__baseline_load(&o->gate, &err);
    if (!rc) {
        rc = report_build(o, fill, ud, &r, &err);
    }
    if (!rc) {
        rc = hg__gate_evaluate(&o->gate, r);
        rc = rc ? hg_error_set(&err, rc, "out of memory while building the report") : 0;
    }
    if (!rc) {
        rc = hg__write_outputs(o, r, default_stream, &err);
    }
    int status = rc ? HG_EXIT_ERROR : r->gate.passed ? HG_EXIT_PASS : HG_EXIT_GATE_FAILED;
    if (rc) {
        print_error(&err);
    }
    hg__baseline_free(&o->gate);
    hg_report_free(r);
    return status;
}

int hg__analyze_run(hg_analyze_opts_t *o, FILE *default_stream) {
    return hg__report_run(o, fill_from_inputs, o, default_stream);
}
