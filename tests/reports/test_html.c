/* test_html.c - the HTML writer (reports/html*.c): golden output of the sample, a page with
 * nothing to show, and a large report whose page stays small (top sites only, narrow icicle
 * boxes pruned). check_markup.py parses the pages with XML and HTML parsers, compares their
 * figures with the JSON and renders them in Chromium. */
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

Test(html, golden_sample) {
    hg_report_t *r = sample_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_HTML, NULL, &len);
    rt_golden("sample.html", text, len);
    cr_assert(rt_valid_utf8(text, len));
    cr_assert_null(strchr(text, '\x1b'), "terminal escapes must not reach the page");
    cr_assert_null(strstr(text, "<script src"), "self-contained");
    cr_assert_eq(count(text, "<details class=\"site\""), 3, "leak, outstanding, runtime sites");
    free(text);
    hg_report_free(r);
}

Test(html, empty_report) {
    hg_report_t *r = hg_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_HTML, NULL, &len);
    cr_assert_not_null(strstr(text, "verdict not evaluated"));
    cr_assert_not_null(strstr(text, "No leaked or outstanding blocks."));
    cr_assert_not_null(strstr(text, "Nothing leaked."));
    cr_assert_not_null(strstr(text, "</html>\n"));
    free(text);
    hg_report_free(r);
}

Test(html, large_report_shows_top_sites_only) {
    hg_report_t *r = sample_report_many_sites(3000);
    hg_write_options_t opt;
    hg_write_options_init(&opt);
    size_t len;
    char *text = rt_render(r, HG_RF_HTML, &opt, &len);
    cr_assert_eq(count(text, "<details class=\"site\""), opt.top);
    cr_assert_lt(len, 4u << 20, "the page stays small: %zu bytes", len);
    cr_assert_not_null(strstr(text, "more sites with live blocks"));
    free(text);
    opt.top = 0; /* all */
    text = rt_render(r, HG_RF_HTML, &opt, &len);
    cr_assert_gt(count(text, "<details class=\"site\""), 2000);
    free(text);
    hg_report_free(r);
}
