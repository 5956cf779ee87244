/* gate.c - the CI verdict: each threshold becomes a check with its measured value, its limit
 * and whether it passed; the verdict fails when any check fails.
 *
 * Defaults (ARCHITECTURE.md "Decisions"): without a leak threshold (--max-leaked-bytes,
 * --max-leaked-blocks, --max-site-bytes) the gate fails on any leaked byte left after
 * suppressions; without --fail-on it fails on any error-severity anomaly. Outstanding blocks
 * (process still running at trace end) and blocks released by HeapDestroy count as leaked only
 * with --count-outstanding / --count-released. With --baseline (baseline.c) the default leak
 * check gives way to the baseline's checks: known leaks pass, new ones and growth fail. */
#include "detector_priv.h"

#include <string.h>

static int add_check(hg_report_t *r, const char *name, const char *measured, const char *limit,
                     bool passed, const char *detail, const char *site) {
    hg_rcheck_t *c = hg_report_add_check(r);
    if (!c) {
        return HG_ENOMEM;
    }
    c->name = hg_strdup(name);
    c->measured = hg_strdup(measured);
    c->limit = hg_strdup(limit);
    c->detail = hg_strdup(detail);
    c->site = site ? hg_strdup(site) : NULL;
    c->passed = passed;
    bool ok = c->name && c->measured && c->limit && c->detail && (!site || c->site);
    return ok ? 0 : HG_ENOMEM;
}

static int check_u64(hg_report_t *r, const char *name, uint64_t measured, uint64_t limit,
                     const char *what, const char *site) {
    char m[32], l[32], detail[256];
    snprintf(m, sizeof m, "%llu", (unsigned long long)measured);
    snprintf(l, sizeof l, "%llu", (unsigned long long)limit);
    bool passed = measured <= limit;
    snprintf(detail, sizeof detail, "%s: %llu %s %llu", what, (unsigned long long)measured,
             passed ? "<=" : ">", (unsigned long long)limit);
    return add_check(r, name, m, l, passed, detail, site);
}

/* Leaked bytes or blocks of a totals record, counting what the options ask to count. */
static uint64_t counted(const hg_gate_opts_t *g, const hg_rtotals_t *t, bool bytes) {
    uint64_t v = bytes ? t->leaked_bytes : t->leaked_blocks;
    if (g->count_outstanding) {
        v += bytes ? t->outstanding_bytes : t->outstanding_blocks;
    }
    if (g->count_released) {
        v += bytes ? t->released_by_destroy_bytes : t->released_by_destroy_blocks;
    }
    return v;
}

static const char *what_leaked(const hg_gate_opts_t *g, bool bytes) {
    if (g->count_outstanding && g->count_released) {
        return bytes ? "leaked + outstanding + released-by-destroy bytes"
                     : "leaked + outstanding + released-by-destroy blocks";
    }
    if (g->count_outstanding) {
        return bytes ? "leaked + outstanding bytes" : "leaked + outstanding blocks";
    }
    if (g->count_released) {
        return bytes ? "leaked + released-by-destroy bytes" : "leaked + released-by-destroy blocks";
    }
    return bytes ? "leaked bytes after suppressions" : "leaked blocks after suppressions";
}

static int check_sites(const hg_gate_opts_t *g, hg_report_t *r) {
    uint64_t worst = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < r->nsites; i++) {
        const hg_rsite_t *s = &r->sites[i];
        uint64_t bytes = s->suppressed_by ? 0 : counted(g, &s->totals, true);
        worst = bytes > worst ? bytes : worst;
        if (bytes > g->max_site_bytes) {
            char name[64];
            snprintf(name, sizeof name, "max-site-bytes:%s", s->id);
            rc = check_u64(r, name, bytes, g->max_site_bytes, "bytes leaked by this site", s->id);
        }
    }
    return rc ? rc
              : check_u64(r, "max-site-bytes", worst, g->max_site_bytes,
                          "largest site's leaked bytes", NULL);
}

static int check_leaks(const hg_gate_opts_t *g, hg_report_t *r) {
    /* with a baseline, known leaks are allowed: the baseline checks replace the default */
    bool any =
        g->has_max_leaked_bytes || g->has_max_leaked_blocks || g->has_max_site_bytes || g->baseline;
    int rc = 0;
    if (g->has_max_leaked_bytes || !any) {
        rc = check_u64(r, "max-leaked-bytes", counted(g, &r->totals, true),
                       g->has_max_leaked_bytes ? g->max_leaked_bytes : 0, what_leaked(g, true),
                       NULL);
    }
    if (!rc && g->has_max_leaked_blocks) {
        rc = check_u64(r, "max-leaked-blocks", counted(g, &r->totals, false), g->max_leaked_blocks,
                       what_leaked(g, false), NULL);
    }
    return !rc && g->has_max_site_bytes ? check_sites(g, r) : rc;
}

/* heap-semantics.md §4: the largest external fragmentation of any heap with at least the
 * cluster gap of span at the end of the trace. */
static int check_fragmentation(const hg_gate_opts_t *g, hg_report_t *r) {
    double worst = 0;
    for (size_t i = 0; i < r->nheaps; i++) {
        const hg_rfrag_t *f = &r->heaps[i].frag;
        if (f->span_bytes >= r->cluster_gap_bytes && f->external > worst) {
            worst = f->external;
        }
    }
    char m[32], l[32], detail[200];
    snprintf(m, sizeof m, "%.4f", worst);
    snprintf(l, sizeof l, "%.4f", g->max_fragmentation);
    bool passed = worst <= g->max_fragmentation;
    snprintf(detail, sizeof detail,
             "largest external fragmentation of a heap spanning >= %llu bytes: %s %s %s",
             (unsigned long long)r->cluster_gap_bytes, m, passed ? "<=" : ">", l);
    return add_check(r, "max-fragmentation", m, l, passed, detail, NULL);
}

static int check_anomalies(hg_report_t *r, const char *name, int kind, int min_severity) {
    uint64_t count = 0;
    for (size_t i = 0; i < r->nanomalies; i++) {
        const hg_ranomaly_t *a = &r->anomalies[i];
        if ((kind && a->kind == kind) || (min_severity && a->severity >= min_severity)) {
            count += a->count;
        }
    }
    char label[64], detail[200];
    snprintf(label, sizeof label, "fail-on:%s", name);
    snprintf(detail, sizeof detail, "anomalies matching %s%s: %llu", name, kind ? "" : " or worse",
             (unsigned long long)count);
    char m[32];
    snprintf(m, sizeof m, "%llu", (unsigned long long)count);
    return add_check(r, label, m, "0", count == 0, detail, NULL);
}

static int check_fail_on(const hg_gate_opts_t *g, hg_report_t *r) {
    int rc = 0;
    if (!g->fail_on_given || g->fail_on_severity) {
        int sev = g->fail_on_given ? g->fail_on_severity : HG_SEV_ERROR;
        rc = check_anomalies(r, hg_severity_name(sev), 0, sev);
    }
    for (size_t i = 0; !rc && i < g->nfail_on_kinds; i++) {
        int kind = g->fail_on_kinds[i];
        char name[64];
        snprintf(name, sizeof name, "%s (%s)", hg_anomaly_id(kind), hg_anomaly_name(kind));
        rc = check_anomalies(r, name, kind, 0);
    }
    return rc;
}

int hg__gate_evaluate(const hg_gate_opts_t *g, hg_report_t *r) {
    int rc = check_leaks(g, r);
    if (!rc && g->has_max_frag) {
        rc = check_fragmentation(g, r);
    }
    if (!rc) {
        rc = check_fail_on(g, r);
    }
    if (!rc && g->baseline) {
        rc = hg__baseline_checks(g, r);
    }
    r->gate.evaluated = rc == 0;
    r->gate.passed = true;
    for (size_t i = 0; i < r->gate.nchecks; i++) {
        r->gate.passed &= r->gate.checks[i].passed;
    }
    return rc;
}
