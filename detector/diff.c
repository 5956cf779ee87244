/* diff.c - `heapgate diff OLD NEW`: what changed between two runs. Each input is a JSON report
 * or a trace (analysed with the given options); sites are matched by their ASLR-stable id, so
 * two builds or two machines compare.
 *
 * A site's leaked bytes are counted as the gate counts them (--count-outstanding,
 * --count-released; suppressed sites count 0). Sites leaking in NEW only are new, in OLD only
 * fixed; sites leaking in both grew, shrank or stayed the same. Anomalies are matched by
 * (kind, site): new ones and gone ones are listed. The diff fails (exit 1) when NEW has a new
 * leak site, a site whose leaked bytes grew by more than --max-growth-bytes (default 0), or a
 * new anomaly of error severity; else it passes (exit 0); usage and input errors exit 2.
 * Output: text (default) or JSON (--format json, or -o FILE.json[.gz]). */
#include "diff_priv.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *hg__dstatus_name(hg_dstatus_t s) {
    static const char *const names[HG_DS_COUNT] = {"new", "grown", "shrunk", "fixed", "unchanged"};
    return (unsigned)s < HG_DS_COUNT ? names[s] : "?";
}

/* ---- inputs ------------------------------------------------------------------------------- */

/* Whether path (plain or gzip) starts, after white space, with '{': a JSON report. */
static bool looks_like_json(const char *path) {
    gzFile g = gzopen(path, "rb");
    char head[256];
    int n = g ? gzread(g, head, sizeof head) : -1;
    if (g) {
        gzclose(g);
    }
    for (int i = 0; i < n; i++) {
        if (!strchr(" \t\r\n", head[i])) {
            return head[i] == '{';
        }
    }
    return false;
}

int hg__load_report(const hg_analyze_opts_t *o, const char *path, hg_report_t **out,
                    hg_error_t *err) {
    if (looks_like_json(path)) {
        *out = hg_report_read_json(path, err);
        return *out ? 0 : err->code;
    }
    return hg__analyze_report(o, &path, 1, out, err);
}

/* ---- matching ----------------------------------------------------------------------------- */

static hg_dstatus_t status_of(uint64_t before, uint64_t now) {
    if (!before) {
        return HG_DS_NEW;
    }
    if (!now) {
        return HG_DS_FIXED;
    }
    return now > before ? HG_DS_GROWN : now < before ? HG_DS_SHRUNK : HG_DS_SAME;
}

static void add_site(hg_diff_t *d, const hg_gate_opts_t *g, const hg_rsite_t *site,
                     const hg_rsite_t *old, const hg_rsite_t *now) {
    hg_dsite_t *x = &d->sites[d->nsites++];
    x->site = site;
    x->old_bytes = old ? hg__site_counted(g, old, true) : 0;
    x->old_blocks = old ? hg__site_counted(g, old, false) : 0;
    x->new_bytes = now ? hg__site_counted(g, now, true) : 0;
    x->new_blocks = now ? hg__site_counted(g, now, false) : 0;
    x->status = status_of(x->old_bytes, x->new_bytes);
    x->beyond = x->status == HG_DS_NEW ||
                (x->status == HG_DS_GROWN && x->new_bytes - x->old_bytes > d->max_growth_bytes);
    d->counts[x->status]++;
    d->failed |= x->beyond;
}

static int match_sites(hg_diff_t *d, const hg_gate_opts_t *g) {
    hg_site_index_t old_ix, new_ix;
    d->sites = hg_calloc(d->old_r->nsites + d->new_r->nsites + 1, sizeof *d->sites);
    if (!d->sites || hg__site_index_build(&old_ix, d->old_r) != 0) {
        return HG_ENOMEM;
    }
    if (hg__site_index_build(&new_ix, d->new_r) != 0) {
        hg__site_index_free(&old_ix);
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < d->new_r->nsites; i++) {
        const hg_rsite_t *s = &d->new_r->sites[i], *old = hg__site_index_find(&old_ix, s->id);
        if (hg__site_counted(g, s, true) || (old && hg__site_counted(g, old, true))) {
            add_site(d, g, s, old, s);
        }
    }
    for (size_t i = 0; i < d->old_r->nsites; i++) {
        const hg_rsite_t *s = &d->old_r->sites[i];
        if (hg__site_counted(g, s, true) && !hg__site_index_find(&new_ix, s->id)) {
            add_site(d, g, s, s, NULL); /* gone from NEW altogether: fixed */
        }
    }
    hg__site_index_free(&old_ix);
    hg__site_index_free(&new_ix);
    return 0;
}

static bool same_anomaly(const hg_ranomaly_t *a, const hg_ranomaly_t *b) {
    return a->kind == b->kind &&
           ((!a->site && !b->site) || (a->site && b->site && strcmp(a->site, b->site) == 0));
}

static bool has_anomaly(const hg_report_t *r, const hg_ranomaly_t *a) {
    for (size_t i = 0; i < r->nanomalies; i++) {
        if (same_anomaly(&r->anomalies[i], a)) {
            return true;
        }
    }
    return false;
}

static int match_anomalies(hg_diff_t *d) {
    d->anomalies = hg_calloc(d->old_r->nanomalies + d->new_r->nanomalies + 1, sizeof *d->anomalies);
    if (!d->anomalies) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < d->new_r->nanomalies; i++) {
        const hg_ranomaly_t *a = &d->new_r->anomalies[i];
        if (!has_anomaly(d->old_r, a)) {
            d->anomalies[d->nanomalies++] = (hg_danomaly_t){false, a};
            d->new_anomalies++;
            d->new_errors += a->severity >= 3;
        }
    }
    for (size_t i = 0; i < d->old_r->nanomalies; i++) {
        const hg_ranomaly_t *a = &d->old_r->anomalies[i];
        if (!has_anomaly(d->new_r, a)) {
            d->anomalies[d->nanomalies++] = (hg_danomaly_t){true, a};
            d->gone_anomalies++;
        }
    }
    d->failed |= d->new_errors > 0;
    return 0;
}

static int64_t delta(const hg_dsite_t *x) {
    return (int64_t)(x->new_bytes - x->old_bytes);
}

/* Report order: status (new, grown, shrunk, fixed, same), then the largest change. */
static int cmp_dsite(const void *pa, const void *pb) {
    const hg_dsite_t *a = pa, *b = pb;
    if (a->status != b->status) {
        return a->status < b->status ? -1 : 1;
    }
    int64_t da = llabs(delta(a)), db = llabs(delta(b));
    if (da != db) {
        return da > db ? -1 : 1;
    }
    return strcmp(a->site->id ? a->site->id : "", b->site->id ? b->site->id : "");
}

static void totals(hg_diff_t *d, const hg_gate_opts_t *g) {
    for (size_t i = 0; i < d->old_r->nsites; i++) {
        d->old_bytes += hg__site_counted(g, &d->old_r->sites[i], true);
        d->old_blocks += hg__site_counted(g, &d->old_r->sites[i], false);
    }
    for (size_t i = 0; i < d->new_r->nsites; i++) {
        d->new_bytes += hg__site_counted(g, &d->new_r->sites[i], true);
        d->new_blocks += hg__site_counted(g, &d->new_r->sites[i], false);
    }
}

static int compute(hg_diff_t *d, const hg_gate_opts_t *g) {
    int rc = match_sites(d, g);
    if (!rc) {
        rc = match_anomalies(d);
    }
    if (!rc) {
        qsort(d->sites, d->nsites, sizeof *d->sites, cmp_dsite);
        totals(d, g);
    }
    return rc;
}

/* ---- output ------------------------------------------------------------------------------- */

static int write_one(const hg_diff_t *d, const hg_analyze_opts_t *o, int format, hg_out_t *out) {
    if (format == HG_RF_JSON) {
        return hg__diff_write_json(d, out);
    }
    hg__diff_write_text(d, o->write.top, out);
    return 0;
}

static int write_outputs(const hg_diff_t *d, const hg_analyze_opts_t *o, hg_error_t *err) {
    for (size_t i = 0; i < o->noutputs || i == 0; i++) {
        const hg_output_spec_t *spec = o->noutputs ? &o->outputs[i] : NULL;
        int format = spec ? spec->format : o->format >= 0 ? o->format : HG_RF_TEXT;
        hg_out_t *out = spec ? hg_out_open(spec->path, spec->gzip, err)
                             : hg_out_stream(stdout, "<stdout>", false, err);
        int rc = out ? write_one(d, o, format, out) : err->code;
        if (out && rc) {
            hg_out_abort(out);
            return hg_error_set(err, rc, "out of memory while writing the diff");
        }
        if (rc || hg_out_commit(out, err) != 0) {
            return rc ? rc : err->code;
        }
    }
    return 0;
}

/* ---- the command -------------------------------------------------------------------------- */

static int check_formats(const hg_analyze_opts_t *o, hg_error_t *err) {
    for (size_t i = 0; i < o->noutputs + 1; i++) {
        int f = i < o->noutputs ? o->outputs[i].format : o->format;
        if (f >= 0 && f != HG_RF_TEXT && f != HG_RF_JSON) {
            return hg_error_set(err, HG_EUSAGE, "diff writes text or json, not %s",
                                hg_report_format_name((hg_report_format_t)f));
        }
    }
    return 0;
}

/* Parses diff's arguments: two inputs and the analyze family's options. */
static int parse_args(int argc, char **argv, hg_analyze_opts_t *o, hg_error_t *err) {
    hg_args_t a = {argc, 1, argv, "diff"};
    char buf[64];
    while (a.i < argc) {
        const char *name, *value;
        if (hg__next_arg(&a, hg__analyze_opt_arity, &name, &value, buf, sizeof buf)) {
            return hg_error_set(err, HG_EUSAGE, "%s", "");
        }
        if (!name && o->ninputs >= 2) {
            return hg_error_set(err, HG_EUSAGE, "diff takes two reports or traces, OLD and NEW");
        }
        if (!name) {
            o->inputs[o->ninputs++] = value;
        } else if (hg__analyze_opt(o, name, value, err)) {
            return HG_EUSAGE;
        }
    }
    if (o->ninputs != 2) {
        return hg_error_set(err, HG_EUSAGE, "diff needs OLD and NEW (JSON reports or traces)");
    }
    hg_gate_opts_t g = o->gate; /* --max-growth-bytes needs no --baseline here */
    o->gate.has_max_growth = o->gate.fail_on_new = false;
    int rc = hg__analyze_opts_finish(o, err);
    o->gate = g;
    return rc ? rc : check_formats(o, err);
}

static int run_diff(const hg_analyze_opts_t *o, hg_error_t *err) {
    hg_report_t *old_r = NULL, *new_r = NULL;
    hg_diff_t d = {.old_path = o->inputs[0],
                   .new_path = o->inputs[1],
                   .max_growth_bytes = o->gate.max_growth_bytes};
    int rc = hg__load_report(o, o->inputs[0], &old_r, err);
    if (!rc) {
        rc = hg__load_report(o, o->inputs[1], &new_r, err);
    }
    d.old_r = old_r;
    d.new_r = new_r;
    if (!rc && compute(&d, &o->gate) != 0) {
        rc = hg_error_set(err, HG_ENOMEM, "out of memory while comparing the reports");
    }
    if (!rc) {
        rc = write_outputs(&d, o, err);
    }
    hg_free(d.sites);
    hg_free(d.anomalies);
    hg_report_free(old_r);
    hg_report_free(new_r);
    return rc ? rc : d.failed ? 1 : 0;
}

int hg__cmd_diff(int argc, char **argv) {
    hg_analyze_opts_t o;
    int status = hg__cmd_start("diff", argc, argv, &o, parse_args);
    if (status >= 0) {
        return status;
    }
    hg_error_t err;
    hg_error_clear(&err);
    int rc = run_diff(&o, &err);
    if (rc < 0) {
        fprintf(stderr, "heapgate: %s\n", err.msg[0] ? err.msg : hg_strerror(rc));
        return HG_EXIT_ERROR;
    }
    return rc ? HG_EXIT_GATE_FAILED : HG_EXIT_PASS;
}
