/* test_etl_e2e.c - `heapgate analyze` on heap traces written by the test ETL writer
 * (scenario.c): the JSON report must give the figures derived by hand from the scenario, for
 * plain, LZ77-compressed and literal-only buffers, one big buffer or many small ones. */
#include "../detector/run.h"
#include "scenario.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(etl_e2e, .fini = teardown);

static json_int_t jint(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static const char *jstr(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *by_int(json_t *array, const char *key, json_int_t want) {
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e) {
        if (jint(e, key) == want) {
            return e;
        }
    }
    cr_assert_fail("no element with %s = %lld", key, (long long)want);
    return NULL;
}

/* The site whose first (innermost, after trimming) frame is at offset off. */
static json_t *site_at(json_t *report, const char *off) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(report, "sites"), i, s) {
        json_t *f0 = json_array_get(json_object_get(s, "frames"), 0);
        if (f0 && jstr(f0, "offset") && strcmp(jstr(f0, "offset"), off) == 0) {
            return s;
        }
    }
    cr_assert_fail("no site with first frame at %s", off);
    return NULL;
}

static json_int_t anomaly_count(json_t *report, const char *kind, const char *severity) {
    size_t i;
    json_t *a;
    json_int_t n = 0;
    json_array_foreach(json_object_get(report, "anomalies"), i, a) {
        if (strcmp(jstr(a, "kind"), kind) == 0 && strcmp(jstr(a, "severity"), severity) == 0) {
            n += jint(a, "count");
        }
    }
    return n;
}

static json_t *analyze(const char *etl, int want_status) {
    char *out = scratch_path("r.json");
    const char *args[] = {"analyze", etl, "-o", out, NULL};
    run_result_t r = run_heapgate(args);
    cr_assert_eq(r.status, want_status, "status %d, stderr: %s", r.status, r.err);
    json_error_t jerr;
    json_t *j = json_load_file(out, 0, &jerr);
    cr_assert_not_null(j, "JSON: %s", jerr.text);
    run_free(&r);
    free(out);
    return j;
}

/* ---- the expected figures ------------------------------------------------------------------- */

static void check_totals(json_t *j) {
    cr_assert_eq(jint(j, "leaked_bytes"), 780); /* B' 300 + D 480 */
    cr_assert_eq(jint(j, "leaked_blocks"), 2);
    cr_assert_eq(jint(j, "outstanding_bytes"), 64); /* pid 200, still running */
    cr_assert_eq(jint(j, "outstanding_blocks"), 1);
    cr_assert_eq(jint(j, "released_by_destroy_bytes"), 1000); /* G, heap H2 destroyed */
    cr_assert_eq(jint(j, "released_by_destroy_blocks"), 1);
    cr_assert(json_is_true(json_object_get(j, "incomplete")), "3 events and 1 buffer lost");
}

static void check_processes(json_t *j) {
    json_t *ps = json_object_get(j, "processes");
    cr_assert_eq(json_array_size(ps), 2, "idle.exe made no heap event: not listed");
    json_t *p1 = by_int(ps, "pid", 100), *p2 = by_int(ps, "pid", 200);
    cr_assert_str_eq(jstr(p1, "name"), "app64.exe");
    cr_assert_str_eq(jstr(p1, "cmdline"), "app64.exe --leak");
    cr_assert(json_is_true(json_object_get(p1, "ended")));
    cr_assert(json_is_true(json_object_get(p1, "traced_from_start")));
    cr_assert_eq(jint(p1, "pointer_size"), 8);
    cr_assert_eq(jint(p1, "start_ts_ns"), 1000000);
    cr_assert_eq(jint(p1, "end_ts_ns"), 90000000);
    cr_assert_eq(jint(p1, "leaked_bytes"), 780);
    cr_assert_str_eq(jstr(p2, "name"), "app32.exe");
    cr_assert(json_is_false(json_object_get(p2, "ended")));
    cr_assert(json_is_false(json_object_get(p2, "traced_from_start")));
    cr_assert_eq(jint(p2, "pointer_size"), 4);
    cr_assert_eq(jint(p2, "outstanding_bytes"), 64);
}

/* Sites by their first frame after the kernel and ntdll frames are trimmed (outer frames are
 * looked up, and shown, at the return address - 1). */
static void check_sites(json_t *j) {
    json_t *s1 = site_at(j, "0x1233"), *s3 = site_at(j, "0x3332"), *s4 = site_at(j, "0x1111");
    json_t *f0 = json_array_get(json_object_get(s1, "frames"), 0);
    cr_assert_str_eq(jstr(f0, "module"), "app64.exe");
    cr_assert_eq(json_array_size(json_object_get(s1, "frames")), 2);
    cr_assert_eq(jint(s1, "leaked_bytes"), 300);
    cr_assert_eq(jint(s1, "released_by_destroy_bytes"), 1000);
    cr_assert_eq(jint(s3, "leaked_bytes"), 480, "stack keys defined at the end are bound late");
    cr_assert_str_eq(jstr(json_array_get(json_object_get(s4, "frames"), 0), "module"), "app32.exe");
    cr_assert_eq(jint(s4, "outstanding_bytes"), 64);
    json_t *s2 = site_at(j, "0x2221"); /* C's stack: kernel and user fragments joined */
    cr_assert_eq(json_array_size(json_object_get(s2, "frames")), 2);
    json_t *t = json_object_get(j, "trace");
    cr_assert_eq(jint(t, "stacks_undefined"), 0);
}

static void check_anomalies(json_t *j) {
    cr_assert_eq(anomaly_count(j, "A9", "warning"), 1, "Source 5 (invalid)");
    cr_assert_eq(anomaly_count(j, "A2", "info"), 1, "double free, demoted: events were lost");
    cr_assert_eq(anomaly_count(j, "A1", "info"), 2, "frees of unknown blocks, one per process");
    cr_assert_eq(anomaly_count(j, "A5", "info"), 1, "H2 destroyed with G live");
}

static void check_trace(json_t *j) {
    json_t *t = json_object_get(j, "trace");
    cr_assert_eq(jint(t, "lost_events"), 3);
    cr_assert_eq(jint(t, "lost_buffers"), 1);
    cr_assert(json_is_true(json_object_get(t, "lost_counts_known")));
    cr_assert_eq(jint(t, "allocs"), 9);
    cr_assert_eq(jint(t, "reallocs"), 2);
    cr_assert_eq(jint(t, "frees"), 7);
    cr_assert_eq(jint(t, "events"), 24); /* 9 + 2 + 7 + 3 heap + 2 process events + 1 lost */
    cr_assert_eq(jint(t, "heap_creates"), 2);
    cr_assert_eq(jint(t, "heap_destroys"), 1);
    cr_assert_eq(jint(t, "out_of_order_events"), 0);
    cr_assert_eq(jint(t, "start_wall_ns"), 1704067200000000000LL); /* 2024-01-01 UTC */
}

/* H1 at the end of pid 100: D [0x1f6000, +480) and B' [0x1f8000, +300). As estimated chunks
 * (heap-semantics.md §4 item 2, 64-bit: a 16-byte header, 16-byte granularity): D starts at
 * 0x1f5ff0 and takes 496 bytes, B' starts at 0x1f7ff0 and takes 320. */
static void check_fragmentation(json_t *j) {
    json_t *heaps = json_object_get(json_object_get(j, "fragmentation"), "heaps"), *h1 = NULL;
    size_t i;
    json_t *h;
    json_array_foreach(heaps, i, h) {
        if (strcmp(jstr(h, "handle"), "0x1f0000") == 0) {
            h1 = h;
        }
    }
    cr_assert_not_null(h1);
    json_t *f = json_object_get(h1, "frag");
    cr_assert_eq(jint(f, "live_bytes"), 780);
    cr_assert_eq(jint(f, "live_blocks"), 2);
    cr_assert_eq(jint(f, "rounded_bytes"), 496 + 320);
    cr_assert_eq(jint(f, "clusters"), 1);
    cr_assert_eq(jint(f, "span_bytes"), (0x1f7ff0 + 320) - 0x1f5ff0);
    cr_assert_eq(jint(f, "free_bytes"), 0x1f7ff0 - (0x1f5ff0 + 496));
    cr_assert_eq(jint(f, "largest_hole"), 0x1f7ff0 - (0x1f5ff0 + 496));
    /* at 14 ms B' (300) is allocated before B (200) is freed: D 480 + B 200 + B' 300 */
    cr_assert_eq(jint(h1, "peak_live_bytes"), 980);
    cr_assert_eq(jint(h1, "peak_live_ts_ns"), 14000000);
}

typedef struct variant {
    int mode;
    unsigned buffer_bytes;
} variant_t;

ParameterizedTestParameters(etl_e2e, scenario_report) {
    static variant_t v[] = {{ETLW_PLAIN, 65536},
                            {ETLW_PLAIN, 512},
                            {ETLW_LZ77, 65536},
                            {ETLW_LZ77, 512},
                            {ETLW_LITERALS, 1024}};
    return cr_make_param_array(variant_t, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(variant_t *v, etl_e2e, scenario_report) {
    char *etl = scratch_path("s.etl");
    cr_assert_eq(scenario_write(etl, (etlw_compress_t)v->mode, v->buffer_bytes), 0);
    json_t *j = analyze(etl, 1);
    check_totals(j);
    check_processes(j);
    check_sites(j);
    check_anomalies(j);
    check_trace(j);
    check_fragmentation(j);
    json_decref(j);
    free(etl);
}
