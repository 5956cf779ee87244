/* pdb_module.c - one compiland's stream: its procedures and its C13 debug subsections.
 *
 * A module stream is {u32 Signature (4 = C13); symbol records up to SymByteSize; C11 lines
 * (C11ByteSize, unused by modern compilers); C13 subsections (C13ByteSize); global refs}
 * (LLVM, llvm/docs/PDB/ModiStream.md). A symbol record is {u16 RecordLen; u16 Kind; data}, the
 * length counting the kind and data; parent/end fields hold offsets from the stream's start.
 * Procedures (S_GPROC32 0x1110, S_LPROC32 0x110F and their _ID / _DPC forms) are PROCSYM32:
 * {Parent @4, End @8, Next @12, CodeSize @16, DbgStart @20, DbgEnd @24, FunctionType @28,
 * CodeOffset @32, Segment u16 @36, Flags u8 @38, Name @39} (llvm/docs/PDB/CodeViewSymbols.md,
 * Microsoft's cvinfo.h PROCSYM32). The walk jumps from a procedure to its End record, so the
 * records inside procedures (locals, blocks, inline sites) cost nothing here; pdb_inline.c
 * reads them for the one procedure an address falls in.
 *
 * C13 subsections are {u32 Kind; u32 Length; data; padding to 4 bytes}; DEBUG_S_LINES (0xF2),
 * DEBUG_S_FILECHKSMS (0xF4) and DEBUG_S_INLINEELINES (0xF6) are kept, kinds with the
 * DEBUG_S_IGNORE bit (0x80000000) and the others skipped (cvinfo.h DEBUG_S_SUBSECTION_TYPE). */
#include "pdb_priv.h"

#include <stdlib.h>
#include <string.h>

#define CV_SIGNATURE_C13     4
#define S_LPROC32            0x110F
#define S_GPROC32            0x1110
#define S_LPROC32_ID         0x1146
#define S_GPROC32_ID         0x1147
#define S_LPROC32_DPC        0x1155
#define S_LPROC32_DPC_ID     0x1156
#define PROC_NAME_AT         39
#define DEBUG_S_LINES        0xF2
#define DEBUG_S_FILECHKSMS   0xF4
#define DEBUG_S_INLINEELINES 0xF6
#define DEBUG_S_IGNORE       0x80000000u

typedef struct loader {
    hg__msf_t *m;
    const hg__pdb_dbi_t *d;
    const hg__pdb_modi_t *mi;
    hg__pdb_cu_t *cu;
    hg_error_t *err;
} loader_t;

static int cu_error(const loader_t *l, size_t off, const char *what) {
    return hg_error_set(l->err, HG_EFORMAT, "%s: stream %u (module): offset 0x%zx: %s", l->m->name,
                        l->mi->stream, off, what);
}

static bool is_proc(uint16_t kind) {
    return kind == S_GPROC32 || kind == S_LPROC32 || kind == S_GPROC32_ID || kind == S_LPROC32_ID ||
           kind == S_LPROC32_DPC || kind == S_LPROC32_DPC_ID;
}

static int add_proc(const loader_t *l, hg__span_t rec, uint32_t off) {
    hg__pdb_cu_t *cu = l->cu;
    hg__pdb_proc_t p = {0, hg__span_u32(rec, 16), off, hg__span_str(rec, PROC_NAME_AT)};
    if (rec.n <= PROC_NAME_AT || p.len == 0 ||
        !hg__pdb_seg_rva(l->d, hg__span_u16(rec, 36), hg__span_u32(rec, 32), &p.rva)) {
        return 0; /* no code or no address: nothing to find in it */
    }
    if (hg__pdb_grow((void **)&cu->procs, &cu->capprocs, cu->nprocs, sizeof p) != 0) {
        return HG_ENOMEM;
    }
    cu->procs[cu->nprocs++] = p;
    return 0;
}

/* Walks the top-level symbol records, jumping over each procedure's body. */
static int scan_symbols(const loader_t *l, hg__span_t syms) {
    if (syms.n < 4 || hg__span_u32(syms, 0) != CV_SIGNATURE_C13) {
        return 0; /* no symbols, or an old format: lines and publics still work */
    }
    for (size_t off = 4; off + 4 <= syms.n;) {
        uint16_t len = hg__span_u16(syms, off), kind = hg__span_u16(syms, off + 2);
        size_t next = off + 2 + (size_t)len;
        if (len < 2 || next > syms.n) {
            return cu_error(l, off, "symbol record runs past the symbols");
        }
        if (is_proc(kind)) {
            hg__span_t rec = {syms.p + off, next - off};
            uint32_t end = hg__span_u32(rec, 8);
            if (add_proc(l, rec, (uint32_t)off) != 0) {
                return HG_ENOMEM;
            }
            next = end > off && end < syms.n ? end : next; /* the procedure's S_END */
        }
        off = next;
    }
    return 0;
}

static int take_subsection(const loader_t *l, uint32_t kind, hg__span_t data) {
    switch (kind) {
    case DEBUG_S_LINES:
        return hg__pdb_lines_add(l->cu, l->d, data);
    case DEBUG_S_FILECHKSMS:
        l->cu->checksums = data;
        return 0;
    case DEBUG_S_INLINEELINES:
        return hg__pdb_inlinees_add(l->cu, data);
    default:
        return 0;
    }
}

static int scan_c13(const loader_t *l, hg__span_t c13, size_t base) {
    for (size_t off = 0; off + 8 <= c13.n;) {
        uint32_t kind = hg__span_u32(c13, off), len = hg__span_u32(c13, off + 4);
        hg__span_t data = hg__span_sub(c13, off + 8, len);
        if (!data.p) {
            return cu_error(l, base + off, "C13 subsection runs past the line information");
        }
        int rc = kind & DEBUG_S_IGNORE ? 0 : take_subsection(l, kind, data);
        if (rc != 0) {
            return rc == HG_ENOMEM ? rc : cu_error(l, base + off, "damaged C13 subsection");
        }
        off += 8 + (((size_t)len + 3) & ~(size_t)3);
    }
    return 0;
}

static int cmp_proc(const void *a, const void *b) {
    uint32_t x = ((const hg__pdb_proc_t *)a)->rva, y = ((const hg__pdb_proc_t *)b)->rva;
    return x < y ? -1 : x > y;
}

static int parse(const loader_t *l, hg__span_t s) {
    const hg__pdb_modi_t *mi = l->mi;
    uint64_t c13_at = (uint64_t)mi->sym_bytes + mi->c11_bytes;
    hg__span_t syms = hg__span_sub(s, 0, mi->sym_bytes), c13 = {NULL, 0};
    if (c13_at <= s.n) {
        c13 = hg__span_sub(s, (size_t)c13_at, mi->c13_bytes);
    }
    if (!syms.p || (mi->c13_bytes && !c13.p)) {
        return cu_error(l, 0, "symbol or line sizes run past the stream");
    }
    l->cu->syms = syms;
    int rc = scan_symbols(l, syms);
    if (rc == 0 && mi->c13_bytes) {
        rc = scan_c13(l, c13, (size_t)c13_at);
    }
    if (rc == 0) {
        if (l->cu->nprocs > 1) {
            hg__pdb_sort(l->cu->procs, l->cu->nprocs, sizeof *l->cu->procs, cmp_proc);
        }
        hg__pdb_lines_sort(l->cu);
        hg__pdb_inlinees_sort(l->cu);
    }
    return rc;
}

int hg__pdb_cu_load(hg__msf_t *m, const hg__pdb_dbi_t *d, const hg__pdb_modi_t *mi,
                    hg__pdb_cu_t *cu, hg_error_t *err) {
    memset(cu, 0, sizeof *cu);
    if (mi->stream == HG__NO_STREAM) {
        return 0; /* a stripped module: publics only */
    }
    int rc = hg__msf_read(m, mi->stream, &cu->stream, err);
    if (rc == 0) {
        loader_t l = {m, d, mi, cu, err};
        rc = parse(&l, hg__stream_span(&cu->stream));
    }
    if (rc == HG_ENOMEM) {
        hg_error_set(err, rc, "%s: out of memory reading stream %u", m->name, mi->stream);
    }
    if (rc != 0) {
        hg__pdb_cu_free(cu);
    }
    return rc;
}

void hg__pdb_cu_free(hg__pdb_cu_t *cu) {
    hg__stream_free(&cu->stream);
    hg_free(cu->procs);
    hg_free(cu->blocks);
    hg_free(cu->inlinees);
    memset(cu, 0, sizeof *cu);
}

const hg__pdb_proc_t *hg__pdb_cu_proc(const hg__pdb_cu_t *cu, uint32_t rva) {
    size_t lo = 0, hi = cu->nprocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cu->procs[mid].rva <= rva) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || rva - cu->procs[lo - 1].rva >= cu->procs[lo - 1].len) {
        return NULL;
    }
    return &cu->procs[lo - 1];
}
