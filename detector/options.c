/* options.c - the options of `analyze` and of every command that reports like it (README
 * "Options"). One table names each option, says whether it takes a value, and points at the
 * function that checks and stores the value; errors name the option and what was expected. */
#include "detector_priv.h"

#include <stdlib.h>
#include <string.h>

typedef int (*opt_fn)(hg_analyze_opts_t *o, const char *arg, hg_error_t *err);

typedef struct opt_def {
    const char *name;
    bool takes_value;
    opt_fn apply;
} opt_def_t;

static int bad(hg_error_t *err, const char *name, const char *arg, const char *want) {
    return hg_error_set(err, HG_EUSAGE, "--%s: expected %s, got '%s'", name, want, arg ? arg : "");
}

static int push(const char **list, size_t *n, const char *value, const char *name,
                hg_error_t *err) {
    if (*n >= HG_MAX_LIST) {
        return hg_error_set(err, HG_EUSAGE, "--%s: at most %d times", name, HG_MAX_LIST);
    }
    list[(*n)++] = value;
    return 0;
}

static int opt_output(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    if (o->noutputs >= HG_MAX_OUTPUTS) {
        return hg_error_set(err, HG_EUSAGE, "-o: at most %d outputs", HG_MAX_OUTPUTS);
    }
    o->outputs[o->noutputs++].path = arg;
    return 0;
}

static int opt_format(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    o->format = hg_report_format_parse(arg);
    return o->format < 0
               ? bad(err, "format", arg, "text, json, html, pprof, sarif, junit or collapsed")
               : 0;
}

static int opt_top(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    uint64_t v;
    if (hg_parse_u64(arg, &v) || v > 1000000) {
        return bad(err, "top", arg, "a number of sites (0 = all)");
    }
    o->write.top = (unsigned)v;
    return 0;
}

static int opt_pid(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    uint64_t v;
    if (hg_parse_u64(arg, &v) || v > UINT32_MAX) {
        return bad(err, "pid", arg, "a process id");
    }
    o->tracker.pid_filter_set = true;
    o->tracker.pid_filter = (uint32_t)v;
    return 0;
}

static int opt_process(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    if (!*arg) {
        return bad(err, "process", arg, "a process name");
    }
    o->tracker.process_filter = arg;
    return 0;
}

/* T0:T1, both durations from the trace start. */
static int opt_window(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    const char *colon = strchr(arg, ':');
    char t0[64];
    if (!colon || (size_t)(colon - arg) >= sizeof t0) {
        return bad(err, "window", arg, "T0:T1 (e.g. 10s:70s)");
    }
    memcpy(t0, arg, (size_t)(colon - arg));
    t0[colon - arg] = '\0';
    if (hg_parse_duration_ns(t0, &o->tracker.window_t0_ns) ||
        hg_parse_duration_ns(colon + 1, &o->tracker.window_t1_ns) ||
        o->tracker.window_t1_ns < o->tracker.window_t0_ns) {
        return bad(err, "window", arg, "T0:T1 with T0 <= T1 (e.g. 10s:70s)");
    }
    o->tracker.window = true;
    return 0;
}

static int opt_settle(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    return hg_parse_duration_ns(arg, &o->tracker.settle_ns)
               ? bad(err, "settle", arg, "a time such as 5s or 250ms")
               : 0;
}

static int opt_suppressions(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    return push(o->suppression_files, &o->nsuppression_files, arg, "suppressions", err);
}

static int opt_symbol_path(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    (void)err;
    o->sym.symbol_path = arg;
    return 0;
}

static int opt_bytes(const char *name, const char *arg, uint64_t *out, bool *has, hg_error_t *err) {
    if (hg_parse_bytes(arg, out)) {
        return bad(err, name, arg, "a byte count such as 0, 4096 or 10M");
    }
    *has = true;
    return 0;
}

static int opt_max_leaked_bytes(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    return opt_bytes("max-leaked-bytes", arg, &o->gate.max_leaked_bytes,
                     &o->gate.has_max_leaked_bytes, err);
}

static int opt_max_leaked_blocks(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    if (hg_parse_u64(arg, &o->gate.max_leaked_blocks)) {
        return bad(err, "max-leaked-blocks", arg, "a number of blocks");
    }
    o->gate.has_max_leaked_blocks = true;
    return 0;
}

static int opt_max_site_bytes(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    return opt_bytes("max-site-bytes", arg, &o->gate.max_site_bytes, &o->gate.has_max_site_bytes,
                     err);
}

static int opt_max_fragmentation(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    char *end = NULL;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v >= 0 && v <= 1)) {
        return bad(err, "max-fragmentation", arg, "a fraction between 0 and 1 (e.g. 0.5)");
    }
    o->gate.max_fragmentation = v;
    o->gate.has_max_frag = true;
    return 0;
}

static int opt_fail_on(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    int sev = hg_severity_parse(arg), kind = sev ? 0 : hg_anomaly_parse(arg);
    if (!sev && !kind) {
        return bad(err, "fail-on", arg,
                   "an anomaly id (A3), name (wrong-heap-free) or severity (info, warning, "
                   "error)");
    }
    o->gate.fail_on_given = true;
    if (sev) {
        o->gate.fail_on_severity = o->gate.fail_on_severity && o->gate.fail_on_severity < sev
                                       ? o->gate.fail_on_severity
                                       : sev;
        return 0;
    }
    if (o->gate.nfail_on_kinds >= HG_MAX_LIST) {
        return hg_error_set(err, HG_EUSAGE, "--fail-on: too many");
    }
    o->gate.fail_on_kinds[o->gate.nfail_on_kinds++] = kind;
    return 0;
}

static int opt_count_outstanding(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    (void)arg;
    (void)err;
    o->gate.count_outstanding = true;
    return 0;
}

static int opt_count_released(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    (void)arg;
    (void)err;
    o->gate.count_released = true;
    return 0;
}

static int opt_baseline(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    if (!*arg) {
        return bad(err, "baseline", arg, "a JSON report of an earlier run");
    }
    o->gate.baseline_path = arg;
    return 0;
}

static int opt_fail_on_new(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    (void)arg;
    (void)err;
    o->gate.fail_on_new = true;
    return 0;
}

static int opt_max_growth_bytes(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    return opt_bytes("max-growth-bytes", arg, &o->gate.max_growth_bytes, &o->gate.has_max_growth,
                     err);
}

static int opt_cluster_gap(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    if (hg_parse_bytes(arg, &o->tracker.cluster_gap_bytes) || !o->tracker.cluster_gap_bytes) {
        return bad(err, "cluster-gap", arg, "a byte count above 0 such as 1M");
    }
    return 0;
}

static int opt_samples(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    uint64_t v;
    if (hg_parse_u64(arg, &v) || v < 2 || v > 100000) {
        return bad(err, "samples", arg, "a number of timeline samples from 2 to 100000");
    }
    o->tracker.max_samples = (uint32_t)v;
    return 0;
}

static int opt_trim(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    return push(o->trim_patterns, &o->ntrim_patterns, arg, "trim", err);
}

static int opt_no_default_trim(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    (void)arg;
    (void)err;
    o->no_default_trim = true;
    return 0;
}

static int opt_color(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    if (strcmp(arg, "auto") && strcmp(arg, "always") && strcmp(arg, "never")) {
        return bad(err, "color", arg, "auto, always or never");
    }
    o->color = arg;
    return 0;
}

static int opt_progress(hg_analyze_opts_t *o, const char *arg, hg_error_t *err) {
    static const char *modes[] = {"auto", "always", "never"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(arg, modes[i]) == 0) {
            o->progress = (hg_progress_mode_t)i;
            return 0;
        }
    }
    return bad(err, "progress", arg, "auto, always or never");
}

static const opt_def_t table[] = {
    {"output", true, opt_output},
    {"format", true, opt_format},
    {"top", true, opt_top},
    {"pid", true, opt_pid},
    {"process", true, opt_process},
    {"window", true, opt_window},
    {"settle", true, opt_settle},
    {"suppressions", true, opt_suppressions},
    {"symbol-path", true, opt_symbol_path},
    {"max-leaked-bytes", true, opt_max_leaked_bytes},
    {"max-leaked-blocks", true, opt_max_leaked_blocks},
    {"max-site-bytes", true, opt_max_site_bytes},
    {"max-fragmentation", true, opt_max_fragmentation},
    {"fail-on", true, opt_fail_on},
    {"count-outstanding", false, opt_count_outstanding},
    {"count-released", false, opt_count_released},
    {"baseline", true, opt_baseline},
    {"fail-on-new", false, opt_fail_on_new},
    {"max-growth-bytes", true, opt_max_growth_bytes},
    {"cluster-gap", true, opt_cluster_gap},
    {"samples", true, opt_samples},
    {"trim", true, opt_trim},
    {"no-default-trim", false, opt_no_default_trim},
    {"color", true, opt_color},
    {"progress", true, opt_progress},
};

static const opt_def_t *find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

/* A damaged debug file or a symbol server that failed: its frames stay module+0xoffset, the
 * report is still written, and the reason goes to stderr. */
static void sym_warning(void *ctx, const char *msg) {
    (void)ctx;
    fprintf(stderr, "heapgate: warning: %s\n", msg);
}

void hg__analyze_opts_init(hg_analyze_opts_t *o) {
    memset(o, 0, sizeof *o);
    hg_tracker_options_init(&o->tracker);
    hg_sym_options_init(&o->sym);
    o->sym.on_warning = sym_warning;
    hg_write_options_init(&o->write);
    o->format = -1;
    o->color = "auto";
}

int hg__analyze_opt_arity(const char *name) {
    const opt_def_t *d = find(name);
    return d ? d->takes_value : -1;
}

int hg__analyze_opt(hg_analyze_opts_t *o, const char *name, const char *arg, hg_error_t *err) {
    const opt_def_t *d = find(name);
    return d ? d->apply(o, arg, err) : 1;
}

static int output_format(hg_analyze_opts_t *o, hg_output_spec_t *out, hg_error_t *err) {
    bool gzip = false;
    int by_suffix = hg_report_format_from_path(out->path, &gzip);
    out->gzip = gzip;
    out->format = o->format >= 0 ? o->format : by_suffix >= 0 ? by_suffix : HG_RF_TEXT;
    if (out->format == HG_RF_PPROF) {
        out->gzip = false; /* pprof is gzip by definition: never compressed twice */
    }
    if (!hg_report_format_available((hg_report_format_t)out->format)) {
        return hg_error_set(err, HG_EUSAGE, "%s: format %s is not available in this build",
                            out->path, hg_report_format_name((hg_report_format_t)out->format));
    }
    return 0;
}

int hg__analyze_opts_finish(hg_analyze_opts_t *o, hg_error_t *err) {
    for (size_t i = 0; i < o->noutputs; i++) {
        int rc = output_format(o, &o->outputs[i], err);
        if (rc) {
            return rc;
        }
    }
    if ((o->gate.fail_on_new || o->gate.has_max_growth) && !o->gate.baseline_path) {
        return hg_error_set(err, HG_EUSAGE, "--%s needs --baseline OLD.json",
                            o->gate.fail_on_new ? "fail-on-new" : "max-growth-bytes");
    }
    if (o->format >= 0 && !hg_report_format_available((hg_report_format_t)o->format)) {
        return hg_error_set(err, HG_EUSAGE, "--format: %s is not available in this build",
                            hg_report_format_name((hg_report_format_t)o->format));
    }
    return 0;
}
