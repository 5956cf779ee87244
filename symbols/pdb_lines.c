/* pdb_lines.c - C13 line information: code ranges to line numbers and source files.
 *
 * A DEBUG_S_LINES subsection covers one contribution of code: {u32 CodeOffset; u16 Segment;
 * u16 Flags; u32 CodeSize} then blocks, one per source file: {u32 FileId (offset of the file's
 * entry in DEBUG_S_FILECHKSMS); u32 NumLines; u32 BlockSize (including this header)} followed
 * by NumLines {u32 Offset; u32 LineStart:24, DeltaLineEnd:7, IsStatement:1} and, when Flags
 * has CV_LINES_HAVE_COLUMNS (1), NumLines {u16 StartColumn; u16 EndColumn}. A line holds from
 * its offset to the next entry's; the last to the end of the contribution; code before the
first entry takes the first entry's line (llvm-symbolizer does the same). A file checksum
 * entry is {u32 FileNameOffset (into /names); u8 ChecksumSize; u8 ChecksumKind; bytes}
 * (Microsoft cvinfo.h CV_LineSection/CV_SourceFile/CV_Line_t; LLVM DebugLinesSubsection and
 * DebugChecksumsSubsection; raw_pdb PDB_ModuleLineStream).
 *
 * All entries of a compiland go into one array sorted by rva, with an end marker at the end of
 * each contribution, so an address's line is the last entry at or below it (a binary search),
 * unless that is an end marker. An address that is exactly where several entries start takes
 * the first of them in the stream; an address after them the last (so a line whose range is
 * empty still names its own address: llvm-symbolizer answers the same). Line numbers 0xfeefee and
0xf00f00 mark compiler-generated code: such
 * entries end the previous line and carry no line of their own. */
#include "pdb_priv.h"

#include <stdlib.h>

#define LINES_HEADER  12
#define BLOCK_HEADER  12
#define HAVE_COLUMNS  1
#define LINE_HIDDEN_1 0xfeefee
#define LINE_HIDDEN_2 0xf00f00

/* True when every file block of sub fits: header, lines (and columns), inside sub. */
static bool blocks_fit(hg__span_t sub, bool columns) {
    for (size_t off = LINES_HEADER; off < sub.n;) {
        uint32_t n = hg__span_u32(sub, off + 4), size = hg__span_u32(sub, off + 8);
        uint64_t need = BLOCK_HEADER + (uint64_t)n * (columns ? 12 : 8);
        if (!hg__span_has(sub, off, BLOCK_HEADER) || size < need || !hg__span_has(sub, off, size)) {
            return false;
        }
        off += size;
    }
    return true;
}

int hg__pdb_lines_add(hg__pdb_cu_t *cu, const hg__pdb_dbi_t *d, hg__span_t sub) {
    uint32_t base;
    if (!hg__span_has(sub, 0, LINES_HEADER) ||
        !blocks_fit(sub, hg__span_u16(sub, 6) & HAVE_COLUMNS)) {
        return HG_EFORMAT;
    }
    if (!hg__pdb_seg_rva(d, hg__span_u16(sub, 4), hg__span_u32(sub, 0), &base)) {
        return 0; /* code outside every section: nothing can be looked up in it */
    }
    if (hg__pdb_grow((void **)&cu->blocks, &cu->capblocks, cu->nblocks, sizeof *cu->blocks) != 0) {
        return HG_ENOMEM;
    }
    uint64_t end = (uint64_t)base + hg__span_u32(sub, 8);
    cu->blocks[cu->nblocks++] =
        (hg__pdb_lineblock_t){base, end <= UINT32_MAX ? (uint32_t)end : UINT32_MAX,
                              (uint32_t)(sub.p - cu->stream.p), (uint32_t)sub.n};
    return 0;
}

static int cmp_block(const void *a, const void *b) {
    uint32_t x = ((const hg__pdb_lineblock_t *)a)->rva, y = ((const hg__pdb_lineblock_t *)b)->rva;
    return x < y ? -1 : x > y;
}

void hg__pdb_lines_sort(hg__pdb_cu_t *cu) {
    if (cu->nblocks > 1) {
        hg__pdb_sort(cu->blocks, cu->nblocks, sizeof *cu->blocks, cmp_block);
    }
}

/* An entry a scan keeps: where it is, its file, its offset. */
typedef struct hit {
    const uint8_t *entry;
    uint32_t file, off;
} hit_t;

static bool take(const hit_t *h, uint32_t *line, uint32_t *file) {
    uint32_t l = hg__le32(h->entry + 4) & 0xFFFFFF;
    *line = l == LINE_HIDDEN_1 || l == LINE_HIDDEN_2 ? 0 : l;
    *file = h->file;
    return true;
}

/* The line of code offset target in the subsection sub (its blocks checked by blocks_fit). */
static bool scan(hg__span_t sub, uint32_t target, uint32_t *line, uint32_t *file) {
    hit_t below = {NULL, 0, 0}, lowest = {NULL, 0, 0};
    for (size_t off = LINES_HEADER; off < sub.n; off += hg__span_u32(sub, off + 8)) {
        uint32_t fid = hg__span_u32(sub, off), n = hg__span_u32(sub, off + 4);
        const uint8_t *e = sub.p + off + BLOCK_HEADER;
        for (uint32_t i = 0; i < n; i++, e += 8) {
            hit_t h = {e, fid, hg__le32(e)};
            if (h.off == target) {
                return take(&h, line, file);
            }
            if (h.off < target && (!below.entry || h.off >= below.off)) {
                below = h;
            }
            if (!lowest.entry || h.off < lowest.off) {
                lowest = h; /* code before the first entry takes its line */
            }
        }
    }
    const hit_t *h = below.entry ? &below : lowest.entry ? &lowest : NULL;
    return h ? take(h, line, file) : false;
}

bool hg__pdb_lines_find(const hg__pdb_cu_t *cu, uint32_t rva, uint32_t *line, uint32_t *file) {
    size_t lo = 0, hi = cu->nblocks; /* the first block starting above rva */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cu->blocks[mid].rva <= rva) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || rva >= cu->blocks[lo - 1].end) {
        return false;
    }
    const hg__pdb_lineblock_t *b = &cu->blocks[lo - 1];
    return scan((hg__span_t){cu->stream.p + b->off, b->len}, rva - b->rva, line, file);
}

const char *hg__pdb_file_name(const hg__pdb_cu_t *cu, const hg__pdb_names_t *names, uint32_t file) {
    if (!hg__span_has(cu->checksums, file, 4)) {
        return NULL;
    }
    return hg__pdb_names_get(names, hg__span_u32(cu->checksums, file));
}
