/* test_json.c - the JSON writer (reports/json.c): golden output of the sample report, the
 * output parsed back with jansson and checked key by key against the report vocabulary
 * (ARCHITECTURE.md, docs/report-json.md), hostile strings, precision, gzip, allocation failures
 * and speed on 100,000 sites.
 *
 * Regenerate the golden file after an intended change: HG_UPDATE_GOLDEN=1 ctest -R report. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *parse(const char *text, size_t len) {
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    cr_assert_not_null(j, "invalid JSON at line %d column %d: %s", e.line, e.column, e.text);
    return j;
}

static json_t *render_sample(char **text, size_t *len) {
    hg_report_t *r = sample_report_new();
    cr_assert_not_null(r);
    *text = rt_render(r, HG_RF_JSON, NULL, len);
    hg_report_free(r);
    return parse(*text, *len);
}

/* obj has exactly these keys, in this order. */
static void check_keys(const json_t *obj, const char *where, const char *const *keys) {
    cr_assert(json_is_object(obj), "%s is not an object", where);
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        (void)value;
        cr_assert_not_null(keys[i], "%s: unexpected key %s", where, key);
        cr_assert_str_eq(key, keys[i], "%s: key %zu", where, i);
        i++;
    }
    cr_assert_null(keys[i], "%s: missing key %s", where, keys[i]);
}

static json_t *at(const json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    cr_assert_not_null(v, "no key %s", key);
    return v;
}

static json_t *item(const json_t *obj, const char *key, size_t i) {
    json_t *a = at(obj, key);
    cr_assert(json_is_array(a), "%s is not an array", key);
    cr_assert_lt(i, json_array_size(a), "%s has no element %zu", key, i);
    return json_array_get(a, i);
}

static void check_int(const json_t *obj, const char *key, long long expected) {
    json_t *v = at(obj, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    cr_assert_eq(json_integer_value(v), expected, "%s = %lld", key, json_integer_value(v));
}

static void check_str(const json_t *obj, const char *key, const char *expected) {
    json_t *v = at(obj, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    cr_assert_str_eq(json_string_value(v), expected, "%s", key);
}

static void check_null(const json_t *obj, const char *key) {
    cr_assert(json_is_null(at(obj, key)), "%s is not null", key);
}

#define TOTALS                                                                                     \
    "leaked_bytes", "leaked_blocks", "outstanding_bytes", "outstanding_blocks",                    \
        "released_by_destroy_bytes", "released_by_destroy_blocks"
#define LIFETIME                                                                                   \
    "enabled", "t0_ns", "t1_ns", "aifi_blocks", "aifi_bytes", "aifo_blocks", "aifo_bytes",         \
        "aofi_blocks", "aofi_bytes", "aofo_blocks", "aofo_bytes", "impacting_bytes"

/* The key vocabulary, object by object, in output order (docs/report-json.md). */
static const char *const K_REPORT[] = {"schema_version",
                                       "tool_version",
                                       "inputs",
                                       TOTALS,
                                       "incomplete",
                                       "warnings",
                                       "processes",
                                       "sites",
                                       "anomalies",
                                       "fragmentation",
                                       "timeline",
                                       "allocator_stats",
                                       "lifetime",
                                       "trace",
                                       "suppressions",
                                       "gate",
                                       NULL};
static const char *const K_PROCESS[] = {"pid",
                                        "name",
                                        "ended",
                                        "traced_from_start",
                                        TOTALS,
                                        "parent_pid",
                                        "instance",
                                        "cmdline",
                                        "pointer_size",
                                        "allocator",
                                        "start_ts_ns",
                                        "end_ts_ns",
                                        "allocs",
                                        "reallocs",
                                        "frees",
                                        "alloc_bytes",
                                        "peak_live_bytes",
                                        "peak_live_ts_ns",
                                        "lifetime",
                                        "input",
                                        NULL};
static const char *const K_LIFETIME[] = {LIFETIME, NULL};
static const char *const K_SITE[] = {
    "id",          "frames",     TOTALS,        "allocs",     "alloc_bytes", "peak_live_bytes",
    "first_ts_ns", "last_ts_ns", "aifo_blocks", "aifo_bytes", "pids",        "suppressed_by",
    "runtime",     NULL};
static const char *const K_FRAME[] = {"addr", "module", "offset",  "function", "file",
                                      "line", "column", "inlined", NULL};
static const char *const K_ANOMALY[] = {"kind", "id",          "name",    "severity", "count",
                                        "site", "description", "example", NULL};
static const char *const K_EXAMPLE[] = {"ts_ns", "pid",  "tid",   "heap",
                                        "addr",  "size", "other", NULL};
static const char *const K_FRAGMENTATION[] = {"cluster_gap_bytes", "estimate_note", "heaps", NULL};
static const char *const K_HEAP[] = {"pid",
                                     "process",
                                     "handle",
                                     "created_in_trace",
                                     "destroyed",
                                     "create_ts_ns",
                                     "destroy_ts_ns",
                                     "allocs",
                                     "frees",
                                     "alloc_bytes",
                                     "peak_live_bytes",
                                     "peak_live_ts_ns",
                                     "peak_live_blocks",
                                     "max_span_bytes",
                                     "peak_ratio",
                                     "source_allocs",
                                     "growth_signal",
                                     "frag",
                                     NULL};
static const char *const K_FRAG[] = {"ts_ns",
                                     "live_bytes",
                                     "live_blocks",
                                     "rounded_bytes",
                                     "internal_waste_bytes",
                                     "clusters",
                                     "span_bytes",
                                     "utilisation",
                                     "span_overhead",
                                     "holes",
                                     "free_bytes",
                                     "largest_hole",
                                     "external",
                                     "sawicki",
                                     "hole_histogram",
                                     "fit",
                                     NULL};
static const char *const K_SOURCES[] = {"na",      "lookaside", "lfh",   "main", "slow",
                                        "invalid", "segment",   "other", NULL};
static const char *const K_SAMPLE[] = {"ts_ns",
                                       "process",
                                       "pid",
                                       "heap",
                                       "live_bytes",
                                       "live_blocks",
                                       "measured",
                                       "span_bytes",
                                       "free_bytes",
                                       "largest_hole",
                                       "external",
                                       "allocs_total",
                                       "slow_allocs_total",
                                       NULL};
static const char *const K_STATS[] = {"process",       "pid",          "ts_ns",
                                      "arena_bytes",   "in_use_bytes", "free_bytes",
                                      "mmapped_bytes", "rss_bytes",    NULL};
static const char *const K_TRACE[] = {"events",
                                      "filtered_events",
                                      "unmatched_frees",
                                      "failed_allocations",
                                      "allocs",
                                      "reallocs",
                                      "frees",
                                      "heap_creates",
                                      "heap_destroys",
                                      "lost_events",
                                      "lost_buffers",
                                      "lost_counts_known",
                                      "truncated",
                                      "first_ts_ns",
                                      "last_ts_ns",
                                      "start_wall_ns",
                                      "stacks_defined",
                                      "stacks_undefined",
                                      "markers",
                                      "settle_ignored_blocks",
                                      "settle_ignored_bytes",
                                      "out_of_order_events",
                                      NULL};
static const char *const K_SUPP[] = {"sites", "bytes", "blocks", TOTALS, "rules", NULL};
static const char *const K_RULE[] = {"pattern", "builtin", "sites", "bytes", "blocks", NULL};
static const char *const K_GATE[] = {"verdict", "checks", NULL};
static const char *const K_CHECK[] = {"name",   "measured", "limit", "passed",
                                      "detail", "site",     NULL};

Test(json, golden) {
    char *text;
    size_t len;
    json_decref(render_sample(&text, &len));
    rt_golden("sample.json", text, len);
    cr_assert(rt_valid_utf8(text, len));
    free(text);
}

Test(json, top_level_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    check_keys(j, "report", K_REPORT);
    check_int(j, "schema_version", HG_REPORT_SCHEMA_VERSION);
    check_str(j, "tool_version", SAMPLE_TOOL_VERSION);
    check_int(j, "leaked_bytes", 5120);
    check_int(j, "released_by_destroy_blocks", 1);
    cr_assert(json_is_true(at(j, "incomplete")));
    check_str(item(j, "inputs", 0), "path", "traces/app run.hgt");
    check_str(item(j, "inputs", 1), "format", "etl");
    cr_assert_eq(json_array_size(at(j, "warnings")), 2);
    json_decref(j);
    free(text);
}

Test(json, process_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    json_t *p0 = item(j, "processes", 0), *p1 = item(j, "processes", 1);
    check_keys(p0, "processes[0]", K_PROCESS);
    check_keys(at(p0, "lifetime"), "processes[0].lifetime", K_LIFETIME);
    check_int(p0, "pid", 1234);
    check_int(p0, "end_ts_ns", 9000000000LL);
    check_str(p0, "cmdline", "app.exe --run \"fast\"");
    check_null(p1, "end_ts_ns"); /* still running */
    check_null(p1, "cmdline");
    check_int(at(p1, "lifetime"), "impacting_bytes", -4096);
    json_decref(j);
    free(text);
}

Test(json, site_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    cr_assert_eq(json_array_size(at(j, "sites")), 5);
    json_t *runtime = item(j, "sites", 0), *leak = item(j, "sites", 1);
    check_keys(leak, "sites[1]", K_SITE);
    check_str(runtime, "suppressed_by", "leak:__gnu_cxx::__freeres");
    cr_assert(json_is_true(at(runtime, "runtime")));
    check_str(leak, "id", "00a1b2c3d4e5f607");
    check_null(leak, "suppressed_by");
    check_int(leak, "leaked_bytes", 4096);
    cr_assert_eq(json_integer_value(item(leak, "pids", 1)), 5678);
    for (size_t i = 0; i < 5; i++) {
        check_keys(item(leak, "frames", i), "frame", K_FRAME);
    }
    json_t *f0 = item(leak, "frames", 0), *f1 = item(leak, "frames", 1);
    json_t *f4 = item(leak, "frames", 4);
    check_str(f0, "addr", "0x7f0000001000");
    check_str(f0, "offset", "0x1000");
    check_null(f0, "file");
    check_null(f0, "line");
    check_int(f1, "line", 17);
    check_int(f1, "column", 3);
    cr_assert(json_is_true(at(f1, "inlined")));
    check_str(f4, "addr", "0xffffffffffffffff");
    check_null(f4, "module");
    check_null(f4, "offset");
    json_decref(j);
    free(text);
}

Test(json, anomaly_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    json_t *a3 = item(j, "anomalies", 0), *a2 = item(j, "anomalies", 1);
    check_keys(a3, "anomalies[0]", K_ANOMALY);
    check_keys(at(a3, "example"), "anomalies[0].example", K_EXAMPLE);
    check_str(a3, "kind", "A3");
    check_str(a3, "name", "wrong-heap-free");
    check_str(a3, "severity", "error");
    check_str(at(a3, "example"), "heap", "0x20a1b2c0000");
    check_str(at(a3, "example"), "other", "0xffffffffffff0000"); /* a heap handle for A3 */
    check_str(a2, "severity", "warning");
    check_null(a2, "site");
    check_str(a2, "description", "free of an address already freed \"twice\"\x01");
    check_str(item(j, "anomalies", 2), "severity", "info");
    check_int(at(item(j, "anomalies", 3), "example"), "other", 48);
    json_decref(j);
    free(text);
}

Test(json, fragmentation_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len), *fr = at(j, "fragmentation");
    check_keys(fr, "fragmentation", K_FRAGMENTATION);
    check_int(fr, "cluster_gap_bytes", 1048576);
    json_t *h0 = item(fr, "heaps", 0), *h1 = item(fr, "heaps", 1);
    check_keys(h0, "heaps[0]", K_HEAP);
    check_keys(at(h0, "frag"), "frag", K_FRAG);
    check_keys(at(h0, "source_allocs"), "source_allocs", K_SOURCES);
    check_int(at(h0, "source_allocs"), "slow", 4);
    check_str(h1, "handle", "0xffffffffffffffff");
    check_null(h0, "destroy_ts_ns");
    check_int(h1, "destroy_ts_ns", 8000000000LL);
    cr_assert(json_is_null(at(h1, "peak_ratio")), "Inf must be null");
    cr_assert(json_is_null(at(at(h1, "frag"), "sawicki")), "NaN must be null");
    cr_assert_float_eq(json_real_value(at(at(h0, "frag"), "span_overhead")), 1.0 / 3.0, 1e-9);
    json_t *hist = at(at(h0, "frag"), "hole_histogram");
    cr_assert_eq(json_array_size(hist), 3);
    check_int(json_array_get(hist, 1), "min_bytes", 131072);
    check_int(json_array_get(hist, 1), "count", 10);
    check_int(json_array_get(hist, 2), "bucket", 40);
    json_t *fit1 = item(at(h0, "frag"), "fit", 1);
    cr_assert(json_is_false(at(fit1, "defined")));
    check_null(fit1, "ratio");
    json_decref(j);
    free(text);
}

Test(json, series_and_trace_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    check_keys(item(j, "timeline", 0), "timeline[0]", K_SAMPLE);
    check_null(item(j, "timeline", 2), "pid"); /* process index outside the report */
    check_null(item(j, "timeline", 1), "external");
    check_null(item(j, "timeline", 2), "span_bytes"); /* not measured */
    check_keys(item(j, "allocator_stats", 1), "allocator_stats[1]", K_STATS);
    check_null(item(j, "allocator_stats", 1), "rss_bytes");
    check_int(item(j, "allocator_stats", 1), "pid", 5678);
    check_keys(at(j, "lifetime"), "lifetime", K_LIFETIME);
    check_keys(at(j, "trace"), "trace", K_TRACE);
    check_int(at(j, "trace"), "events", (long long)SAMPLE_BIG_COUNT); /* exact above 2^53 */
    check_int(at(j, "trace"), "start_wall_ns", 1700000000123456789LL);
    json_decref(j);
    free(text);
}

Test(json, suppressions_and_gate_vocabulary) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    json_t *supp = at(j, "suppressions"), *gate = at(j, "gate");
    check_keys(supp, "suppressions", K_SUPP);
    check_int(supp, "sites", 2);
    check_int(supp, "bytes", 73728);
    check_keys(item(supp, "rules", 1), "rules[1]", K_RULE);
    cr_assert(json_is_true(at(item(supp, "rules", 1), "builtin")));
    check_keys(gate, "gate", K_GATE);
    check_str(gate, "verdict", "fail");
    check_keys(item(gate, "checks", 0), "checks[0]", K_CHECK);
    check_str(item(gate, "checks", 1), "site", "00a1b2c3d4e5f607");
    check_null(item(gate, "checks", 3), "detail");
    cr_assert(json_is_true(at(item(gate, "checks", 3), "passed")));
    json_decref(j);
    free(text);
}

Test(json, hostile_strings_survive_as_valid_utf8) {
    char *text;
    size_t len;
    json_t *j = render_sample(&text, &len);
    cr_assert(rt_valid_utf8(text, len));
    check_str(item(j, "processes", 1), "name", SAMPLE_EVIL_PROCESS);
    check_str(item(j, "inputs", 1), "path",
              "traces/evil\"quote\\back\x01\x1b[31mred\xef\xbf\xbd\xef\xbf\xbd.etl");
    cr_assert_str_eq(json_string_value(json_array_get(at(j, "warnings"), 1)),
                     "bad\tline\nnext \xef\xbf\xbd( \xef\xbf\xbd\xef\xbf\xbd end");
    json_decref(j);
    free(text);
}

Test(json, empty_report) {
    hg_report_t *r = hg_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_JSON, NULL, &len);
    json_t *j = parse(text, len);
    check_null(j, "tool_version");
    cr_assert_eq(json_array_size(at(j, "sites")), 0);
    check_str(at(j, "gate"), "verdict", "not evaluated");
    cr_assert(strstr(text, "\"sites\": [],\n") != NULL, "empty arrays as []");
    json_decref(j);
    free(text);
    hg_report_free(r);
}

Test(json, gzip_equals_plain) {
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "r.json.gz");
    size_t plain_len, len;
    char *plain = rt_render(r, HG_RF_JSON, NULL, &plain_len);
    bool gzip = false;
    hg_report_format_t f = (hg_report_format_t)hg_report_format_from_path(path, &gzip);
    cr_assert(gzip);
    hg_out_t *o = hg_out_open(path, gzip, NULL);
    cr_assert_eq(hg_report_write(r, f, NULL, o), 0);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    char *back = rt_gunzip_file(path, &len);
    cr_assert_not_null(back);
    cr_assert_eq(len, plain_len);
    cr_assert_eq(memcmp(back, plain, len), 0);
    free(back);
    free(plain);
    rt_rmtree(dir);
    free(path);
    free(dir);
    hg_report_free(r);
}

/* Every allocation made while opening, writing (zlib included) and committing fails once in
 * turn: each attempt either fails cleanly (no file, no leak) or writes the exact output. */
Test(json, allocation_failures_leave_no_file_and_no_leak) {
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "r.json.gz");
    size_t plain_len, len;
    char *plain = rt_render(r, HG_RF_JSON, NULL, &plain_len);
    uint64_t live = hg_mem_stats().live_bytes;
    int rc = -1;
    long n;
    for (n = 0; n < 200 && rc != 0; n++) {
        hg_error_t err = {0};
        hg_mem_fail_after(n);
        hg_out_t *o = hg_out_open(path, true, &err);
        if (o) {
            hg_report_write(r, HG_RF_JSON, NULL, o);
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
    char *back = rt_gunzip_file(path, &len);
    cr_assert_eq(len, plain_len);
    cr_assert_eq(memcmp(back, plain, len), 0);
    free(back);
    free(plain);
    rt_rmtree(dir);
    free(path);
    free(dir);
    hg_report_free(r);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 100,000 sites: one pass, linear. The bound is loose (sanitizer builds are slow); the
 * benchmark measures the real figure. */
Test(json, hundred_thousand_sites_are_fast, .timeout = 120) {
    hg_report_t *r = sample_report_many_sites(100000);
    cr_assert_not_null(r);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hg_out_t *o = hg_out_open("/dev/null", false, NULL);
    hg_report_write(r, HG_RF_JSON, NULL, o);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    double s = seconds_since(&t0);
    cr_log_info("JSON for 100,000 sites: %.3f s", s);
    cr_assert_lt(s, 20.0, "took %.3f s", s);
    hg_report_free(r);
}
