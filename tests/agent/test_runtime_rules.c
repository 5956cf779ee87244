/* test_runtime_rules.c - the built-in runtime suppressions (detector/runtime_rules.c): sites
 * whose frames name the C and C++ runtimes' process-lifetime allocations are labelled runtime
 * and leave the gated totals; a program's own functions with similar names are not caught. */
#include "detector_priv.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(runtime_rules);

static hg_report_t *report_with(const char *const *functions, size_t n) {
    hg_report_t *r = hg_report_new();
    cr_assert_not_null(r);
    for (size_t i = 0; i < n; i++) {
        hg_rsite_t *s = hg_report_add_site(r);
        cr_assert_not_null(s);
        s->frames = hg_calloc(2, sizeof *s->frames);
        s->nframes = 2;
        s->frames[0].function = hg_strdup(functions[i]);
        s->frames[1].function = hg_strdup("main");
        s->totals.leaked_bytes = 100;
        s->totals.leaked_blocks = 1;
    }
    return r;
}

Test(runtime_rules, runtime_sites_are_labelled_and_not_gated) {
    const char *functions[] = {
        "_IO_file_doallocate", "_dl_allocate_tls",      "(anonymous namespace)::pool::pool()",
        "__tzfile_read",       "my_IO_file_doallocate", "leak_here"};
    hg_report_t *r = report_with(functions, 6);
    hg_suppressions_t *s = hg__suppressions_new();
    cr_assert_eq(hg__runtime_rules_add(s), 0);
    cr_assert_eq(hg__suppressions_apply(s, r), 0);
    for (size_t i = 0; i < 4; i++) {
        cr_expect(r->sites[i].runtime, "%s", functions[i]);
    }
    cr_expect(!r->sites[4].suppressed_by, "anchored: a program's own name is not caught");
    cr_expect(!r->sites[5].suppressed_by);
    cr_expect_eq(r->totals.leaked_bytes, 200);
    cr_expect_eq(r->suppressed.leaked_bytes, 400);
    for (size_t i = 0; i < r->nsuppressions; i++) {
        cr_expect(r->suppressions[i].builtin);
    }
    hg__suppressions_free(s);
    hg_report_free(r);
}
