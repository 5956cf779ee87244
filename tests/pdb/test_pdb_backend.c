/* test_pdb_backend.c - the PDB backend through symbols.h: modules registered with the identity
 * of the test image resolve like llvm-symbolizer says, from a plain directory, a symbol store,
 * srv*CACHE*STORE with a directory or a loopback HTTP store, beside the module or at the path
 * the image recorded; a GUID or age that differs, or a damaged PDB, leaves module+offset with a
 * warning. End to end: heapgate analyze --symbol-path names the top frames of a text trace and
 * of an ETL trace (written by the ETL tests' writer) whose DbgID_RSDS is the image's identity. */
#include "detector/run.h"
#include "etl/etlw.h"
#include "pdbtest.h"
#include "symbols.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE 0x140000000ull

typedef struct warnings {
    int n;
    char last[1024];
} warnings_t;

static void on_warning(void *ctx, const char *msg) {
    warnings_t *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

static void setup(void) {
    require_fixtures();
}

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(pdb_backend, .init = setup, .fini = teardown);

/* The module of app-O2.exe as an ETW trace records it (Windows paths). */
static hg_sym_module_t app_module(uint8_t guid[16], uint32_t *age) {
    char *exe = fixture("app-O2.exe");
    read_rsds(exe, guid, age);
    free(exe);
    hg_sym_module_t m = {.base = BASE,
                         .size = 0x100000,
                         .path = "C:\\app\\app-O2.exe",
                         .pdb_name = "C:\\build\\out\\app-O2.pdb",
                         .pdb_age = *age};
    memcpy(m.pdb_guid, guid, 16);
    return m;
}

static hg_symbolizer_t *open_sym(const char *symbol_path, warnings_t *w) {
    hg_sym_options_t opt;
    hg_sym_options_init(&opt);
    opt.symbol_path = symbol_path;
    opt.on_warning = on_warning;
    opt.warning_ctx = w;
    memset(w, 0, sizeof *w);
    hg_error_t err;
    hg_symbolizer_t *s = hg_sym_open(&opt, &err);
    cr_assert_not_null(s);
    return s;
}

/* The first oracle entry with exactly one frame whose function is named. */
static oracle_entry_t *plain_entry(oracle_entry_t *o, size_t n, size_t skip) {
    for (size_t i = 0; i < n; i++) {
        if (o[i].nframes == 1 && strcmp(o[i].frames[0].file, "??") != 0 && skip-- == 0) {
            return &o[i];
        }
    }
    cr_assert_fail("no plain entry");
    return NULL;
}

/* Resolves the first plain rva of app-O2 in s; true when it got the oracle's function. */
static bool resolves(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    size_t n;
    oracle_entry_t *o = oracle_load("app-O2", &n), *e = plain_entry(o, n, 0);
    cr_assert_eq(hg_sym_add_module(s, 1, m), 0);
    hg_sym_frame_t f[8];
    size_t k = hg_sym_resolve(s, 1, BASE + e->rva, 0, f, 8);
    cr_assert_geq(k, 1);
    cr_expect_str_eq(f[0].module, "app-O2.exe");
    cr_expect_eq(f[0].offset, e->rva);
    bool named = f[0].function && strcmp(f[0].function, e->frames[0].function) == 0;
    oracle_free(o, n);
    return named;
}

Test(pdb_backend, resolves_like_llvm_symbolizer_from_a_plain_directory) {
    uint8_t guid[16];
    uint32_t age;
    hg_sym_module_t m = app_module(guid, &age);
    warnings_t w;
    hg_symbolizer_t *s = open_sym(PDB_FIXTURES, &w);
    cr_assert_eq(hg_sym_add_module(s, 1, &m), 0);
    size_t n, checked = 0;
    oracle_entry_t *o = oracle_load("app-O2", &n);
    for (size_t i = 0; i < n; i += 3) {
        hg_sym_frame_t f[8];
        size_t k = hg_sym_resolve(s, 1, BASE + o[i].rva, 0, f, 8);
        const oracle_frame_t *outer = &o[i].frames[o[i].nframes - 1];
        if (strcmp(outer->function, "??") == 0 || o[i].nframes > 8) {
            continue;
        }
        cr_assert_eq(k, o[i].nframes, "rva %#llx", (unsigned long long)o[i].rva);
        for (size_t j = 0; j < k; j++) {
            cr_assert_str_eq(f[j].function, o[i].frames[j].function);
            cr_assert_eq(f[j].line, o[i].frames[j].line);
            cr_assert_eq(f[j].inlined, j + 1 < k);
            cr_assert_str_eq(f[j].module, "app-O2.exe");
        }
        checked++;
    }
    cr_expect_gt(checked, 3000);
    hg_sym_stats_t st = hg_sym_stats(s);
    cr_expect_eq(st.modules_with_symbols, 1);
    cr_expect_eq(st.warnings, 0, "%s", w.last);
    oracle_free(o, n);
    hg_sym_close(s);
}

Test(pdb_backend, another_guid_or_age_is_not_used) {
    for (int which = 0; which < 2; which++) {
        uint8_t guid[16];
        uint32_t age;
        hg_sym_module_t m = app_module(guid, &age);
        if (which == 0) {
            m.pdb_guid[9] ^= 0x40;
        } else {
            m.pdb_age = age + 1;
        }
        warnings_t w;
        hg_symbolizer_t *s = open_sym(PDB_FIXTURES, &w);
        cr_expect_not(resolves(s, &m), "module+offset only");
        cr_expect_eq(hg_sym_stats(s).modules_with_symbols, 0);
        cr_expect_eq(w.n, 1);
        cr_expect(strstr(w.last, "GUID+age") && strstr(w.last, "app-O2.exe"), "%s", w.last);
        hg_sym_close(s);
    }
}

static char *store_copy(const char *store_rel, const uint8_t guid[16], uint32_t age) {
    char key[41], rel[512];
    key_of(guid, age, key);
    snprintf(rel, sizeof rel, "%s/app-O2.pdb/%s", store_rel, key);
    char *dir = scratch_path(rel);
    make_dirs(dir);
    char *pdb = fixture("app-O2.pdb"), *dst = malloc(4200);
    snprintf(dst, 4200, "%s/app-O2.pdb", dir);
    size_t len;
    uint8_t *bytes = slurp(pdb, &len);
    spit(dst, bytes, len);
    free(bytes);
    free(pdb);
    free(dir);
    return dst;
}

static char *cache_file(const uint8_t guid[16], uint32_t age) {
    char key[41], rel[512];
    key_of(guid, age, key);
    snprintf(rel, sizeof rel, "cache/app-O2.pdb/%s/app-O2.pdb", key);
    return scratch_path(rel);
}

Test(pdb_backend, symbol_store_and_a_directory_store_copied_into_the_cache) {
    uint8_t guid[16];
    uint32_t age;
    hg_sym_module_t m = app_module(guid, &age);
    free(store_copy("store", guid, age));
    char *store = scratch_path("store"), *cache = scratch_path("cache"), path[9000];
    warnings_t w;
    hg_symbolizer_t *s = open_sym(store, &w); /* a plain directory that is a store */
    cr_expect(resolves(s, &m));
    hg_sym_close(s);
    snprintf(path, sizeof path, "srv*%s*%s", cache, store);
    s = open_sym(path, &w);
    cr_expect(resolves(s, &m));
    hg_sym_close(s);
    char *cached = cache_file(guid, age);
    size_t a, b;
    uint8_t *x = slurp(cached, &a), *y = slurp(PDB_FIXTURES "/app-O2.pdb", &b);
    cr_assert_not_null(x, "not copied into the cache: %s", cached);
    cr_expect(a == b && memcmp(x, y, a) == 0);
    free(x);
    free(y);
    free(cached);
    free(store);
    free(cache);
}

Test(pdb_backend, http_symbol_server_downloads_once) {
    uint8_t guid[16];
    uint32_t age;
    hg_sym_module_t m = app_module(guid, &age);
    free(store_copy("www", guid, age));
    char *www = scratch_path("www"), *log = scratch_path("http.log"),
         *cache = scratch_path("cache");
    http_server_t srv = http_start(www, log);
    char path[5000];
    snprintf(path, sizeof path, "srv*%s*http://127.0.0.1:%d", cache, srv.port);
    warnings_t w;
    for (int round = 0; round < 2; round++) {
        hg_symbolizer_t *s = open_sym(path, &w);
        cr_expect(resolves(s, &m), "round %d: %s", round, w.last);
        hg_sym_close(s);
        if (round == 0) {
            http_stop(&srv); /* the second round must use the cache */
        }
    }
    cr_expect_eq(count_in_file(log, "GET /app-O2.pdb/"), 1, "downloaded once");
    char *cached = cache_file(guid, age);
    cr_expect_eq(access(cached, R_OK), 0);
    free(cached);
    free(www);
    free(log);
    free(cache);
}

Test(pdb_backend, beside_the_module_and_at_the_recorded_path) {
    uint8_t guid[16];
    uint32_t age;
    hg_sym_module_t m = app_module(guid, &age);
    char *exe = fixture("app-O2.exe"), *pdb = fixture("app-O2.pdb");
    warnings_t w;
    m.path = exe; /* a Linux path: the PDB's name is looked for beside it */
    hg_symbolizer_t *s = open_sym("", &w);
    cr_expect(resolves(s, &m));
    hg_sym_close(s);
    m.path = "C:\\app\\app-O2.exe";
    m.pdb_name = pdb; /* lld-link records the PDB's full path */
    s = open_sym("", &w);
    cr_expect(resolves(s, &m));
    hg_sym_close(s);
    setenv("_NT_SYMBOL_PATH", PDB_FIXTURES, 1);
    m.pdb_name = "app-O2.pdb";
    hg_error_t err;
    s = hg_sym_open(NULL, &err); /* the symbol path comes from _NT_SYMBOL_PATH */
    cr_expect(resolves(s, &m));
    hg_sym_close(s);
    free(exe);
    free(pdb);
}

Test(pdb_backend, a_damaged_pdb_is_a_warning_and_module_offset) {
    uint8_t guid[16];
    uint32_t age;
    hg_sym_module_t m = app_module(guid, &age);
    size_t len;
    uint8_t *bytes = slurp(PDB_FIXTURES "/app-O2.pdb", &len);
    char *dir = scratch_path("bad"), *bad = scratch_path("bad/app-O2.pdb");
    make_dirs(dir);
    spit(bad, bytes, len / 3);
    warnings_t w;
    hg_symbolizer_t *s = open_sym(dir, &w);
    cr_expect_not(resolves(s, &m));
    cr_expect_eq(w.n, 1);
    cr_expect(strstr(w.last, bad), "the warning names the file: %s", w.last);
    cr_expect_eq(hg_sym_stats(s).warnings, 1);
    hg_sym_close(s);
    m.pdb_name = NULL; /* no CodeView identity: not the PDB backend's */
    s = open_sym(PDB_FIXTURES, &w);
    cr_expect_not(resolves(s, &m));
    cr_expect_eq(w.n, 0);
    hg_sym_close(s);
    free(bytes);
    free(dir);
    free(bad);
}

/* ---- end to end ------------------------------------------------------------------------- */

static void guid_text(const uint8_t g[16], char out[37]) {
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
}

/* A text trace: one leak whose stack is e0 (innermost) called from e1 (return address + 1). */
static char *write_trace(const uint8_t guid[16], uint32_t age, uint64_t rva0, uint64_t rva1) {
    char g[37], text[2048];
    guid_text(guid, g);
    snprintf(text, sizeof text,
             "hgtrace 1\n"
             "module pid=7 base=0x%llx size=0x100000 path=C:\\app\\app-O2.exe "
             "pdb=C:\\build\\app-O2.pdb guid=%s age=%u\n"
             "stack 1 0x%llx 0x%llx\n"
             "0 start pid=7 name=app\n"
             "1ms alloc pid=7 addr=0x1000 size=100 stack=1\n"
             "5ms end pid=7\n",
             (unsigned long long)BASE, g, age, (unsigned long long)(BASE + rva0),
             (unsigned long long)(BASE + rva1 + 1));
    return scratch_write("t.txt", text);
}

#define TICKS_PER_MS 10000 /* the ETL writer's default 10 MHz clock */

/* An ETL trace: app-O2.exe loaded in pid 7 with its DbgID_RSDS, one leak of 100 bytes whose
 * stack is e0 called from e1 (return address + 1), the process ended. */
static char *write_etl(const uint8_t guid[16], uint32_t age, uint64_t rva0, uint64_t rva1) {
    char *path = scratch_path("t.etl");
    etlw_config_t cfg = {.cpus = 1};
    etlw_t *w = etlw_open(path, &cfg);
    cr_assert_not_null(w);
    uint64_t ms = TICKS_PER_MS, frames[] = {BASE + rva0, BASE + rva1 + 1};
    etlw_process(w, 0, 1 * ms, 1, 7, 4, "app-O2.exe", "app-O2.exe");
    etlw_image(w, 0, 2 * ms, 10, 7, BASE, 0x100000, 0x5f000000, "C:\\app\\app-O2.exe");
    etlw_image_id(w, 0, 2 * ms, 7, BASE, 0x100000, 0x5f000000, "app-O2.exe");
    etlw_dbg_id(w, 0, 2 * ms, 7, BASE, guid, age, "C:\\build\\app-O2.pdb");
    etlw_heap_create(w, 0, 3 * ms, ETLW_SYSTEM, 8, 7, 8, 0x1f0000);
    etlw_heap_alloc(w, 0, 4 * ms, ETLW_SYSTEM, 8, 7, 8, 0x1f0000, 100, 0x1f1000, 3);
    etlw_stack(w, 0, 4 * ms, 8, 4 * ms, 7, 8, frames, 2);
    etlw_process(w, 0, 9 * ms, 2, 7, 4, "app-O2.exe", "app-O2.exe");
    cr_assert_eq(etlw_close(w), 0);
    return path;
}

/* Runs heapgate analyze on trace with symbol_path; returns the JSON report and, when err is
 * not NULL, what heapgate wrote to stderr (malloc'd). */
static json_t *analyze(const char *trace, const char *symbol_path, int want_status, char **err) {
    char *out = scratch_path("r.json");
    run_result_t r = run_heapgate(
        (const char *[]){"analyze", trace, "--symbol-path", symbol_path, "-o", out, NULL});
    cr_assert_eq(r.status, want_status, "status %d: %s", r.status, r.err);
    json_error_t jerr;
    json_t *j = json_load_file(out, 0, &jerr);
    cr_assert_not_null(j, "%s", jerr.text);
    if (err) {
        *err = strdup(r.err);
    }
    run_free(&r);
    free(out);
    return j;
}

static json_t *site_frames(json_t *report) {
    return json_object_get(json_array_get(json_object_get(report, "sites"), 0), "frames");
}

static void expect_frame(json_t *frame, const oracle_frame_t *want) {
    const char *fn = json_string_value(json_object_get(frame, "function"));
    const char *file = json_string_value(json_object_get(frame, "file"));
    cr_assert_str_eq(fn, want->function);
    cr_assert_str_eq(base_name(file), want->file);
    cr_assert_eq(json_integer_value(json_object_get(frame, "line")), (json_int_t)want->line);
    cr_assert_str_eq(json_string_value(json_object_get(frame, "module")), "app-O2.exe");
}

/* The report of trace names e0 and e1's functions, files and lines. */
static void expect_named(json_t *report, const oracle_entry_t *e0, const oracle_entry_t *e1) {
    json_t *frames = site_frames(report);
    cr_assert_eq(json_array_size(frames), 2);
    expect_frame(json_array_get(frames, 0), &e0->frames[0]);
    expect_frame(json_array_get(frames, 1), &e1->frames[0]); /* looked up at the call */
}

Test(pdb_backend, analyze_names_the_top_frames) {
    uint8_t guid[16];
    uint32_t age;
    app_module(guid, &age);
    size_t n;
    oracle_entry_t *o = oracle_load("app-O2", &n);
    oracle_entry_t *e0 = plain_entry(o, n, 100), *e1 = plain_entry(o, n, 2000);
    char *trace = write_trace(guid, age, e0->rva, e1->rva);
    json_t *j = analyze(trace, PDB_FIXTURES, 1, NULL);
    expect_named(j, e0, e1);
    json_decref(j);
    oracle_free(o, n);
    free(trace);
}

Test(pdb_backend, analyze_through_an_http_symbol_store_and_its_cache) {
    uint8_t guid[16];
    uint32_t age;
    app_module(guid, &age);
    size_t n;
    oracle_entry_t *o = oracle_load("app-O2", &n);
    oracle_entry_t *e0 = plain_entry(o, n, 7), *e1 = plain_entry(o, n, 1500);
    char *trace = write_trace(guid, age, e0->rva, e1->rva);
    free(store_copy("www", guid, age));
    char *www = scratch_path("www"), *log = scratch_path("http.log"),
         *cache = scratch_path("cache"), path[5000];
    http_server_t srv = http_start(www, log);
    snprintf(path, sizeof path, "srv*%s*http://127.0.0.1:%d", cache, srv.port);
    json_t *j = analyze(trace, path, 1, NULL);
    expect_named(j, e0, e1);
    json_decref(j);
    http_stop(&srv);
    j = analyze(trace, path, 1, NULL); /* the server is gone: the cache answers */
    expect_named(j, e0, e1);
    json_decref(j);
    cr_expect_eq(count_in_file(log, "GET /app-O2.pdb/"), 1, "downloaded once");
    char *cached = cache_file(guid, age);
    cr_expect_eq(access(cached, R_OK), 0, "%s", cached);
    free(cached);
    oracle_free(o, n);
    free(trace);
    free(www);
    free(log);
    free(cache);
}

Test(pdb_backend, analyze_with_a_damaged_pdb_warns_and_still_reports) {
    uint8_t guid[16];
    uint32_t age;
    app_module(guid, &age);
    char *trace = write_trace(guid, age, 0x1000, 0x1010);
    char *bad = scratch_path("app-O2.pdb"), *dir = scratch_path("."), *err = NULL;
    spit(bad, "not a pdb", 9);
    json_t *j =
        analyze(trace, dir, 1, &err); /* damaged symbols: still a report, the gate decides */
    json_t *top = json_array_get(site_frames(j), 0);
    cr_expect(json_is_null(json_object_get(top, "function")));
    cr_expect_str_eq(json_string_value(json_object_get(top, "module")), "app-O2.exe");
    cr_expect_str_eq(json_string_value(json_object_get(top, "offset")), "0x1000");
    cr_expect(strstr(err, "heapgate: warning: ") && strstr(err, "app-O2.pdb"), "stderr: %s", err);
    const char *w = json_string_value(json_array_get(json_object_get(j, "warnings"), 0));
    cr_expect(w && strstr(w, "app-O2.pdb"), "the report's warnings name the PDB: %s", w);
    json_decref(j);
    free(err);
    free(trace);
    free(bad);
    free(dir);
}

Test(pdb_backend, analyze_an_etl_trace_through_a_symbol_store) {
    uint8_t guid[16];
    uint32_t age;
    app_module(guid, &age);
    size_t n;
    oracle_entry_t *o = oracle_load("app-O2", &n);
    oracle_entry_t *e0 = plain_entry(o, n, 42), *e1 = plain_entry(o, n, 3000);
    char *etl = write_etl(guid, age, e0->rva, e1->rva);
    free(store_copy("store", guid, age));
    char *store = scratch_path("store"), *cache = scratch_path("cache"), path[9000];
    snprintf(path, sizeof path, "srv*%s*%s", cache, store);
    json_t *j = analyze(etl, path, 1, NULL);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(j, "inputs"), 0), "format")),
                     "etl");
    expect_named(j, e0, e1);
    json_decref(j);
    char *cached = cache_file(guid, age);
    cr_expect_eq(access(cached, R_OK), 0, "copied into the cache: %s", cached);
    free(cached);
    oracle_free(o, n);
    free(etl);
    free(store);
    free(cache);
}
