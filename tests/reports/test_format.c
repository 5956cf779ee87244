/* test_format.c - format names, the suffix table (ARCHITECTURE.md command-line conventions),
 * write options and dispatch (reports/format.c), frame formatting (reports/frame.c) and the
 * escaping shared by the writers (reports/escape.c). */
#include "internal.h"
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

/* ---- suffixes ----------------------------------------------------------------------------- */

struct suffix_case {
    const char *path;
    int format;
    bool gzip;
};

/* Criterion may run parameterized tests in a fresh process where pointers in a parameter
 * array mean nothing, so parameters are indices into tables at file scope. */
#define INDICES(n)                                                                                 \
    static size_t idx[n];                                                                          \
    for (size_t i = 0; i < (n); i++) {                                                             \
        idx[i] = i;                                                                                \
    }                                                                                              \
    return cr_make_param_array(size_t, idx, (n))
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct suffix_case suffix_cases[] = {
    {"report.txt", HG_RF_TEXT, false},
    {"out/report.json", HG_RF_JSON, false},
    {"report.json.gz", HG_RF_JSON, true},
    {"REPORT.JSON", HG_RF_JSON, false},
    {"report.txt.gz", HG_RF_TEXT, true},
    {"report.html", HG_RF_HTML, false},
    {"report.html.gz", HG_RF_HTML, true},
    {"heap.pb.gz", HG_RF_PPROF, false}, /* pprof is gzip already: never twice */
    {"heap.pprof", HG_RF_PPROF, false},
    {"heap.pprof.gz", HG_RF_PPROF, false},
    {"results.sarif", HG_RF_SARIF, false},
    {"results.sarif.gz", HG_RF_SARIF, true},
    {"junit.xml", HG_RF_JUNIT, false},
    {"stacks.collapsed", HG_RF_COLLAPSED, false},
    {"stacks.folded", HG_RF_COLLAPSED, false},
    {"stacks.folded.gz", HG_RF_COLLAPSED, true},
    {"report", -1, false},
    {"report.gz", -1, true},
    {"report.pb", -1, false},
    {"json", -1, false},
    {"dir.json/report", -1, false},
    {"-", -1, false},
    {"", -1, false},
};

ParameterizedTestParameters(format, suffixes) {
    INDICES(COUNT(suffix_cases));
}

ParameterizedTest(size_t *i, format, suffixes) {
    const struct suffix_case *c = &suffix_cases[*i];
    bool gzip = !c->gzip;
    cr_assert_eq(hg_report_format_from_path(c->path, &gzip), c->format, "%s", c->path);
    cr_assert_eq(gzip, c->gzip, "%s: gzip", c->path);
    cr_assert_eq(hg_report_format_from_path(c->path, NULL), c->format);
}

/* ---- names, availability, dispatch -------------------------------------------------------- */

Test(format, names_round_trip) {
    static const char *const names[] = {"text",  "json",  "html",     "pprof",
                                        "sarif", "junit", "collapsed"};
    for (int f = 0; f < HG_RF_COUNT; f++) {
        cr_assert_str_eq(hg_report_format_name((hg_report_format_t)f), names[f]);
        cr_assert_eq(hg_report_format_parse(names[f]), f);
    }
    cr_assert_eq(hg_report_format_parse("JSON"), HG_RF_JSON);
    cr_assert_eq(hg_report_format_parse("yaml"), -1);
    cr_assert_eq(hg_report_format_parse(NULL), -1);
    cr_assert_str_eq(hg_report_format_name(HG_RF_COUNT), "unknown");
}

Test(format, every_format_is_available) {
    for (int f = 0; f < HG_RF_COUNT; f++) {
        cr_assert(hg_report_format_available((hg_report_format_t)f), "%s",
                  hg_report_format_name(f));
    }
    cr_assert_not(hg_report_format_available(HG_RF_COUNT));
    cr_assert_not(hg_report_format_available((hg_report_format_t)-1));
}

Test(format, unknown_format_is_a_usage_error_and_writes_nothing) {
    hg_report_t *r = hg_report_new();
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "r.sarif");
    hg_out_t *o = hg_out_open(path, false, NULL);
    cr_assert_eq(hg_report_write(r, HG_RF_COUNT, NULL, o), HG_EUSAGE);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    size_t len = 1;
    free(rt_read_file(path, &len));
    cr_assert_eq(len, 0);
    rt_rmtree(dir);
    free(path);
    free(dir);
    hg_report_free(r);
}

Test(format, options_defaults) {
    hg_write_options_t opt;
    memset(&opt, 0xff, sizeof opt);
    hg_write_options_init(&opt);
    cr_assert_eq(opt.top, 10);
    cr_assert_eq(opt.max_frames, 16);
    cr_assert_eq(opt.color, false);
}

Test(format, null_options_mean_defaults) {
    hg_report_t *r = sample_report_new();
    hg_write_options_t opt;
    hg_write_options_init(&opt);
    size_t a, b;
    char *with = rt_render(r, HG_RF_TEXT, &opt, &a), *without = rt_render(r, HG_RF_TEXT, NULL, &b);
    cr_assert_eq(a, b);
    cr_assert_eq(memcmp(with, without, a), 0);
    free(with);
    free(without);
    hg_report_free(r);
}

/* ---- frames ------------------------------------------------------------------------------- */

struct frame_case {
    hg_rframe_t frame;
    const char *expected;
};

static const struct frame_case frame_cases[] = {
    {{.addr = 0x7f01,
      .module = "app",
      .offset = 0x1a2b,
      .function = "main",
      .file = "main.c",
      .line = 12},
     "main (main.c:12)"},
    {{.function = "main", .file = "main.c"}, "main (main.c)"},
    {{.module = "app", .offset = 0x10, .function = "main"}, "main (app+0x10)"},
    {{.function = "main"}, "main"},
    {{.addr = 0x7f01, .module = "libc.so.6", .offset = 0x1a2b}, "libc.so.6+0x1a2b"},
    {{.addr = 0x7ffe12345678}, "0x7ffe12345678"},
    {{.addr = 0}, "0x0"},
    {{.addr = 0xffffffffffffffffull}, "0xffffffffffffffff"},
    {{.function = "f", .file = "f.c", .line = 3, .column = 9, .inlined = true}, "f (f.c:3)"},
};

ParameterizedTestParameters(frame, format) {
    INDICES(COUNT(frame_cases));
}

ParameterizedTest(size_t *i, frame, format) {
    const struct frame_case *c = &frame_cases[*i];
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_puts(&b, ">");
    hg_rframe_format(&c->frame, &b);
    cr_assert_str_eq(b.data + 1, c->expected);
    cr_assert_eq(b.data[0], '>', "appends, does not replace");
    hg_buf_free(&b);
}

/* ---- JSON string escaping ----------------------------------------------------------------- */

struct escape_case {
    const char *in;
    const char *out;
};

static const struct escape_case escape_cases[] = {
    {"plain", "\"plain\""},
    {"", "\"\""},
    {"q\"b\\s/", "\"q\\\"b\\\\s/\""},
    {"\n\t\r\x01\x1f\x7f", "\"\\u000a\\u0009\\u000d\\u0001\\u001f\\u007f\""},
    {"\x1b[31m", "\"\\u001b[31m\""},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {"\xff", "\"\\ufffd\""},
    {"a\xc3(b", "\"a\\ufffd(b\""},                            /* lead byte without continuation */
    {"\xe2\x82", "\"\\ufffd\\ufffd\""},                       /* truncated at the end */
    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong '/' */
    {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},            /* overlong, 3 bytes */
    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* UTF-16 surrogate */
    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
    {"\xc2\x80", "\"\xc2\x80\""},                             /* C1 control: valid JSON as it is */
    {"\xef\xbf\xbf", "\"\xef\xbf\xbf\""},
};

ParameterizedTestParameters(escape, json_string) {
    INDICES(COUNT(escape_cases));
}

ParameterizedTest(size_t *i, escape, json_string) {
    const struct escape_case *c = &escape_cases[*i];
    FILE *fp = tmpfile();
    char buf[256] = {0};
    hg_out_t *o = hg_out_stream(fp, "<tmp>", false, NULL);
    hg__report_json_string(o, c->in);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    rewind(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    cr_assert_str_eq(buf, c->out);
    cr_assert(rt_valid_utf8(buf, n));
}

Test(escape, null_is_json_null) {
    FILE *fp = tmpfile();
    char buf[16] = {0};
    hg_out_t *o = hg_out_stream(fp, "<tmp>", false, NULL);
    hg__report_json_string(o, NULL);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    rewind(fp);
    cr_assert_eq(fread(buf, 1, sizeof buf - 1, fp), 4);
    fclose(fp);
    cr_assert_str_eq(buf, "null");
}
