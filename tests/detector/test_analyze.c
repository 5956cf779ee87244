/* test_analyze.c - end-to-end: the built `heapgate analyze` on small text traces: exit codes,
 * JSON fields, gzip output, suppressions, filters, windows, bad input and usage errors. */
#include "run.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(analyze, .fini = teardown);

/* One process that leaks 100 + 28 bytes from stack 1 and frees its other block. */
static const char leaky[] = "hgtrace 1\n"
                            "module pid=7 base=0x400000 size=0x10000 path=/usr/bin/app\n"
                            "stack 1 0x401234 0x402000\n"
                            "stack 2 0x401300 0x402000\n"
                            "0 start pid=7 name=app\n"
                            "1ms alloc pid=7 addr=0x1000 size=100 stack=1\n"
                            "2ms alloc pid=7 addr=0x2000 size=28 stack=1\n"
                            "3ms alloc pid=7 addr=0x3000 size=64 stack=2\n"
                            "4ms free pid=7 addr=0x3000\n"
                            "5ms end pid=7\n";

static json_t *analyze_json(const char *trace, const char *const *extra, int want_status) {
    char *in = scratch_write("t.txt", trace), *out = scratch_path("r.json");
    const char *args[32] = {"analyze", in, "-o", out};
    int n = 4;
    for (int i = 0; extra && extra[i]; i++) {
        args[n++] = extra[i];
    }
    run_result_t r = run_heapgate(args);
    cr_assert_eq(r.status, want_status, "status %d, stderr: %s", r.status, r.err);
    json_error_t jerr;
    json_t *j = json_load_file(out, 0, &jerr);
    cr_assert_not_null(j, "JSON: %s", jerr.text);
    run_free(&r);
    free(in);
    free(out);
    return j;
}

static json_int_t jint(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

Test(analyze, leak_fails_the_default_gate_with_every_figure) {
    json_t *j = analyze_json(leaky, NULL, 1);
    cr_assert_eq(jint(j, "schema_version"), 1);
    cr_assert_eq(jint(j, "leaked_bytes"), 128);
    cr_assert_eq(jint(j, "leaked_blocks"), 2);
    cr_assert_eq(jint(j, "outstanding_bytes"), 0);
    cr_assert(json_is_false(json_object_get(j, "incomplete")));
    json_t *p = json_array_get(json_object_get(j, "processes"), 0);
    cr_assert_eq(jint(p, "pid"), 7);
    cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "app");
    cr_assert(json_is_true(json_object_get(p, "ended")));
    cr_assert(json_is_true(json_object_get(p, "traced_from_start")));
    json_t *s = json_array_get(json_object_get(j, "sites"), 0);
    cr_assert_eq(jint(s, "leaked_bytes"), 128);
    cr_assert_eq(jint(s, "allocs"), 2);
    json_t *f0 = json_array_get(json_object_get(s, "frames"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(f0, "module")), "app");
    cr_assert_str_eq(json_string_value(json_object_get(f0, "offset")), "0x1234");
    json_t *gate = json_object_get(j, "gate");
    cr_assert_str_eq(json_string_value(json_object_get(gate, "verdict")), "fail");
    json_t *trace = json_object_get(j, "trace");
    cr_assert_eq(jint(trace, "events"), 6);
    json_decref(j);
}

Test(analyze, thresholds_decide_the_exit_status) {
    json_decref(analyze_json(leaky, (const char *[]){"--max-leaked-bytes", "128", NULL}, 0));
    json_decref(analyze_json(leaky, (const char *[]){"--max-leaked-bytes", "127", NULL}, 1));
    json_decref(analyze_json(leaky, (const char *[]){"--max-leaked-blocks", "2", NULL}, 0));
    json_decref(analyze_json(leaky, (const char *[]){"--max-site-bytes", "100", NULL}, 1));
}

Test(analyze, outstanding_counts_only_when_asked) {
    const char *running = "hgtrace 1\n0 alloc pid=3 addr=0x1000 size=40\n";
    json_t *j = analyze_json(running, NULL, 0);
    cr_assert_eq(jint(j, "outstanding_bytes"), 40);
    json_decref(j);
    json_decref(analyze_json(running, (const char *[]){"--count-outstanding", NULL}, 1));
}

Test(analyze, anomalies_and_fail_on) {
    const char *trace = "hgtrace 1\n0 start pid=1\n1 alloc pid=1 addr=0x10 size=8 stack=1\n"
                        "2 free pid=1 addr=0x10\n3 free pid=1 addr=0x10\n"
                        "4 free pid=1 addr=0x990\n";
    json_t *j = analyze_json(trace, NULL, 1); /* the double free is an error */
    json_t *a = json_array_get(json_object_get(j, "anomalies"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(a, "id")), "A2");
    cr_assert_str_eq(json_string_value(json_object_get(a, "severity")), "error");
    json_decref(j);
    json_decref(analyze_json(trace, (const char *[]){"--fail-on", "A1", NULL}, 1));
    json_decref(analyze_json(trace, (const char *[]){"--fail-on", "A12", NULL}, 0));
}

Test(analyze, suppressions_remove_leaks_from_the_gate) {
    char *supp = scratch_write("supp.txt", "# known\nleak:app\n");
    json_t *j = analyze_json(leaky, (const char *[]){"--suppressions", supp, NULL}, 0);
    cr_assert_eq(jint(j, "leaked_bytes"), 0);
    json_t *s = json_array_get(json_object_get(j, "sites"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(s, "suppressed_by")), "app");
    json_decref(j);
    free(supp);
}

Test(analyze, window_and_filters) {
    const char *two = "hgtrace 1\n0 alloc pid=1 addr=0x10 size=8\n1 alloc pid=2 addr=0x10 size=16\n"
                      "2 alloc pid=2 addr=0x100 size=32\n5 free pid=2 addr=0x100\n";
    json_t *j = analyze_json(two, (const char *[]){"--pid", "2", "--window", "1:3", NULL}, 0);
    cr_assert_eq(json_array_size(json_object_get(j, "processes")), 1);
    cr_assert_eq(jint(j, "outstanding_bytes"), 16);
    json_t *l = json_object_get(j, "lifetime");
    cr_assert_eq(jint(l, "aifo_bytes"), 48);
    json_decref(j);
}

Test(analyze, gzip_output_reads_back) {
    char *in = scratch_write("t.txt", leaky), *plain = scratch_path("r.json");
    char *gz = scratch_path("r.json.gz");
    run_result_t r = run_heapgate((const char *[]){"analyze", in, "-o", plain, "-o", gz, NULL});
    cr_assert_eq(r.status, 1, "%s", r.err);
    size_t n = 0;
    char *want = read_file(plain, &n);
    gzFile f = gzopen(gz, "rb");
    cr_assert_not_null(f);
    char *got = malloc(n + 16);
    int k = gzread(f, got, (unsigned)n + 16);
    gzclose(f);
    cr_assert_eq((size_t)k, n);
    cr_assert_eq(memcmp(got, want, n), 0);
    free(got), free(want), free(in), free(plain), free(gz);
    run_free(&r);
}

Test(analyze, text_report_on_stdout) {
    char *in = scratch_write("t.txt", leaky);
    run_result_t r = run_heapgate((const char *[]){"analyze", in, NULL});
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.out, "FAIL"), "%s", r.out);
    cr_assert(strstr(r.out, "app+0x1234"), "%s", r.out);
    run_free(&r);
    free(in);
}

Test(analyze, bad_input_is_exit_2_and_writes_nothing) {
    char *in = scratch_write("bad.txt", "hgtrace 1\n0 alloc pid=1 addr=0x10 size=ten\n");
    char *out = scratch_path("r.json");
    run_result_t r = run_heapgate((const char *[]){"analyze", in, "-o", out, NULL});
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "bad.txt:2:"), "%s", r.err);
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "no report written");
    run_free(&r);

    free(scratch_write("r.json", "earlier report\n"));
    r = run_heapgate((const char *[]){"analyze", in, "-o", out, NULL});
    cr_assert_eq(r.status, 2);
    char *kept = read_file(out, NULL);
    cr_assert_str_eq(kept, "earlier report\n", "an earlier report is left untouched");
    free(kept);
    run_free(&r);

    char *junk = scratch_write("junk.bin", "\x01\x02garbage");
    r = run_heapgate((const char *[]){"analyze", junk, NULL});
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "junk.bin: offset 0"), "%s", r.err);
    run_free(&r);
    r = run_heapgate((const char *[]){"analyze", "/nonexistent/trace", NULL});
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "/nonexistent/trace"), "%s", r.err);
    run_free(&r);
    free(in), free(out), free(junk);
}

Test(analyze, usage_errors_are_exit_2) {
    const char *const *cases[] = {
        (const char *[]){"analyze", NULL},
        (const char *[]){"analyze", "--top", "x", "t", NULL},
        (const char *[]){"analyze", "--no-such-option", "t", NULL},
        (const char *[]){"analyze", "--fail-on", "A99", "t", NULL},
        (const char *[]){"analyze", "--window", "5:1", "t", NULL},
        (const char *[]){"analyze", "--max-fragmentation", "2", "t", NULL},
        (const char *[]){"analyze", "--settle", "5h", "t", NULL},
        (const char *[]){"frobnicate", NULL},
        (const char *[]){"convert", "t", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result_t r = run_heapgate(cases[i]);
        cr_assert_eq(r.status, 2, "case %zu: %s", i, r.err);
        cr_assert(strstr(r.err, "heapgate: "), "case %zu", i);
        run_free(&r);
    }
}

Test(analyze, help_and_version) {
    run_result_t r = run_heapgate((const char *[]){"--help", NULL});
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "heapgate analyze"));
    cr_assert(strstr(r.out, "--max-leaked-bytes"));
    run_free(&r);
    r = run_heapgate((const char *[]){"--version", NULL});
    cr_assert_eq(r.status, 0);
    cr_assert(strncmp(r.out, "heapgate ", 9) == 0);
    run_free(&r);
}

Test(analyze, site_identity_survives_relocation) {
    const char *moved = "hgtrace 1\n"
                        "module pid=7 base=0x7f0000 size=0x10000 path=/usr/bin/app\n"
                        "stack 1 0x7f1234 0x7f2000\n0 start pid=7\n"
                        "1ms alloc pid=7 addr=0x1000 size=5 stack=1\n5ms end pid=7\n";
    json_t *a = analyze_json(leaky, NULL, 1), *b = analyze_json(moved, NULL, 1);
    const char *ida =
        json_string_value(json_object_get(json_array_get(json_object_get(a, "sites"), 0), "id"));
    const char *idb =
        json_string_value(json_object_get(json_array_get(json_object_get(b, "sites"), 0), "id"));
    cr_assert_str_eq(ida, idb);
    json_decref(a);
    json_decref(b);
}

Test(analyze, several_traces_are_summed) {
    char *a = scratch_write("a.txt", leaky), *b = scratch_write("b.txt", leaky);
    char *out = scratch_path("r.json");
    run_result_t r = run_heapgate((const char *[]){"analyze", a, b, "-o", out, NULL});
    cr_assert_eq(r.status, 1);
    json_t *j = json_load_file(out, 0, NULL);
    cr_assert_eq(jint(j, "leaked_bytes"), 256);
    cr_assert_eq(json_array_size(json_object_get(j, "processes")), 2);
    cr_assert_eq(json_array_size(json_object_get(j, "inputs")), 2);
    json_t *s = json_array_get(json_object_get(j, "sites"), 0);
    cr_assert_eq(jint(s, "leaked_bytes"), 256, "the same site in both traces is one site");
    json_decref(j);
    run_free(&r);
    free(a), free(b), free(out);
}

Test(analyze, demo_trace) {
    char *out = scratch_path("demo.json");
    run_result_t r = run_heapgate(
        (const char *[]){"analyze", HG_SOURCE_DIR "/examples/demo.txt", "-o", out, NULL});
    cr_assert_eq(r.status, 1, "%s", r.err);
    json_t *j = json_load_file(out, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_geq(jint(j, "leaked_bytes"), 2304);
    cr_assert_gt(jint(j, "released_by_destroy_bytes"), 0);
    json_decref(j);
    run_free(&r);
    free(out);
}

Test(analyze, readme_shows_the_help_text) {
    char *readme = read_file(HG_SOURCE_DIR "/README.md", NULL);
    cr_assert_not_null(readme);
    run_result_t r = run_heapgate((const char *[]){"--help", NULL});
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(readme, r.out), "README.md's command reference differs from --help:\n%s",
              r.out);
    run_free(&r);
    free(readme);
}
