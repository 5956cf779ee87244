/* dwarf_priv.h - private to the ELF/DWARF backend (dwarf.c and its helpers dwarf_*.c, elf_*.c).
 *
 * How the pieces fit:
 *   elf_file.c       opens one ELF file read-only (libelf), reads its build-id, debuglink and
 *                    the address shift of its first PT_LOAD
 *   elf_debugfile.c  finds a module's separate debug file (build-id, .gnu_debuglink, the
 *                    symbol path's directories, /usr/lib/debug) and checks it belongs
 *   elf_symtab.c     a sorted table of the function symbols of .symtab / .dynsym
 *   dwarf_index.c    sorted address ranges: compilation units per module (built at open),
 *                    function scopes (subprograms, inlined subroutines) per unit (built on the
 *                    unit's first lookup)
 *   dwarf_frames.c   an address's scope chain and line row turned into hg_sym_frame_t frames
 *   dwarf_demangle.c names as reports show them: clone suffixes dropped, C++ demangled
 *   dwarf_util.c     growing arrays, binary search over sorted address tables
 *   dwarf.c          the backend (backend.h): open, lookup, close
 * libdw and libelf errors never escape: whatever fails leaves the address unresolved. */
#ifndef HG_SYMBOLS_DWARF_PRIV_H
#define HG_SYMBOLS_DWARF_PRIV_H

#include "backend.h"

#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HG__NO_SCOPE UINT32_MAX

/* ---- dwarf_util.c ----------------------------------------------------------------------- */

/* Grows *items (of size bytes each) to hold at least need; returns 0 or HG_ENOMEM (then
 * *items is unchanged). */
int hg__dw_grow(void **items, size_t *cap, size_t need, size_t size);
/* In n entries of stride bytes sorted by a leading uint64_t start: the index of the first
 * entry starting above addr (n when none). The entry before it, if any, is the last one
 * starting at or below addr. */
size_t hg__dw_upper_bound(const void *items, size_t n, size_t stride, uint64_t addr);

/* ---- elf_file.c ------------------------------------------------------------------------- */

/* One ELF file opened read-only. build_id points into the file's mapped data. */
typedef struct hg__elf_file {
    int fd;
    Elf *elf;
    const uint8_t *build_id; /* NT_GNU_BUILD_ID descriptor; NULL when none */
    size_t build_id_len;
} hg__elf_file_t;

/* Opens path as an ELF file (regular files only). Returns 0, or HG_EIO when it cannot be
 * opened, HG_EFORMAT when it is not ELF; on error *f is left closed (fd -1, elf NULL). */
int hg__elf_open(const char *path, hg__elf_file_t *f);
void hg__elf_close(hg__elf_file_t *f);
/* True when f's build-id is exactly id[0..len). */
bool hg__elf_build_id_is(const hg__elf_file_t *f, const uint8_t *id, size_t len);
/* True when the file holds DWARF of its own (a .debug_info section with contents). */
bool hg__elf_has_dwarf(Elf *elf);
/* The file-offset-0 address in the ELF's virtual address space: first PT_LOAD's
 * p_vaddr - p_offset (0 when there is no PT_LOAD). vaddr = rva + this. */
uint64_t hg__elf_vaddr_shift(Elf *elf);

/* ---- elf_debugfile.c -------------------------------------------------------------------- */

/* What is known about a module when looking for its separate debug file. */
typedef struct hg__debug_query {
    const char *module_path;
    const uint8_t *build_id; /* NULL when unknown */
    size_t build_id_len;
    const char *debuglink; /* .gnu_debuglink file name; NULL when none */
    uint32_t debuglink_crc;
    const char *symbol_path; /* _NT_SYMBOL_PATH syntax; directories in it are searched */
} hg__debug_query_t;

/* Finds and opens the separate debug file for q. Returns 0 with *out open, or HG_EIO when
 * none was found (*out closed), HG_ENOMEM. */
int hg__elf_find_debug(const hg__debug_query_t *q, hg__elf_file_t *out);
/* CRC-32 (ISO 3309, as .gnu_debuglink uses) of bytes, continuing from crc (start with 0). */
uint32_t hg__crc32(uint32_t crc, const void *bytes, size_t n);

/* ---- elf_symtab.c ----------------------------------------------------------------------- */

typedef struct hg__elf_sym {
    uint64_t lo, hi;     /* [lo, hi) in the ELF's virtual addresses */
    const char *name;    /* points into the ELF's string table (valid while it is open) */
    int rank;            /* binding: GLOBAL 0, WEAK 1, others 2 (chooses among aliases) */
    const char *display; /* the interned display name, once asked for */
} hg__elf_sym_t;

typedef struct hg__symtab {
    hg__elf_sym_t *syms; /* sorted by lo, disjoint */
    size_t n;
} hg__symtab_t;

/* Builds the table from the first of elves[] that has a .symtab, else from the .dynsym of
 * the first that has one. Returns 0 or HG_ENOMEM (table empty). */
int hg__symtab_build(hg__symtab_t *t, Elf *const *elves, size_t nelves);
/* The symbol covering vaddr, or NULL. */
hg__elf_sym_t *hg__symtab_find(const hg__symtab_t *t, uint64_t vaddr);
/* sym's name as reports show it (hg__sym_display_name), worked out once. */
const char *hg__symtab_display(hg_symbolizer_t *s, hg__elf_sym_t *sym);
void hg__symtab_free(hg__symtab_t *t);

/* ---- dwarf_index.c ---------------------------------------------------------------------- */

/* A function scope: a subprogram with code or an inlined subroutine. */
typedef struct hg__dw_scope {
    Dwarf_Die die;
    uint32_t parent;  /* the scope this one is inlined into; HG__NO_SCOPE for a subprogram */
    const char *name; /* interned display name once resolved */
    bool named;       /* name resolved (it may still be NULL) */
} hg__dw_scope_t;

/* Disjoint address segments: [lo, next segment's lo) belongs to scope (HG__NO_SCOPE: none). */
typedef struct hg__dw_seg {
    uint64_t lo;
    uint32_t scope;
} hg__dw_seg_t;

#define HG__DW_FILE_CACHE 8

/* One compilation unit: its DIE, and once looked into, its scopes and line table. */
typedef struct hg__dw_cu {
    Dwarf_Die cudie;
    bool indexed;
    hg__dw_scope_t *scopes;
    uint32_t nscopes;
    hg__dw_seg_t *segs;
    uint32_t nsegs;
    bool lines_read, files_read;
    Dwarf_Lines *lines; /* libdw's, cached by libdw with the unit */
    size_t nlines;
    Dwarf_Files *files;
    size_t nfiles;
    struct {
        const char *raw, *interned; /* libdw's file name string and its interned copy */
    } file_cache[HG__DW_FILE_CACHE];
} hg__dw_cu_t;

typedef struct hg__dw_index hg__dw_index_t;

/* Reads the unit headers of dbg and sorts their address ranges. NULL on no memory or when
 * dbg has no unit with code. */
hg__dw_index_t *hg__dw_index_new(Dwarf *dbg);
void hg__dw_index_free(hg__dw_index_t *ix);
/* The unit covering vaddr (its scopes indexed on first use), or NULL. *scope is set to the
 * innermost function scope at vaddr, or HG__NO_SCOPE. */
hg__dw_cu_t *hg__dw_index_find(hg__dw_index_t *ix, uint64_t vaddr, uint32_t *scope);

/* Sorted segments from nested ranges (see dwarf_index.c). */
typedef struct hg__dw_range {
    uint64_t lo, hi;
    uint32_t depth, scope;
} hg__dw_range_t;
/* Turns ranges (reordered in place) into disjoint segments, innermost range winning. Returns
 * 0 (segments in *out, hg_free them) or HG_ENOMEM. */
int hg__dw_segments(hg__dw_range_t *r, size_t n, hg__dw_seg_t **out, uint32_t *nout);

/* ---- dwarf_frames.c --------------------------------------------------------------------- */

/* Frames for vaddr in cu, innermost first: the scope chain from scope outwards, the line row
 * for the innermost frame and call sites for the outer ones. symbol is the symbol table's
 * display name at vaddr (NULL when none): it names the outermost frame. Returns the count (0
 * when the unit knows nothing). */
size_t hg__dw_frames(hg_symbolizer_t *s, hg__dw_cu_t *cu, uint32_t scope, uint64_t vaddr,
                     const char *symbol, hg_sym_frame_t *out, size_t max);
/* The line row for vaddr in cu: file (interned), line and column; false when none. */
bool hg__dw_line(hg_symbolizer_t *s, hg__dw_cu_t *cu, uint64_t vaddr, hg_sym_frame_t *f);

/* ---- dwarf_demangle.c ------------------------------------------------------------------- */

/* name as reports show it: without compiler clone suffixes (".isra.0", ".cold"), demangled
 * when it is an Itanium C++ name and the options ask for it, interned. NULL for NULL or when
 * out of memory. */
const char *hg__sym_display_name(hg_symbolizer_t *s, const char *name);
/* True for an Itanium C++ ABI mangled name ("_Z..."). */
bool hg__sym_is_mangled(const char *name);

#endif
