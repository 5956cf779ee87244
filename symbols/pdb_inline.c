/* pdb_inline.c - inline frames: which inlined calls an address sits in, and where.
 *
 * Inside a procedure, an S_INLINESITE record (0x114D: {Parent @4; End @8; Inlinee @12 (an IPI
 * id); binary annotations @16}; S_INLINESITE2 0x115D has a u32 invocation count before the
 * annotations) stands for one inlined call; sites nest, each closed by S_INLINESITE_END. The
 * annotations are a little program of compressed integers (1, 2 or 4 bytes by the top bits of
 * the first; signed values zig-zag: bit 0 is the sign) that lays out the call's code ranges
 * relative to the procedure's start and the line of each, as an offset from the inlined
 * function's first line (Microsoft cvinfo.h BinaryAnnotationOpcode, CVUncompressData; LLVM
 * MCCodeView::encodeInlineLineTable shows how ranges are emitted: a code offset opens a range
 * with the current line and file, ChangeCodeLength closes it and moves the cursor to its end).
 * The inlined function's name is its LF_FUNC_ID / LF_MFUNC_ID record in the IPI stream (stream
 * 4: a TpiStreamHeader {Version; HeaderSize; TypeIndexBegin; TypeIndexEnd; TypeRecordBytes;
 * ...} then records {u16 Length; u16 Kind; data}, llvm/docs/PDB/TpiStream.md); its first line
 * and file come from the compiland's DEBUG_S_INLINEELINES subsection ({u32 Signature: 0, or 1
 * when entries list extra files}; entries {u32 Inlinee; u32 FileId; u32 SourceLineNum} [u32
 * ExtraFileCount; u32 ExtraFiles[]]).
 *
 * A lookup walks the records of the one procedure holding the address: a site whose ranges
 * miss the address is jumped over (to its End), one that holds it is entered, so the walk
 * touches only the sites on the way down. */
#include "pdb_priv.h"

#include <stdlib.h>
#include <string.h>

#define S_INLINESITE     0x114D
#define S_INLINESITE2    0x115D
#define LF_FUNC_ID       0x1601
#define LF_MFUNC_ID      0x1602
#define TPI_HEADER_BYTES 56
#define INLINEE_EXTRA    1

/* ---- DEBUG_S_INLINEELINES --------------------------------------------------------------- */

int hg__pdb_inlinees_add(hg__pdb_cu_t *cu, hg__span_t sub) {
    uint32_t sig = hg__span_u32(sub, 0);
    if (!hg__span_has(sub, 0, 4) || sig > INLINEE_EXTRA) {
        return HG_EFORMAT;
    }
    for (size_t off = 4; off < sub.n;) {
        if (!hg__span_has(sub, off, 12)) {
            return HG_EFORMAT;
        }
        if (hg__pdb_grow((void **)&cu->inlinees, &cu->capinlinees, cu->ninlinees,
                         sizeof *cu->inlinees) != 0) {
            return HG_ENOMEM;
        }
        const uint8_t *e = sub.p + off;
        cu->inlinees[cu->ninlinees++] =
            (hg__pdb_inlinee_t){hg__le32(e), hg__le32(e + 4), hg__le32(e + 8)};
        off += 12;
        if (sig == INLINEE_EXTRA) {
            uint64_t extra = hg__span_u32(sub, off);
            if (!hg__span_has(sub, off, 4) || extra > (sub.n - off - 4) / 4) {
                return HG_EFORMAT;
            }
            off += 4 + (size_t)extra * 4;
        }
    }
    return 0;
}

static int cmp_inlinee(const void *a, const void *b) {
    uint32_t x = ((const hg__pdb_inlinee_t *)a)->id, y = ((const hg__pdb_inlinee_t *)b)->id;
    return x < y ? -1 : x > y;
}

void hg__pdb_inlinees_sort(hg__pdb_cu_t *cu) {
    if (cu->ninlinees > 1) {
        hg__pdb_sort(cu->inlinees, cu->ninlinees, sizeof *cu->inlinees, cmp_inlinee);
    }
}

static const hg__pdb_inlinee_t *find_inlinee(const hg__pdb_cu_t *cu, uint32_t id) {
    hg__pdb_inlinee_t key = {id, 0, 0};
    if (cu->ninlinees == 0) {
        return NULL;
    }
    return bsearch(&key, cu->inlinees, cu->ninlinees, sizeof key, cmp_inlinee);
}

/* ---- the IPI stream --------------------------------------------------------------------- */

/* Records the offset of each record, up to count of them. */
static int ipi_index(hg__pdb_ipi_t *ipi, uint32_t header, hg__span_t records, uint32_t count) {
    size_t cap = count < records.n / 4 ? count : records.n / 4;
    ipi->offsets = hg_malloc((cap ? cap : 1) * sizeof *ipi->offsets);
    if (!ipi->offsets) {
        return HG_ENOMEM;
    }
    size_t off = 0;
    while (ipi->n < cap && off + 4 <= records.n) {
        uint16_t len = hg__span_u16(records, off);
        if (len < 2 || off + 2 + len > records.n) {
            break; /* the rest is damaged: ids past here have no name */
        }
        ipi->offsets[ipi->n++] = header + (uint32_t)off;
        off += 2 + (size_t)len;
    }
    return 0;
}

int hg__pdb_ipi_load(hg__msf_t *m, hg__pdb_ipi_t *out, hg_error_t *err) {
    memset(out, 0, sizeof *out);
    if (m->nstreams <= 4 || hg__msf_stream_size(m, 4) == 0) {
        return 0; /* no IPI stream: inline frames go without names */
    }
    int rc = hg__msf_read(m, 4, &out->stream, err);
    if (rc != 0) {
        return rc;
    }
    hg__span_t s = hg__stream_span(&out->stream);
    uint32_t header = hg__span_u32(s, 4), end = hg__span_u32(s, 12);
    out->begin = hg__span_u32(s, 8);
    hg__span_t records = hg__span_sub(s, header, hg__span_u32(s, 16));
    if (header < TPI_HEADER_BYTES || !records.p || end < out->begin) {
        hg__pdb_ipi_free(out);
        return hg_error_set(err, HG_EFORMAT,
                            "%s: stream 4 (IPI): header of %u bytes or its "
                            "records run past the stream",
                            m->name, header);
    }
    rc = ipi_index(out, header, records, end - out->begin);
    if (rc != 0) {
        hg__pdb_ipi_free(out);
        hg_error_set(err, rc, "%s: out of memory reading the IPI stream", m->name);
    }
    return rc;
}

void hg__pdb_ipi_free(hg__pdb_ipi_t *ipi) {
    hg__stream_free(&ipi->stream);
    hg_free(ipi->offsets);
    memset(ipi, 0, sizeof *ipi);
}

const char *hg__pdb_ipi_name(const hg__pdb_ipi_t *ipi, uint32_t id) {
    if (id < ipi->begin || id - ipi->begin >= ipi->n) {
        return NULL;
    }
    size_t off = ipi->offsets[id - ipi->begin];
    const uint8_t *rec = ipi->stream.p + off;
    uint16_t kind = hg__le16(rec + 2);
    if (kind != LF_FUNC_ID && kind != LF_MFUNC_ID) {
        return NULL;
    }
    hg__span_t r = {rec, 2 + (size_t)hg__le16(rec)}; /* fits: checked by ipi_index */
    return hg__span_str(r, 12);
}

/* ---- binary annotations ----------------------------------------------------------------- */

enum {
    BA_CODE_OFFSET = 1,
    BA_CHANGE_CODE_OFFSET_BASE,
    BA_CHANGE_CODE_OFFSET,
    BA_CHANGE_CODE_LENGTH,
    BA_CHANGE_FILE,
    BA_CHANGE_LINE_OFFSET,
    BA_CHANGE_LINE_END_DELTA,
    BA_CHANGE_RANGE_KIND,
    BA_CHANGE_COLUMN_START,
    BA_CHANGE_COLUMN_END_DELTA,
    BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET,
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET,
    BA_CHANGE_COLUMN_END,
};

/* The annotation program's state while it is run against one code offset. */
typedef struct ba {
    hg__span_t s;
    size_t pos;
    uint32_t target; /* the code offset looked for */
    uint32_t cur;    /* code offset cursor */
    int64_t line;    /* current line */
    uint32_t file;   /* current file (checksum offset) */
    bool open;       /* a range is open at start with rline, rfile */
    uint32_t start, rfile;
    int64_t rline;
    bool found;
} ba_t;

/* The next compressed unsigned integer (cvinfo.h CVUncompressData); false at the end. */
static bool ba_next(ba_t *a, uint32_t *v) {
    if (a->pos >= a->s.n) {
        return false;
    }
    const uint8_t *p = a->s.p + a->pos;
    size_t need = (p[0] & 0x80) == 0      ? 1
                  : (p[0] & 0xC0) == 0x80 ? 2
                  : (p[0] & 0xE0) == 0xC0 ? 4
                                          : 0;
    if (need == 0 || !hg__span_has(a->s, a->pos, need)) {
        return false;
    }
    *v = need == 1 ? p[0]
         : need == 2
             ? (uint32_t)(p[0] & 0x3F) << 8 | p[1]
             : (uint32_t)(p[0] & 0x1F) << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    a->pos += need;
    return true;
}

static int32_t ba_signed(uint32_t v) {
    return v & 1 ? -(int32_t)(v >> 1) : (int32_t)(v >> 1);
}

/* Ends the open range at code offset end; notes whether it held the target. */
static void ba_close(ba_t *a, uint64_t end) {
    if (a->open && a->target >= a->start && a->target < end) {
        a->found = true;
    }
    a->open = false;
}

/* Moves the cursor by delta and opens a range there with the current line and file. */
static void ba_advance(ba_t *a, uint32_t delta) {
    ba_close(a, (uint64_t)a->cur + delta);
    if (!a->found) {
        a->cur += delta;
        a->open = true;
        a->start = a->cur;
        a->rline = a->line;
        a->rfile = a->file;
    }
}

/* Closes the open range after length bytes and moves the cursor to its end. */
static void ba_length(ba_t *a, uint32_t length) {
    if (a->open) {
        ba_close(a, (uint64_t)a->start + length);
        a->cur = a->start + length;
    }
}

/* Runs one opcode; false at the end of the program or on an opcode it does not know. */
static bool ba_step(ba_t *a, uint32_t op) {
    uint32_t v = 0, w = 0;
    if (op == 0 || op > BA_CHANGE_COLUMN_END || !ba_next(a, &v)) {
        return false;
    }
    switch (op) {
    case BA_CODE_OFFSET:
    case BA_CHANGE_CODE_OFFSET_BASE:
    case BA_CHANGE_CODE_OFFSET:
        ba_advance(a, v);
        break;
    case BA_CHANGE_CODE_LENGTH:
        ba_length(a, v);
        break;
    case BA_CHANGE_FILE:
        a->file = v;
        break;
    case BA_CHANGE_LINE_OFFSET:
        a->line += ba_signed(v);
        break;
    case BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET:
        a->line += ba_signed(v >> 4);
        ba_advance(a, v & 0xF);
        break;
    case BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET:
        if (!ba_next(a, &w)) {
            return false;
        }
        ba_advance(a, w);
        ba_length(a, v);
        break;
    default: /* columns, range kinds: one operand, not needed */
        break;
    }
    return true;
}

/* True when the site whose annotations are ann holds code offset target; *site gets the line
 * and file there. */
static bool site_holds(hg__span_t ann, uint32_t target, const hg__pdb_inlinee_t *in,
                       hg__pdb_site_t *site) {
    ba_t a = {.s = ann,
              .target = target,
              .file = in ? in->file : HG__LINE_END,
              .line = in ? in->line : 0};
    uint32_t op;
    while (!a.found && ba_next(&a, &op) && ba_step(&a, op)) {
    }
    if (a.found) {
        site->file = a.rfile;
        site->line = a.rline > 0 && a.rline <= UINT32_MAX && in ? (uint32_t)a.rline : 0;
    }
    return a.found;
}

/* ---- the walk --------------------------------------------------------------------------- */

/* Checks the inline site record rec against target; fills *site when it holds it. */
static bool site_record_holds(const hg__pdb_cu_t *cu, hg__span_t rec, uint16_t kind,
                              uint32_t target, hg__pdb_site_t *site) {
    size_t ann_at = kind == S_INLINESITE2 ? 20 : 16;
    if (rec.n < ann_at) {
        return false;
    }
    site->inlinee = hg__span_u32(rec, 12);
    hg__span_t ann = {rec.p + ann_at, rec.n - ann_at};
    return site_holds(ann, target, find_inlinee(cu, site->inlinee), site);
}

size_t hg__pdb_inline_chain(const hg__pdb_cu_t *cu, const hg__pdb_proc_t *proc, uint32_t rva,
                            hg__pdb_site_t *out, size_t max) {
    hg__span_t syms = cu->syms;
    size_t pos = proc->sym_off, stop = hg__span_u32(syms, pos + 8), n = 0;
    stop = stop > pos && stop <= syms.n ? stop : syms.n;
    pos += 2 + (size_t)hg__span_u16(syms, pos);
    while (pos + 4 <= stop && n < max) {
        uint16_t len = hg__span_u16(syms, pos), kind = hg__span_u16(syms, pos + 2);
        size_t next = pos + 2 + (size_t)len;
        if (len < 2 || next > syms.n) {
            break;
        }
        if (kind == S_INLINESITE || kind == S_INLINESITE2) {
            hg__span_t rec = {syms.p + pos, next - pos};
            size_t end = hg__span_u32(rec, 8);
            if (site_record_holds(cu, rec, kind, rva - proc->rva, &out[n])) {
                n++;
                stop = end > pos && end < stop ? end : stop; /* walk inside it only */
            } else if (end > pos && end < stop) {
                next = end; /* jump over its body to its S_INLINESITE_END */
            }
        }
        pos = next;
    }
    return n;
}
