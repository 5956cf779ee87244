/* symtest.h - helpers of the ELF/DWARF symbolization tests: run a test program from prog/ and
 * read what it reports (prog/capture.h), read an ELF file's facts with libelf, ask the oracle
 * (llvm-symbolizer), and small file utilities. Every helper fails the running test itself. */
#ifndef HG_TESTS_SYMTEST_H
#define HG_TESTS_SYMTEST_H

#include "symbols.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMTEST_MAX_NAME 512

typedef struct symtest_module {
    char path[4096];
    uint64_t base, size;
} symtest_module_t;

typedef struct symtest_cap {
    char func[SYMTEST_MAX_NAME], outer[SYMTEST_MAX_NAME]; /* outer "-": not inlined */
    int line, outer_line;
    uint64_t addr; /* a return address */
} symtest_cap_t;

typedef struct symtest_run {
    symtest_module_t modules[32];
    int nmodules;
    symtest_cap_t caps[64];
    int ncaps;
    uint64_t stack[32]; /* the allocator's frame first */
    int nstack;
    char leak_func[SYMTEST_MAX_NAME];
    int leak_line;
} symtest_run_t;

/* prog/name (a static buffer per call, four in rotation). */
const char *symtest_prog(const char *name);
/* Runs prog/name and parses its report into *r (malloc'd; free it). */
symtest_run_t *symtest_run(const char *name);
/* The module whose path ends in "/name", or NULL. */
const symtest_module_t *symtest_module(const symtest_run_t *r, const char *name);

typedef struct symtest_elf {
    uint64_t text_lo, text_hi; /* .text */
    uint64_t shift;            /* first PT_LOAD p_vaddr - p_offset */
    uint8_t build_id[64];
    size_t build_id_len;
} symtest_elf_t;

void symtest_elf_read(const char *path, symtest_elf_t *out);

/* True when `tool` is on PATH. Otherwise the test is skipped, or fails when CI=true. */
bool symtest_need_tool(const char *tool);

typedef struct symtest_oframe {
    char function[4096], file[4096]; /* "" when unknown */
    int line, column;
} symtest_oframe_t;

typedef struct symtest_oresult {
    symtest_oframe_t *frames;
    int n;
} symtest_oresult_t;

/* llvm-symbolizer's frames for each ELF address of obj (an array of n; free with
 * symtest_oracle_free), names mangled (--no-demangle). */
symtest_oresult_t *symtest_oracle(const char *obj, const uint64_t *vaddrs, size_t n);
void symtest_oracle_free(symtest_oresult_t *r, size_t n);

/* A symbolizer with demangling as asked, the given symbol path ("" for none) and one module. */
hg_symbolizer_t *symtest_symbolizer(bool demangle, const char *symbol_path, const char *path,
                                    uint64_t base);

/* A fresh scratch directory (removed by symtest_cleanup). */
const char *symtest_scratch(void);
void symtest_cleanup(void);
/* Copies file src to dst, creating dst's directories. */
void symtest_copy(const char *src, const char *dst);
/* A .build-id tree in the scratch directory holding prog/<name>.debug (gdb's layout:
 * .build-id/NN/REST.debug); returns the tree's root, for a symbol path. */
const char *symtest_build_id_root(const char *name);
/* The file name of path (after its last '/'). */
const char *symtest_base_name(const char *path);

#endif
