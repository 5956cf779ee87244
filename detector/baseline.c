/* baseline.c - `--baseline OLD.json` with `--fail-on-new` and `--max-growth-bytes N`: the
 * gate compares each leak site with the same site (by its ASLR-stable id) in a JSON report of
 * an earlier run, so a release gate can allow known leaks and stop new ones.
 *
 * Checks added to the gate (and so to JSON's gate.checks, JUnit's test cases, SARIF levels):
 *   fail-on-new                 sites that leak now and did not in the baseline (limit 0),
 *                               and one "fail-on-new:ID" check per such site;
 *   max-growth-bytes            the largest growth of a site's leaked bytes over the
 *                               baseline (limit N), and one "max-growth-bytes:ID" per site
 *                               beyond it.
 * --baseline alone implies --fail-on-new. With a baseline the default "any leaked byte"
 * check is not added (gate.c): explicit --max-leaked-* thresholds still are. Leaked bytes are
 * counted as the gate counts them (--count-outstanding, --count-released; a suppressed site
 * counts 0) in both reports. */
#include "detector_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- sites by identity -------------------------------------------------------------------- */

static int cmp_site_ptr(const void *a, const void *b) {
    const hg_rsite_t *x = *(const hg_rsite_t *const *)a, *y = *(const hg_rsite_t *const *)b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

int hg__site_index_build(hg_site_index_t *x, const hg_report_t *r) {
    x->n = r->nsites;
    x->v = hg_malloc((r->nsites + 1) * sizeof *x->v);
    if (!x->v) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < r->nsites; i++) {
        x->v[i] = &r->sites[i];
    }
    qsort(x->v, x->n, sizeof *x->v, cmp_site_ptr);
    return 0;
}

const hg_rsite_t *hg__site_index_find(const hg_site_index_t *x, const char *id) {
    hg_rsite_t key = {.id = (char *)(id ? id : "")};
    const hg_rsite_t *k = &key, **hit = bsearch(&k, x->v, x->n, sizeof *x->v, cmp_site_ptr);
    return hit ? *hit : NULL;
}

void hg__site_index_free(hg_site_index_t *x) {
    hg_free(x->v);
    x->v = NULL;
    x->n = 0;
}

uint64_t hg__site_counted(const hg_gate_opts_t *g, const hg_rsite_t *s, bool bytes) {
    if (!s || s->suppressed_by) {
        return 0;
    }
    const hg_rtotals_t *t = &s->totals;
    uint64_t v = bytes ? t->leaked_bytes : t->leaked_blocks;
    v += g->count_outstanding ? (bytes ? t->outstanding_bytes : t->outstanding_blocks) : 0;
    v += g->count_released ? (bytes ? t->released_by_destroy_bytes : t->released_by_destroy_blocks)
                           : 0;
    return v;
}

/* ---- loading ------------------------------------------------------------------------------ */

int hg__baseline_load(hg_gate_opts_t *g, hg_error_t *err) {
    if (!g->baseline_path || g->baseline) {
        return 0;
    }
    g->baseline = hg_report_read_json(g->baseline_path, err);
    if (!g->baseline) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return hg_error_set(err, err->code, "--baseline: %s", msg);
    }
    g->fail_on_new |= !g->has_max_growth; /* --baseline alone: fail on new leak sites */
    return 0;
}

void hg__baseline_free(hg_gate_opts_t *g) {
    hg_report_free(g->baseline);
    g->baseline = NULL;
}

/* ---- checks ------------------------------------------------------------------------------- */

static int add_check(hg_report_t *r, const char *name, uint64_t measured, const char *limit,
                     bool passed, const char *detail, const char *site) {
    char m[24];
    hg_rcheck_t *c = hg_report_add_check(r);
    if (!c) {
        return HG_ENOMEM;
    }
    snprintf(m, sizeof m, "%llu", (unsigned long long)measured);
    c->name = hg_strdup(name);
    c->measured = hg_strdup(m);
    c->limit = hg_strdup(limit);
    c->detail = hg_strdup(detail);
    c->site = site ? hg_strdup(site) : NULL;
    c->passed = passed;
    return c->name && c->measured && c->limit && c->detail && (!site || c->site) ? 0 : HG_ENOMEM;
}

typedef struct walk {
    const hg_gate_opts_t *g;
    hg_report_t *r;
    hg_site_index_t old;
    uint64_t new_sites, worst_growth;
} walk_t;

static int check_new_site(walk_t *w, const hg_rsite_t *s, uint64_t now) {
    char name[96], detail[200];
    snprintf(name, sizeof name, "fail-on-new:%s", s->id ? s->id : "?");
    snprintf(detail, sizeof detail, "site leaks %llu bytes and did not leak in the baseline %s",
             (unsigned long long)now, w->g->baseline_path);
    w->new_sites++;
    return add_check(w->r, name, now, "0", false, detail, s->id);
}

static int check_growth(walk_t *w, const hg_rsite_t *s, uint64_t growth) {
    char name[96], limit[24], detail[200];
    snprintf(name, sizeof name, "max-growth-bytes:%s", s->id ? s->id : "?");
    snprintf(limit, sizeof limit, "%llu", (unsigned long long)w->g->max_growth_bytes);
    snprintf(detail, sizeof detail, "site's leaked bytes grew by %llu over the baseline %s",
             (unsigned long long)growth, w->g->baseline_path);
    return add_check(w->r, name, growth, limit, false, detail, s->id);
}

/* The per-site checks of site i (adding checks does not move sites). */
static int visit(walk_t *w, size_t i) {
    const hg_rsite_t *s = &w->r->sites[i];
    uint64_t now = hg__site_counted(w->g, s, true);
    const hg_rsite_t *old = now ? hg__site_index_find(&w->old, s->id) : NULL;
    uint64_t before = old ? hg__site_counted(w->g, old, true) : 0;
    uint64_t growth = now > before ? now - before : 0;
    w->worst_growth = growth > w->worst_growth ? growth : w->worst_growth;
    if (now && !before && w->g->fail_on_new) {
        return check_new_site(w, s, now);
    }
    return w->g->has_max_growth && growth > w->g->max_growth_bytes ? check_growth(w, s, growth) : 0;
}

static int summary_checks(walk_t *w) {
    char limit[24], detail[200];
    int rc = 0;
    if (w->g->fail_on_new) {
        snprintf(detail, sizeof detail, "leak sites not in the baseline %s: %llu",
                 w->g->baseline_path, (unsigned long long)w->new_sites);
        rc = add_check(w->r, "fail-on-new", w->new_sites, "0", w->new_sites == 0, detail, NULL);
    }
    if (!rc && w->g->has_max_growth) {
        snprintf(limit, sizeof limit, "%llu", (unsigned long long)w->g->max_growth_bytes);
        snprintf(detail, sizeof detail, "largest growth of a site's leaked bytes over %s",
                 w->g->baseline_path);
        rc = add_check(w->r, "max-growth-bytes", w->worst_growth, limit,
                       w->worst_growth <= w->g->max_growth_bytes, detail, NULL);
    }
    return rc;
}

int hg__baseline_checks(const hg_gate_opts_t *g, hg_report_t *r) {
    walk_t w = {.g = g, .r = r};
    if (hg__site_index_build(&w.old, g->baseline) != 0) {
        return HG_ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < r->nsites; i++) {
        rc = visit(&w, i);
    }
    if (!rc) {
        rc = summary_checks(&w);
    }
    hg__site_index_free(&w.old);
    return rc;
}
