/* test_collapsed.c - the collapsed-stack writer (reports/collapsed.c): golden output, counts
 * that add up to leaked_bytes, frame order (outermost first) and names that cannot break a
 * line. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Sums the counts of every line, checking each line's shape: frames, one space, digits. */
static unsigned long long sum_lines(const char *text, size_t *lines) {
    unsigned long long sum = 0;
    *lines = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "last line has no newline");
        const char *sp = nl;
        while (sp > p && sp[-1] != ' ') {
            sp--;
        }
        cr_assert_gt(sp, p + 1, "no frames before the count");
        char *end;
        sum += strtoull(sp, &end, 10);
        cr_assert_eq(end, nl, "count is not all digits");
        (*lines)++;
        p = nl + 1;
    }
    return sum;
}

Test(collapsed, golden_sample) {
    hg_report_t *r = sample_report_new();
    size_t len, lines;
    char *text = rt_render(r, HG_RF_COLLAPSED, NULL, &len);
    rt_golden("sample.collapsed", text, len);
    cr_assert_eq(sum_lines(text, &lines), 4096); /* the one unsuppressed leaking site */
    cr_assert_eq(lines, 1);
    free(text);
    hg_report_free(r);
}

Test(collapsed, lines_add_up_to_unsuppressed_leaks) {
    hg_report_t *r = sample_report_many_sites(5000);
    size_t len, lines, expect_lines = 0;
    unsigned long long leaked = 0;
    for (size_t i = 0; i < r->nsites; i++) {
        leaked += r->sites[i].totals.leaked_bytes;
        expect_lines += r->sites[i].totals.leaked_bytes != 0;
    }
    char *text = rt_render(r, HG_RF_COLLAPSED, NULL, &len);
    cr_assert_eq(sum_lines(text, &lines), leaked);
    cr_assert_eq(lines, expect_lines);
    cr_assert(rt_valid_utf8(text, len));
    free(text);
    hg_report_free(r);
}

Test(collapsed, outermost_first_and_clean_names) {
    hg_report_t *r = hg_report_new();
    hg_rsite_t *s = hg_report_add_site(r);
    s->id = hg_strdup("0000000000000001");
    s->frames = hg_calloc(3, sizeof *s->frames);
    s->nframes = 3;
    s->frames[0].function = hg_strdup("inner;x\ny");
    s->frames[0].inlined = true;
    s->frames[1].function = hg_strdup("bad\xff utf8 \xc2\x85");
    s->frames[2].module = hg_strdup("app");
    s->frames[2].offset = 0x42;
    s->totals.leaked_bytes = 7;
    size_t len;
    char *text = rt_render(r, HG_RF_COLLAPSED, NULL, &len);
    cr_assert_str_eq(text,
                     "app+0x42;bad\xef\xbf\xbd utf8 \xef\xbf\xbd;inner:x\xef\xbf\xbdy_[i] 7\n");
    free(text);
    hg_report_free(r);
}

Test(collapsed, empty_report_is_empty) {
    hg_report_t *r = hg_report_new();
    size_t len = 1;
    free(rt_render(r, HG_RF_COLLAPSED, NULL, &len));
    cr_assert_eq(len, 0);
    hg_report_free(r);
}
