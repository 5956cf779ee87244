/* elf_symtab.c - function names from ELF symbol tables, for code without DWARF.
 *
 * Built once per module: the function symbols (STT_FUNC, STT_GNU_IFUNC, defined in a real
 * section; System V ABI, "Symbol Table") of the first file that has a .symtab (the separate
 * debug file keeps the full table when the module itself was stripped), else of the .dynsym.
 * Sorted by address. Of several names for one address (aliases: glibc's malloc, __libc_malloc,
 * __malloc, __GI___libc_malloc) the largest symbol wins, then the public one (GLOBAL before
 * WEAK before LOCAL), then the one with fewer leading underscores, then the first in byte
 * order, so the name a program's authors wrote is shown. A symbol of size 0 reaches to the end of
 * its section. Ranges are then cut where the next symbol starts, so a lookup is one binary search:
 * the last symbol starting at or below the address, if the address is inside it. */
#include "dwarf_priv.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SYMBOLS (1u << 24) /* more is a damaged file */

typedef struct builder {
    hg__elf_sym_t *syms;
    size_t n, cap;
} builder_t;

static bool is_function(const GElf_Sym *sym) {
    int type = GELF_ST_TYPE(sym->st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF &&
           sym->st_shndx < SHN_LORESERVE && sym->st_value != 0;
}

/* The end of the section holding sym, or sym's own address + 1 when that is unknown. */
static uint64_t section_end(Elf *elf, const GElf_Sym *sym) {
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
    if (scn && gelf_getshdr(scn, &sh) && sym->st_value >= sh.sh_addr &&
        sym->st_value - sh.sh_addr < sh.sh_size) {
        return sh.sh_addr + sh.sh_size;
    }
    return sym->st_value + 1;
}

/* GLOBAL 0, WEAK 1, anything else 2: the lower, the more public. */
static int binding_rank(const GElf_Sym *sym) {
    int bind = GELF_ST_BIND(sym->st_info);
    return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

static int push(builder_t *b, const GElf_Sym *sym, uint64_t hi, const char *name) {
    if (hg__dw_grow((void **)&b->syms, &b->cap, b->n + 1, sizeof *b->syms) != 0) {
        return HG_ENOMEM;
    }
    b->syms[b->n++] = (hg__elf_sym_t){sym->st_value, hi, name, binding_rank(sym), NULL};
    return 0;
}

static int add_table(builder_t *b, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh) {
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
    size_t count = data && entsize ? data->d_size / entsize : 0;
    for (size_t i = 0; i < count && i < MAX_SYMBOLS; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(data, (int)i, &sym) || !is_function(&sym)) {
            continue;
        }
        const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
        uint64_t hi = sym.st_size ? sym.st_value + sym.st_size : section_end(elf, &sym);
        if (name && *name && hi > sym.st_value && push(b, &sym, hi, name) != 0) {
            return HG_ENOMEM;
        }
    }
    return 0;
}

/* The first section of type `type` with contents in elf, or NULL. */
static Elf_Scn *find_table(Elf *elf, GElf_Word type, GElf_Shdr *sh) {
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        if (gelf_getshdr(scn, sh) && sh->sh_type == type && sh->sh_size > 0) {
            return scn;
        }
    }
    return NULL;
}

static size_t underscores(const char *name) {
    return strspn(name, "_");
}

/* By address; at one address the alias to keep first (see the top of the file). */
static int by_address(const void *pa, const void *pb) {
    const hg__elf_sym_t *a = pa, *b = pb;
    uint64_t sa = a->hi - a->lo, sb = b->hi - b->lo;
    if (a->lo != b->lo || sa != sb) {
        return a->lo != b->lo ? (a->lo < b->lo ? -1 : 1) : (sa > sb ? -1 : 1);
    }
    if (a->rank != b->rank) {
        return a->rank - b->rank;
    }
    size_t ua = underscores(a->name), ub = underscores(b->name);
    return ua != ub ? (ua < ub ? -1 : 1) : strcmp(a->name, b->name);
}

/* Sorts, keeps the first symbol at each address and cuts each range at the next start. */
static void finish(builder_t *b) {
    if (b->n > 1) {
        qsort(b->syms, b->n, sizeof *b->syms, by_address);
    }
    size_t out = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (out == 0 || b->syms[i].lo != b->syms[out - 1].lo) {
            b->syms[out++] = b->syms[i];
        }
    }
    b->n = out;
    for (size_t i = 0; i + 1 < b->n; i++) {
        if (b->syms[i].hi > b->syms[i + 1].lo) {
            b->syms[i].hi = b->syms[i + 1].lo;
        }
    }
}

/* Adds the function symbols of the first of elves[] with a table of this type. */
static int collect(builder_t *b, Elf *const *elves, size_t nelves, GElf_Word type) {
    for (size_t i = 0; i < nelves; i++) {
        GElf_Shdr sh;
        Elf_Scn *scn = elves[i] ? find_table(elves[i], type, &sh) : NULL;
        if (scn) {
            return add_table(b, elves[i], scn, &sh);
        }
    }
    return 0;
}

int hg__symtab_build(hg__symtab_t *t, Elf *const *elves, size_t nelves) {
    builder_t b = {0};
    int rc = collect(&b, elves, nelves, SHT_SYMTAB);
    if (rc == 0 && b.n == 0) {
        rc = collect(&b, elves, nelves, SHT_DYNSYM);
    }
    if (rc != 0) {
        hg_free(b.syms);
        b = (builder_t){0};
    }
    finish(&b);
    t->syms = b.syms;
    t->n = b.n;
    return rc;
}

hg__elf_sym_t *hg__symtab_find(const hg__symtab_t *t, uint64_t vaddr) {
    size_t i = hg__dw_upper_bound(t->syms, t->n, sizeof *t->syms, vaddr);
    return i > 0 && vaddr < t->syms[i - 1].hi ? &t->syms[i - 1] : NULL;
}

const char *hg__symtab_display(hg_symbolizer_t *s, hg__elf_sym_t *sym) {
    if (!sym->display) {
        sym->display = hg__sym_display_name(s, sym->name);
    }
    return sym->display;
}

void hg__symtab_free(hg__symtab_t *t) {
    hg_free(t->syms);
    t->syms = NULL;
    t->n = 0;
}
