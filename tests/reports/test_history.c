/* test_history.c - end-to-end: `heapgate diff`, `analyze --baseline` and `heapgate merge` on
 * two runs of the same program, the second with one leak added (text traces with the same
 * modules and stacks at other load addresses, so site ids must match across ASLR). */
#include "../detector/run.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(history, .fini = teardown);

/* Run 1: leaks 100 bytes from stack 1, frees what stack 2 allocates. */
static const char run1[] = "hgtrace 1\n"
                           "module pid=7 base=0x400000 size=0x10000 path=/usr/bin/app\n"
                           "stack 1 0x401234 0x402000\n"
                           "stack 2 0x401300 0x402000\n"
                           "0 start pid=7 name=app\n"
                           "1ms alloc pid=7 addr=0x1000 size=100 stack=1\n"
                           "3ms alloc pid=7 addr=0x3000 size=64 stack=2\n"
                           "4ms free pid=7 addr=0x3000\n"
                           "5ms end pid=7\n";

/* Run 2: the same program loaded elsewhere, with one leak added (stack 3, 48 bytes). */
static const char run2[] = "hgtrace 1\n"
                           "module pid=9 base=0x7f0000 size=0x10000 path=/usr/bin/app\n"
                           "stack 1 0x7f1234 0x7f2000\n"
                           "stack 2 0x7f1300 0x7f2000\n"
                           "stack 3 0x7f1400 0x7f2000\n"
                           "0 start pid=9 name=app\n"
                           "1ms alloc pid=9 addr=0x1000 size=100 stack=1\n"
                           "3ms alloc pid=9 addr=0x3000 size=64 stack=2\n"
                           "4ms free pid=9 addr=0x3000\n"
                           "4ms alloc pid=9 addr=0x4000 size=48 stack=3\n"
                           "5ms end pid=9\n";

static int run(const char *const *args, run_result_t *out) {
    *out = run_heapgate(args);
    return out->status;
}

static json_t *load(const char *path) {
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "%s: %s", path, e.text);
    return j;
}

static json_int_t ji(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "%s", key);
    return json_integer_value(v);
}

static const char *js(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    cr_assert_not_null(s, "%s", key);
    return s;
}

/* analyze TRACE -o NAME.json; returns the JSON's path. */
static char *report_of(const char *trace_text, const char *name) {
    char tname[64], jname[64];
    snprintf(tname, sizeof tname, "%s.txt", name);
    snprintf(jname, sizeof jname, "%s.json", name);
    char *trace = scratch_write(tname, trace_text), *json = scratch_path(jname);
    run_result_t r;
    run((const char *[]){"analyze", trace, "-o", json, NULL}, &r);
    cr_assert_eq(r.status, 1, "the default gate fails on the leak: %s", r.err);
    run_free(&r);
    free(trace);
    return json;
}

/* ---- diff --------------------------------------------------------------------------------- */

static json_t *diff_json(const char *old, const char *new_, const char *const *extra,
                         int want_status) {
    char *out = scratch_path("diff.json");
    const char *args[16] = {"diff", old, new_, "-o", out};
    int n = 5;
    for (int i = 0; extra && extra[i]; i++) {
        args[n++] = extra[i];
    }
    run_result_t r;
    cr_assert_eq(run(args, &r), want_status, "status %d: %s", r.status, r.err);
    run_free(&r);
    json_t *j = load(out);
    free(out);
    return j;
}

Test(history, diff_finds_the_added_leak_across_aslr) {
    char *t1 = scratch_write("run1.txt", run1), *t2 = scratch_write("run2.txt", run2);
    json_t *d = diff_json(t1, t2, NULL, 1);
    cr_assert_str_eq(js(d, "verdict"), "fail");
    json_t *sum = json_object_get(d, "summary");
    cr_assert_eq(ji(sum, "new"), 1);
    cr_assert_eq(ji(sum, "unchanged"), 1, "the old leak matched despite another load address");
    cr_assert_eq(ji(sum, "grown") + ji(sum, "shrunk") + ji(sum, "fixed"), 0);
    json_t *site = json_array_get(json_object_get(d, "sites"), 0);
    cr_assert_str_eq(js(site, "status"), "new");
    cr_assert_eq(ji(site, "delta_bytes"), 48);
    cr_assert_eq(ji(site, "delta_blocks"), 1);
    cr_assert_eq(ji(json_object_get(d, "new"), "leaked_bytes"), 148);
    json_decref(d);
    d = diff_json(t2, t1, NULL, 0); /* the other way round the leak is fixed */
    cr_assert_eq(ji(json_object_get(d, "summary"), "fixed"), 1);
    cr_assert_str_eq(js(d, "verdict"), "pass");
    json_decref(d);
    free(t1);
    free(t2);
}

Test(history, diff_of_json_reports_and_traces_agree) {
    char *j1 = report_of(run1, "r1"), *j2 = report_of(run2, "r2");
    char *t2 = scratch_write("t2.txt", run2);
    json_t *a = diff_json(j1, j2, NULL, 1), *b = diff_json(j1, t2, NULL, 1);
    cr_assert(json_equal(json_object_get(a, "sites"), json_object_get(b, "sites")));
    json_decref(a);
    json_decref(b);
    free(j1);
    free(j2);
    free(t2);
}

Test(history, diff_growth_threshold_and_text) {
    const char grown[] = "hgtrace 1\n"
                         "module pid=7 base=0x400000 size=0x10000 path=/usr/bin/app\n"
                         "stack 1 0x401234 0x402000\n"
                         "0 start pid=7 name=app\n"
                         "1ms alloc pid=7 addr=0x1000 size=100 stack=1\n"
                         "2ms alloc pid=7 addr=0x2000 size=60 stack=1\n"
                         "5ms end pid=7\n";
    char *t1 = scratch_write("a.txt", run1), *t3 = scratch_write("b.txt", grown);
    json_decref(diff_json(t1, t3, NULL, 1));
    json_t *d = diff_json(t1, t3, (const char *[]){"--max-growth-bytes", "60", NULL}, 0);
    cr_assert_eq(ji(json_object_get(d, "summary"), "grown"), 1);
    json_decref(d);
    run_result_t r;
    cr_assert_eq(run((const char *[]){"diff", t1, t3, NULL}, &r), 1);
    cr_assert_not_null(strstr(r.out, "heapgate diff: FAIL"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "Grown leak sites (1)"), "%s", r.out);
    run_free(&r);
    free(t1);
    free(t3);
}

Test(history, diff_usage_and_input_errors) {
    char *t1 = scratch_write("a.txt", run1), *bad = scratch_write("bad.json", "{\"x\": 1}");
    run_result_t r;
    cr_assert_eq(run((const char *[]){"diff", t1, NULL}, &r), 2);
    run_free(&r);
    cr_assert_eq(run((const char *[]){"diff", t1, t1, "--format", "html", NULL}, &r), 2);
    cr_assert_not_null(strstr(r.err, "text or json"), "%s", r.err);
    run_free(&r);
    cr_assert_eq(run((const char *[]){"diff", t1, bad, NULL}, &r), 2);
    cr_assert_not_null(strstr(r.err, "bad.json"), "%s", r.err);
    run_free(&r);
    free(t1);
    free(bad);
}

/* ---- baseline ----------------------------------------------------------------------------- */

static json_t *analyze_with(const char *trace, const char *const *extra, int want_status) {
    char *out = scratch_path("gate.json");
    const char *args[16] = {"analyze", trace, "-o", out};
    int n = 4;
    for (int i = 0; extra && extra[i]; i++) {
        args[n++] = extra[i];
    }
    run_result_t r;
    cr_assert_eq(run(args, &r), want_status, "status %d: %s", r.status, r.err);
    run_free(&r);
    json_t *j = load(out);
    free(out);
    return j;
}

static const json_t *check_named(const json_t *report, const char *name) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(report, "gate"), "checks"), i, c) {
        if (strcmp(js(c, "name"), name) == 0) {
            return c;
        }
    }
    return NULL;
}

Test(history, baseline_allows_known_leaks_and_stops_new_ones) {
    char *base = report_of(run1, "base");
    char *t1 = scratch_write("same.txt", run1), *t2 = scratch_write("more.txt", run2);
    json_t *j = analyze_with(t1, (const char *[]){"--baseline", base, NULL}, 0);
    cr_assert_null(check_named(j, "max-leaked-bytes"), "the baseline replaces the default");
    cr_assert(json_is_true(json_object_get(check_named(j, "fail-on-new"), "passed")));
    json_decref(j);
    j = analyze_with(t2, (const char *[]){"--baseline", base, "--fail-on-new", NULL}, 1);
    const json_t *c = check_named(j, "fail-on-new");
    cr_assert_str_eq(js(c, "measured"), "1");
    json_t *site = json_array_get(json_object_get(j, "sites"), 1);
    cr_assert_eq(ji(site, "leaked_bytes"), 48);
    char name[64];
    snprintf(name, sizeof name, "fail-on-new:%s", js(site, "id"));
    cr_assert_not_null(check_named(j, name), "a check for the new site");
    json_decref(j);
    free(base);
    free(t1);
    free(t2);
}

Test(history, baseline_growth_and_junit) {
    char *base = report_of(run1, "base"), *t2 = scratch_write("more.txt", run2);
    char *xml = scratch_path("junit.xml");
    json_t *j =
        analyze_with(t2, (const char *[]){"--baseline", base, "--max-growth-bytes", "48", NULL}, 0);
    cr_assert_null(check_named(j, "fail-on-new"), "--max-growth-bytes alone: growth only");
    cr_assert_str_eq(js(check_named(j, "max-growth-bytes"), "measured"), "48");
    json_decref(j);
    run_result_t r;
    cr_assert_eq(run((const char *[]){"analyze", t2, "--baseline", base, "--max-growth-bytes", "47",
                                      "-o", xml, NULL},
                     &r),
                 1);
    run_free(&r);
    char *text = read_file(xml, NULL);
    cr_assert_not_null(strstr(text, "name=\"max-growth-bytes\""), "%s", text);
    cr_assert_not_null(strstr(text, "<failure"), "%s", text);
    free(text);
    free(xml);
    free(base);
    free(t2);
}

Test(history, baseline_errors) {
    char *t1 = scratch_write("a.txt", run1), *bad = scratch_write("bad.json", "[1, 2");
    run_result_t r;
    cr_assert_eq(run((const char *[]){"analyze", t1, "--fail-on-new", NULL}, &r), 2);
    cr_assert_not_null(strstr(r.err, "--baseline"), "%s", r.err);
    run_free(&r);
    cr_assert_eq(run((const char *[]){"analyze", t1, "--baseline", bad, NULL}, &r), 2);
    cr_assert_not_null(strstr(r.err, "bad.json"), "%s", r.err);
    run_free(&r);
    free(t1);
    free(bad);
}

/* ---- merge -------------------------------------------------------------------------------- */

Test(history, merge_sums_sites_across_runs) {
    char *j1 = report_of(run1, "m1"), *j2 = report_of(run2, "m2"), *out = scratch_path("m.json");
    char *html = scratch_path("m.html");
    run_result_t r;
    cr_assert_eq(run((const char *[]){"merge", j1, j2, j1, "-o", out, "-o", html, NULL}, &r), 1,
                 "%s", r.err);
    run_free(&r);
    json_t *m = load(out);
    cr_assert_eq(ji(m, "leaked_bytes"), 100 * 3 + 48);
    cr_assert_eq(json_array_size(json_object_get(m, "processes")), 3);
    cr_assert_eq(json_array_size(json_object_get(m, "inputs")), 3);
    json_t *top = json_array_get(json_object_get(m, "sites"), 0);
    cr_assert_eq(ji(top, "leaked_bytes"), 300);
    cr_assert_eq(ji(top, "leaked_blocks"), 3);
    cr_assert_eq(json_array_size(json_object_get(top, "pids")), 2, "pids 7 and 9");
    json_decref(m);
    cr_assert_eq(
        run((const char *[]){"merge", j1, j2, "--max-leaked-bytes", "248", "-o", out, NULL}, &r),
        0);
    run_free(&r);
    cr_assert_eq(run((const char *[]){"merge", NULL}, &r), 2);
    run_free(&r);
    free(j1);
    free(j2);
    free(out);
    free(html);
}
