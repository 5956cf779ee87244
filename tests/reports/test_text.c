/* test_text.c - the text writer (reports/text*.c): golden output of the sample report, line
 * width and terminal safety, colour, section order, verdict forms, top/max_frames limits,
 * suppressed and runtime sites, and allocation failures.
 *
 * Regenerate the golden file after an intended change: HG_UPDATE_GOLDEN=1 ctest -R report. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *render(const hg_report_t *r, const hg_write_options_t *opt, size_t *len) {
    char *text = rt_render(r, HG_RF_TEXT, opt, len);
    cr_assert_not_null(text);
    return text;
}

static char *render_sample(const hg_write_options_t *opt, size_t *len) {
    hg_report_t *r = sample_report_new();
    cr_assert_not_null(r);
    char *text = render(r, opt, len);
    hg_report_free(r);
    return text;
}

static size_t columns(const char *line, size_t len) {
    size_t cols = 0;
    for (size_t i = 0; i < len; i++) {
        cols += ((unsigned char)line[i] & 0xc0) != 0x80;
    }
    return cols;
}

/* Removes ANSI SGR sequences (ESC [ ... m) in place; returns the new length. */
static size_t strip_sgr(char *s, size_t len) {
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\x1b' && i + 1 < len && s[i + 1] == '[') {
            while (i < len && s[i] != 'm') {
                i++;
            }
            continue;
        }
        s[out++] = s[i];
    }
    s[out] = '\0';
    return out;
}

Test(text, golden) {
    size_t len;
    char *text = render_sample(NULL, &len);
    rt_golden("sample.txt", text, len);
    free(text);
}

Test(text, lines_fit_100_columns_and_hold_no_control_characters) {
    size_t len;
    char *text = render_sample(NULL, &len);
    cr_assert(rt_valid_utf8(text, len));
    cr_assert_eq(text[len - 1], '\n');
    size_t line = 1, start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        cr_assert(c >= 0x20 || c == '\n', "control byte 0x%02x on line %zu", c, line);
        cr_assert_neq(c, 0x7f, "DEL on line %zu", line);
        if (c == '\n') {
            cr_assert_leq(columns(text + start, i - start), 100, "line %zu is too wide", line);
            cr_assert(i == start || text[i - 1] != ' ', "trailing space on line %zu", line);
            start = i + 1;
            line++;
        }
    }
    cr_assert(strstr(text, "svc?]0;pwned?\"name\"\\") != NULL, "hostile name not sanitized");
    cr_assert(strstr(text, "red\xef\xbf\xbd\xef\xbf\xbd.etl") != NULL);
    free(text);
}

Test(text, colour_only_when_asked_and_nothing_else_changes) {
    hg_write_options_t opt;
    hg_write_options_init(&opt);
    size_t plain_len, len;
    char *plain = render_sample(&opt, &plain_len);
    cr_assert_null(memchr(plain, '\x1b', plain_len));
    opt.color = true;
    char *colour = render_sample(&opt, &len);
    cr_assert(strstr(colour, "\x1b[1;31mFAIL\x1b[0m") != NULL);
    len = strip_sgr(colour, len);
    cr_assert_eq(len, plain_len);
    cr_assert_str_eq(colour, plain);
    free(colour);
    free(plain);
}

Test(text, verdict_comes_first_with_the_failing_checks) {
    size_t len;
    char *text = render_sample(NULL, &len);
    const char *first = "heapgate 0.1.0-test: FAIL (3 of 4 checks failed)\n";
    cr_assert_eq(strncmp(text, first, strlen(first)), 0, "%.80s", text);
    char *checks = strstr(text, "  FAIL  max-leaked-bytes");
    cr_assert_not_null(checks);
    cr_assert(strstr(checks, "measured 5120, limit 1024") != NULL);
    cr_assert(strstr(text, "max-fragmentation") == NULL, "passed checks are not listed");
    free(text);
}

Test(text, sections_come_in_order) {
    static const char *const headings[] = {
        "\nTotals",    "\nINCOMPLETE",    "\nProcesses",        "\nTop leak sites",
        "\nAnomalies", "\nFragmentation", "\nLifetime classes", "\nTrace quality"};
    size_t len;
    char *text = render_sample(NULL, &len);
    const char *prev = text;
    for (size_t i = 0; i < sizeof headings / sizeof headings[0]; i++) {
        const char *at = strstr(text, headings[i]);
        cr_assert_not_null(at, "no %s", headings[i] + 1);
        cr_assert_gt(at, prev, "%s out of order", headings[i] + 1);
        prev = at;
    }
    cr_assert(strstr(text, "not the allocator's real state") != NULL, "estimate note");
    free(text);
}

Test(text, suppressed_sites_are_counted_not_shown) {
    size_t len;
    char *text = render_sample(NULL, &len);
    cr_assert(strstr(text, "5555666677778888") == NULL);
    cr_assert(strstr(text, "  1 site suppressed (1.0 KiB)\n") != NULL);
    cr_assert(strstr(text, "  3 of 3 sites with leaked or outstanding blocks\n") != NULL);
    char *runtime = strstr(text, "#1  site 9999aaaabbbbcccc");
    cr_assert_not_null(runtime);
    cr_assert_eq(strncmp(runtime + 25, "  runtime, not gated", 20), 0);
    cr_assert(strstr(text, "ddddeeeeffff0000") == NULL, "site without live blocks shown");
    free(text);
}

Test(text, top_limits_sites_processes_heaps_and_anomalies) {
    hg_write_options_t opt;
    hg_write_options_init(&opt);
    opt.top = 1;
    size_t len;
    char *text = render_sample(&opt, &len);
    cr_assert(strstr(text, "#1  site") != NULL);
    cr_assert(strstr(text, "#2  site") == NULL);
    cr_assert(strstr(text, "  1 of 3 sites with leaked or outstanding blocks\n") != NULL);
    cr_assert(strstr(text, "  ... 1 more processes\n") != NULL);
    cr_assert(strstr(text, "  ... 1 more heaps with smaller spans\n") != NULL);
    cr_assert(strstr(text, "    ... 1 more (1 occurrence)\n") != NULL, "info group limit");
    free(text);
}

Test(text, frames_are_limited_by_max_frames) {
    hg_write_options_t opt;
    hg_write_options_init(&opt);
    size_t len;
    char *text = render_sample(&opt, &len);
    cr_assert(strstr(text, "      ... 4 more\n") != NULL);
    cr_assert(strstr(text, "level_15 (server.c:115)") != NULL);
    cr_assert(strstr(text, "level_16") == NULL);
    free(text);
    opt.max_frames = 0;
    text = render_sample(&opt, &len);
    cr_assert(strstr(text, "level_19 (server.c:119)") != NULL);
    cr_assert(strstr(text, "      ... 4 more\n") == NULL);
    free(text);
}

Test(text, frames_show_every_form) {
    size_t len;
    char *text = render_sample(NULL, &len);
    cr_assert(strstr(text, "   0  malloc (libc.so.6+0x1000)\n") != NULL);
    cr_assert(strstr(text, "   1  [inlined] inline_helper (src/helper.h:17)\n") != NULL);
    cr_assert(strstr(text, "   3  app+0x3abc\n") != NULL);
    cr_assert(strstr(text, "   4  0xffffffffffffffff\n") != NULL);
    cr_assert(strstr(text, "std::vector<std::basic_string<char,") != NULL);
    cr_assert(strstr(text, "...") != NULL);
    cr_assert(strstr(text, "(/usr/include/c++/12/bits/vector.tcc:449)\n") != NULL,
              "a shortened frame keeps its file:line");
    free(text);
}

static hg_report_t *gate_report(bool evaluated, bool passed) {
    hg_report_t *r = hg_report_new();
    cr_assert_not_null(r);
    r->tool_version = hg_strdup("9.9");
    r->gate.evaluated = evaluated;
    r->gate.passed = passed;
    hg_rcheck_t *c = hg_report_add_check(r);
    c->name = hg_strdup("max-leaked-bytes");
    c->passed = passed;
    return r;
}

Test(text, pass_and_not_evaluated_verdicts) {
    size_t len;
    hg_report_t *r = gate_report(true, true);
    char *text = render(r, NULL, &len);
    cr_assert_eq(strncmp(text, "heapgate 9.9: PASS (1 checks passed)\n", 37), 0, "%.60s", text);
    free(text);
    hg_report_free(r);
    r = gate_report(false, false);
    text = render(r, NULL, &len);
    cr_assert_eq(strncmp(text, "heapgate 9.9: verdict not evaluated", 35), 0, "%.60s", text);
    free(text);
    hg_report_free(r);
}

Test(text, empty_report) {
    hg_report_t *r = hg_report_new();
    size_t len;
    char *text = render(r, NULL, &len);
    cr_assert_eq(strncmp(text, "heapgate: verdict not evaluated", 31), 0, "%.60s", text);
    cr_assert(strstr(text, "no site has leaked or outstanding blocks") != NULL);
    cr_assert(strstr(text, "Anomalies (0 entries, 0 occurrences)") != NULL);
    cr_assert(strstr(text, "Fragmentation (0 heaps)") != NULL);
    cr_assert(strstr(text, "INCOMPLETE") == NULL);
    cr_assert(strstr(text, "Lifetime classes") == NULL, "shown only when enabled");
    free(text);
    hg_report_free(r);
}

Test(text, allocation_failures_leave_no_file_and_no_leak) {
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "r.txt");
    size_t plain_len, len;
    char *plain = render(r, NULL, &plain_len);
    uint64_t live = hg_mem_stats().live_bytes;
    int rc = -1;
    long n;
    for (n = 0; n < 200 && rc != 0; n++) {
        hg_error_t err = {0};
        hg_mem_fail_after(n);
        hg_out_t *o = hg_out_open(path, false, &err);
        if (o) {
            hg_report_write(r, HG_RF_TEXT, NULL, o);
            rc = hg_out_commit(o, &err);
        }
        hg_mem_fail_after(-1);
        cr_assert_eq(hg_mem_stats().live_bytes, live, "attempt %ld leaked", n);
        if (rc != 0) {
            cr_assert_eq(err.code, HG_ENOMEM, "attempt %ld: %s", n, err.msg);
            cr_assert_eq(rt_count_entries(dir), 0, "attempt %ld left a file", n);
        }
    }
    cr_assert_eq(rc, 0, "never succeeded");
    cr_assert_gt(n, 3, "the text writer should allocate (line buffers, indexes)");
    char *back = rt_read_file(path, &len);
    cr_assert_eq(len, plain_len);
    cr_assert_eq(memcmp(back, plain, len), 0);
    free(back);
    free(plain);
    rt_rmtree(dir);
    free(path);
    free(dir);
    hg_report_free(r);
}
