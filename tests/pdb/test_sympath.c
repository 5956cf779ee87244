/* test_sympath.c - the symbol path (symbols/sympath.h): parsing _NT_SYMBOL_PATH syntax, the
 * store key, the search order, copies into caches, and downloads from a loopback HTTP symbol
 * server (python3 -m http.server): downloaded once, then found in the cache; a server that
 * cannot be reached is reported once and not asked again. */
#include "pdbtest.h"
#include "sympath.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char key[] = "EC83D8DF555946E0B630133EBD9792662";

typedef struct probe {
    char offered[16][1024];
    int noffered, nwarnings;
    char warning[1024];
    const char *want; /* content of the file to accept */
} probe_t;

static bool accept_if(void *ctx, const char *path) {
    probe_t *p = ctx;
    if (p->noffered < 16) {
        snprintf(p->offered[p->noffered++], sizeof p->offered[0], "%s", path);
    }
    size_t len;
    char *text = (char *)slurp(path, &len);
    bool yes = text && len == strlen(p->want) && memcmp(text, p->want, len) == 0;
    free(text);
    return yes;
}

static void on_warning(void *ctx, const char *msg) {
    probe_t *p = ctx;
    p->nwarnings++;
    snprintf(p->warning, sizeof p->warning, "%s", msg);
}

static char g_root[256];

static void setup(void) {
    snprintf(g_root, sizeof g_root, "/tmp/hg-sympath-XXXXXX");
    cr_assert_not_null(mkdtemp(g_root));
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(sympath, .init = setup, .fini = teardown);

/* g_root/rel (static buffer per slot). */
static const char *at(int slot, const char *rel) {
    static char buf[8][1024];
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", g_root, rel);
    return buf[slot];
}

static void put(const char *rel, const char *content) {
    const char *path = at(7, rel);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    make_dirs(dir);
    spit(path, content, strlen(content));
}

static int find(const char *text, const char *want, probe_t *p) {
    memset(p, 0, sizeof *p);
    p->want = want;
    hg_sympath_t *sp = hg_sympath_parse(text, on_warning, p);
    cr_assert_not_null(sp);
    hg_symfile_t f = {"app.pdb", key, NULL};
    hg_symfile_cb_t cb = {accept_if, on_warning, p};
    int rc = hg_sympath_find(sp, &f, &cb);
    hg_sympath_free(sp);
    return rc;
}

static void expect_elements(const char *text, const char *const *want, size_t n) {
    probe_t p = {0};
    hg_sympath_t *sp = hg_sympath_parse(text, on_warning, &p);
    cr_assert_not_null(sp);
    cr_expect_eq(hg_sympath_count(sp), n, "%s: %zu elements", text, hg_sympath_count(sp));
    for (size_t i = 0; i < n && i < hg_sympath_count(sp); i++) {
        cr_expect_str_eq(hg_sympath_describe(sp, i), want[i]);
    }
    hg_sympath_free(sp);
}

Test(sympath, parses_every_element_kind) {
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    static const char *const want[] = {
        "dir /a",
        "srv /c -> /s",
        "srv /c2 -> https://h/s",
        "srv /c3 -> http://x",
        "srv /xdg/heapgate/symbols -> http://q",
        "srv /xdg/heapgate/symbols*/d -> http://q",
        "cache /cc",
        "srv /cc -> http://y",
        "srv /cc -> http://z",
        "dir C:\\sym",
    };
    expect_elements("  /a ; srv*/c*/s ;SRV*/c2*https://h/s;symsrv*symsrv.dll*/c3*http://x;"
                    "srv*http://q;srv**/d*http://q;;cache*/cc;Srv*http://y;http://z;"
                    "C:\\sym",
                    want, sizeof want / sizeof want[0]);
    static const char *const one[] = {"cache /xdg/heapgate/symbols"};
    expect_elements("cache*", one, 1);
    expect_elements("", NULL, 0);
}

Test(sympath, elements_without_a_store_are_warned_and_skipped) {
    probe_t p = {0};
    hg_sympath_t *sp = hg_sympath_parse("srv*;/ok;srv*/c*", on_warning, &p);
    cr_assert_not_null(sp);
    cr_expect_eq(hg_sympath_count(sp), 1);
    cr_expect_eq(p.nwarnings, 2);
    cr_expect(strstr(p.warning, "srv*/c*"), "%s", p.warning);
    hg_sympath_free(sp);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    sp = hg_sympath_parse("srv*http://h", on_warning, &p);
    cr_expect_eq(hg_sympath_count(sp), 0, "no cache can be named for the server");
    cr_expect(strstr(p.warning, "cache"), "%s", p.warning);
    hg_sympath_free(sp);
}

Test(sympath, pdb_key_is_guid_upper_hex_and_age) {
    /* ec83d8df-5559-46e0-b630-133ebd979266 in memory order (etw-format.md §3.4) */
    static const uint8_t guid[16] = {0xdf, 0xd8, 0x83, 0xec, 0x59, 0x55, 0xe0, 0x46,
                                     0xb6, 0x30, 0x13, 0x3e, 0xbd, 0x97, 0x92, 0x66};
    char k[41];
    hg_sympath_pdb_key(guid, 2, k);
    cr_expect_str_eq(k, key);
    hg_sympath_pdb_key(guid, 0x1a, k);
    cr_expect_str_eq(k, "EC83D8DF555946E0B630133EBD9792661A");
}

Test(sympath, plain_directories_by_name_then_as_stores_in_path_order) {
    put("d1/app.pdb", "old");
    put("d2/app.pdb/"
        "EC83D8DF555946E0B630133EBD9792662/app.pdb",
        "new");
    char path[2100];
    snprintf(path, sizeof path, "%s;%s", at(0, "d1"), at(1, "d2"));
    probe_t p;
    cr_assert_eq(find(path, "new", &p), 0);
    cr_expect_eq(p.noffered, 2);
    cr_expect_str_eq(p.offered[0], at(2, "d1/app.pdb"));
    cr_expect_str_eq(p.offered[1], at(3, "d2/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb"));
    cr_expect_eq(find(path, "neither", &p), 1);
}

Test(sympath, exact_local_paths_come_first) {
    put("near/app.pdb", "near");
    put("d/app.pdb", "far");
    probe_t p = {.want = "near"};
    hg_sympath_t *sp = hg_sympath_parse(at(0, "d"), NULL, NULL);
    const char *local[] = {at(1, "missing.pdb"), at(2, "near/app.pdb"), NULL};
    hg_symfile_t f = {"app.pdb", key, local};
    hg_symfile_cb_t cb = {accept_if, on_warning, &p};
    cr_expect_eq(hg_sympath_find(sp, &f, &cb), 0);
    cr_expect_eq(p.noffered, 1, "a missing path is not offered");
    cr_expect_str_eq(p.offered[0], at(3, "near/app.pdb"));
    hg_sympath_free(sp);
}

Test(sympath, two_tier_store) {
    put("s/index2.txt", "");
    put("s/ap/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb", "two");
    char path[1100];
    snprintf(path, sizeof path, "srv*%s", at(0, "s"));
    probe_t p;
    cr_expect_eq(find(path, "two", &p), 0);
}

Test(sympath, directory_store_is_copied_into_the_cache) {
    put("store/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb", "pdb bytes");
    char path[2100];
    snprintf(path, sizeof path, "srv*%s*%s", at(0, "cache"), at(1, "store"));
    probe_t p;
    cr_assert_eq(find(path, "pdb bytes", &p), 0);
    const char *cached = at(2, "cache/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb");
    cr_expect_eq(count_in_file(cached, "pdb bytes"), 1, "copied into the cache");
    cr_assert_eq(find(path, "pdb bytes", &p), 0);
    cr_expect_eq(p.noffered, 1);
    cr_expect_str_eq(p.offered[0], cached, "found in the cache the second time");
}

static void serve_and_find(const char *path_fmt, const char *cache_rel) {
    require_fixtures(); /* python3 is one of the fixtures' tools */
    put("www/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb", "served");
    const char *log = at(5, "http.log");
    http_server_t srv = http_start(at(4, "www"), log);
    char url[64], path[2200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
    snprintf(path, sizeof path, path_fmt, at(0, "cache"), url);
    probe_t p;
    cr_assert_eq(find(path, "served", &p), 0, "%s", p.warning);
    cr_expect_eq(p.nwarnings, 0, "%s", p.warning);
    const char *cached = at(1, cache_rel);
    cr_expect_str_eq(p.offered[p.noffered - 1], cached);
    cr_assert_eq(find(path, "served", &p), 0);
    cr_expect_eq(p.noffered, 1, "the second search stops at the cache");
    cr_expect_eq(count_in_file(log, "GET /app.pdb/"), 1, "downloaded once");
    memset(&p, 0, sizeof p);
    p.want = "x";
    hg_sympath_t *sp = hg_sympath_parse(path, on_warning, &p);
    hg_symfile_t other = {"other.pdb", key, NULL};
    hg_symfile_cb_t cb = {accept_if, on_warning, &p};
    cr_expect_eq(hg_sympath_find(sp, &other, &cb), 1, "not on the server");
    cr_expect_eq(p.nwarnings, 0, "a 404 is no warning");
    hg_sympath_free(sp);
    http_stop(&srv);
}

Test(sympath, http_store_is_downloaded_once_into_the_cache) {
    serve_and_find("srv*%s*%s", "cache/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb");
}

Test(sympath, cache_star_is_the_cache_of_later_servers) {
    serve_and_find("cache*%s;srv*%s", "cache/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb");
}

Test(sympath, a_file_the_caller_rejects_is_not_kept_in_the_cache) {
    require_fixtures();
    put("www/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb", "stale");
    http_server_t srv = http_start(at(4, "www"), at(5, "http.log"));
    char path[1200];
    snprintf(path, sizeof path, "srv*%s*http://127.0.0.1:%d", at(0, "cache"), srv.port);
    probe_t p;
    cr_expect_eq(find(path, "fresh", &p), 1);
    cr_expect_eq(
        count_in_file(at(1, "cache/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb"), "stale"),
        0);
    http_stop(&srv);
}

Test(sympath, an_unreachable_server_is_reported_once) {
    require_fixtures();
    http_server_t srv = http_start(at(4, "."), at(5, "http.log"));
    int port = srv.port;
    http_stop(&srv); /* nothing listens there now */
    char path[1200];
    snprintf(path, sizeof path, "srv*%s*http://127.0.0.1:%d", at(0, "cache"), port);
    probe_t p = {.want = "x"};
    hg_sympath_t *sp = hg_sympath_parse(path, on_warning, &p);
    hg_symfile_t f = {"app.pdb", key, NULL};
    hg_symfile_cb_t cb = {accept_if, on_warning, &p};
    cr_expect_eq(hg_sympath_find(sp, &f, &cb), 1);
    cr_expect_eq(hg_sympath_find(sp, &f, &cb), 1);
    cr_expect_eq(p.nwarnings, 1, "one warning, the server is not asked again");
    cr_expect(strstr(p.warning, "not asked again"), "%s", p.warning);
    hg_sympath_free(sp);
}

Test(sympath, locate_gives_the_local_path_through_a_directory_store_and_its_cache) {
    put("store/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb", "pdb bytes");
    char path[2100];
    snprintf(path, sizeof path, "srv*%s*%s", at(0, "cache"), at(1, "store"));
    probe_t p = {0};
    hg_sympath_t *sp = hg_sympath_parse(path, on_warning, &p);
    hg_symfile_t f = {"app.pdb", key, NULL}, other = {"other.pdb", key, NULL};
    int rc = -1;
    char *got = hg_sympath_locate(sp, &f, on_warning, &p, &rc);
    cr_expect_eq(rc, 0);
    cr_expect_str_eq(got, at(2, "store/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb"));
    hg_free(got);
    got = hg_sympath_locate(sp, &f, on_warning, &p, &rc); /* copied down the first time */
    cr_expect_eq(rc, 0);
    cr_expect_str_eq(got, at(2, "cache/app.pdb/EC83D8DF555946E0B630133EBD9792662/app.pdb"));
    cr_expect_eq(count_in_file(got, "pdb bytes"), 1);
    hg_free(got);
    cr_expect_null(hg_sympath_locate(sp, &other, on_warning, &p, &rc));
    cr_expect_eq(rc, 1);
    cr_expect_eq(p.nwarnings, 0, "%s", p.warning);
    hg_sympath_free(sp);
}
