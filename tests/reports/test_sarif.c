/* test_sarif.c - the SARIF writer (reports/sarif.c): golden output, and the properties the
 * SARIF 2.1.0 standard requires (its JSON schema cannot be fetched here, so each rule is
 * checked by hand; section numbers as in sarif.c), plus the mapping: one result per leaking
 * site and per anomaly kind, located at the first source frame outside the allocator. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *get(const json_t *o, const char *key) {
    return json_object_get(o, key);
}

static const char *str(const json_t *o, const char *key) {
    json_t *v = get(o, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static void check_uri(const char *uri) {
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++) {
        cr_assert(*p > 0x20 && *p < 0x7f && !strchr("\\\"<>{}|^` ", *p),
                  "uri %s holds a character a URI cannot", uri);
    }
}

/* 3.29.2, 3.30.5/6, 3.4.3 */
static void check_physical(const json_t *pl) {
    json_t *art = get(pl, "artifactLocation");
    cr_assert(art || get(pl, "address"), "physicalLocation without artifactLocation or address");
    if (art) {
        check_uri(str(art, "uri"));
    }
    json_t *region = get(pl, "region");
    if (region) {
        cr_assert_geq(json_integer_value(get(region, "startLine")), 1);
        json_t *col = get(region, "startColumn");
        cr_assert(!col || json_integer_value(col) >= 1);
    }
}

static void check_locations(const json_t *locs) {
    size_t i;
    json_t *l;
    json_array_foreach(locs, i, l) {
        json_t *pl = get(l, "physicalLocation");
        if (pl) {
            check_physical(pl);
        }
    }
}

static void check_result(const json_t *res, const json_t *rules) {
    static const char *const levels[] = {"none", "note", "warning", "error"};
    json_t *msg = get(res, "message"); /* 3.27.11, 3.11.2 */
    cr_assert(json_is_object(msg) && (json_is_string(get(msg, "text")) || get(msg, "id")));
    size_t idx = (size_t)json_integer_value(get(res, "ruleIndex")); /* 3.27.6 */
    cr_assert_lt(idx, json_array_size(rules));
    cr_assert_str_eq(str(json_array_get(rules, idx), "id"), str(res, "ruleId"));
    const char *level = str(res, "level"); /* 3.27.10 */
    bool known = false;
    for (int i = 0; i < 4; i++) {
        known |= strcmp(level, levels[i]) == 0;
    }
    cr_assert(known, "level %s", level);
    check_locations(get(res, "locations"));
    size_t i;
    json_t *v;
    json_array_foreach(get(res, "relatedLocations"), i, v) {
        check_physical(get(v, "physicalLocation"));
    }
    json_array_foreach(get(res, "stacks"), i, v) { /* 3.44.3 */
        cr_assert(json_is_array(get(v, "frames")));
    }
    json_array_foreach(get(res, "suppressions"), i, v) { /* 3.35.2 */
        const char *kind = str(v, "kind");
        cr_assert(strcmp(kind, "external") == 0 || strcmp(kind, "inSource") == 0);
    }
}

/* Checks the required properties; returns the run. */
static json_t *check_log(const json_t *log) {
    cr_assert_str_eq(str(log, "version"), "2.1.0"); /* 3.13.2 */
    json_t *runs = get(log, "runs");                /* 3.13.4 */
    cr_assert(json_is_array(runs) && json_array_size(runs) == 1);
    json_t *run = json_array_get(runs, 0);
    json_t *driver = get(get(run, "tool"), "driver");  /* 3.14.6, 3.18.2 */
    cr_assert_str_eq(str(driver, "name"), "heapgate"); /* 3.19.8 */
    json_t *rules = get(driver, "rules"), *rule, *inv, *res;
    size_t i;
    json_array_foreach(rules, i, rule) { /* 3.49.3 */
        cr_assert_gt(strlen(str(rule, "id")), 0);
    }
    json_array_foreach(get(run, "invocations"), i, inv) { /* 3.20.14 */
        cr_assert(json_is_boolean(get(inv, "executionSuccessful")));
    }
    json_array_foreach(get(run, "results"), i, res) {
        check_result(res, rules);
    }
    return run;
}

static json_t *render_sarif(const hg_report_t *r) {
    size_t len;
    char *text = rt_render(r, HG_RF_SARIF, NULL, &len);
    json_error_t e;
    json_t *log = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    cr_assert_not_null(log, "invalid JSON: %s", e.text);
    free(text);
    return log;
}

Test(sarif, golden_sample) {
    hg_report_t *r = sample_report_new();
    size_t len;
    char *text = rt_render(r, HG_RF_SARIF, NULL, &len);
    rt_golden("sample.sarif", text, len);
    cr_assert(rt_valid_utf8(text, len));
    free(text);
    hg_report_free(r);
}

Test(sarif, required_properties_and_mapping) {
    hg_report_t *r = sample_report_new();
    json_t *log = render_sarif(r), *run = check_log(log);
    json_t *results = get(run, "results");
    cr_assert_eq(json_array_size(results), 3 + 4, "3 leaking sites, 4 anomaly kinds");
    json_t *leak = NULL, *res;
    size_t i;
    json_array_foreach(results, i, res) {
        json_t *site = get(get(res, "properties"), "siteId");
        if (site && strcmp(json_string_value(site), "00a1b2c3d4e5f607") == 0) {
            leak = res;
        }
    }
    cr_assert_not_null(leak);
    cr_assert_str_eq(str(leak, "level"), "error");
    json_t *pl = get(json_array_get(get(leak, "locations"), 0), "physicalLocation");
    /* malloc has no file; the inlined helper is the first frame with one */
    cr_assert_str_eq(str(get(pl, "artifactLocation"), "uri"), "src/helper.h");
    cr_assert_eq(json_integer_value(get(get(pl, "region"), "startLine")), 17);
    cr_assert_eq(json_integer_value(get(get(pl, "region"), "startColumn")), 3);
    json_decref(log);
    hg_report_free(r);
}

Test(sarif, empty_report_is_a_valid_log) {
    hg_report_t *r = hg_report_new();
    json_t *log = render_sarif(r), *run = check_log(log);
    cr_assert_eq(json_array_size(get(run, "results")), 0);
    json_decref(log);
    hg_report_free(r);
}

Test(sarif, many_sites_stay_valid) {
    hg_report_t *r = sample_report_many_sites(2000);
    json_t *log = render_sarif(r), *run = check_log(log);
    size_t leaking = 0;
    for (size_t i = 0; i < r->nsites; i++) {
        leaking += r->sites[i].totals.leaked_bytes != 0;
    }
    cr_assert_eq(json_array_size(get(run, "results")), leaking);
    json_decref(log);
    hg_report_free(r);
}

Test(sarif, uris_of_windows_and_relative_paths) {
    hg_report_t *r = hg_report_new();
    const char *files[] = {"C:\\src\\my app\\main.c", "lib/a b%.c"};
    const char *uris[] = {"file:///C:/src/my%20app/main.c", "lib/a%20b%25.c"};
    for (int k = 0; k < 2; k++) {
        hg_rsite_t *s = hg_report_add_site(r);
        char id[17];
        snprintf(id, sizeof id, "%016x", k + 1);
        s->id = hg_strdup(id);
        s->frames = hg_calloc(1, sizeof *s->frames);
        s->nframes = 1;
        s->frames[0].function = hg_strdup("f");
        s->frames[0].file = hg_strdup(files[k]);
        s->totals.leaked_bytes = s->totals.leaked_blocks = (uint64_t)(2 - k);
    }
    json_t *log = render_sarif(r), *run = check_log(log), *res;
    size_t i;
    json_array_foreach(get(run, "results"), i, res) {
        json_t *pl = get(json_array_get(get(res, "locations"), 0), "physicalLocation");
        cr_assert_str_eq(str(get(pl, "artifactLocation"), "uri"), uris[i]);
        cr_assert_null(get(pl, "region"), "no line: no region");
    }
    json_decref(log);
    hg_report_free(r);
}
