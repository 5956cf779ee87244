/* dwarf_frames.c - an address's frames from its chain of function scopes and the line table.
 *
 * For an address inside inlined code the chain is innermost inlined subroutine -> ... ->
 * the subprogram it all sits in. Frame 0 is the innermost scope, positioned by the line table
 * row covering the address (DWARF 5 §6.2); each outer frame is positioned at the call site
 * its inner scope records: DW_AT_call_file, DW_AT_call_line, DW_AT_call_column (DWARF 5
 * §3.3.8.2). Every frame but the outermost is marked inlined. This is what gdb and
 * llvm-symbolizer show.
 *
 * Names: DW_AT_linkage_name (or the older DW_AT_MIPS_linkage_name), else DW_AT_name, each
 * looked up through DW_AT_abstract_origin and DW_AT_specification (libdw's
 * dwarf_attr_integrate), so an inlined or out-of-line instance is named after its abstract
 * definition. Resolved once per scope. The outermost frame takes the symbol table's name when
 * a symbol covers the address (see outer_name).
 *
 * Line rows: libdw sorts a unit's rows by address, an end-of-sequence row before an ordinary
 * one at the same address (elfutils dwarf_getsrclines). The row for an address is the last
 * one at or below it (the last of several at one address, as llvm-symbolizer picks), unless
 * that row ends a sequence: then the address lies in a gap. */
#include "dwarf_priv.h"

#include <dwarf.h>

#define MAX_CHAIN 256 /* deeper inlining is a damaged file */

static const char *raw_name(Dwarf_Die *die) {
    static const unsigned attrs[] = {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        Dwarf_Attribute a;
        const char *name = dwarf_formstring(dwarf_attr_integrate(die, attrs[i], &a));
        if (name && *name) {
            return name;
        }
    }
    return NULL;
}

static const char *scope_name(hg_symbolizer_t *s, hg__dw_scope_t *sc) {
    if (!sc->named) {
        sc->name = hg__sym_display_name(s, raw_name(&sc->die));
        sc->named = sc->name != NULL;
    }
    return sc->name;
}

/* The outermost frame's name: the symbol table's when a symbol covers the address, as
 * llvm-symbolizer does. That name is the one the program's authors and linker gave the code:
 * DWARF names C++ functions with internal linkage (anonymous namespaces, lambdas) without
 * qualification ("operator()"), and asm-renamed C functions by their internal alias (glibc's
 * malloc is "__GI___libc_malloc" there). */
static const char *outer_name(hg_symbolizer_t *s, hg__dw_scope_t *sc, const char *symbol) {
    return symbol ? symbol : scope_name(s, sc);
}

static void read_lines(hg__dw_cu_t *cu) {
    cu->lines_read = true;
    if (dwarf_getsrclines(&cu->cudie, &cu->lines, &cu->nlines) != 0) {
        cu->lines = NULL;
        cu->nlines = 0;
    }
}

static uint64_t row_addr(Dwarf_Lines *lines, size_t i) {
    Dwarf_Addr a = UINT64_MAX; /* a row libdw cannot give sorts last */
    Dwarf_Line *row = dwarf_onesrcline(lines, i);
    if (row) {
        dwarf_lineaddr(row, &a);
    }
    return a;
}

/* The index of the first of cu's rows above vaddr. */
static size_t first_row_above(hg__dw_cu_t *cu, uint64_t vaddr) {
    size_t lo = 0, hi = cu->nlines;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (row_addr(cu->lines, mid) <= vaddr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The row covering vaddr, or NULL. */
static Dwarf_Line *row_at(hg__dw_cu_t *cu, uint64_t vaddr) {
    if (!cu->lines_read) {
        read_lines(cu);
    }
    size_t i = first_row_above(cu, vaddr);
    Dwarf_Line *row = i > 0 ? dwarf_onesrcline(cu->lines, i - 1) : NULL;
    bool end = true;
    return row && dwarf_lineendsequence(row, &end) == 0 && !end ? row : NULL;
}

/* The interned copy of a file name libdw gave for cu. libdw hands out the same string for the
 * same file, so a few recent ones are remembered by address and not hashed again. */
static const char *intern_file(hg_symbolizer_t *s, hg__dw_cu_t *cu, const char *raw) {
    size_t slot = ((uintptr_t)raw >> 3) % HG__DW_FILE_CACHE;
    if (cu->file_cache[slot].raw != raw || !cu->file_cache[slot].interned) {
        cu->file_cache[slot].raw = raw;
        cu->file_cache[slot].interned = hg__sym_intern(s, raw);
    }
    return cu->file_cache[slot].interned;
}

bool hg__dw_line(hg_symbolizer_t *s, hg__dw_cu_t *cu, uint64_t vaddr, hg_sym_frame_t *f) {
    Dwarf_Line *row = row_at(cu, vaddr);
    const char *file = row ? dwarf_linesrc(row, NULL, NULL) : NULL;
    int line = 0, col = 0;
    if (!file || dwarf_lineno(row, &line) != 0 || dwarf_linecol(row, &col) != 0) {
        return false;
    }
    f->file = intern_file(s, cu, file);
    f->line = line > 0 ? (uint32_t)line : 0;
    f->column = col > 0 ? (uint32_t)col : 0;
    return f->file != NULL;
}

static Dwarf_Word attr_udata(Dwarf_Die *die, unsigned name, Dwarf_Word none) {
    Dwarf_Attribute a;
    Dwarf_Word v;
    return dwarf_formudata(dwarf_attr(die, name, &a), &v) == 0 ? v : none;
}

/* The file at index idx of cu's file table (DWARF 5 §6.2.4), or NULL. */
static const char *unit_file(hg__dw_cu_t *cu, Dwarf_Word idx) {
    if (!cu->files_read) {
        cu->files_read = true;
        if (dwarf_getsrcfiles(&cu->cudie, &cu->files, &cu->nfiles) != 0) {
            cu->files = NULL;
            cu->nfiles = 0;
        }
    }
    return cu->files && idx < cu->nfiles ? dwarf_filesrc(cu->files, idx, NULL, NULL) : NULL;
}

/* Positions f at the call site recorded by the inlined scope `inner`. */
static void call_site(hg_symbolizer_t *s, hg__dw_cu_t *cu, Dwarf_Die *inner, hg_sym_frame_t *f) {
    const char *file = unit_file(cu, attr_udata(inner, DW_AT_call_file, UINT64_MAX));
    Dwarf_Word line = attr_udata(inner, DW_AT_call_line, 0);
    Dwarf_Word col = attr_udata(inner, DW_AT_call_column, 0);
    f->file = file ? intern_file(s, cu, file) : NULL;
    f->line = line <= UINT32_MAX ? (uint32_t)line : 0;
    f->column = col <= UINT32_MAX ? (uint32_t)col : 0;
}

/* The scopes from `scope` outwards; parents always come before their children in the table,
 * so following them ends. */
static size_t chain_of(const hg__dw_cu_t *cu, uint32_t scope, uint32_t *chain) {
    size_t n = 0;
    for (uint32_t sc = scope; sc < cu->nscopes && n < MAX_CHAIN; sc = cu->scopes[sc].parent) {
        chain[n++] = sc;
        if (cu->scopes[sc].parent != HG__NO_SCOPE && cu->scopes[sc].parent >= sc) {
            break;
        }
    }
    return n;
}

/* With more frames than room, the innermost max-1 and the outermost (the function the code
 * really is in) are kept; the frames in between are dropped. */
size_t hg__dw_frames(hg_symbolizer_t *s, hg__dw_cu_t *cu, uint32_t scope, uint64_t vaddr,
                     const char *symbol, hg_sym_frame_t *out, size_t max) {
    uint32_t chain[MAX_CHAIN];
    size_t n = chain_of(cu, scope, chain);
    if (n == 0 || max == 0) {
        return 0;
    }
    size_t kept = n <= max ? n : max;
    for (size_t k = 0; k < kept; k++) {
        size_t c = (k == kept - 1) ? n - 1 : k; /* the last kept is always the outermost */
        hg_sym_frame_t *f = &out[k];
        *f = (hg_sym_frame_t){0};
        hg__dw_scope_t *sc = &cu->scopes[chain[c]];
        f->inlined = c != n - 1;
        f->function = f->inlined ? scope_name(s, sc) : outer_name(s, sc, symbol);
        if (c == 0) {
            hg__dw_line(s, cu, vaddr, f);
        } else {
            call_site(s, cu, &cu->scopes[chain[c - 1]].die, f);
        }
    }
    return kept;
}
