/* test_e2e.c - symbolized reports end to end: a test program runs and reports where its files
 * were loaded and the stack of one allocation (the allocator's own frame first, then real
 * return addresses); that becomes a text trace (docs/text-format.md) whose module lines carry
 * the real paths and load addresses, and `heapgate analyze` must show the leak site's top
 * frame as "function (file:line)" of the allocating function, the allocator (malloc, operator
 * new) trimmed. */
#include "run.h"
#include "symtest.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void teardown(void) {
    scratch_cleanup();
    symtest_cleanup();
}

TestSuite(symbolize_e2e, .fini = teardown);

/* A text trace: the run's modules, its allocation stack, one leaked block. */
static char *trace_of(const symtest_run_t *r) {
    size_t cap = 65536, n = 0;
    char *t = malloc(cap);
    n += (size_t)snprintf(t + n, cap - n, "hgtrace 1\nprocess pid=1 name=prog allocator=glibc\n");
    for (int i = 0; i < r->nmodules; i++) {
        const symtest_module_t *m = &r->modules[i];
        n += (size_t)snprintf(t + n, cap - n, "module pid=1 base=0x%llx size=0x%llx path=\"%s\"\n",
                              (unsigned long long)m->base, (unsigned long long)m->size, m->path);
    }
    n += (size_t)snprintf(t + n, cap - n, "stack 1");
    for (int i = 0; i < r->nstack; i++) {
        n += (size_t)snprintf(t + n, cap - n, " 0x%llx", (unsigned long long)r->stack[i]);
    }
    snprintf(t + n, cap - n, "\n0 alloc pid=1 addr=0x10000 size=48 stack=1\n1ms end pid=1\n");
    return t;
}

static json_t *top_frame(json_t *report) {
    json_t *site = json_array_get(json_object_get(report, "sites"), 0);
    cr_assert_not_null(site, "no site in the report");
    json_t *frame = json_array_get(json_object_get(site, "frames"), 0);
    cr_assert_not_null(frame, "the site has no frames");
    return frame;
}

static const char *jstr(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "(null)";
}

static void check_leak_site(const char *prog, const char *source) {
    symtest_run_t *r = symtest_run(prog);
    cr_assert(r->nstack >= 3, "%s recorded no allocation stack", prog);
    char *trace = trace_of(r);
    char *in = scratch_write("t.txt", trace), *json = scratch_path("x.json");
    char *text = scratch_path("x.txt");
    const char *args[] = {"analyze", in, "-o", json, "-o", text, NULL};
    run_result_t res = run_heapgate(args);
    cr_assert_eq(res.status, 1, "status %d (a leak fails the gate), stderr: %s", res.status,
                 res.err);
    json_error_t err;
    json_t *j = json_load_file(json, 0, &err);
    cr_assert_not_null(j, "%s", err.text);
    json_t *top = top_frame(j);
    cr_expect_str_eq(jstr(top, "function"), r->leak_func, "trace:\n%s", trace);
    cr_expect_str_eq(symtest_base_name(jstr(top, "file")), source);
    cr_expect_eq(json_integer_value(json_object_get(top, "line")), r->leak_line);
    cr_expect(json_is_false(json_object_get(top, "inlined")));
    char want[8192]; /* the text report shortens long paths from the left */
    snprintf(want, sizeof want, "%s (", r->leak_func);
    char *report = read_file(text, NULL), *at = report ? strstr(report, want) : NULL;
    snprintf(want, sizeof want, "/%s:%d)\n", source, r->leak_line);
    cr_expect(at && strstr(at, want) && strstr(at, want) < strchr(at, '\n') + 1,
              "text report lacks \"%s (...%s\":\n%s", r->leak_func, want, report);
    free(report);
    json_decref(j);
    run_free(&res);
    free(in);
    free(json);
    free(text);
    free(trace);
    free(r);
}

Test(symbolize_e2e, c_leak_shows_the_allocating_function_malloc_trimmed) {
    check_leak_site("symprog_c", "symprog.c");
}

Test(symbolize_e2e, cxx_leak_shows_the_allocating_method_operator_new_trimmed) {
    check_leak_site("symprog_cxx", "symprog.cpp");
}
