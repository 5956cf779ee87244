/* test_pdb_reader.c - the PDB reader (symbols/pdb.h) against llvm-symbolizer: every rva of the
 * .text of images built with clang -gcodeview and lld-link (unoptimized, optimized with
 * nested inlining, and the optimized PDB re-blocked to 512, 1024 and 2048-byte blocks) gives
 * the same frames (function, file base name, line, innermost inline frame first). */
#include "pdb.h"
#include "pdbtest.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

typedef struct pdb_case { /* arrays, not pointers: Criterion copies parameters across processes */
    char pdb[32], oracle[16];
} pdb_case_t;

static hg_pdb_t *open_fixture(const char *name) {
    char *path = fixture(name);
    hg_error_t err;
    hg_error_clear(&err);
    hg_pdb_t *p = hg_pdb_open_file(path, &err);
    cr_assert_not_null(p, "%s: %s", path, err.msg);
    free(path);
    return p;
}

static bool same_text(const char *got, const char *want) {
    return strcmp(got ? got : "??", want) == 0;
}

/* Checks hg_pdb_lookup's answer for one rva against llvm-symbolizer's; false on a mismatch. */
static bool agrees(const oracle_entry_t *o, const hg_pdb_frame_t *f, size_t n) {
    if (o->nframes == 1 && strcmp(o->frames[0].function, "??") == 0) {
        return n == 0 || (!f[0].function && !f[0].file);
    }
    if (n != o->nframes) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const oracle_frame_t *w = &o->frames[i];
        if (!same_text(f[i].function, w->function) ||
            !same_text(f[i].file ? base_name(f[i].file) : NULL, w->file) || f[i].line != w->line ||
            f[i].inlined != (i + 1 < n)) {
            return false;
        }
    }
    return true;
}

static void describe(const oracle_entry_t *o, const hg_pdb_frame_t *f, size_t n) {
    for (size_t i = 0; i < o->nframes; i++) {
        cr_log_error("  want %s %s:%u", o->frames[i].function, o->frames[i].file,
                     o->frames[i].line);
    }
    for (size_t i = 0; i < n; i++) {
        cr_log_error("  got  %s %s:%u%s", f[i].function ? f[i].function : "??",
                     f[i].file ? base_name(f[i].file) : "??", f[i].line,
                     f[i].inlined ? " (inlined)" : "");
    }
}

ParameterizedTestParameters(pdb_reader, every_text_rva_matches_llvm_symbolizer) {
    static pdb_case_t cases[] = {
        {"app-O0.pdb", "app-O0"},       {"app-O2.pdb", "app-O2"},
        {"app-O2-b512.pdb", "app-O2"},  {"app-O2-b1024.pdb", "app-O2"},
        {"app-O2-b2048.pdb", "app-O2"},
    };
    return cr_make_param_array(pdb_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(pdb_case_t *c, pdb_reader, every_text_rva_matches_llvm_symbolizer) {
    require_fixtures();
    hg_pdb_t *p = open_fixture(c->pdb);
    size_t n, bad = 0, inlined = 0;
    oracle_entry_t *o = oracle_load(c->oracle, &n);
    cr_assert_gt(n, 5000, "the oracle covers %zu rvas only", n);
    for (size_t i = 0; i < n; i++) {
        hg_pdb_frame_t f[32];
        size_t k = hg_pdb_lookup(p, o[i].rva, f, 32);
        inlined += o[i].nframes > 1;
        if (!agrees(&o[i], f, k) && bad++ < 5) {
            cr_log_error("%s: rva %#llx differs", c->pdb, (unsigned long long)o[i].rva);
            describe(&o[i], f, k);
        }
    }
    cr_expect_eq(bad, 0, "%s: %zu of %zu rvas differ from llvm-symbolizer", c->pdb, bad, n);
    cr_expect(strcmp(c->oracle, "app-O0") == 0 || inlined > 1000, "too few inlined rvas: %zu",
              inlined);
    cr_expect_eq(hg_pdb_warnings(p, NULL), 0);
    oracle_free(o, n);
    hg_pdb_close(p);
}

Test(pdb_reader, identity_is_the_images_codeview_record) {
    require_fixtures();
    char *exe = fixture("app-O2.exe");
    uint8_t guid[16], got[16];
    uint32_t age, got_age;
    read_rsds(exe, guid, &age);
    hg_pdb_t *p = open_fixture("app-O2.pdb");
    hg_pdb_identity(p, got, &got_age);
    cr_expect_arr_eq(got, guid, 16);
    cr_expect_eq(got_age, age);
    cr_expect(hg_pdb_matches(p, guid, age));
    cr_expect_not(hg_pdb_matches(p, guid, age + 1), "another age");
    guid[15] ^= 1;
    cr_expect_not(hg_pdb_matches(p, guid, age), "another GUID");
    hg_pdb_close(p);
    free(exe);
}

Test(pdb_reader, memory_and_file_give_the_same_answers) {
    require_fixtures();
    char *path = fixture("app-O2-b1024.pdb");
    size_t len, n;
    uint8_t *bytes = slurp(path, &len);
    hg_error_t err;
    hg_pdb_t *mem = hg_pdb_open_memory(bytes, len, "mem.pdb", &err),
             *file = open_fixture("app-O2.pdb");
    cr_assert_not_null(mem, "%s", err.msg);
    oracle_entry_t *o = oracle_load("app-O2", &n);
    for (size_t i = 0; i < n; i += 7) {
        hg_pdb_frame_t a[32], b[32];
        size_t na = hg_pdb_lookup(mem, o[i].rva, a, 32), nb = hg_pdb_lookup(file, o[i].rva, b, 32);
        cr_assert_eq(na, nb);
        for (size_t j = 0; j < na; j++) {
            cr_assert(same_text(a[j].function, b[j].function ? b[j].function : "??"));
            cr_assert_eq(a[j].line, b[j].line);
        }
    }
    oracle_free(o, n);
    hg_pdb_close(mem);
    hg_pdb_close(file);
    free(bytes);
    free(path);
}

Test(pdb_reader, frames_are_cut_to_the_room_given) {
    require_fixtures();
    hg_pdb_t *p = open_fixture("app-O2.pdb");
    size_t n;
    oracle_entry_t *o = oracle_load("app-O2", &n);
    for (size_t i = 0; i < n; i++) {
        if (o[i].nframes >= 4) {
            hg_pdb_frame_t f[3];
            size_t k = hg_pdb_lookup(p, o[i].rva, f, 3);
            cr_assert_eq(k, 3);
            cr_assert_not(f[2].inlined, "the last frame given is the procedure");
            cr_assert(same_text(f[2].function, o[i].frames[o[i].nframes - 1].function));
            for (size_t j = 0; j < 2; j++) { /* then the innermost frames */
                cr_assert(f[j].inlined);
                cr_assert(same_text(f[j].function, o[i].frames[j].function), "%s", f[j].function);
                cr_assert_eq(f[j].line, o[i].frames[j].line);
            }
            break;
        }
    }
    hg_pdb_frame_t one;
    cr_expect_eq(hg_pdb_lookup(p, 0x7fffffff, &one, 1), 0, "outside every section");
    cr_expect_eq(hg_pdb_lookup(p, 1ull << 40, &one, 1), 0, "past 32 bits");
    cr_expect_eq(hg_pdb_lookup(p, o[0].rva, &one, 0), 0, "no room");
    oracle_free(o, n);
    hg_pdb_close(p);
}
