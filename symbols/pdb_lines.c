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

static int add_entry(hg__pdb_cu_t *cu, uint32_t rva, uint32_t line, uint32_t file) {
    if (hg__pdb_grow((void **)&cu->lines, &cu->caplines, cu->nlines, sizeof *cu->lines) != 0) {
        return HG_ENOMEM;
    }
    if (line == LINE_HIDDEN_1 || line == LINE_HIDDEN_2) {
        line = 0;
    }
    cu->lines[cu->nlines] = (hg__pdb_line_t){rva, line, file, (uint32_t)cu->nlines};
    cu->nlines++;
    return 0;
}

/* Adds one file block at off in sub; returns its size, 0 when damaged, SIZE_MAX on ENOMEM. */
static size_t add_block(hg__pdb_cu_t *cu, hg__span_t sub, size_t off, uint32_t base, bool columns) {
    uint32_t file = hg__span_u32(sub, off), n = hg__span_u32(sub, off + 4);
    uint32_t size = hg__span_u32(sub, off + 8);
    uint64_t need = BLOCK_HEADER + (uint64_t)n * (columns ? 12 : 8);
    if (!hg__span_has(sub, off, BLOCK_HEADER) || size < need || !hg__span_has(sub, off, size) ||
        file == HG__LINE_END) {
        return 0;
    }
    const uint8_t *e = sub.p + off + BLOCK_HEADER;
    for (uint32_t i = 0; i < n; i++, e += 8) {
        uint64_t rva = (uint64_t)base + hg__le32(e);
        if (rva <= UINT32_MAX && add_entry(cu, (uint32_t)rva, hg__le32(e + 4) & 0xFFFFFF, file)) {
            return SIZE_MAX;
        }
    }
    return size;
}

/* Code between the contribution's start and its first line entry takes that entry's line. */
static int cover_start(hg__pdb_cu_t *cu, size_t first, uint32_t base) {
    size_t lowest = SIZE_MAX;
    for (size_t i = first; i + 1 < cu->nlines; i++) { /* the last one is the end marker */
        if (lowest == SIZE_MAX || cu->lines[i].rva < cu->lines[lowest].rva) {
            lowest = i;
        }
    }
    if (lowest == SIZE_MAX || cu->lines[lowest].rva <= base) {
        return 0;
    }
    return add_entry(cu, base, cu->lines[lowest].line, cu->lines[lowest].file);
}

int hg__pdb_lines_add(hg__pdb_cu_t *cu, const hg__pdb_dbi_t *d, hg__span_t sub) {
    uint32_t base;
    if (!hg__span_has(sub, 0, LINES_HEADER)) {
        return HG_EFORMAT;
    }
    if (!hg__pdb_seg_rva(d, hg__span_u16(sub, 4), hg__span_u32(sub, 0), &base)) {
        return 0; /* code outside every section: nothing can be looked up in it */
    }
    bool columns = hg__span_u16(sub, 6) & HAVE_COLUMNS;
    size_t first = cu->nlines;
    for (size_t off = LINES_HEADER; off < sub.n;) {
        size_t size = add_block(cu, sub, off, base, columns);
        if (size == 0 || size == SIZE_MAX) {
            return size ? HG_ENOMEM : HG_EFORMAT;
        }
        off += size;
    }
    uint64_t end = (uint64_t)base + hg__span_u32(sub, 8);
    int rc = add_entry(cu, end <= UINT32_MAX ? (uint32_t)end : UINT32_MAX, 0, HG__LINE_END);
    return rc == 0 ? cover_start(cu, first, base) : rc;
}

/* By rva; at one rva block ends before lines (a line starting where a block ends holds), then
 * stream order. */
static int cmp_line(const void *a, const void *b) {
    const hg__pdb_line_t *x = a, *y = b;
    if (x->rva != y->rva) {
        return x->rva < y->rva ? -1 : 1;
    }
    bool xend = x->file == HG__LINE_END, yend = y->file == HG__LINE_END;
    if (xend != yend) {
        return xend ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void hg__pdb_lines_sort(hg__pdb_cu_t *cu) {
    if (cu->nlines > 1) {
        qsort(cu->lines, cu->nlines, sizeof *cu->lines, cmp_line);
    }
}

const hg__pdb_line_t *hg__pdb_lines_find(const hg__pdb_cu_t *cu, uint32_t rva) {
    size_t lo = 0, hi = cu->nlines; /* lo: the first entry at or above rva */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cu->lines[mid].rva < rva) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    while (lo < cu->nlines && cu->lines[lo].rva == rva && cu->lines[lo].file == HG__LINE_END) {
        lo++;
    }
    if (lo < cu->nlines && cu->lines[lo].rva == rva) {
        return &cu->lines[lo];
    }
    if (lo == 0 || cu->lines[lo - 1].file == HG__LINE_END) {
        return NULL;
    }
    return &cu->lines[lo - 1];
}

const char *hg__pdb_file_name(const hg__pdb_cu_t *cu, const hg__pdb_names_t *names, uint32_t file) {
    if (!hg__span_has(cu->checksums, file, 4)) {
        return NULL;
    }
    return hg__pdb_names_get(names, hg__span_u32(cu->checksums, file));
}
