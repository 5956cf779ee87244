/* fuzz_elf.c - libFuzzer target for the ELF/DWARF symbolization backend (symbols/dwarf.c).
 *
 * Each input is written to a file in a fresh temporary directory and registered as a module
 * at a fixed base; about thirty addresses are resolved in it: around the entry point the ELF
 * header names (as a PIE and as a classic non-PIE executable would place it), a spread over
 * the first pages where small files keep their code, and two taken from the input's last
 * bytes. Every answer must keep the contract (at least one frame, the module's name, the
 * right offset, strings terminated). Inputs run once with C++ demangling and once without;
 * then once more with heapgate's own allocations failing after a few (HG_ENOMEM must be
 * clean: no crash, no leak).
 *
 * The seed corpus fuzz/corpus/elf/ holds tiny ELF files (under 8 KB each) built from a
 * 5-line C file and a 3-line C++ file (-nostdlib -static -Wl,-z,noseparate-code): DWARF 5 and
 * 4 from gcc, DWARF 5 from clang, compressed debug sections (-gz), split DWARF without its
 * .dwo, symbols only, a shared object with and without .symtab, C++, a relocatable object
 * (also 32-bit), and a stripped file with a .gnu_debuglink plus its debug file. */
#include "symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE       0x10000000ull
#define SIZE       0x100000000ull /* module size: every offset below it is the module's */
#define MAX_FRAMES 8

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_elf: check failed: %s\n", #c);                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A fresh directory per input (libFuzzer may end the process without running atexit
 * handlers, so nothing is left behind between inputs). */
typedef struct temp {
    char dir[32], file[64];
} temp_t;

static void write_input(temp_t *t, const uint8_t *data, size_t size) {
    snprintf(t->dir, sizeof t->dir, "/tmp/hg-fuzz-elf-XXXXXX");
    CHECK(mkdtemp(t->dir) != NULL);
    snprintf(t->file, sizeof t->file, "%s/module", t->dir);
    FILE *fp = fopen(t->file, "wb");
    CHECK(fp != NULL);
    CHECK(fwrite(data, 1, size, fp) == size);
    CHECK(fclose(fp) == 0);
}

static uint64_t read_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* The module offsets to resolve; returns how many were written to rva. */
static size_t pick(const uint8_t *data, size_t size, uint64_t *rva) {
    size_t n = 0;
    uint64_t entry = size >= 32 ? read_le(data + 24, 8) : 0; /* ELF64 e_entry */
    static const uint64_t shifts[] = {0, 0x400000};
    static const uint64_t back[] = {0, 1, 8, 33, 64};
    for (size_t s = 0; s < 2; s++) {
        for (size_t b = 0; b < 5 && entry >= shifts[s] + back[b]; b++) {
            rva[n++] = (entry - shifts[s] - back[b]) % SIZE;
        }
    }
    for (uint64_t k = 0; k < 16; k++) {
        rva[n++] = 0x100 + k * 0x23;
    }
    if (size >= 8) {
        rva[n++] = read_le(data + size - 4, 4) & 0xfffff;
        rva[n++] = read_le(data + size - 8, 4) & 0xfffff;
    }
    return n;
}

static void check_frames(const hg_sym_frame_t *f, size_t n, uint64_t rva) {
    CHECK(n >= 1 && n <= MAX_FRAMES);
    for (size_t i = 0; i < n; i++) {
        CHECK(f[i].module && strcmp(f[i].module, "module") == 0);
        CHECK(f[i].offset == rva);
        CHECK(!f[i].function || strlen(f[i].function) < (1u << 20));
        CHECK(!f[i].file || strlen(f[i].file) < (1u << 20));
        CHECK(f[i].inlined == (i + 1 < n)); /* all but the outermost */
    }
}

/* One symbolizer over the input; returns false when an allocation failed on the way. */
static bool symbolize(const char *path, const uint64_t *rva, size_t n, bool demangle) {
    hg_sym_options_t opt;
    hg_sym_options_init(&opt);
    opt.demangle = demangle;
    opt.symbol_path = "";
    hg_error_t err;
    hg_symbolizer_t *s = hg_sym_open(&opt, &err);
    hg_sym_module_t m = {.base = BASE, .size = SIZE, .path = path};
    bool ok = s && hg_sym_add_module(s, 1, &m) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        hg_sym_frame_t f[MAX_FRAMES];
        size_t k = hg_sym_resolve(s, 1, BASE + rva[i], 0, f, MAX_FRAMES);
        check_frames(f, k, rva[i]);
    }
    hg_sym_close(s);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    temp_t t;
    uint64_t rva[40];
    size_t n = pick(data, size, rva);
    write_input(&t, data, size);
    CHECK(symbolize(t.file, rva, n, true));
    CHECK(symbolize(t.file, rva, n, false));
    hg_mem_fail_after((long)(size % 17));
    symbolize(t.file, rva, n, true);
    hg_mem_fail_after(-1);
    unlink(t.file);
    rmdir(t.dir);
    return 0;
}
