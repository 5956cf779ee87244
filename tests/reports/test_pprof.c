/* test_pprof.c - the pprof writer (reports/pprof.c): the decompressed profile against a golden
 * file, and the output decoded by an independent decoder - the pprof-format npm package under
 * node (tests/reports/node/decode_pprof.js) - and compared field by field with the report.
 *
 * node and the package are installed by scripts/deps.sh test (npm ci in tests/reports/node).
 * Without them the decoder test is skipped, except with CI=true where it fails. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render_pprof(const hg_report_t *r, const char *dir, size_t *len) {
    char *path = rt_path(dir, "p.pb.gz");
    hg_out_t *o = hg_out_open(path, false, NULL);
    cr_assert_eq(hg_report_write(r, HG_RF_PPROF, NULL, o), 0);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    size_t n;
    char *raw = rt_read_file(path, &n);
    cr_assert(n > 2 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b,
              "not gzip-compressed");
    free(raw);
    char *pb = rt_gunzip_file(path, len);
    cr_assert_not_null(pb);
    free(path);
    return pb;
}

Test(pprof, golden_sample) {
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp();
    size_t len;
    char *pb = render_pprof(r, dir, &len);
    rt_golden("sample.pprof.pb", pb, len);
    free(pb);
    rt_rmtree(dir);
    free(dir);
    hg_report_free(r);
}

/* ---- the independent decoder ------------------------------------------------------------ */

static bool have_decoder(void) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "node -e \"require('%s/tests/reports/node/node_modules/pprof-format')\" "
             ">/dev/null 2>&1",
             HG_SOURCE_DIR);
    return system(cmd) == 0;
}

static json_t *decode(const hg_report_t *r) {
    const char *ci = getenv("CI");
    if (!have_decoder()) {
        cr_assert(!ci || strcmp(ci, "true") != 0,
                  "node or pprof-format missing: run scripts/deps.sh test");
        cr_skip_test("node or the pprof-format package is missing (scripts/deps.sh test)");
    }
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "p.pb.gz"), cmd[1024];
    hg_out_t *o = hg_out_open(path, false, NULL);
    hg_report_write(r, HG_RF_PPROF, NULL, o);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    snprintf(cmd, sizeof cmd, "node %s/tests/reports/node/decode_pprof.js %s", HG_SOURCE_DIR, path);
    FILE *p = popen(cmd, "r");
    json_error_t e;
    json_t *j = json_loadf(p, 0, &e);
    cr_assert_eq(pclose(p), 0, "decode_pprof.js failed");
    cr_assert_not_null(j, "decoder output: %s", e.text);
    rt_rmtree(dir);
    free(path);
    free(dir);
    return j;
}

static const char *s_of(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    cr_assert_not_null(s, "%s is not a string", key);
    return s;
}

static unsigned long long n_of(const json_t *o, const char *key) {
    return strtoull(s_of(o, key), NULL, 10);
}

/* The test's own idea of a string made valid UTF-8 (invalid bytes become U+FFFD). */
static void clean(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < cap;) {
        size_t k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
        bool ok = *p < 0x80 || (*p >= 0xc2 && *p <= 0xf4);
        for (size_t i = 1; ok && i < k; i++) {
            ok = (p[i] & 0xc0) == 0x80;
        }
        memcpy(out + n, ok ? (const char *)p : "\xef\xbf\xbd", ok ? k : 3);
        n += ok ? k : 3;
        p += ok ? k : 1;
    }
    out[n] = '\0';
}

static void expect_name(const hg_rframe_t *f, char *out, size_t cap) {
    char tmp[512];
    if (f->function) {
        clean(f->function, out, cap);
    } else if (f->module) {
        snprintf(tmp, sizeof tmp, "%s+0x%llx", f->module, (unsigned long long)f->offset);
        clean(tmp, out, cap);
    } else {
        snprintf(out, cap, "0x%llx", (unsigned long long)f->addr);
    }
}

static void check_line(const json_t *line, const hg_rframe_t *f) {
    char want[512];
    json_t *fn = json_object_get(line, "function");
    expect_name(f, want, sizeof want);
    cr_assert_str_eq(s_of(fn, "name"), want);
    cr_assert_str_eq(s_of(fn, "system_name"), want);
    clean(f->file ? f->file : "", want, sizeof want);
    cr_assert_str_eq(s_of(fn, "filename"), want);
    cr_assert_eq(n_of(line, "line"), f->line);
    cr_assert_eq(n_of(line, "column"), f->column);
}

static const json_t *mapping(const json_t *j, const char *id) {
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(j, "mappings"), i, m) {
        if (strcmp(s_of(m, "id"), id) == 0) {
            return m;
        }
    }
    cr_assert_fail("mapping %s not defined", id);
    return NULL;
}

/* A location holds a run of inline frames and the frame that holds them, leaf first. */
static size_t check_location(const json_t *j, const json_t *loc, const hg_rsite_t *s, size_t f) {
    json_t *lines = json_object_get(loc, "lines");
    size_t n = json_array_size(lines);
    cr_assert_gt(n, 0);
    cr_assert_eq(n_of(loc, "address"), s->frames[f].addr);
    for (size_t k = 0; k < n; k++) {
        cr_assert_lt(f + k, s->nframes);
        cr_assert_eq(s->frames[f + k].inlined, k + 1 < n, "inline run");
        check_line(json_array_get(lines, k), &s->frames[f + k]);
    }
    const hg_rframe_t *outer = &s->frames[f + n - 1];
    if (outer->module) {
        const json_t *m = mapping(j, s_of(loc, "mapping_id"));
        cr_assert_str_eq(s_of(m, "filename"), outer->module);
        cr_assert_eq(n_of(m, "memory_start"), outer->addr - outer->offset);
        cr_assert_gt(n_of(m, "memory_limit"), outer->addr);
    } else {
        cr_assert_str_eq(s_of(loc, "mapping_id"), "0");
    }
    return f + n;
}

static void check_labels(const json_t *labels, const hg_rsite_t *s) {
    bool site = false, leaked = false, supp = false;
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l) {
        const char *key = s_of(l, "key");
        if (strcmp(key, "site") == 0) {
            site = strcmp(s_of(l, "str"), s->id) == 0;
        } else if (strcmp(key, "leaked_bytes") == 0) {
            leaked = n_of(l, "num") == s->totals.leaked_bytes &&
                     strcmp(s_of(l, "num_unit"), "bytes") == 0;
        } else if (strcmp(key, "suppressed_by") == 0) {
            supp = s->suppressed_by && strcmp(s_of(l, "str"), s->suppressed_by) == 0;
        }
    }
    cr_assert(site && leaked, "labels of site %s", s->id);
    cr_assert_eq(supp, s->suppressed_by != NULL);
}

static void check_sample(const json_t *j, const json_t *smp, const hg_rsite_t *s) {
    const hg_rtotals_t *t = &s->totals;
    unsigned long long want[4] = {t->leaked_bytes + t->outstanding_bytes,
                                  t->leaked_blocks + t->outstanding_blocks, s->alloc_bytes,
                                  s->allocs};
    json_t *values = json_object_get(smp, "values"), *locs = json_object_get(smp, "locations");
    cr_assert_eq(json_array_size(values), 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(strtoull(json_string_value(json_array_get(values, i)), NULL, 10), want[i]);
    }
    size_t f = 0;
    for (size_t i = 0; i < json_array_size(locs) && s->nframes; i++) {
        f = check_location(j, json_array_get(locs, i), s, f);
    }
    cr_assert_eq(f, s->nframes, "every frame in a location");
    check_labels(json_object_get(smp, "labels"), s);
}

static void check_header(const json_t *j, const hg_report_t *r) {
    static const char *const types[][2] = {{"inuse_space", "bytes"},
                                           {"inuse_objects", "count"},
                                           {"alloc_space", "bytes"},
                                           {"alloc_objects", "count"}};
    json_t *st = json_object_get(j, "sample_type");
    cr_assert_eq(json_array_size(st), 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(s_of(json_array_get(st, i), "type"), types[i][0]);
        cr_assert_str_eq(s_of(json_array_get(st, i), "unit"), types[i][1]);
    }
    cr_assert_str_eq(s_of(j, "string_table_0"), "");
    cr_assert_str_eq(s_of(j, "default_sample_type"), "inuse_space");
    cr_assert_eq(n_of(j, "time_nanos"), r->trace.start_wall_ns);
    cr_assert_eq(n_of(j, "duration_nanos"), r->trace.last_ts_ns - r->trace.first_ts_ns);
    json_t *comments = json_object_get(j, "comments");
    cr_assert_str_eq(json_string_value(json_array_get(comments, 0)),
                     "heapgate " SAMPLE_TOOL_VERSION);
    cr_assert_str_eq(json_string_value(json_array_get(comments, 1)), "verdict: fail");
}

Test(pprof, independent_decoder_sees_the_report) {
    hg_report_t *r = sample_report_new();
    json_t *j = decode(r);
    json_t *samples = json_object_get(j, "samples");
    check_header(j, r);
    cr_assert_eq(json_array_size(samples), r->nsites);
    for (size_t i = 0; i < r->nsites; i++) {
        check_sample(j, json_array_get(samples, i), &r->sites[i]);
    }
    json_decref(j);
    hg_report_free(r);
}

Test(pprof, independent_decoder_on_many_sites) {
    hg_report_t *r = sample_report_many_sites(3000);
    json_t *j = decode(r);
    json_t *samples = json_object_get(j, "samples");
    cr_assert_eq(json_array_size(samples), r->nsites);
    for (size_t i = 0; i < r->nsites; i += 97) {
        check_sample(j, json_array_get(samples, i), &r->sites[i]);
    }
    json_decref(j);
    hg_report_free(r);
}
