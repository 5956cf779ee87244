/* test_json_read.c - the JSON report reader (reports/json_read*.c): reports written by the JSON
 * writer read back to the same JSON (every field survives), gzip files, keys it does not know,
 * and bad input: each error names the file and the key's path, and nothing is returned. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static hg_report_t *parse_ok(const char *text) {
    hg_error_t err = {0};
    hg_report_t *r = hg_report_parse_json(text, strlen(text), "t.json", &err);
    cr_assert_not_null(r, "%s", err.msg);
    return r;
}

static json_t *load(const char *text, size_t len) {
    json_error_t e;
    json_t *j = json_loadb(text, len, 0, &e);
    cr_assert_not_null(j, "%s", e.text);
    return j;
}

/* Written, read back and written again: the same JSON document (the second writing has U+FFFD
 * where the first had the \ufffd escape: equal as JSON values), and a third writing is
 * identical byte for byte. */
static void round_trip(hg_report_t *r) {
    size_t a_len, b_len, c_len;
    char *a = rt_render(r, HG_RF_JSON, NULL, &a_len);
    hg_report_t *back = parse_ok(a);
    char *b = rt_render(back, HG_RF_JSON, NULL, &b_len);
    json_t *ja = load(a, a_len), *jb = load(b, b_len);
    cr_assert(json_equal(ja, jb), "the JSON read back and written again differs");
    hg_report_t *again = parse_ok(b);
    char *c = rt_render(again, HG_RF_JSON, NULL, &c_len);
    cr_assert(b_len == c_len && memcmp(b, c, b_len) == 0, "not stable");
    json_decref(ja);
    json_decref(jb);
    free(a);
    free(b);
    free(c);
    hg_report_free(back);
    hg_report_free(again);
}

Test(json_read, sample_round_trips) {
    hg_report_t *r = sample_report_new();
    round_trip(r);
    hg_report_free(r);
}

Test(json_read, many_sites_round_trip) {
    hg_report_t *r = sample_report_many_sites(3000);
    round_trip(r);
    hg_report_free(r);
}

Test(json_read, empty_report_round_trips) {
    hg_report_t *r = hg_report_new();
    round_trip(r);
    hg_report_free(r);
}

Test(json_read, gzip_file_and_missing_file) {
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "r.json.gz");
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open(path, true, &err);
    hg_report_write(r, HG_RF_JSON, NULL, o);
    cr_assert_eq(hg_out_commit(o, &err), 0);
    hg_report_t *back = hg_report_read_json(path, &err);
    cr_assert_not_null(back, "%s", err.msg);
    cr_assert_eq(back->nsites, r->nsites);
    cr_assert_str_eq(back->sites[0].id, r->sites[0].id);
    hg_report_free(back);
    char *missing = rt_path(dir, "nope.json");
    cr_assert_null(hg_report_read_json(missing, &err));
    cr_assert_eq(err.code, HG_EIO);
    cr_assert_not_null(strstr(err.msg, "nope.json"));
    rt_rmtree(dir);
    free(missing);
    free(path);
    free(dir);
    hg_report_free(r);
}

Test(json_read, unknown_keys_and_nulls_take_defaults) {
    hg_report_t *r = parse_ok("{\"schema_version\": 1, \"future_key\": [1, {\"x\": 2}],"
                              " \"sites\": [{\"id\": \"01\", \"frames\": null, \"leaked_bytes\":"
                              " 5, \"novel\": true}], \"trace\": null}");
    cr_assert_eq(r->nsites, 1);
    cr_assert_eq(r->sites[0].totals.leaked_bytes, 5);
    cr_assert_eq(r->sites[0].nframes, 0);
    cr_assert_not(r->gate.evaluated);
    hg_report_free(r);
}

struct bad_case {
    const char *json;
    const char *message; /* a part of the expected message */
};

static const struct bad_case bad_cases[] = {
    {"", "t.json:1:"},
    {"[]", "expected a JSON object"},
    {"{}", "schema_version: expected an integer"},
    {"{\"schema_version\": 2}", "schema_version: expected version 1"},
    {"{\"schema_version\": 1, \"schema_version\": 1}", "duplicate"},
    {"{\"schema_version\": 1, \"sites\": {}}", "sites: expected an array"},
    {"{\"schema_version\": 1, \"sites\": [1]}", "sites[0].id: expected a site"},
    {"{\"schema_version\": 1, \"sites\": [{\"id\": \"a\", \"leaked_bytes\": -1}]}",
     "sites[0].leaked_bytes: expected a non-negative integer"},
    {"{\"schema_version\": 1, \"sites\": [{\"id\": \"a\", \"frames\": [{\"addr\": \"12\"}]}]}",
     "sites[0].frames[0].addr: expected a hex string"},
    {"{\"schema_version\": 1, \"sites\": [{\"id\": \"a\", \"frames\": [{\"line\": 4294967296}]}]}",
     "sites[0].frames[0].line: expected an integer from 0 to 4294967295"},
    {"{\"schema_version\": 1, \"sites\": [{\"id\": \"a\", \"pids\": [\"x\"]}]}",
     "sites[0].pids: expected process ids"},
    {"{\"schema_version\": 1, \"anomalies\": [{\"id\": \"A14\"}]}", "anomalies[0].id"},
    {"{\"schema_version\": 1, \"anomalies\": [{\"id\": \"A3\", \"severity\": \"fatal\"}]}",
     "anomalies[0].severity"},
    {"{\"schema_version\": 1, \"gate\": {\"verdict\": \"maybe\"}}", "gate.verdict"},
    {"{\"schema_version\": 1, \"fragmentation\": {\"heaps\": [{\"frag\": {\"hole_histogram\":"
     " [{\"bucket\": 64, \"count\": 1}]}}]}}",
     "hole_histogram"},
    {"{\"schema_version\": 1, \"timeline\": [{\"external\": \"x\"}]}",
     "timeline[0].external: expected a number or null"},
    {"{\"schema_version\": 1, \"processes\": [{\"pointer_size\": 300}]}", "pointer_size"},
    {"{\"schema_version\": 1, \"warnings\": [3]}", "warnings[0]: expected a string"},
    {"{\"schema_version\": 1, \"sites\": [{\"id\": \"a\\u0000b\"}]}", "t.json:1:"},
    {"{\"schema_version\": 1, \"trace\": {\"events\": 99999999999999999999}}", "t.json:1:"},
};

ParameterizedTestParameters(json_read, bad_input) {
    static size_t idx[sizeof bad_cases / sizeof bad_cases[0]];
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        idx[i] = i;
    }
    return cr_make_param_array(size_t, idx, sizeof idx / sizeof idx[0]);
}

ParameterizedTest(size_t *i, json_read, bad_input) {
    const struct bad_case *c = &bad_cases[*i];
    hg_error_t err = {0};
    cr_assert_null(hg_report_parse_json(c->json, strlen(c->json), "t.json", &err), "%s", c->json);
    cr_assert_eq(err.code, HG_EFORMAT, "%s: code %d", c->json, err.code);
    cr_assert_not_null(strstr(err.msg, c->message), "message '%s' lacks '%s'", err.msg, c->message);
    cr_assert_eq(strncmp(err.msg, "t.json", 6), 0, "names the file: %s", err.msg);
}

Test(json_read, allocation_failures_are_clean) {
    hg_report_t *r = sample_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_JSON, NULL, &len);
    hg_error_t err;
    hg_report_t *back = NULL;
    long n = 0;
    for (; !back && n < 100000; n += n < 200 ? 1 : n / 16) {
        hg_mem_fail_after(n);
        back = hg_report_parse_json(text, len, "t.json", &err);
        hg_mem_fail_after(-1);
        cr_assert(back || err.code == HG_ENOMEM, "n=%ld: %s", n, err.msg);
    }
    cr_assert_not_null(back);
    hg_report_free(back);
    free(text);
    hg_report_free(r);
}
