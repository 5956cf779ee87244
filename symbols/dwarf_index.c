/* dwarf_index.c - sorted address ranges over a module's DWARF, so a lookup is a few binary
 * searches instead of a walk over the debug information.
 *
 * Two levels:
 *  - per module (built when the module is opened): the address ranges of every compilation
 *    unit, from the unit DIE's DW_AT_low_pc/high_pc or DW_AT_ranges (DWARF 5 §3.1.1, §2.17),
 *    sorted by start with a running maximum of the ends, so the units covering an address
 *    are found by one binary search and a short walk back (units rarely overlap). A unit
 *    without ranges on its DIE is indexed at once and contributes its functions' ranges.
 *  - per unit (built on the unit's first lookup): every DW_TAG_subprogram and
 *    DW_TAG_inlined_subroutine with code (DWARF 5 §3.3, §3.3.8) becomes a scope that knows the
 *    scope it is inlined into; their ranges, which nest, are flattened into disjoint segments
 *    labelled with the innermost scope (hg__dw_segments), so the innermost inline frame at an
 *    address is one binary search away and the others follow the parent links.
 *
 * Damaged DWARF must not loop or crash: the DIE walk stops when offsets stop increasing (a
 * DW_AT_sibling pointing backwards), descends at most MAX_DEPTH levels, and every libdw error
 * just ends that unit's index. Ranges starting at 0 or ending at or below their start are
 * dropped: they are functions the linker discarded (their relocations resolved to 0, or to a
 * tombstone such as -1 or -2 as lld writes). */
#include "dwarf_priv.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH      128
#define MAX_UNITS      (1u << 22)
#define MAX_RANGES_DIE 4096 /* per DIE: more is a damaged file */

typedef struct cu_range {
    uint64_t lo, hi, maxhi; /* maxhi: the greatest hi of this and every earlier range */
    uint32_t cu;
} cu_range_t;

struct hg__dw_index {
    hg__dw_cu_t *cus;
    size_t ncus, capcus;
    cu_range_t *ranges;
    size_t nranges, capranges;
};

typedef struct walk {
    hg__dw_cu_t *cu;
    size_t capscopes;
    hg__dw_range_t *ranges;
    size_t nranges, capranges;
} walk_t;

typedef struct level {
    Dwarf_Die die;
    uint32_t scope;
} level_t;

/* ---- disjoint segments from nested ranges ------------------------------------------------ */

typedef struct segs {
    hg__dw_seg_t *v;
    size_t n, cap;
    int rc;
} segs_t;

/* Starts a segment at lo owned by scope; segments only move forward. */
static void emit(segs_t *sg, uint64_t lo, uint32_t scope) {
    if (sg->n && sg->v[sg->n - 1].lo > lo) {
        return; /* out of order: only damaged nesting gets here */
    }
    if (sg->n && sg->v[sg->n - 1].lo == lo) {
        sg->n--; /* a deeper range starts at the same place */
    }
    if (sg->n && sg->v[sg->n - 1].scope == scope) {
        return;
    }
    if (hg__dw_grow((void **)&sg->v, &sg->cap, sg->n + 1, sizeof *sg->v) != 0) {
        sg->rc = HG_ENOMEM;
        return;
    }
    sg->v[sg->n++] = (hg__dw_seg_t){lo, scope};
}

static int by_start(const void *pa, const void *pb) {
    const hg__dw_range_t *a = pa, *b = pb;
    if (a->lo != b->lo) {
        return a->lo < b->lo ? -1 : 1;
    }
    if (a->depth != b->depth) {
        return a->depth < b->depth ? -1 : 1;
    }
    return a->hi > b->hi ? -1 : a->hi < b->hi;
}

/* Closes the open ranges that end at or before `at`: each hands back to the one below it. */
static void close_until(segs_t *sg, const hg__dw_range_t *stack, size_t *top, uint64_t at) {
    while (*top && stack[*top - 1].hi <= at) {
        --*top;
        emit(sg, stack[*top].hi, *top ? stack[*top - 1].scope : HG__NO_SCOPE);
    }
}

/* Sweeps the ranges in start order keeping a stack of the open ones: a range starting opens a
 * segment of its own; one ending hands back to the range below it. A range reaching past the
 * one it starts inside is cut to it, which keeps the stack nested even for damaged input. */
int hg__dw_segments(hg__dw_range_t *r, size_t n, hg__dw_seg_t **out, uint32_t *nout) {
    segs_t sg = {0};
    hg__dw_range_t *stack = hg_malloc((n ? n : 1) * sizeof *stack);
    size_t top = 0;
    sg.rc = stack ? 0 : HG_ENOMEM;
    if (n > 1) {
        qsort(r, n, sizeof *r, by_start);
    }
    for (size_t i = 0; i < n && sg.rc == 0; i++) {
        close_until(&sg, stack, &top, r[i].lo);
        stack[top] = r[i];
        if (top && stack[top].hi > stack[top - 1].hi) {
            stack[top].hi = stack[top - 1].hi;
        }
        emit(&sg, stack[top++].lo, r[i].scope);
    }
    close_until(&sg, stack, &top, UINT64_MAX);
    hg_free(stack);
    if (sg.rc != 0 || sg.n > UINT32_MAX) {
        hg_free(sg.v);
        return HG_ENOMEM;
    }
    *out = sg.v;
    *nout = (uint32_t)sg.n;
    return 0;
}

/* ---- one unit's scopes ------------------------------------------------------------------- */

static bool range_ok(Dwarf_Addr lo, Dwarf_Addr hi) {
    return lo != 0 && hi > lo;
}

/* Adds die's address ranges with the given depth and scope; returns how many, or -1. */
static long add_ranges(walk_t *w, Dwarf_Die *die, uint32_t depth, uint32_t scope) {
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    long added = 0;
    for (int k = 0; k < MAX_RANGES_DIE && (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0;
         k++) {
        if (!range_ok(lo, hi)) {
            continue;
        }
        if (hg__dw_grow((void **)&w->ranges, &w->capranges, w->nranges + 1, sizeof *w->ranges)) {
            return -1;
        }
        w->ranges[w->nranges++] = (hg__dw_range_t){lo, hi, depth, scope};
        added++;
    }
    return added;
}

static int add_scope(walk_t *w, Dwarf_Die *die, uint32_t parent) {
    hg__dw_cu_t *cu = w->cu;
    if (hg__dw_grow((void **)&cu->scopes, &w->capscopes, cu->nscopes + 1, sizeof *cu->scopes)) {
        return HG_ENOMEM;
    }
    cu->scopes[cu->nscopes++] = (hg__dw_scope_t){.die = *die, .parent = parent};
    return 0;
}

/* A function DIE with code becomes a scope; *inner is the scope its children are inside. */
static int visit(walk_t *w, Dwarf_Die *die, uint32_t depth, uint32_t enclosing, uint32_t *inner) {
    *inner = enclosing;
    int tag = dwarf_tag(die);
    uint32_t index = w->cu->nscopes;
    if ((tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) || index == HG__NO_SCOPE) {
        return 0;
    }
    long added = add_ranges(w, die, depth, index);
    if (added <= 0) {
        return added < 0 ? HG_ENOMEM : 0;
    }
    *inner = index;
    return add_scope(w, die, tag == DW_TAG_inlined_subroutine ? enclosing : HG__NO_SCOPE);
}

/* Moves *die to the next DIE after its subtree: its sibling, or its parent's, climbing the
 * stack. Returns false at the end of the unit or on an error. */
static bool next_after(Dwarf_Die *die, level_t *stack, uint32_t *depth, uint32_t *scope) {
    Dwarf_Die next;
    int sib;
    while ((sib = dwarf_siblingof(die, &next)) == 1 && *depth > 0) {
        --*depth;
        *die = stack[*depth].die;
        *scope = stack[*depth].scope;
    }
    if (sib != 0) {
        return false;
    }
    *die = next;
    return true;
}

/* Depth-first over the unit's DIEs, visiting each once, in increasing offset order. */
static int walk_dies(walk_t *w, level_t *stack) {
    Dwarf_Die die, child;
    uint32_t depth = 0, scope = HG__NO_SCOPE, inner;
    Dwarf_Off last = dwarf_dieoffset(&w->cu->cudie), off;
    bool more = dwarf_child(&w->cu->cudie, &die) == 0;
    while (more && (off = dwarf_dieoffset(&die)) > last && off != (Dwarf_Off)-1) {
        last = off;
        int rc = visit(w, &die, depth + 1, scope, &inner);
        if (rc != 0) {
            return rc;
        }
        if (depth < MAX_DEPTH && dwarf_haschildren(&die) > 0 && dwarf_child(&die, &child) == 0) {
            stack[depth++] = (level_t){die, scope};
            die = child;
            scope = inner;
        } else {
            more = next_after(&die, stack, &depth, &scope);
        }
    }
    return 0;
}

static void unit_drop_index(hg__dw_cu_t *cu) {
    hg_free(cu->scopes);
    hg_free(cu->segs);
    cu->scopes = NULL;
    cu->segs = NULL;
    cu->nscopes = cu->nsegs = 0;
}

/* Builds cu's scopes and segments (once). On failure the unit simply has none. */
static void index_unit(hg__dw_cu_t *cu) {
    cu->indexed = true;
    walk_t w = {.cu = cu};
    level_t *stack = hg_malloc(MAX_DEPTH * sizeof *stack);
    int rc = stack ? walk_dies(&w, stack) : HG_ENOMEM;
    hg_free(stack);
    if (rc == 0) {
        rc = hg__dw_segments(w.ranges, w.nranges, &cu->segs, &cu->nsegs);
    }
    hg_free(w.ranges);
    if (rc != 0) {
        unit_drop_index(cu);
    }
}

static uint32_t unit_scope_at(const hg__dw_cu_t *cu, uint64_t vaddr) {
    size_t i = hg__dw_upper_bound(cu->segs, cu->nsegs, sizeof *cu->segs, vaddr);
    return i > 0 ? cu->segs[i - 1].scope : HG__NO_SCOPE;
}

/* ---- the module's units ------------------------------------------------------------------ */

static int add_unit_range(hg__dw_index_t *ix, uint64_t lo, uint64_t hi) {
    if (hg__dw_grow((void **)&ix->ranges, &ix->capranges, ix->nranges + 1, sizeof *ix->ranges)) {
        return HG_ENOMEM;
    }
    ix->ranges[ix->nranges++] = (cu_range_t){lo, hi, hi, (uint32_t)(ix->ncus - 1)};
    return 0;
}

/* A unit without ranges on its DIE: index it now; its functions' spans become its ranges. */
static int add_unit_spans(hg__dw_index_t *ix, hg__dw_cu_t *cu) {
    index_unit(cu);
    for (uint32_t i = 0; i + 1 < cu->nsegs; i++) {
        if (cu->segs[i].scope != HG__NO_SCOPE &&
            add_unit_range(ix, cu->segs[i].lo, cu->segs[i + 1].lo) != 0) {
            return HG_ENOMEM;
        }
    }
    return 0;
}

static int add_unit(hg__dw_index_t *ix, Dwarf_Die *cudie) {
    if (hg__dw_grow((void **)&ix->cus, &ix->capcus, ix->ncus + 1, sizeof *ix->cus) != 0) {
        return HG_ENOMEM;
    }
    hg__dw_cu_t *cu = &ix->cus[ix->ncus++];
    *cu = (hg__dw_cu_t){.cudie = *cudie};
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    size_t before = ix->nranges;
    for (int k = 0; k < MAX_RANGES_DIE && (off = dwarf_ranges(cudie, off, &base, &lo, &hi)) > 0;
         k++) {
        if (range_ok(lo, hi) && add_unit_range(ix, lo, hi) != 0) {
            return HG_ENOMEM;
        }
    }
    return ix->nranges > before ? 0 : add_unit_spans(ix, cu);
}

/* The DIE whose children describe a unit's code: the split unit of a skeleton (DWARF 5
 * §3.1.2) when libdw found it, the unit DIE otherwise; NULL for units without code. */
static Dwarf_Die *unit_code_die(uint8_t type, Dwarf_Die *cudie, Dwarf_Die *subdie) {
    if (type == DW_UT_skeleton) {
        return dwarf_tag(subdie) == DW_TAG_compile_unit ? subdie : cudie;
    }
    bool code = type == DW_UT_compile || (type == 0 && dwarf_tag(cudie) == DW_TAG_compile_unit);
    return code ? cudie : NULL;
}

static int add_units(hg__dw_index_t *ix, Dwarf *dbg) {
    Dwarf_CU *cu = NULL, *next;
    Dwarf_Half version;
    uint8_t type;
    Dwarf_Die cudie, subdie;
    for (size_t k = 0;
         k < MAX_UNITS && dwarf_get_units(dbg, cu, &next, &version, &type, &cudie, &subdie) == 0;
         k++) {
        cu = next;
        Dwarf_Die *die = unit_code_die(type, &cudie, &subdie);
        if (die && add_unit(ix, die) != 0) {
            return HG_ENOMEM;
        }
    }
    return 0;
}

static int by_unit_start(const void *pa, const void *pb) {
    const cu_range_t *a = pa, *b = pb;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static void sort_unit_ranges(hg__dw_index_t *ix) {
    qsort(ix->ranges, ix->nranges, sizeof *ix->ranges, by_unit_start);
    for (size_t i = 1; i < ix->nranges; i++) {
        uint64_t prev = ix->ranges[i - 1].maxhi;
        if (prev > ix->ranges[i].maxhi) {
            ix->ranges[i].maxhi = prev;
        }
    }
}

hg__dw_index_t *hg__dw_index_new(Dwarf *dbg) {
    hg__dw_index_t *ix = hg_calloc(1, sizeof *ix);
    if (ix && (add_units(ix, dbg) != 0 || ix->nranges == 0)) {
        hg__dw_index_free(ix);
        return NULL;
    }
    if (ix) {
        sort_unit_ranges(ix);
    }
    return ix;
}

void hg__dw_index_free(hg__dw_index_t *ix) {
    if (!ix) {
        return;
    }
    for (size_t i = 0; i < ix->ncus; i++) {
        unit_drop_index(&ix->cus[i]);
    }
    hg_free(ix->cus);
    hg_free(ix->ranges);
    hg_free(ix);
}

/* Walks back from the last unit range starting at or below vaddr while earlier ranges may
 * still reach it; the first unit with a scope at vaddr wins, else the first covering unit. */
hg__dw_cu_t *hg__dw_index_find(hg__dw_index_t *ix, uint64_t vaddr, uint32_t *scope) {
    size_t i = hg__dw_upper_bound(ix->ranges, ix->nranges, sizeof *ix->ranges, vaddr);
    hg__dw_cu_t *first = NULL;
    *scope = HG__NO_SCOPE;
    for (; i > 0 && ix->ranges[i - 1].maxhi > vaddr; i--) {
        hg__dw_cu_t *cu = &ix->cus[ix->ranges[i - 1].cu];
        if (vaddr >= ix->ranges[i - 1].hi) {
            continue;
        }
        if (!cu->indexed) {
            index_unit(cu);
        }
        first = first ? first : cu;
        if ((*scope = unit_scope_at(cu, vaddr)) != HG__NO_SCOPE) {
            return cu;
        }
    }
    return first;
}
