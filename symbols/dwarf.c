/* dwarf.c - the ELF/DWARF symbolization backend (backend.h), on elfutils' libelf and libdw.
 *
 * Opening a module (once, on its first address):
 *  1. the file at the recorded path is opened; when the trace recorded a build-id and the
 *     file's differs, the file is not the one that ran and only the build-id can help;
 *  2. DWARF comes from that file when it has .debug_info, else from its separate debug file,
 *     found by build-id or .gnu_debuglink (elf_debugfile.c); without either file, nothing;
 *  3. the address shift comes from the first PT_LOAD (elf_file.c): vaddr = rva + shift;
 *  4. the unit ranges are indexed (dwarf_index.c) and the function symbols of .symtab or
 *     .dynsym sorted (elf_symtab.c), for code the DWARF does not describe.
 * A module with neither DWARF nor symbols is not served (NULL), so it stays module+offset.
 * The symbolizer opens a module per address space (process); a file loaded by many processes
 * of a trace is opened and indexed once and shared: open modules are kept in a list keyed by
 * symbolizer and build-id (or path, without one), with a reference count. heapgate analyzes
 * on one thread, so the list needs no lock.
 *
 * Looking up an address: the DWARF scopes give the inline chain with files and lines
 * (dwarf_frames.c); where they know no function the symbol table names it, with the line
 * table's position when a unit covers the address. */
#include "dwarf_priv.h"

#include <elfutils/libdwelf.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY_ID 64

typedef struct dw_module {
    struct dw_module *next; /* in open_modules */
    hg_symbolizer_t *owner;
    char *key_path; /* the recorded path; NULL when not shared */
    uint8_t key_id[MAX_KEY_ID];
    uint32_t key_id_len;
    unsigned refs;
    hg__elf_file_t main;  /* the module's own file; closed when absent or not the traced one */
    hg__elf_file_t debug; /* its separate debug file; closed when none */
    Dwarf *dbg;
    hg__dw_index_t *index;
    hg__symtab_t symtab;
    uint64_t shift; /* vaddr = rva + shift */
} dw_module_t;

static dw_module_t *open_modules;

/* Takes dm out of open_modules (when it is there). */
static void unshare(dw_module_t *dm) {
    for (dw_module_t **p = &open_modules; *p; p = &(*p)->next) {
        if (*p == dm) {
            *p = dm->next;
            return;
        }
    }
}

/* Lists dm as open in s for the identity of m; without memory it stays unlisted. */
static void share(dw_module_t *dm, hg_symbolizer_t *s, const hg_sym_module_t *m) {
    if (m->build_id_len > MAX_KEY_ID || !(dm->key_path = hg_strdup(m->path ? m->path : ""))) {
        return;
    }
    dm->owner = s;
    dm->key_id_len = m->build_id_len;
    if (m->build_id_len) {
        memcpy(dm->key_id, m->build_id, m->build_id_len);
    }
    dm->next = open_modules;
    open_modules = dm;
}

/* The same file in any address space: the same build-id, or the same path without one. */
static dw_module_t *find_shared(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    for (dw_module_t *dm = open_modules; dm; dm = dm->next) {
        bool same = dm->owner == s && dm->key_id_len == m->build_id_len &&
                    (m->build_id_len ? memcmp(dm->key_id, m->build_id, m->build_id_len) == 0
                                     : strcmp(dm->key_path, m->path ? m->path : "") == 0);
        if (same) {
            return dm;
        }
    }
    return NULL;
}

static void dw_close(void *handle) {
    dw_module_t *dm = handle;
    if (!dm || --dm->refs > 0) {
        return;
    }
    unshare(dm);
    hg_free(dm->key_path);
    hg__dw_index_free(dm->index);
    if (dm->dbg) {
        dwarf_end(dm->dbg);
    }
    hg__symtab_free(&dm->symtab);
    hg__elf_close(&dm->debug);
    hg__elf_close(&dm->main);
    hg_free(dm);
}

/* Opens the recorded file, keeping it only when it is the one the trace saw. */
static bool open_main(dw_module_t *dm, const hg_sym_module_t *m) {
    if (!m->path || !*m->path || hg__elf_open(m->path, &dm->main) != 0) {
        return false;
    }
    if (m->build_id_len && !hg__elf_build_id_is(&dm->main, m->build_id, m->build_id_len)) {
        hg__elf_close(&dm->main);
        return false;
    }
    return true;
}

static void open_debug(hg_symbolizer_t *s, dw_module_t *dm, const hg_sym_module_t *m) {
    hg__debug_query_t q = {.module_path = m->path, .symbol_path = hg__sym_options(s)->symbol_path};
    if (m->build_id_len) {
        q.build_id = m->build_id;
        q.build_id_len = m->build_id_len;
    } else if (dm->main.elf) {
        q.build_id = dm->main.build_id;
        q.build_id_len = dm->main.build_id_len;
    }
    GElf_Word crc = 0;
    q.debuglink = dm->main.elf ? dwelf_elf_gnu_debuglink(dm->main.elf, &crc) : NULL;
    q.debuglink_crc = crc;
    hg__elf_find_debug(&q, &dm->debug);
}

/* DWARF from the module when it has its own, else from its debug file; then the symbols. */
static void index_module(dw_module_t *dm) {
    Elf *src = dm->main.elf && hg__elf_has_dwarf(dm->main.elf) ? dm->main.elf : dm->debug.elf;
    dm->dbg = src ? dwarf_begin_elf(src, DWARF_C_READ, NULL) : NULL;
    dm->index = dm->dbg ? hg__dw_index_new(dm->dbg) : NULL;
    Elf *elves[2] = {dm->debug.elf, dm->main.elf};
    hg__symtab_build(&dm->symtab, elves, 2);
}

static dw_module_t *open_module(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    dw_module_t *dm = hg_calloc(1, sizeof *dm);
    if (!dm) {
        return NULL;
    }
    dm->refs = 1;
    dm->main.fd = dm->debug.fd = -1;
    bool have_main = open_main(dm, m);
    if (!have_main || !hg__elf_has_dwarf(dm->main.elf)) {
        open_debug(s, dm, m);
    }
    Elf *placed = have_main ? dm->main.elf : dm->debug.elf;
    if (placed) {
        dm->shift = hg__elf_vaddr_shift(placed);
        index_module(dm);
    }
    if (!dm->index && dm->symtab.n == 0) {
        dw_close(dm);
        return NULL;
    }
    return dm;
}

static void *dw_open(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    dw_module_t *dm = find_shared(s, m);
    if (dm) {
        dm->refs++;
        return dm;
    }
    dm = open_module(s, m);
    if (dm) {
        share(dm, s, m);
    }
    return dm;
}

static size_t dw_lookup(hg_symbolizer_t *s, void *handle, uint64_t rva, hg_sym_frame_t *out,
                        size_t max) {
    dw_module_t *dm = handle;
    uint64_t vaddr = rva + dm->shift;
    hg__elf_sym_t *sym = hg__symtab_find(&dm->symtab, vaddr);
    const char *symbol = sym ? hg__symtab_display(s, sym) : NULL;
    uint32_t scope = HG__NO_SCOPE;
    hg__dw_cu_t *cu = dm->index ? hg__dw_index_find(dm->index, vaddr, &scope) : NULL;
    if (cu && scope != HG__NO_SCOPE) {
        return hg__dw_frames(s, cu, scope, vaddr, symbol, out, max);
    }
    if (max == 0) {
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->function = symbol;
    bool positioned = cu && hg__dw_line(s, cu, vaddr, out);
    return out->function || positioned ? 1 : 0;
}

const hg__sym_backend_t hg__sym_backend_dwarf = {"dwarf", dw_open, dw_lookup, dw_close};
