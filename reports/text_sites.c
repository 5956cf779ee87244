/* text_sites.c - the text report's top leak sites and anomalies.
 *
 * Sites come sorted (leaked, outstanding, allocated bytes); the ones with leaked or outstanding
 * blocks are shown up to opt->top, each with its stack. Sites a user suppression matched are
 * left out and counted in one line; sites a built-in runtime rule matched are shown, marked
 * "not gated". Anomalies come sorted by severity and count; they are grouped by severity, at
 * most opt->top per group, each with an example event and the top frame of its site (found
 * through an index sorted by site id, so many anomalies do not cost sites x anomalies). */
#include "text_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_COL 4
#define VALUE_COL 18
#define MAX_PIDS  8

/* ---- sites -------------------------------------------------------------------------------- */

static bool has_live(const hg_rsite_t *s) {
    const hg_rtotals_t *t = &s->totals;
    return t->leaked_bytes || t->leaked_blocks || t->outstanding_bytes || t->outstanding_blocks;
}

static bool hidden(const hg_rsite_t *s) {
    return s->suppressed_by && !s->runtime;
}

static void put_label(hg__report_tl_t *tl, const char *label) {
    hg__report_tl_col(tl, LABEL_COL);
    hg__report_tl_put(tl, label);
    hg__report_tl_col(tl, VALUE_COL);
}

/* "4.0 KiB (4096 B in 4 blocks)" */
static void put_amount(hg__report_tl_t *tl, const char *label, uint64_t bytes, uint64_t blocks) {
    char b[32];
    put_label(tl, label);
    hg__report_tl_putf(tl, "%s (%llu B in %llu block%s)", hg_format_bytes(bytes, b, sizeof b),
                       (unsigned long long)bytes, (unsigned long long)blocks,
                       blocks == 1 ? "" : "s");
    hg__report_tl_end(tl);
}

static void put_site_title(hg__report_tl_t *tl, size_t rank, const hg_rsite_t *s) {
    hg__report_tl_end(tl);
    hg__report_tl_color(tl, HG_SGR_BOLD);
    hg__report_tl_putf(tl, "#%zu", rank);
    hg__report_tl_col(tl, LABEL_COL);
    hg__report_tl_put(tl, "site ");
    hg__report_tl_fit(tl, s->id ? s->id : "?", 20);
    hg__report_tl_color(tl, HG_SGR_RESET);
    if (s->runtime) {
        hg__report_tl_put(tl, "  runtime, not gated: ");
        hg__report_tl_fit(tl, s->suppressed_by ? s->suppressed_by : "built-in rule", 40);
    }
    hg__report_tl_end(tl);
}

static void put_site_allocs(hg__report_tl_t *tl, const hg_rsite_t *s) {
    char b[32], first[32], last[32];
    put_label(tl, "allocations");
    hg__report_tl_putf(tl, "%llu (%s), peak live ", (unsigned long long)s->allocs,
                       hg_format_bytes(s->alloc_bytes, b, sizeof b));
    hg__report_tl_put(tl, hg_format_bytes(s->peak_live_bytes, b, sizeof b));
    hg__report_tl_end(tl);
    put_label(tl, "first, last");
    hg__report_tl_putf(tl, "%s, %s", hg_format_duration(s->first_ts_ns, first, sizeof first),
                       hg_format_duration(s->last_ts_ns, last, sizeof last));
    hg__report_tl_end(tl);
}

static void put_site_pids(hg__report_tl_t *tl, const hg_rsite_t *s) {
    put_label(tl, "processes");
    for (size_t i = 0; i < s->npids && i < MAX_PIDS; i++) {
        hg__report_tl_putf(tl, "%s%u", i ? ", " : "", (unsigned)s->pids[i]);
    }
    if (s->npids > MAX_PIDS) {
        hg__report_tl_putf(tl, " and %zu more", s->npids - MAX_PIDS);
    }
    hg__report_tl_end(tl);
}

static void put_stack(hg__report_tl_t *tl, const hg_rsite_t *s) {
    size_t max = tl->opt->max_frames, shown = max && max < s->nframes ? max : s->nframes;
    put_label(tl, s->nframes ? "stack" : "stack unknown (never defined in the trace)");
    hg__report_tl_end(tl);
    for (size_t i = 0; i < shown; i++) {
        hg__report_tl_col(tl, LABEL_COL + 2);
        hg__report_tl_putf(tl, "%2zu  ", i);
        hg__report_tl_frame(tl, &s->frames[i], HG_TEXT_COLS - tl->width);
        hg__report_tl_end(tl);
    }
    if (shown < s->nframes) {
        hg__report_tl_col(tl, LABEL_COL + 2);
        hg__report_tl_putf(tl, "... %zu more", s->nframes - shown);
        hg__report_tl_end(tl);
    }
}

static void put_site(hg__report_tl_t *tl, size_t rank, const hg_rsite_t *s) {
    const hg_rtotals_t *t = &s->totals;
    put_site_title(tl, rank, s);
    put_amount(tl, "leaked", t->leaked_bytes, t->leaked_blocks);
    put_amount(tl, "outstanding", t->outstanding_bytes, t->outstanding_blocks);
    if (t->released_by_destroy_blocks) {
        put_amount(tl, "by destroy", t->released_by_destroy_bytes, t->released_by_destroy_blocks);
    }
    put_site_allocs(tl, s);
    put_site_pids(tl, s);
    put_stack(tl, s);
}

/* Sites with leaked or outstanding blocks: how many are shown or hidden by a suppression. */
static void count_sites(const hg_report_t *r, size_t *visible, size_t *supp, uint64_t *supp_bytes) {
    *visible = *supp = 0;
    *supp_bytes = 0;
    for (size_t i = 0; i < r->nsites; i++) {
        const hg_rsite_t *s = &r->sites[i];
        if (has_live(s) && hidden(s)) {
            (*supp)++;
            *supp_bytes += s->totals.leaked_bytes + s->totals.outstanding_bytes;
        } else if (has_live(s)) {
            (*visible)++;
        }
    }
}

static void put_sites_summary(hg__report_tl_t *tl, size_t visible, size_t shown, size_t supp,
                              uint64_t supp_bytes) {
    char b[32];
    if (visible == 0) {
        hg__report_tl_put(tl, "  no site has leaked or outstanding blocks");
    } else {
        hg__report_tl_putf(tl, "  %zu of %zu sites with leaked or outstanding blocks", shown,
                           visible);
    }
    hg__report_tl_end(tl);
    if (supp) {
        hg__report_tl_putf(tl, "  %zu site%s suppressed (%s)", supp, supp == 1 ? "" : "s",
                           hg_format_bytes(supp_bytes, b, sizeof b));
        hg__report_tl_end(tl);
    }
}

void hg__report_text_sites(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    size_t visible, supp, rank = 0;
    uint64_t supp_bytes;
    count_sites(r, &visible, &supp, &supp_bytes);
    size_t shown = tl->opt->top && tl->opt->top < visible ? tl->opt->top : visible;
    hg__report_tl_heading(tl, "Top leak sites");
    hg__report_tl_end(tl);
    put_sites_summary(tl, visible, shown, supp, supp_bytes);
    for (size_t i = 0; i < r->nsites && rank < shown; i++) {
        if (has_live(&r->sites[i]) && !hidden(&r->sites[i])) {
            put_site(tl, ++rank, &r->sites[i]);
        }
    }
}

/* ---- the site index ----------------------------------------------------------------------- */

static int cmp_site_id(const void *a, const void *b) {
    const hg_rsite_t *x = *(const hg_rsite_t *const *)a, *y = *(const hg_rsite_t *const *)b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* Site pointers sorted by id (caller frees), or NULL when out of memory (noted on tl). */
static const hg_rsite_t **site_index(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    const hg_rsite_t **index = hg_malloc((r->nsites ? r->nsites : 1) * sizeof *index);
    if (!index) {
        hg__report_tl_nomem(tl);
        return NULL;
    }
    for (size_t i = 0; i < r->nsites; i++) {
        index[i] = &r->sites[i];
    }
    qsort(index, r->nsites, sizeof *index, cmp_site_id);
    return index;
}

static const hg_rsite_t *find_site(const hg_rsite_t **index, size_t n, const char *id) {
    hg_rsite_t key = {.id = (char *)id};
    const hg_rsite_t *kp = &key;
    const hg_rsite_t **hit = index ? bsearch(&kp, index, n, sizeof *index, cmp_site_id) : NULL;
    return hit ? *hit : NULL;
}

/* ---- anomalies ---------------------------------------------------------------------------- */

static const char *severity_word(int severity) {
    static const char *const words[] = {"unknown", "info", "warning", "error"};
    return severity >= 1 && severity <= 3 ? words[severity] : words[0];
}

static const char *severity_sgr(int severity) {
    return severity >= 3 ? HG_SGR_RED : severity == 2 ? HG_SGR_YELLOW : HG_SGR_DIM;
}

/* What example.other means for this kind (docs/heap-semantics.md section 3). */
static void put_other(hg__report_tl_t *tl, const hg_ranomaly_t *a) {
    unsigned long long other = a->example.other;
    if (a->kind == 3) {
        hg__report_tl_putf(tl, "; it lives in heap 0x%llx", other);
    } else if (a->kind == 7) {
        hg__report_tl_putf(tl, "; recorded size %llu", other);
    } else if (a->kind == 13) {
        hg__report_tl_putf(tl, "; %llu allocations of this size", other);
    }
}

static void put_example(hg__report_tl_t *tl, const hg_ranomaly_t *a) {
    const hg_rexample_t *e = &a->example;
    char t[32];
    put_label(tl, "example");
    hg__report_tl_putf(tl, "at %s in pid %u, tid %u, heap 0x%llx",
                       hg_format_duration(e->ts_ns, t, sizeof t), (unsigned)e->pid,
                       (unsigned)e->tid, (unsigned long long)e->heap);
    hg__report_tl_end(tl);
    hg__report_tl_col(tl, VALUE_COL);
    hg__report_tl_putf(tl, "block 0x%llx, %llu bytes", (unsigned long long)e->addr,
                       (unsigned long long)e->size);
    put_other(tl, a);
    hg__report_tl_end(tl);
}

static void put_anomaly_site(hg__report_tl_t *tl, const hg_ranomaly_t *a,
                             const hg_rsite_t **index) {
    put_label(tl, "site");
    if (!a->site) {
        hg__report_tl_put(tl, "(no stack)");
        hg__report_tl_end(tl);
        return;
    }
    hg__report_tl_fit(tl, a->site, 20);
    const hg_rsite_t *s = find_site(index, tl->r->nsites, a->site);
    if (s && s->nframes) {
        hg__report_tl_put(tl, "  ");
        hg__report_tl_frame(tl, &s->frames[0], HG_TEXT_COLS - tl->width);
    }
    hg__report_tl_end(tl);
}

static void put_anomaly(hg__report_tl_t *tl, const hg_ranomaly_t *a, const hg_rsite_t **index) {
    hg__report_tl_col(tl, LABEL_COL);
    if (a->id) {
        hg__report_tl_fit(tl, a->id, 5);
    } else {
        hg__report_tl_putf(tl, "A%d", a->kind);
    }
    hg__report_tl_col(tl, 10);
    hg__report_tl_fit(tl, a->name ? a->name : "?", 30);
    hg__report_tl_count(tl, a->count, 56);
    hg__report_tl_putf(tl, " occurrence%s", a->count == 1 ? "" : "s");
    hg__report_tl_end(tl);
    if (a->description) {
        put_label(tl, "meaning");
        hg__report_tl_fit(tl, a->description, HG_TEXT_COLS - VALUE_COL);
        hg__report_tl_end(tl);
    }
    put_example(tl, a);
    put_anomaly_site(tl, a, index);
}

/* Closes a severity group: how many of its entries were left out. */
static void put_group_rest(hg__report_tl_t *tl, size_t left, uint64_t occurrences) {
    if (left) {
        hg__report_tl_col(tl, LABEL_COL);
        hg__report_tl_putf(tl, "... %zu more (%llu occurrence%s)", left,
                           (unsigned long long)occurrences, occurrences == 1 ? "" : "s");
        hg__report_tl_end(tl);
    }
}

static void put_group_heading(hg__report_tl_t *tl, int severity) {
    hg__report_tl_col(tl, 2);
    hg__report_tl_color(tl, severity_sgr(severity));
    hg__report_tl_put(tl, severity_word(severity));
    hg__report_tl_color(tl, HG_SGR_RESET);
    hg__report_tl_end(tl);
}

static void put_anomaly_list(hg__report_tl_t *tl, const hg_rsite_t **index) {
    const hg_report_t *r = tl->r;
    size_t in_group = 0, left = 0;
    uint64_t left_count = 0;
    for (size_t i = 0; i < r->nanomalies; i++) {
        const hg_ranomaly_t *a = &r->anomalies[i];
        if (i == 0 || a->severity != r->anomalies[i - 1].severity) {
            put_group_rest(tl, left, left_count);
            put_group_heading(tl, a->severity);
            in_group = left = 0;
            left_count = 0;
        }
        if (tl->opt->top && in_group >= tl->opt->top) {
            left++;
            left_count += a->count;
            continue;
        }
        in_group++;
        put_anomaly(tl, a, index);
    }
    put_group_rest(tl, left, left_count);
}

void hg__report_text_anomalies(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    uint64_t occurrences = 0;
    for (size_t i = 0; i < r->nanomalies; i++) {
        occurrences += r->anomalies[i].count;
    }
    hg__report_tl_heading(tl, "Anomalies");
    hg__report_tl_putf(tl, " (%zu entries, %llu occurrences)", r->nanomalies,
                       (unsigned long long)occurrences);
    hg__report_tl_end(tl);
    if (r->nanomalies == 0) {
        return;
    }
    const hg_rsite_t **index = site_index(tl);
    put_anomaly_list(tl, index);
    hg_free((void *)index);
}
