/* text.c - the report a person reads in a terminal. Sections, in order: the verdict (with the
 * failing checks), inputs, totals, INCOMPLETE and warnings, processes; then top leak sites and
 * anomalies (text_sites.c), fragmentation, lifetime classes and trace quality (text_heaps.c).
 * Lines are built by the line builder (text_line.c): aligned columns, at most 100 columns,
 * strings from the trace sanitized, colour only when asked for. */
#include "text_priv.h"

#include <stdio.h>

/* ---- verdict ------------------------------------------------------------------------------ */

static size_t failed_checks(const hg_rgate_t *g) {
    size_t n = 0;
    for (size_t i = 0; i < g->nchecks; i++) {
        n += !g->checks[i].passed;
    }
    return n;
}

static void put_failed_check(hg__report_tl_t *tl, const hg_rcheck_t *c) {
    hg__report_tl_col(tl, 2);
    hg__report_tl_color(tl, HG_SGR_RED);
    hg__report_tl_put(tl, "FAIL");
    hg__report_tl_color(tl, HG_SGR_RESET);
    hg__report_tl_col(tl, 8);
    hg__report_tl_fit(tl, c->name ? c->name : "?", 30);
    hg__report_tl_col(tl, 40);
    hg__report_tl_put(tl, "measured ");
    hg__report_tl_fit(tl, c->measured ? c->measured : "?", 20);
    hg__report_tl_put(tl, ", limit ");
    hg__report_tl_fit(tl, c->limit ? c->limit : "?", 20);
    hg__report_tl_end(tl);
    if (c->detail) {
        hg__report_tl_col(tl, 8);
        hg__report_tl_fit(tl, c->detail, HG_TEXT_COLS - 8);
        hg__report_tl_end(tl);
    }
    if (c->site) {
        hg__report_tl_col(tl, 8);
        hg__report_tl_put(tl, "site ");
        hg__report_tl_fit(tl, c->site, 40);
        hg__report_tl_end(tl);
    }
}

static void put_verdict_word(hg__report_tl_t *tl, const hg_rgate_t *g) {
    if (!g->evaluated) {
        hg__report_tl_put(tl, "verdict not evaluated (no gate was run)");
        return;
    }
    hg__report_tl_color(tl, g->passed ? HG_SGR_GREEN : HG_SGR_RED);
    hg__report_tl_put(tl, g->passed ? "PASS" : "FAIL");
    hg__report_tl_color(tl, HG_SGR_RESET);
    size_t failed = failed_checks(g);
    if (failed) {
        hg__report_tl_putf(tl, " (%zu of %zu checks failed)", failed, g->nchecks);
    } else {
        hg__report_tl_putf(tl, " (%zu checks passed)", g->nchecks);
    }
}

static void put_verdict(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    hg__report_tl_color(tl, HG_SGR_BOLD);
    hg__report_tl_put(tl, "heapgate");
    if (r->tool_version) {
        hg__report_tl_put(tl, " ");
        hg__report_tl_fit(tl, r->tool_version, 20);
    }
    hg__report_tl_put(tl, ": ");
    hg__report_tl_color(tl, HG_SGR_RESET);
    put_verdict_word(tl, &r->gate);
    hg__report_tl_end(tl);
    for (size_t i = 0; i < r->gate.nchecks; i++) {
        if (!r->gate.checks[i].passed) {
            put_failed_check(tl, &r->gate.checks[i]);
        }
    }
}

/* ---- inputs, totals, warnings ------------------------------------------------------------- */

static void put_inputs(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    for (size_t i = 0; i < r->ninputs; i++) {
        const char *format = r->input_formats ? r->input_formats[i] : NULL;
        hg__report_tl_put(tl, "input ");
        hg__report_tl_fit(tl, r->inputs[i] ? r->inputs[i] : "?", 76);
        hg__report_tl_put(tl, " (");
        hg__report_tl_fit(tl, format ? format : "?", 12);
        hg__report_tl_put(tl, ")");
        hg__report_tl_end(tl);
    }
}

static void put_total_row(hg__report_tl_t *tl, const char *label, uint64_t bytes, uint64_t blocks) {
    hg__report_tl_col(tl, 2);
    hg__report_tl_put(tl, label);
    hg__report_tl_bytes(tl, bytes, 34);
    hg__report_tl_count(tl, bytes, 50);
    hg__report_tl_count(tl, blocks, 64);
    hg__report_tl_end(tl);
}

static void put_totals(hg__report_tl_t *tl) {
    const hg_rtotals_t *t = &tl->r->totals;
    hg__report_tl_heading(tl, "Totals");
    hg__report_tl_right(tl, "size", 34);
    hg__report_tl_right(tl, "bytes", 50);
    hg__report_tl_right(tl, "blocks", 64);
    hg__report_tl_end(tl);
    put_total_row(tl, "leaked", t->leaked_bytes, t->leaked_blocks);
    put_total_row(tl, "outstanding", t->outstanding_bytes, t->outstanding_blocks);
    put_total_row(tl, "released by destroy", t->released_by_destroy_bytes,
                  t->released_by_destroy_blocks);
}

static void put_incomplete(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    if (r->incomplete) {
        hg__report_tl_end(tl);
        hg__report_tl_color(tl, HG_SGR_YELLOW);
        hg__report_tl_put(tl, "INCOMPLETE");
        hg__report_tl_color(tl, HG_SGR_RESET);
        hg__report_tl_put(tl, ": events or buffers were lost or a trace was cut short");
        hg__report_tl_end(tl);
        hg__report_tl_put(tl, "  leak figures come from an incomplete trace; A1, A2, A4 and A6 "
                              "anomalies were demoted to info");
        hg__report_tl_end(tl);
    }
    for (size_t i = 0; i < r->nwarnings; i++) {
        hg__report_tl_put(tl, "  warning: ");
        hg__report_tl_fit(tl, r->warnings[i] ? r->warnings[i] : "", HG_TEXT_COLS - 11);
        hg__report_tl_end(tl);
    }
}

/* ---- processes ---------------------------------------------------------------------------- */

static void put_process_row(hg__report_tl_t *tl, const hg_rprocess_t *p) {
    hg__report_tl_count(tl, p->pid, 10);
    hg__report_tl_col(tl, 12);
    hg__report_tl_fit(tl, p->name ? p->name : "?", 24);
    hg__report_tl_col(tl, 38);
    hg__report_tl_put(tl, p->ended ? "ended" : "running");
    hg__report_tl_put(tl, p->traced_from_start ? "" : ", attached");
    hg__report_tl_bytes(tl, p->totals.leaked_bytes, 68);
    hg__report_tl_bytes(tl, p->totals.outstanding_bytes, 82);
    hg__report_tl_bytes(tl, p->totals.released_by_destroy_bytes, 96);
    hg__report_tl_end(tl);
}

static void put_processes(hg__report_tl_t *tl) {
    const hg_report_t *r = tl->r;
    size_t shown = tl->opt->top && tl->opt->top < r->nprocesses ? tl->opt->top : r->nprocesses;
    bool attached = false;
    hg__report_tl_heading(tl, "Processes");
    hg__report_tl_putf(tl, " (%zu)", r->nprocesses);
    hg__report_tl_end(tl);
    hg__report_tl_right(tl, "pid", 10);
    hg__report_tl_col(tl, 12);
    hg__report_tl_put(tl, "name");
    hg__report_tl_col(tl, 38);
    hg__report_tl_put(tl, "status");
    hg__report_tl_right(tl, "leaked", 68);
    hg__report_tl_right(tl, "outstanding", 82);
    hg__report_tl_right(tl, "released", 96);
    hg__report_tl_end(tl);
    for (size_t i = 0; i < r->nprocesses; i++) {
        attached |= !r->processes[i].traced_from_start;
        if (i < shown) {
            put_process_row(tl, &r->processes[i]);
        }
    }
    if (shown < r->nprocesses) {
        hg__report_tl_putf(tl, "  ... %zu more processes", r->nprocesses - shown);
        hg__report_tl_end(tl);
    }
    if (attached) {
        hg__report_tl_put(tl, "  attached: traced after the process started (earlier "
                              "allocations are invisible)");
        hg__report_tl_end(tl);
    }
}

/* ---- the report --------------------------------------------------------------------------- */

void hg_report_write_text(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    hg_write_options_t defaults;
    if (!opt) {
        hg_write_options_init(&defaults);
        opt = &defaults;
    }
    hg__report_tl_t tl;
    hg__report_tl_init(&tl, r, opt, o);
    put_verdict(&tl);
    put_inputs(&tl);
    put_totals(&tl);
    put_incomplete(&tl);
    put_processes(&tl);
    hg__report_text_sites(&tl);
    hg__report_text_anomalies(&tl);
    hg__report_text_heaps(&tl);
    hg__report_text_lifetime(&tl);
    hg__report_text_trace(&tl);
    hg__report_tl_free(&tl);
}
