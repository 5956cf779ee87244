/* pdb_publics.c - public symbols: the names an address gets when no procedure record covers it
 * (stripped PDBs such as those of Windows' own DLLs hold nothing else).
 *
 * The publics stream (DBI PublicStreamIndex) starts with a 28-byte PublicsStreamHeader {u32
 * SymHash; u32 AddrMap; u32 NumThunks; u32 SizeOfThunk; u16 ISectThunkTable; u16 pad; u32
 * OffThunkTable; u32 NumSections}, then SymHash bytes of name hash table, then the address map:
 * AddrMap / 4 offsets into the symbol record stream (DBI SymRecordStream), one per S_PUB32
 * record, sorted by address (LLVM's PublicsStream::reload and GSIStreamBuilder; raw_pdb's
 * PDB_PublicSymbolStream). An S_PUB32 record is {u16 RecordLen; u16 Kind 0x110E; u32 Flags;
 * u32 Offset; u16 Segment; char Name[]} (llvm/docs/PDB/CodeViewSymbols.md). Publics carry no
 * size: an address takes the nearest public at or below it in the same section. */
#include "pdb_priv.h"

#include <stdlib.h>
#include <string.h>

#define PUB_HEADER_BYTES 28
#define S_PUB32          0x110E

static int cmp_pub(const void *a, const void *b) {
    uint32_t x = ((const hg__pdb_pub_t *)a)->rva, y = ((const hg__pdb_pub_t *)b)->rva;
    return x < y ? -1 : x > y;
}

/* Adds the S_PUB32 record at off in symrec, if it is one and its address maps to an rva. */
static void add_public(hg__pdb_publics_t *p, const hg__pdb_dbi_t *d, hg__span_t symrec,
                       uint32_t off) {
    hg__span_t rec = hg__span_sub(symrec, off, 2 + (size_t)hg__span_u16(symrec, off));
    uint32_t rva;
    if (rec.n < 15 || hg__span_u16(rec, 2) != S_PUB32 ||
        !hg__pdb_seg_rva(d, hg__span_u16(rec, 12), hg__span_u32(rec, 8), &rva)) {
        return;
    }
    const char *name = hg__span_str(rec, 14);
    if (name && *name) {
        p->pubs[p->n].rva = rva;
        p->pubs[p->n++].name = name;
    }
}

static int parse(hg__msf_t *m, const hg__pdb_dbi_t *d, hg__span_t s, hg__pdb_publics_t *p,
                 hg__span_t symrec, hg_error_t *err) {
    uint32_t symhash = hg__span_u32(s, 0), addrmap = hg__span_u32(s, 4);
    hg__span_t map = hg__span_sub(s, PUB_HEADER_BYTES + (size_t)symhash, addrmap);
    if (!hg__span_has(s, 0, PUB_HEADER_BYTES) || !map.p) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: stream %u (publics): address map of %u bytes "
                            "past the end of the stream",
                            m->name, d->publics_stream, addrmap);
    }
    size_t n = map.n / 4;
    p->pubs = hg_calloc(n ? n : 1, sizeof *p->pubs);
    if (!p->pubs) {
        return hg_error_set(err, HG_ENOMEM, "%s: out of memory reading the publics", m->name);
    }
    for (size_t i = 0; i < n; i++) {
        add_public(p, d, symrec, hg__le32(map.p + 4 * i));
    }
    hg__pdb_sort(p->pubs, p->n, sizeof *p->pubs, cmp_pub);
    return 0;
}

int hg__pdb_publics_load(hg__msf_t *m, const hg__pdb_dbi_t *d, hg__pdb_publics_t *out,
                         hg_error_t *err) {
    memset(out, 0, sizeof *out);
    if (d->publics_stream == HG__NO_STREAM || d->symrec_stream == HG__NO_STREAM) {
        return 0; /* no publics: nothing to find */
    }
    hg__stream_t pub;
    int rc = hg__msf_read(m, d->publics_stream, &pub, err);
    if (rc != 0) {
        return rc;
    }
    rc = hg__msf_read(m, d->symrec_stream, &out->symrec, err);
    if (rc == 0) {
        rc = parse(m, d, hg__stream_span(&pub), out, hg__stream_span(&out->symrec), err);
    }
    hg__stream_free(&pub);
    if (rc != 0) {
        hg__pdb_publics_free(out);
    }
    return rc;
}

void hg__pdb_publics_free(hg__pdb_publics_t *p) {
    hg__stream_free(&p->symrec);
    hg_free(p->pubs);
    memset(p, 0, sizeof *p);
}

const hg__pdb_pub_t *hg__pdb_publics_find(const hg__pdb_publics_t *p, const hg__pdb_dbi_t *d,
                                          uint32_t rva) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->pubs[mid].rva <= rva) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return NULL;
    }
    size_t section = hg__pdb_section_of(d, rva);
    bool same = section != SIZE_MAX && section == hg__pdb_section_of(d, p->pubs[lo - 1].rva);
    return same ? &p->pubs[lo - 1] : NULL;
}
