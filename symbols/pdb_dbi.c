/* pdb_dbi.c - the DBI stream (stream 3): compilands, section contributions, section headers,
 * OMAP.
 *
 * A 64-byte header (DbiStreamHeader: Age at 8, PublicStreamIndex at 16, SymRecordStream at 20,
 * the substream sizes at 24..52) is followed by substreams in this order: module info, section
 * contributions, section map, file info, type server map, EC, optional debug header (LLVM,
 * llvm/docs/PDB/DbiStream.md). From them this file keeps:
 *   - per module (ModInfo, 64 bytes + two names, 4-byte aligned): its stream and the sizes of
 *     its symbol, C11 and C13 parts;
 *   - the section contributions (Ver60: 28-byte SectionContribEntry; V2: 32 bytes), turned into
 *     rva ranges sorted by rva: they tell which compiland holds an address;
 *   - from the optional debug header (u16 stream indices): the section headers (index 5, 40-byte
 *     IMAGE_SECTION_HEADERs: VirtualSize at 8, VirtualAddress at 12) that turn segment:offset
 *     into an rva, and OMAP (index 3, "OMAP to src": {u32 rva, u32 rvaTo} sorted by rva) for
 *     images rearranged after linking, whose symbols use the original section headers
 *     (index 10) and are found by mapping an image rva through OMAP first.
 * Module names, the section map, file info and EC are not needed to symbolize and are skipped. */
#include "pdb_priv.h"

#include <stdlib.h>
#include <string.h>

#define DBI_HEADER_BYTES  64
#define MODI_FIXED_BYTES  64
#define SECTION_HDR_BYTES 40
#define SC_VER60          (0xeffe0000u + 19970605u)
#define SC_V2             (0xeffe0000u + 20140516u)
#define DBG_OMAP_TO_SRC   3
#define DBG_SECTION_HDR   5
#define DBG_SECTION_ORIG  10

typedef struct substreams {
    hg__span_t modi, contribs, dbg;
} substreams_t;

static int dbi_error(const hg__msf_t *m, const char *what, hg_error_t *err) {
    return hg_error_set(err, HG_EFORMAT, "%s: stream 3 (DBI): %s", m->name, what);
}

/* Splits the stream after the header into the substreams that are used. */
static int split(const hg__msf_t *m, hg__span_t s, substreams_t *out, hg_error_t *err) {
    if (!hg__span_has(s, 0, DBI_HEADER_BYTES)) {
        return dbi_error(m, "shorter than its 64-byte header", err);
    }
    /* header offsets of the sizes, in on-disk order: modi, sc, secmap, files, tsmap, ec, dbg */
    static const size_t size_at[7] = {24, 28, 32, 36, 40, 52, 48};
    hg__span_t parts[7];
    size_t off = DBI_HEADER_BYTES;
    for (int i = 0; i < 7; i++) {
        uint32_t size = hg__le32(s.p + size_at[i]);
        parts[i] = hg__span_sub(s, off, size);
        if (size > INT32_MAX || !parts[i].p) {
            return dbi_error(m, "a substream's size runs past the end of the stream", err);
        }
        off += size;
    }
    out->modi = parts[0];
    out->contribs = parts[1];
    out->dbg = parts[6];
    return 0;
}

/* Reads one ModInfo at *off into mi and moves *off past it; false when it does not fit. */
static bool read_modi(hg__span_t s, size_t *off, hg__pdb_modi_t *mi) {
    if (!hg__span_has(s, *off, MODI_FIXED_BYTES)) {
        return false;
    }
    const uint8_t *p = s.p + *off;
    mi->stream = hg__le16(p + 34);
    mi->sym_bytes = hg__le32(p + 36);
    mi->c11_bytes = hg__le32(p + 40);
    mi->c13_bytes = hg__le32(p + 44);
    size_t names = *off + MODI_FIXED_BYTES;
    const char *module_name = hg__span_str(s, names);
    const char *obj_name = module_name ? hg__span_str(s, names + strlen(module_name) + 1) : NULL;
    if (!obj_name) {
        return false;
    }
    size_t end = (size_t)((const uint8_t *)obj_name - s.p) + strlen(obj_name) + 1;
    *off = (end + 3) & ~(size_t)3;
    return true;
}

static int load_modules(const hg__msf_t *m, hg__span_t modi, hg__pdb_dbi_t *d, hg_error_t *err) {
    size_t cap = modi.n / MODI_FIXED_BYTES, off = 0;
    d->mods = hg_calloc(cap ? cap : 1, sizeof *d->mods);
    if (!d->mods) {
        return HG_ENOMEM;
    }
    while (off < modi.n) {
        if (d->nmods == cap || !read_modi(modi, &off, &d->mods[d->nmods])) {
            return dbi_error(m, "a module info record runs past the module info substream", err);
        }
        d->nmods++;
    }
    return 0;
}

static int load_sections(hg__msf_t *m, uint16_t stream, hg__pdb_dbi_t *d, hg_error_t *err) {
    hg__stream_t st;
    int rc = hg__msf_read(m, stream, &st, err);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *buf = st.p;
    d->nsections = st.n / SECTION_HDR_BYTES;
    d->sections = hg_calloc(d->nsections ? d->nsections : 1, sizeof *d->sections);
    for (size_t i = 0; d->sections && i < d->nsections; i++) {
        const uint8_t *h = buf + i * SECTION_HDR_BYTES;
        d->sections[i].size = hg__le32(h + 8);
        d->sections[i].rva = hg__le32(h + 12);
    }
    hg__stream_free(&st);
    return d->sections ? 0 : HG_ENOMEM;
}

static int cmp_omap(const void *a, const void *b) {
    uint32_t x = ((const hg__pdb_omap_t *)a)->from, y = ((const hg__pdb_omap_t *)b)->from;
    return x < y ? -1 : x > y;
}

static int load_omap(hg__msf_t *m, uint16_t stream, hg__pdb_dbi_t *d, hg_error_t *err) {
    hg__stream_t st;
    int rc = hg__msf_read(m, stream, &st, err);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *buf = st.p;
    d->nomap = st.n / 8;
    d->omap_to_src = hg_calloc(d->nomap ? d->nomap : 1, sizeof *d->omap_to_src);
    for (size_t i = 0; d->omap_to_src && i < d->nomap; i++) {
        d->omap_to_src[i].from = hg__le32(buf + 8 * i);
        d->omap_to_src[i].to = hg__le32(buf + 8 * i + 4);
    }
    hg__stream_free(&st);
    if (!d->omap_to_src) {
        return HG_ENOMEM;
    }
    hg__pdb_sort(d->omap_to_src, d->nomap, sizeof *d->omap_to_src, cmp_omap);
    return 0;
}

/* The stream at index i of the optional debug header, or HG__NO_STREAM. */
static uint16_t dbg_stream(hg__span_t dbg, size_t i) {
    return hg__span_has(dbg, 2 * i, 2) ? hg__span_u16(dbg, 2 * i) : HG__NO_STREAM;
}

/* Section headers (the original ones when OMAP rearranged the image) and OMAP. */
static int load_debug_streams(hg__msf_t *m, hg__span_t dbg, hg__pdb_dbi_t *d, hg_error_t *err) {
    uint16_t omap = dbg_stream(dbg, DBG_OMAP_TO_SRC), sec = dbg_stream(dbg, DBG_SECTION_HDR);
    uint16_t orig = dbg_stream(dbg, DBG_SECTION_ORIG);
    if (omap != HG__NO_STREAM && orig != HG__NO_STREAM) {
        sec = orig;
    }
    if (sec == HG__NO_STREAM) {
        return dbi_error(m, "no section header stream (addresses cannot be mapped)", err);
    }
    int rc = load_sections(m, sec, d, err);
    if (rc == 0 && omap != HG__NO_STREAM) {
        rc = load_omap(m, omap, d, err);
    }
    return rc;
}

static int cmp_contrib(const void *a, const void *b) {
    uint32_t x = ((const hg__pdb_contrib_t *)a)->rva, y = ((const hg__pdb_contrib_t *)b)->rva;
    return x < y ? -1 : x > y;
}

/* One SectionContribEntry: section u16 at 0, offset i32 at 4, size i32 at 8, module u16 at 16. */
static void add_contrib(hg__pdb_dbi_t *d, const uint8_t *e) {
    hg__pdb_contrib_t c = {0, hg__le32(e + 8), hg__le16(e + 16)};
    if (c.size == 0 || c.size > INT32_MAX || c.module >= d->nmods ||
        !hg__pdb_seg_rva(d, hg__le16(e), hg__le32(e + 4), &c.rva)) {
        return; /* empty, or not in any section or module: nothing can be looked up in it */
    }
    d->contribs[d->ncontribs++] = c;
}

static int load_contribs(const hg__msf_t *m, hg__span_t s, hg__pdb_dbi_t *d, hg_error_t *err) {
    if (s.n == 0) {
        return 0;
    }
    uint32_t version = hg__span_u32(s, 0);
    size_t entry = version == SC_VER60 ? 28 : version == SC_V2 ? 32 : 0;
    if (entry == 0) {
        return dbi_error(m, "unknown section contribution version", err);
    }
    size_t n = (s.n - 4) / entry;
    d->contribs = hg_calloc(n ? n : 1, sizeof *d->contribs);
    if (!d->contribs) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        add_contrib(d, s.p + 4 + i * entry);
    }
    hg__pdb_sort(d->contribs, d->ncontribs, sizeof *d->contribs, cmp_contrib);
    return 0;
}

static int parse(hg__msf_t *m, hg__span_t s, hg__pdb_dbi_t *d, hg_error_t *err) {
    substreams_t ss = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    int rc = split(m, s, &ss, err);
    if (rc != 0) {
        return rc;
    }
    d->age = hg__le32(s.p + 8);
    d->publics_stream = hg__le16(s.p + 16);
    d->symrec_stream = hg__le16(s.p + 20);
    rc = load_modules(m, ss.modi, d, err);
    if (rc == 0) {
        rc = load_debug_streams(m, ss.dbg, d, err);
    }
    return rc == 0 ? load_contribs(m, ss.contribs, d, err) : rc;
}

int hg__pdb_dbi_load(hg__msf_t *m, hg__pdb_dbi_t *d, hg_error_t *err) {
    hg__stream_t st;
    memset(d, 0, sizeof *d);
    int rc = hg__msf_read(m, 3, &st, err);
    if (rc == 0) {
        rc = parse(m, hg__stream_span(&st), d, err);
        hg__stream_free(&st);
    }
    if (rc == HG_ENOMEM) {
        hg_error_set(err, rc, "%s: out of memory reading the DBI stream", m->name);
    }
    if (rc != 0) {
        hg__pdb_dbi_free(d);
    }
    return rc;
}

void hg__pdb_dbi_free(hg__pdb_dbi_t *d) {
    hg_free(d->mods);
    hg_free(d->contribs);
    hg_free(d->sections);
    hg_free(d->omap_to_src);
    memset(d, 0, sizeof *d);
}

bool hg__pdb_seg_rva(const hg__pdb_dbi_t *d, uint16_t seg, uint32_t off, uint32_t *rva) {
    if (seg == 0 || seg > d->nsections) {
        return false;
    }
    uint64_t r = (uint64_t)d->sections[seg - 1].rva + off;
    *rva = (uint32_t)r;
    return r <= UINT32_MAX;
}

size_t hg__pdb_section_of(const hg__pdb_dbi_t *d, uint32_t rva) {
    for (size_t i = 0; i < d->nsections; i++) {
        if (rva >= d->sections[i].rva && rva - d->sections[i].rva < d->sections[i].size) {
            return i;
        }
    }
    return SIZE_MAX;
}

size_t hg__pdb_module_of(const hg__pdb_dbi_t *d, uint32_t rva) {
    size_t lo = 0, hi = d->ncontribs; /* first contribution starting above rva */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->contribs[mid].rva <= rva) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || rva - d->contribs[lo - 1].rva >= d->contribs[lo - 1].size) {
        return SIZE_MAX;
    }
    return d->contribs[lo - 1].module;
}

bool hg__pdb_omap(const hg__pdb_dbi_t *d, uint32_t rva, uint32_t *out) {
    *out = rva;
    if (!d->omap_to_src) {
        return true;
    }
    size_t lo = 0, hi = d->nomap;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->omap_to_src[mid].from <= rva) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || d->omap_to_src[lo - 1].to == 0) {
        return false; /* code the rearrangement added: no source address */
    }
    *out = d->omap_to_src[lo - 1].to + (rva - d->omap_to_src[lo - 1].from);
    return true;
}
