/* test_dwarf_oracle.c - the ELF/DWARF backend against llvm-symbolizer, address by address:
 * every byte of .text of each test program variant (every few bytes of heapgate itself) is
 * symbolized by both and their frames compared: function, file, line, column, the inline
 * chain.
 *
 * Known, deliberate differences are normalised first:
 *  - names are compared mangled (neither side demangles): the two demanglers print some names
 *    differently ("operator< <" and "operator<<"; inheriting constructors);
 *  - clone suffixes (".isra.0", ".cold") are cut: llvm-symbolizer names the outermost frame
 *    from the symbol table, heapgate from DWARF and drops them (symbols/dwarf_demangle.c);
 *  - complete and base constructor and destructor variants (C1/C2, D0/D1/D2) count as one:
 *    they share code and the tools pick different aliases of it;
 *  - a file llvm-symbolizer takes from an STT_FILE symbol (line 0, no directory) is no file;
 *  - heapgate keeps at most 8 frames per address: the innermost 7 and the outermost. */
#include "symtest.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 8

typedef struct sweep_case {
    char ours[48];      /* the file heapgate symbolizes: in prog/, or "heapgate" */
    char oracle[48];    /* the file llvm-symbolizer reads */
    bool build_id_root; /* the symbol path is a .build-id tree holding ours' debug file */
    unsigned step;      /* bytes between two addresses */
    unsigned named_pct; /* at least this share of addresses has a name (checks the oracle) */
} sweep_case_t;

static const char *file_path(const char *name) {
    static char heapgate[4096];
    if (strcmp(name, "heapgate") == 0) {
        snprintf(heapgate, sizeof heapgate, "%s/heapgate", HG_BINARY_DIR);
        return heapgate;
    }
    return symtest_prog(name);
}

/* name as compared: "" for none, clone suffix cut, constructor/destructor variant unified. */
static void norm_name(const char *in, char *out, size_t cap) {
    snprintf(out, cap, "%s", in && strcmp(in, "??") != 0 ? in : "");
    char *dot = strchr(out + (out[0] ? 1 : 0), '.');
    if (dot) {
        *dot = '\0';
    }
    for (char *p = out; p[0] && p[1] && p[2]; p++) {
        if ((p[0] == 'C' || p[0] == 'D') && p[1] >= '0' && p[1] <= '2' && p[2] == 'E') {
            p[1] = 'x';
        }
    }
}

static bool frame_eq(const symtest_oframe_t *o, const hg_sym_frame_t *f) {
    char a[4096], b[4096];
    norm_name(o->function, a, sizeof a);
    norm_name(f->function, b, sizeof b);
    const char *ofile = o->line == 0 && o->file[0] != '/' ? "" : o->file;
    const char *file = f->file ? f->file : "";
    return strcmp(a, b) == 0 && strcmp(ofile, file) == 0 && o->line == (int)f->line &&
           o->column == (int)f->column;
}

static void describe(const symtest_oresult_t *o, const hg_sym_frame_t *f, size_t n, uint64_t va) {
    cr_log_error("address 0x%llx: llvm-symbolizer %d frames, heapgate %zu", (unsigned long long)va,
                 o->n, n);
    for (int i = 0; i < o->n; i++) {
        cr_log_error("  llvm  %s %s:%d:%d", o->frames[i].function, o->frames[i].file,
                     o->frames[i].line, o->frames[i].column);
    }
    for (size_t i = 0; i < n; i++) {
        cr_log_error("  ours  %s %s:%u:%u%s", f[i].function ? f[i].function : "??",
                     f[i].file ? f[i].file : "??", f[i].line, f[i].column,
                     f[i].inlined ? " (inlined)" : "");
    }
}

/* True when heapgate's frames are llvm-symbolizer's (kept as heapgate keeps them). */
static bool same_frames(const symtest_oresult_t *o, const hg_sym_frame_t *f, size_t n) {
    size_t want = o->n > MAX_FRAMES ? MAX_FRAMES : (size_t)(o->n ? o->n : 1);
    if (o->n == 0) {
        return n == 1 && !f[0].function && !f[0].file;
    }
    bool ok = n == want;
    for (size_t i = 0; ok && i < n; i++) {
        int k = (i + 1 == n) ? o->n - 1 : (int)i; /* the last kept is the outermost */
        ok = frame_eq(&o->frames[k], &f[i]) && f[i].inlined == (k != o->n - 1);
    }
    return ok;
}

ParameterizedTestParameters(dwarf_oracle, sweep) {
    static sweep_case_t cases[] = {
        {"symprog_c", "symprog_c", false, 1, 90},
        {"symprog_c_nopie", "symprog_c_nopie", false, 1, 90},
        {"symprog_c_nodwarf", "symprog_c_nodwarf", false, 1, 90},
        {"symprog_cxx", "symprog_cxx", false, 1, 90},
        {"symprog_c_buildid", "symprog_c_buildid.full", true, 1, 90},
        {"symprog_c_debuglink", "symprog_c_debuglink.full", false, 1, 90},
        {"libsymlib.so", "libsymlib.so", false, 1, 90},
        {"libsymlib_stripped.so", "libsymlib_stripped.so", false, 1, 20}, /* .dynsym only */
        {"heapgate", "heapgate", false, 5, 90},
    };
    return cr_make_param_array(sweep_case_t, cases, sizeof cases / sizeof cases[0]);
}

static uint64_t *sample(const symtest_elf_t *e, unsigned step, size_t *n) {
    *n = (e->text_hi - e->text_lo + step - 1) / step;
    uint64_t *v = malloc(*n * sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        v[i] = e->text_lo + i * step;
    }
    return v;
}

ParameterizedTest(sweep_case_t *c, dwarf_oracle, sweep, .fini = symtest_cleanup) {
    if (!symtest_need_tool("llvm-symbolizer")) {
        return;
    }
    symtest_elf_t e;
    symtest_elf_read(file_path(c->oracle), &e);
    size_t n;
    uint64_t *va = sample(&e, c->step, &n);
    symtest_oresult_t *o = symtest_oracle(file_path(c->oracle), va, n);
    const char *sympath = c->build_id_root ? symtest_build_id_root(c->ours) : "";
    uint64_t base = 0x7f1200000000ull + e.shift; /* page-aligned, as a loader would place it */
    hg_symbolizer_t *s = symtest_symbolizer(false, sympath, file_path(c->ours), base);
    size_t bad = 0, named = 0;
    for (size_t i = 0; i < n; i++) {
        hg_sym_frame_t f[MAX_FRAMES];
        size_t k = hg_sym_resolve(s, 0, base + va[i] - e.shift, 0, f, MAX_FRAMES);
        named += o[i].n > 0 && o[i].frames[0].function[0] && strcmp(o[i].frames[0].function, "??");
        if (!same_frames(&o[i], f, k) && bad++ < 5) {
            describe(&o[i], f, k, va[i]);
        }
    }
    cr_log_info("%s: %zu addresses, %zu named by llvm-symbolizer, %zu differ", c->ours, n, named,
                bad);
    cr_expect_eq(bad, 0, "%s: %zu of %zu addresses differ from llvm-symbolizer", c->ours, bad, n);
    cr_expect_geq(named * 100, n * c->named_pct, "%s: the oracle named too few addresses", c->ours);
    hg_sym_close(s);
    symtest_oracle_free(o, n);
    free(va);
}
