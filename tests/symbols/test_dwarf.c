/* test_dwarf.c - the ELF/DWARF backend on programs that ran: each test program (prog/) records
 * return addresses with the function and line a symbolizer must report (prog/capture.h) and
 * where its files were loaded; the addresses are symbolized at those load addresses, in every
 * build variant. Then how modules and debug files are found (build-id, .gnu_debuglink, symbol
 * path forms, a build-id that does not match, a missing file), a shared library loaded into
 * this process, and files that are not ELF or are damaged: they leave addresses unresolved
 * (module+offset) and never crash. */
#include "symtest.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRAMES 8

TestSuite(dwarf, .fini = symtest_cleanup);

typedef struct run_case {
    char prog[48];
    char source[16]; /* the source file's name */
    bool dwarf;      /* debug information is expected to be found */
    bool build_id_root;
} run_case_t;

static size_t resolve(hg_symbolizer_t *s, uint64_t addr, hg_sym_frame_t *f) {
    size_t n = hg_sym_resolve(s, 0, addr, 0, f, MAX_FRAMES);
    cr_assert(n >= 1 && n <= MAX_FRAMES);
    return n;
}

/* What symbols alone say for a call made in inlined code: the function it was inlined into. */
static const char *physical_function(const symtest_cap_t *c) {
    if (strcmp(c->outer, "outer_inline") == 0) {
        return "twice_inlined"; /* outer_inline is itself inlined there (symprog.c) */
    }
    return strcmp(c->outer, "-") != 0 ? c->outer : c->func;
}

static void check_symbols_only(hg_symbolizer_t *s, const symtest_cap_t *c) {
    hg_sym_frame_t f[MAX_FRAMES];
    size_t n = resolve(s, c->addr - 1, f);
    cr_expect_eq(n, 1, "%s: %zu frames", c->func, n);
    cr_expect_null(f[0].file, "%s: a file without DWARF", c->func);
    cr_expect_str_eq(f[0].function ? f[0].function : "(null)", physical_function(c));
}

static void check_inline(const symtest_cap_t *c, const hg_sym_frame_t *f, size_t n) {
    cr_assert(n >= 2, "%s: no inline frames", c->func);
    cr_expect(f[0].inlined, "%s: innermost frame not marked inlined", c->func);
    cr_expect_str_eq(f[1].function ? f[1].function : "(null)", c->outer);
    cr_expect_eq(f[1].line, (uint32_t)c->outer_line, "%s: call line", c->outer);
    cr_expect(!f[n - 1].inlined, "%s: outermost frame marked inlined", c->func);
}

/* The caller's line of a return address is found at address - 1, as reports look it up. */
static void check_cap(hg_symbolizer_t *s, const symtest_cap_t *c, const char *source) {
    hg_sym_frame_t f[MAX_FRAMES];
    size_t n = resolve(s, c->addr - 1, f);
    cr_expect_str_eq(f[0].function ? f[0].function : "(null)", c->func);
    cr_expect_eq(f[0].line, (uint32_t)c->line, "%s: line", c->func);
    cr_expect(f[0].file && strcmp(symtest_base_name(f[0].file), source) == 0, "%s: file %s",
              c->func, f[0].file ? f[0].file : "(null)");
    if (strcmp(c->outer, "-") != 0) {
        check_inline(c, f, n);
    } else {
        cr_expect_eq(n, 1, "%s: %zu frames", c->func, n);
        cr_expect(!f[0].inlined);
    }
}

ParameterizedTestParameters(dwarf, ran) {
    static run_case_t cases[] = {
        {"symprog_c", "symprog.c", true, false},
        {"symprog_c_nopie", "symprog.c", true, false},
        {"symprog_cxx", "symprog.cpp", true, false},
        {"symprog_c_buildid", "symprog.c", true, true},
        {"symprog_c_debuglink", "symprog.c", true, false},
        {"symprog_c_nodwarf", "symprog.c", false, false},
    };
    return cr_make_param_array(run_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(run_case_t *c, dwarf, ran) {
    symtest_run_t *r = symtest_run(c->prog);
    const symtest_module_t *m = symtest_module(r, c->prog);
    cr_assert_not_null(m, "%s is not in its own module map", c->prog);
    const char *sympath = c->build_id_root ? symtest_build_id_root(c->prog) : "";
    hg_symbolizer_t *s = symtest_symbolizer(true, sympath, m->path, m->base);
    for (int i = 0; i < r->ncaps; i++) {
        if (c->dwarf) {
            check_cap(s, &r->caps[i], c->source);
        } else {
            check_symbols_only(s, &r->caps[i]);
        }
    }
    cr_expect_eq(hg_sym_stats(s).modules_with_symbols, 1);
    hg_sym_close(s);
    free(r);
}

Test(dwarf, non_pie_base_is_the_link_address) {
    symtest_run_t *r = symtest_run("symprog_c_nopie");
    symtest_elf_t e;
    symtest_elf_read(symtest_prog("symprog_c_nopie"), &e);
    cr_expect_eq(symtest_module(r, "symprog_c_nopie")->base, e.shift);
    cr_expect_neq(e.shift, 0);
    free(r);
}

Test(dwarf, demangling_off_keeps_linkage_names) {
    symtest_run_t *r = symtest_run("symprog_cxx");
    const symtest_module_t *m = symtest_module(r, "symprog_cxx");
    hg_symbolizer_t *s = symtest_symbolizer(false, "", m->path, m->base);
    int checked = 0;
    for (int i = 0; i < r->ncaps; i++) {
        hg_sym_frame_t f[MAX_FRAMES];
        resolve(s, r->caps[i].addr - 1, f);
        if (strcmp(r->caps[i].func, "geo::Circle::area() const") == 0) {
            cr_expect_str_eq(f[0].function, "_ZNK3geo6Circle4areaEv");
            checked++;
        }
    }
    cr_expect_eq(checked, 1);
    hg_sym_close(s);
    free(r);
}

/* The first cap of prog/name resolved with the given module identity and symbol path. */
static void resolve_first_cap(const char *name, const char *path, const uint8_t *id, size_t idlen,
                              const char *sympath, hg_sym_frame_t *f) {
    symtest_run_t *r = symtest_run(name);
    const symtest_module_t *m = symtest_module(r, name);
    hg_sym_options_t opt;
    hg_sym_options_init(&opt);
    opt.symbol_path = sympath;
    hg_error_t err;
    hg_symbolizer_t *s = hg_sym_open(&opt, &err);
    hg_sym_module_t mod = {.base = m->base, .size = m->size, .path = path};
    mod.build_id = id;
    mod.build_id_len = (uint32_t)idlen;
    cr_assert_eq(hg_sym_add_module(s, 0, &mod), 0);
    resolve(s, r->caps[0].addr - 1, f);
    cr_expect_str_eq(f[0].module, symtest_base_name(path));
    cr_expect_eq(f[0].offset, r->caps[0].addr - 1 - m->base);
    f[0].module = NULL; /* the strings die with the symbolizer: keep only what is checked */
    f[0].function = f[0].function ? "named" : NULL;
    f[0].file = f[0].file ? "positioned" : NULL;
    hg_sym_close(s);
    free(r);
}

Test(dwarf, build_id_debug_file_needs_its_directory) {
    hg_sym_frame_t f[MAX_FRAMES];
    resolve_first_cap("symprog_c_buildid", symtest_prog("symprog_c_buildid"), NULL, 0, "", f);
    cr_expect_null(f[0].file, "no debug file was given, yet a position was found");
}

Test(dwarf, recorded_build_id_finds_debug_file_without_module) {
    symtest_elf_t e;
    symtest_elf_read(symtest_prog("symprog_c_buildid"), &e);
    const char *root = symtest_build_id_root("symprog_c_buildid");
    hg_sym_frame_t f[MAX_FRAMES];
    resolve_first_cap("symprog_c_buildid", "/nonexistent/symprog_c_buildid", e.build_id,
                      e.build_id_len, root, f);
    cr_expect_not_null(f[0].function);
    cr_expect_not_null(f[0].file);
}

Test(dwarf, symbol_path_forms_name_local_directories) {
    const char *root = symtest_build_id_root("symprog_c_buildid");
    const char *forms[] = {"srv*%s*https://symbols.example.invalid", "cache*%s", "/nonexistent;%s",
                           "symsrv*symsrv.dll*%s*https://x.invalid"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char path[8192];
        snprintf(path, sizeof path, forms[i], root);
        hg_sym_frame_t f[MAX_FRAMES];
        resolve_first_cap("symprog_c_buildid", symtest_prog("symprog_c_buildid"), NULL, 0, path, f);
        cr_expect_not_null(f[0].file, "symbol path %s", path);
    }
}

Test(dwarf, mismatching_build_id_rejects_the_file) {
    static const uint8_t other[20] = {0xde, 0xad, 0xbe, 0xef};
    hg_sym_frame_t f[MAX_FRAMES];
    resolve_first_cap("symprog_c", symtest_prog("symprog_c"), other, sizeof other, "", f);
    cr_expect_null(f[0].function, "a file with another build-id was used");
}

Test(dwarf, missing_file_is_module_plus_offset) {
    hg_sym_frame_t f[MAX_FRAMES];
    resolve_first_cap("symprog_c", "/nonexistent/symprog_c", NULL, 0, "", f);
    cr_expect_null(f[0].function);
    cr_expect_null(f[0].file);
}

/* base = start - file offset of path's first mapping in this process. */
static uint64_t loaded_base(const char *path) {
    FILE *fp = fopen("/proc/self/maps", "r");
    char line[8192];
    uint64_t base = 0;
    while (!base && fgets(line, sizeof line, fp)) {
        unsigned long long lo, off;
        char p[4096];
        if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %4095s", &lo, &off, p) == 3 &&
            strcmp(p, path) == 0) {
            base = lo - off;
        }
    }
    fclose(fp);
    cr_assert_neq(base, 0, "%s is not mapped", path);
    return base;
}

Test(dwarf, shared_library_at_its_load_address) {
    char real[4096];
    cr_assert_not_null(realpath(symtest_prog("libsymlib.so"), real));
    void *lib = dlopen(real, RTLD_NOW);
    cr_assert_not_null(lib, "%s", dlerror());
    uint64_t base = loaded_base(real);
    uint64_t sum = (uint64_t)(uintptr_t)dlsym(lib, "symlib_sum");
    void (*capture)(void) = (void (*)(void))(uintptr_t)dlsym(lib, "symlib_capture");
    capture();
    uint64_t ret = (uint64_t)(uintptr_t) * (void **)dlsym(lib, "symlib_capture_ret");
    int line = *(int *)dlsym(lib, "symlib_capture_line");
    hg_symbolizer_t *s = symtest_symbolizer(true, "", real, base);
    hg_sym_frame_t f[MAX_FRAMES];
    resolve(s, sum, f);
    cr_expect_str_eq(f[0].function, "symlib_sum");
    cr_expect_str_eq(symtest_base_name(f[0].file ? f[0].file : ""), "symlib.c");
    resolve(s, ret - 1, f);
    cr_expect_str_eq(f[0].function, "symlib_capture");
    cr_expect_eq(f[0].line, (uint32_t)line);
    hg_sym_close(s);
    s = symtest_symbolizer(true, "", symtest_prog("libsymlib_stripped.so"), base);
    resolve(s, sum + 3, f);
    cr_expect_str_eq(f[0].function, "symlib_sum", "from .dynsym");
    cr_expect_null(f[0].file);
    hg_sym_close(s);
    dlclose(lib);
}

Test(dwarf, each_module_opened_once_each_address_resolved_once) {
    symtest_run_t *r = symtest_run("symprog_c");
    const symtest_module_t *m = symtest_module(r, "symprog_c");
    hg_symbolizer_t *s = symtest_symbolizer(true, "", m->path, m->base);
    hg_sym_frame_t f[MAX_FRAMES];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < r->ncaps; i++) {
            resolve(s, r->caps[i].addr - 1, f);
        }
    }
    hg_sym_stats_t st = hg_sym_stats(s);
    cr_expect_eq(st.modules_with_symbols, 1);
    cr_expect_eq(st.lookups, 3u * (uint64_t)r->ncaps);
    cr_expect_eq(st.cache_hits, 2u * (uint64_t)r->ncaps);
    hg_sym_close(s);
    free(r);
}

/* Allocations heapgate makes to resolve addr in a new address space holding the module. */
static uint64_t allocations_for_space(hg_symbolizer_t *s, uint32_t space, const char *path,
                                      uint64_t base, uint64_t addr) {
    uint64_t before = hg_mem_stats().allocations;
    hg_sym_module_t m = {.base = base, .size = 1ull << 32, .path = path};
    cr_assert_eq(hg_sym_add_module(s, space, &m), 0);
    hg_sym_frame_t f[MAX_FRAMES];
    hg_sym_resolve(s, space, addr, 0, f, MAX_FRAMES);
    cr_expect_str_eq(f[0].function ? f[0].function : "(null)", "main");
    return hg_mem_stats().allocations - before;
}

Test(dwarf, a_file_loaded_by_many_processes_is_opened_once) {
    symtest_run_t *r = symtest_run("symprog_c");
    const symtest_module_t *m = symtest_module(r, "symprog_c");
    hg_symbolizer_t *s = hg_sym_open(NULL, NULL);
    uint64_t first = allocations_for_space(s, 1, m->path, m->base, r->caps[0].addr - 1);
    uint64_t second =
        allocations_for_space(s, 2, m->path, m->base + 0x10000, r->caps[0].addr - 1 + 0x10000);
    cr_log_info("allocations: first space %llu, second %llu", (unsigned long long)first,
                (unsigned long long)second);
    cr_expect_lt(second * 4, first, "opening again cost %llu allocations, the first %llu",
                 (unsigned long long)second, (unsigned long long)first);
    hg_sym_close(s);
    free(r);
}

Test(dwarf, debuglink_beside_the_module_and_under_a_symbol_path_directory) {
    char bin[4096], dbg[9000], root[4096];
    snprintf(bin, sizeof bin, "%s/bin/symprog_c_debuglink", symtest_scratch());
    symtest_copy(symtest_prog("symprog_c_debuglink"), bin);
    snprintf(dbg, sizeof dbg, "%s/bin/symprog_c_debuglink.dbg", symtest_scratch());
    symtest_copy(symtest_prog(".debug/symprog_c_debuglink.dbg"), dbg);
    hg_sym_frame_t f[MAX_FRAMES];
    resolve_first_cap("symprog_c_debuglink", bin, NULL, 0, "", f);
    cr_expect_not_null(f[0].file, "debug file in the module's directory");
    cr_assert_eq(unlink(dbg), 0);
    snprintf(root, sizeof root, "%s/root", symtest_scratch());
    snprintf(dbg, sizeof dbg, "%s%s/bin/symprog_c_debuglink.dbg", root, symtest_scratch());
    symtest_copy(symtest_prog(".debug/symprog_c_debuglink.dbg"), dbg);
    resolve_first_cap("symprog_c_debuglink", bin, NULL, 0, root, f);
    cr_expect_not_null(f[0].file, "debug file at DIR/<module directory>/NAME");
    resolve_first_cap("symprog_c_debuglink", bin, NULL, 0, "", f);
    cr_expect_null(f[0].file, "no debug file should be found");
}

Test(dwarf, no_debug_files_option_opens_nothing) {
    hg_sym_options_t opt;
    hg_sym_options_init(&opt);
    opt.no_debug_files = true;
    hg_error_t err;
    hg_symbolizer_t *s = hg_sym_open(&opt, &err);
    hg_sym_module_t m = {.base = 0x10000, .size = 0x100000, .path = symtest_prog("symprog_c")};
    hg_sym_add_module(s, 0, &m);
    hg_sym_frame_t f[MAX_FRAMES];
    resolve(s, 0x11100, f);
    cr_expect_null(f[0].function);
    cr_expect_str_eq(f[0].module, "symprog_c");
    cr_expect_eq(f[0].offset, 0x1100);
    hg_sym_close(s);
}
