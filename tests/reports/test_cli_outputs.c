/* test_cli_outputs.c - end-to-end: several -o in one `heapgate analyze` run, each format picked
 * by the file name (or by --format for all of them), every format also as .gz, pprof never
 * compressed twice, and a failing output leaving none of the others behind. */
#include "../detector/run.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(cli_outputs, .fini = teardown);

static const char leaky[] = "hgtrace 1\n"
                            "module pid=7 base=0x400000 size=0x10000 path=/usr/bin/app\n"
                            "stack 1 0x401234 0x402000\n"
                            "stack 2 0x401300 0x402000\n"
                            "0 start pid=7 name=app\n"
                            "1ms alloc pid=7 addr=0x1000 size=100 stack=1\n"
                            "3ms alloc pid=7 addr=0x3000 size=64 stack=2\n"
                            "4ms free pid=7 addr=0x3000\n"
                            "5ms end pid=7\n";

/* Each plain name, what its content starts with (after leading blanks), and what it holds. */
static const struct {
    char name[16];
    char head[24];
    char holds[32];
} plain[] = {
    {"r.txt", "heapgate", "FAIL"},
    {"r.json", "{", "\"leaked_bytes\": 100"},
    {"r.html", "<!DOCTYPE html>", "<svg"},
    {"r.sarif", "{", "\"version\": \"2.1.0\""},
    {"r.xml", "<?xml", "<testcase"},
    {"r.collapsed", "", " 100\n"},
    {"r.folded", "", " 100\n"},
};
#define NPLAIN (sizeof plain / sizeof plain[0])

/* The whole file, gunzipped; *gz tells whether it was gzip-compressed. */
static char *read_any(const char *path, size_t *len, bool *gz) {
    size_t n = 0;
    char *raw = read_file(path, &n);
    cr_assert_not_null(raw, "%s was not written", path);
    *gz = n > 2 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b;
    free(raw);
    gzFile f = gzopen(path, "rb");
    cr_assert_not_null(f);
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap + 1);
    int k;
    while ((k = gzread(f, buf + got, (unsigned)(cap - got))) > 0) {
        got += (size_t)k;
        if (got == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
        }
    }
    gzclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static bool starts_with(const char *s, const char *head) {
    s += strspn(s, " \t\r\n");
    return strncmp(s, head, strlen(head)) == 0;
}

static run_result_t run_with(const char *const *outs, size_t nouts, const char *const *extra) {
    const char *args[64] = {"analyze", scratch_write("t.txt", leaky), "--progress", "never"};
    size_t n = 4;
    for (size_t i = 0; i < nouts; i++) {
        args[n++] = "-o";
        args[n++] = outs[i];
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        args[n++] = extra[i];
    }
    run_result_t r = run_heapgate(args);
    free((char *)args[1]);
    return r;
}

Test(cli_outputs, every_format_and_its_gz_in_one_run) {
    const char *outs[2 * NPLAIN + 2];
    size_t n = 0;
    for (size_t i = 0; i < NPLAIN; i++) {
        char gz[sizeof plain[i].name + 3];
        snprintf(gz, sizeof gz, "%.*s.gz", (int)sizeof plain[i].name - 1, plain[i].name);
        outs[n++] = scratch_path(plain[i].name);
        outs[n++] = scratch_path(gz);
    }
    outs[n++] = scratch_path("r.pb.gz");
    outs[n++] = scratch_path("r.pprof");
    run_result_t r = run_with(outs, n, NULL);
    cr_assert_eq(r.status, 1, "the default gate fails on the leak: %s", r.err);
    cr_assert_eq(r.out_len, 0, "nothing on stdout when every report goes to a file");
    for (size_t i = 0; i < NPLAIN; i++) {
        size_t la, lb;
        bool gza, gzb;
        char *a = read_any(outs[2 * i], &la, &gza), *b = read_any(outs[2 * i + 1], &lb, &gzb);
        cr_assert(!gza && gzb, "%s plain, %s.gz compressed", plain[i].name, plain[i].name);
        cr_assert(la == lb && memcmp(a, b, la) == 0, "%s.gz holds the same report", plain[i].name);
        cr_assert(starts_with(a, plain[i].head), "%s starts with %s", plain[i].name, plain[i].head);
        cr_assert_not_null(strstr(a, plain[i].holds), "%s holds %s", plain[i].name, plain[i].holds);
        free(a);
        free(b);
    }
    for (size_t i = 2 * NPLAIN; i < n; i++) { /* pprof: gzip once, never twice */
        size_t len;
        bool gz;
        char *pb = read_any(outs[i], &len, &gz);
        cr_assert(gz && len > 2, "%s is gzip", outs[i]);
        cr_assert(!((unsigned char)pb[0] == 0x1f && (unsigned char)pb[1] == 0x8b),
                  "%s is compressed twice", outs[i]);
        cr_assert_eq((unsigned char)pb[0], 0x0a, "%s: profile.proto field 1 (sample_type)",
                     outs[i]);
        free(pb);
    }
    for (size_t i = 0; i < n; i++) {
        free((char *)outs[i]);
    }
    run_free(&r);
}

Test(cli_outputs, format_option_overrides_every_file_name) {
    const char *outs[] = {scratch_path("a.html"), scratch_path("b.txt.gz")};
    run_result_t r = run_with(outs, 2, (const char *[]){"--format", "json", NULL});
    cr_assert_eq(r.status, 1, "%s", r.err);
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        bool gz;
        char *s = read_any(outs[i], &len, &gz);
        cr_assert_eq(gz, i == 1, "the .gz suffix still compresses");
        json_error_t e;
        json_t *j = json_loadb(s, len, 0, &e);
        cr_assert_not_null(j, "%s is JSON: %s", outs[i], e.text);
        cr_assert_eq(json_integer_value(json_object_get(j, "leaked_bytes")), 100);
        json_decref(j);
        free(s);
        free((char *)outs[i]);
    }
    run_free(&r);
}

Test(cli_outputs, format_to_stdout) {
    run_result_t r = run_with(NULL, 0, (const char *[]){"--format", "collapsed", NULL});
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert_eq(r.out[r.out_len - 1], '\n');
    cr_assert_not_null(strstr(r.out, " 100\n"), "collapsed on stdout: %s", r.out);
    cr_assert_null(strchr(r.out, '{'));
    run_free(&r);
}

Test(cli_outputs, one_failing_output_leaves_no_other) {
    char *ok = scratch_path("ok.json"), *html = scratch_path("ok.html");
    const char *outs[] = {ok, html, "/nonexistent-hg-dir/r.sarif"};
    run_result_t r = run_with(outs, 3, NULL);
    cr_assert_eq(r.status, 2, "an output that cannot be opened is an error: %d", r.status);
    cr_assert_not_null(strstr(r.err, "/nonexistent-hg-dir/r.sarif"), "names the path: %s", r.err);
    cr_assert_neq(access(ok, F_OK), 0, "no report when another output failed");
    cr_assert_neq(access(html, F_OK), 0, "no report when another output failed");
    run_free(&r);
    free(ok);
    free(html);
}

Test(cli_outputs, unknown_format_is_a_usage_error) {
    char *out = scratch_path("x.json");
    const char *outs[] = {out};
    run_result_t r = run_with(outs, 1, (const char *[]){"--format", "yaml", NULL});
    cr_assert_eq(r.status, 2);
    cr_assert_not_null(strstr(r.err, "yaml"), "%s", r.err);
    cr_assert_neq(access(out, F_OK), 0);
    run_free(&r);
    free(out);
}
