/* test_xperf.c - the xperf text-dump reader on xperf-sample.txt, a dump written by hand after the
 * documented layout (docs/etw-format.md §4.1; no real heap dump has been published): columns
 * found by their header names, both Stack forms (one row per frame; one row per stack as with
 * -target machine), names from Image!Function kept, and the report's figures. */
#include "../detector/run.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(xperf, .fini = teardown);

static json_int_t jint(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static const char *jstr(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *analyze_sample(void) {
    char *out = scratch_path("r.json");
    const char *args[] = {"analyze", HG_SOURCE_DIR "/tests/etl/xperf-sample.txt", "-o", out, NULL};
    run_result_t r = run_heapgate(args);
    cr_assert_eq(r.status, 1, "status %d: %s", r.status, r.err);
    json_error_t jerr;
    json_t *j = json_load_file(out, 0, &jerr);
    cr_assert_not_null(j, "%s", jerr.text);
    run_free(&r);
    free(out);
    return j;
}

/* The site whose first frame (after trimming) has this function name. */
static json_t *site_of(json_t *j, const char *function) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "sites"), i, s) {
        json_t *f0 = json_array_get(json_object_get(s, "frames"), 0);
        if (jstr(f0, "function") && strcmp(jstr(f0, "function"), function) == 0) {
            return s;
        }
    }
    cr_assert_fail("no site starting at %s", function);
    return NULL;
}

Test(xperf, sample_report) {
    json_t *j = analyze_sample();
    cr_assert_str_eq(jstr(json_array_get(json_object_get(j, "inputs"), 0), "format"), "xperf");
    cr_assert_eq(jint(j, "leaked_bytes"), 180); /* 100 + the 80 the 50 grew into */
    cr_assert_eq(jint(j, "leaked_blocks"), 2);
    json_t *p = json_array_get(json_object_get(j, "processes"), 0);
    cr_assert_eq(jint(p, "pid"), 4242);
    cr_assert_str_eq(jstr(p, "name"), "app.exe");
    cr_assert_str_eq(jstr(p, "cmdline"), "\"C:\\app\\app.exe\" --run, fast");
    cr_assert(json_is_true(json_object_get(p, "ended")));
    cr_assert(json_is_true(json_object_get(p, "traced_from_start")));
    json_t *make = site_of(j, "Widget::Make<int,char>"), *grow = site_of(j, "Grow");
    cr_assert_eq(jint(make, "leaked_bytes"), 100);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(make, "frames"), 0), "module"), "app.exe");
    cr_assert_str_eq(jstr(json_array_get(json_object_get(make, "frames"), 1), "function"), "main");
    cr_assert_str_eq(jstr(json_array_get(json_object_get(make, "frames"), 0), "offset"), "0x1234");
    cr_assert_eq(jint(grow, "leaked_bytes"), 80, "-target machine stack, synthetic addresses");
    json_t *t = json_object_get(j, "trace");
    cr_assert_eq(jint(t, "allocs"), 2);
    cr_assert_eq(jint(t, "reallocs"), 1);
    cr_assert_eq(jint(t, "unmatched_frees"), 1);
    cr_assert_eq(jint(t, "start_wall_ns"), 1704067200000000000LL);
    json_decref(j);
}

Test(xperf, bad_dumps_name_the_line) {
    char *p = scratch_write("bad.txt", "BeginHeader\n  HeapAlloc, TimeStamp, ThreadID\n");
    const char *args[] = {"analyze", p, "-o", "/dev/null", NULL};
    run_result_t r = run_heapgate(args);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "bad.txt:2") && strstr(r.err, "EndHeader"), "%s", r.err);
    run_free(&r);
    free(p);
}
