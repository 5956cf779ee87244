/* test_gate.c - the gate: defaults, each threshold, counting options, per-site checks. */
#include "detector_priv.h"

#include <criterion/criterion.h>
#include <string.h>

static hg_report_t *report(uint64_t leaked, uint64_t outstanding) {
    hg_report_t *r = hg_report_new();
    hg_rsite_t *s = hg_report_add_site(r);
    s->id = hg_strdup("00000000000000aa");
    s->totals.leaked_bytes = leaked;
    s->totals.leaked_blocks = leaked ? 2 : 0;
    s->totals.outstanding_bytes = outstanding;
    s->totals.outstanding_blocks = outstanding ? 1 : 0;
    hg__report_totals(r);
    r->cluster_gap_bytes = 1 << 20;
    return r;
}

static const hg_rcheck_t *check(const hg_report_t *r, const char *name) {
    for (size_t i = 0; i < r->gate.nchecks; i++) {
        if (strcmp(r->gate.checks[i].name, name) == 0) {
            return &r->gate.checks[i];
        }
    }
    cr_assert_fail("no check %s", name);
    return NULL;
}

Test(gate, default_fails_on_any_leak_and_error_anomaly) {
    hg_gate_opts_t g = {0};
    hg_report_t *r = report(0, 500);
    cr_assert_eq(hg__gate_evaluate(&g, r), 0);
    cr_assert(r->gate.passed, "outstanding does not count by default");
    cr_assert_eq(r->gate.nchecks, 2);
    cr_assert_str_eq(check(r, "max-leaked-bytes")->limit, "0");
    hg_report_free(r);

    r = report(1, 0);
    hg__gate_evaluate(&g, r);
    cr_assert(!r->gate.passed);
    cr_assert(!check(r, "max-leaked-bytes")->passed);
    cr_assert_str_eq(check(r, "max-leaked-bytes")->measured, "1");
    hg_report_free(r);

    r = report(0, 0);
    hg_ranomaly_t *a = hg_report_add_anomaly(r);
    a->kind = HG_A3_WRONG_HEAP;
    a->severity = HG_SEV_ERROR;
    a->count = 3;
    hg__gate_evaluate(&g, r);
    cr_assert(!r->gate.passed);
    cr_assert_str_eq(check(r, "fail-on:error")->measured, "3");
    hg_report_free(r);
}

Test(gate, thresholds_and_counting_options) {
    hg_gate_opts_t g = {
        .has_max_leaked_bytes = true, .max_leaked_bytes = 100, .count_outstanding = true};
    hg_report_t *r = report(60, 50);
    hg__gate_evaluate(&g, r);
    cr_assert(!r->gate.passed);
    cr_assert_str_eq(check(r, "max-leaked-bytes")->measured, "110");
    hg_report_free(r);

    g.count_outstanding = false;
    r = report(60, 50);
    hg__gate_evaluate(&g, r);
    cr_assert(r->gate.passed);
    hg_report_free(r);

    hg_gate_opts_t blocks = {.has_max_leaked_blocks = true, .max_leaked_blocks = 1};
    r = report(60, 0);
    hg__gate_evaluate(&blocks, r);
    cr_assert(!r->gate.passed);
    cr_assert_eq(r->gate.nchecks, 2, "blocks + fail-on; no default bytes check");
    hg_report_free(r);
}

Test(gate, per_site_checks) {
    hg_gate_opts_t g = {.has_max_site_bytes = true, .max_site_bytes = 50};
    hg_report_t *r = report(60, 0);
    hg__gate_evaluate(&g, r);
    cr_assert(!r->gate.passed);
    const hg_rcheck_t *c = check(r, "max-site-bytes:00000000000000aa");
    cr_assert_str_eq(c->site, "00000000000000aa");
    cr_assert(!check(r, "max-site-bytes")->passed);
    hg_report_free(r);
}

Test(gate, fail_on_kinds_and_severities) {
    hg_gate_opts_t g = {.fail_on_given = true,
                        .fail_on_severity = HG_SEV_WARNING,
                        .nfail_on_kinds = 1,
                        .fail_on_kinds = {HG_A13_NO_LFH}};
    hg_report_t *r = report(0, 0);
    hg_ranomaly_t *a = hg_report_add_anomaly(r);
    a->kind = HG_A13_NO_LFH;
    a->severity = HG_SEV_INFO;
    a->count = 1;
    hg__gate_evaluate(&g, r);
    cr_assert(check(r, "fail-on:warning")->passed, "info is below warning");
    cr_assert(!check(r, "fail-on:A13 (lfh-never-engaged)")->passed);
    cr_assert(!r->gate.passed);
    hg_report_free(r);
}

Test(gate, fragmentation_only_for_heaps_spanning_the_cluster_gap) {
    hg_gate_opts_t g = {.has_max_frag = true, .max_fragmentation = 0.5};
    hg_report_t *r = report(0, 0);
    hg_rheap_t *small = hg_report_add_heap(r);
    small->frag.span_bytes = 4096;
    small->frag.external = 0.9;
    hg_rheap_t *big = hg_report_add_heap(r);
    big->frag.span_bytes = 2 << 20;
    big->frag.external = 0.4;
    hg__gate_evaluate(&g, r);
    cr_assert(r->gate.passed);
    cr_assert_str_eq(check(r, "max-fragmentation")->measured, "0.4000");
    big->frag.external = 0.6;
    hg_report_free(r);
}
