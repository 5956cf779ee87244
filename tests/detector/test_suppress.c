/* test_suppress.c - LeakSanitizer-style suppressions: template matching, file syntax, and
 * their effect on a report (sites marked, totals moved to "suppressed"). */
#include "detector_priv.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

Test(suppress, template_match) {
    cr_assert(hg__template_match("foo", "call_foo_now"));
    cr_assert(hg__template_match("^foo", "foo_bar"));
    cr_assert(!hg__template_match("^foo", "a_foo"));
    cr_assert(hg__template_match("bar$", "foo_bar"));
    cr_assert(!hg__template_match("bar$", "bar_foo"));
    cr_assert(hg__template_match("^std::*::allocate$", "std::vector<int>::allocate"));
    cr_assert(hg__template_match("lib*.so", "/usr/lib/libfoo.so.6"));
    cr_assert(hg__template_match("^exact$", "exact"));
    cr_assert(!hg__template_match("^exact$", "exactly"));
    cr_assert(!hg__template_match("x", NULL));
    cr_assert(hg__template_match("*", ""));
}

static char *write_file(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hg-supp-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(suppress, file_syntax_errors_name_the_line) {
    hg_suppressions_t *s = hg__suppressions_new();
    hg_error_t err;
    char *path = write_file("# comment\n\nleak:ok_function\n  leak:  spaced  \nrace:foo\n");
    cr_assert_eq(hg__suppressions_load(s, path, &err), HG_EFORMAT);
    cr_assert(strstr(err.msg, ":5:1: expected 'leak:PATTERN'"), "%s", err.msg);
    unlink(path);
    cr_assert_eq(hg__suppressions_load(s, "/nonexistent/supp", &err), HG_EIO);
    cr_assert(strstr(err.msg, "/nonexistent/supp"));
    hg__suppressions_free(s);
}

static hg_rsite_t *site(hg_report_t *r, const char *id, const char *fn, const char *mod,
                        uint64_t leaked) {
    hg_rsite_t *s = hg_report_add_site(r);
    s->id = hg_strdup(id);
    s->frames = hg_calloc(1, sizeof *s->frames);
    s->nframes = 1;
    s->frames[0].function = fn ? hg_strdup(fn) : NULL;
    s->frames[0].module = hg_strdup(mod);
    s->totals.leaked_bytes = leaked;
    s->totals.leaked_blocks = 1;
    return s;
}

Test(suppress, applied_to_a_report) {
    hg_report_t *r = hg_report_new();
    site(r, "a", "cache_init", "app", 100);
    site(r, "b", "real_leak", "app", 40);
    site(r, "c", NULL, "libthird.so", 7);
    hg_suppressions_t *s = hg__suppressions_new();
    cr_assert_eq(hg__suppressions_add(s, "^cache_", false), 0);
    cr_assert_eq(hg__suppressions_add(s, "libthird", false), 0);
    cr_assert_eq(hg__suppressions_add(s, "never_matches", false), 0);
    cr_assert_eq(hg__suppressions_apply(s, r), 0);
    cr_assert_str_eq(r->sites[0].suppressed_by, "^cache_");
    cr_assert_null(r->sites[1].suppressed_by);
    cr_assert_str_eq(r->sites[2].suppressed_by, "libthird");
    cr_assert_eq(r->totals.leaked_bytes, 40);
    cr_assert_eq(r->suppressed.leaked_bytes, 107);
    cr_assert_eq(r->suppressed_sites, 2);
    cr_assert_eq(r->nsuppressions, 3, "unused rules are listed too");
    cr_assert_str_eq(r->suppressions[2].pattern, "leak:never_matches");
    cr_assert_eq(r->suppressions[2].sites, 0);
    cr_assert_eq(r->suppressions[0].bytes, 100);
    hg__suppressions_free(s);
    hg_report_free(r);
}
