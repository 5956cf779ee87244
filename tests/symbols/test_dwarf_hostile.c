/* test_dwarf_hostile.c - module paths that do not lead to a good ELF file: not ELF, empty, a
 * directory, a FIFO (must not block), a device, truncated ELF, ELF with damaged DWARF or
 * headers. Every address must come back (module+offset, or whatever could still be read) and
 * nothing may crash or hang; the ASan build checks the memory accesses. */
#include "symtest.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRAMES 8
#define BASE       0x555500000000ull

TestSuite(dwarf_hostile, .fini = symtest_cleanup);

typedef struct blob {
    unsigned char *data;
    size_t len;
} blob_t;

static blob_t load(const char *path) {
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    fseek(fp, 0, SEEK_END);
    blob_t b = {.len = (size_t)ftell(fp)};
    fseek(fp, 0, SEEK_SET);
    b.data = malloc(b.len ? b.len : 1);
    cr_assert_eq(fread(b.data, 1, b.len, fp), b.len);
    fclose(fp);
    return b;
}

static const char *write_blob(const char *name, const unsigned char *data, size_t len) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", symtest_scratch(), name);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
    return path;
}

/* Resolves every 16th byte of the first 64 KiB of the module at path, plus a few far ones;
 * every address must come back with the module's name and its offset. Returns how many had a
 * function name. */
static int resolve_all(const char *path) {
    hg_symbolizer_t *s = symtest_symbolizer(true, "", path, BASE);
    int named = 0;
    for (uint64_t off = 0; off < 0x10000 + 64; off += (off < 0x10000 ? 16 : 1)) {
        hg_sym_frame_t f[MAX_FRAMES];
        size_t n = hg_sym_resolve(s, 0, BASE + off, 0, f, MAX_FRAMES);
        cr_assert(n >= 1 && n <= MAX_FRAMES);
        cr_assert_str_eq(f[0].module, symtest_base_name(path));
        cr_assert_eq(f[0].offset, off);
        named += f[0].function != NULL;
    }
    hg_sym_close(s);
    return named;
}

Test(dwarf_hostile, files_that_are_not_elf) {
    static const char text[] = "not an ELF file\n";
    static const unsigned char elf_magic_only[] = {0x7f, 'E', 'L', 'F'};
    cr_expect_eq(resolve_all(write_blob("text", (const unsigned char *)text, sizeof text)), 0);
    cr_expect_eq(resolve_all(write_blob("empty", (const unsigned char *)"", 0)), 0);
    cr_expect_eq(resolve_all(write_blob("magic", elf_magic_only, sizeof elf_magic_only)), 0);
    cr_expect_eq(resolve_all(symtest_scratch()), 0); /* a directory */
    cr_expect_eq(resolve_all("/dev/zero"), 0);
    char fifo[4096];
    snprintf(fifo, sizeof fifo, "%s/fifo", symtest_scratch());
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_expect_eq(resolve_all(fifo), 0); /* opening it must neither block nor read */
}

Test(dwarf_hostile, truncated_elf) {
    blob_t b = load(symtest_prog("symprog_c"));
    size_t cuts[] = {1,           16,       52,   63,        64,        65,
                     200,         1000,     4096, b.len / 4, b.len / 2, b.len * 3 / 4,
                     b.len - 100, b.len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        resolve_all(write_blob("cut", b.data, cuts[i]));
    }
    free(b.data);
}

/* [lo, hi) file offsets of the sections whose names start with prefix (the first one's lo,
 * the last one's hi). */
static void section_span(const char *path, const char *prefix, size_t *lo, size_t *hi) {
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    size_t shstrndx;
    cr_assert_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
    *lo = SIZE_MAX;
    *hi = 0;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if (name && strncmp(name, prefix, strlen(prefix)) == 0 && sh.sh_type != SHT_NOBITS) {
            *lo = sh.sh_offset < *lo ? sh.sh_offset : *lo;
            *hi = sh.sh_offset + sh.sh_size > *hi ? sh.sh_offset + sh.sh_size : *hi;
        }
    }
    elf_end(elf);
    close(fd);
    cr_assert(*lo < *hi, "%s has no %s sections", path, prefix);
}

static uint32_t lcg(uint32_t *state) {
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

/* Copies of the file with `flips` bytes in [lo, hi) overwritten, for many seeds. */
static void damage(const char *prog, size_t lo, size_t hi, int flips) {
    blob_t b = load(symtest_prog(prog));
    unsigned char *copy = malloc(b.len);
    for (uint32_t seed = 1; seed <= 48; seed++) {
        uint32_t st = seed;
        memcpy(copy, b.data, b.len);
        for (int k = 0; k < flips * (int)(1 + seed % 4); k++) {
            size_t at = lo + lcg(&st) % (hi - lo);
            copy[at] = (seed % 3 == 0) ? 0xff : (unsigned char)(copy[at] ^ (lcg(&st) | 1));
        }
        resolve_all(write_blob(prog, copy, b.len));
    }
    free(copy);
    free(b.data);
}

Test(dwarf_hostile, damaged_dwarf) {
    size_t lo, hi;
    section_span(symtest_prog("symprog_c"), ".debug_", &lo, &hi);
    damage("symprog_c", lo, hi, 4);
    section_span(symtest_prog("symprog_cxx"), ".debug_", &lo, &hi);
    damage("symprog_cxx", lo, hi, 8);
}

Test(dwarf_hostile, damaged_headers_and_symbols) {
    blob_t b = load(symtest_prog("symprog_c_nodwarf"));
    free(b.data);
    damage("symprog_c_nodwarf", 0, 64, 2); /* the ELF header */
    size_t lo, hi;
    section_span(symtest_prog("symprog_c_nodwarf"), ".symtab", &lo, &hi);
    damage("symprog_c_nodwarf", lo, hi, 6);
    section_span(symtest_prog("symprog_c_nodwarf"), ".strtab", &lo, &hi);
    damage("symprog_c_nodwarf", lo, hi, 6);
    damage("symprog_c_nodwarf", b.len - 0x800, b.len, 6); /* section headers sit at the end */
}
