/* test_junit.c - the JUnit XML writer (reports/junit.c): golden output, one test case per gate
 * check, a case even when no gate ran, per-site cases, and hostile strings kept inside their
 * attributes. check_markup.py parses the output with a standard XML parser. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static size_t count(const char *text, const char *needle) {
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    return n;
}

Test(junit, golden_sample) {
    hg_report_t *r = sample_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_JUNIT, NULL, &len);
    rt_golden("sample.xml", text, len);
    cr_assert(rt_valid_utf8(text, len));
    cr_assert_eq(count(text, "<testcase "), r->gate.nchecks + 3); /* 3 leaking sites */
    cr_assert_eq(count(text, "<failure "), 3 + 1);
    cr_assert_eq(count(text, "<skipped "), 2); /* the suppressed and the runtime site */
    cr_assert_null(strchr(text, '\x1b'), "escape characters must not reach the XML");
    free(text);
    hg_report_free(r);
}

Test(junit, a_case_even_without_a_gate) {
    hg_report_t *r = hg_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_JUNIT, NULL, &len);
    cr_assert_eq(count(text, "<testcase "), 1);
    cr_assert_not_null(strstr(text, "<skipped message=\"no gate was run\"/>"));
    cr_assert_not_null(strstr(text, "tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\""));
    free(text);
    hg_report_free(r);
}

/* The default gate of a clean run: two passing checks, no site suite. */
Test(junit, default_gate_passing) {
    hg_report_t *r = hg_report_new();
    r->gate.evaluated = r->gate.passed = true;
    const char *names[] = {"max-leaked-bytes", "fail-on:error"};
    for (int i = 0; i < 2; i++) {
        hg_rcheck_t *c = hg_report_add_check(r);
        *c = (hg_rcheck_t){.name = hg_strdup(names[i]),
                           .measured = hg_strdup("0"),
                           .limit = hg_strdup("0"),
                           .passed = true};
    }
    size_t len;
    char *text = rt_render(r, HG_RF_JUNIT, NULL, &len);
    cr_assert_eq(count(text, "<testcase "), 2);
    cr_assert_eq(count(text, "<failure"), 0);
    cr_assert_eq(count(text, "heapgate.sites"), 0);
    free(text);
    hg_report_free(r);
}
