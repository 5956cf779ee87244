/* pdb_priv.h - private to the PDB reader (pdb_*.c): byte spans, the MSF container, the streams.
 *
 * How the pieces fit (docs/pdb-reader.md has the format with its sources):
 *   pdb_msf.c      the MSF container: superblock, stream directory, streams (lent from the
 *                  file in memory when their blocks are adjacent, else copied)
 *   pdb_map_posix.c  the file mapped into memory (a platform file)
 *   pdb_info.c     the PDB info stream (GUID, age, named streams) and the /names string table
 *   pdb_dbi.c      the DBI stream: modules, section contributions, section headers, OMAP
 *   pdb_publics.c  public symbols (S_PUB32) through the publics stream's address map
 *   pdb_module.c   one compiland's stream: procedures (S_*PROC32) and its C13 subsections
 *   pdb_lines.c    C13 line blocks (DEBUG_S_LINES) and file checksums -> file:line
 *   pdb_inline.c   inline sites (S_INLINESITE binary annotations, DEBUG_S_INLINEELINES, IPI)
 *   pdb_reader.c   hg_pdb_open / hg_pdb_lookup: the pieces put together
 * Every read of file data goes through a span and is bounds-checked; counts read from the file
 * are checked against the bytes that hold them before anything is allocated. */
#ifndef HG_SYMBOLS_PDB_PRIV_H
#define HG_SYMBOLS_PDB_PRIV_H

#include "pdb.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- byte spans ------------------------------------------------------------------------ */

typedef struct hg__span {
    const uint8_t *p;
    size_t n;
} hg__span_t;

static inline bool hg__span_has(hg__span_t s, size_t off, size_t len) {
    return off <= s.n && len <= s.n - off;
}
static inline uint16_t hg__le16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t hg__le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
/* Little-endian values at off; 0 when they do not fit (callers check hg__span_has first where
 * 0 would be taken for data). */
static inline uint16_t hg__span_u16(hg__span_t s, size_t off) {
    return hg__span_has(s, off, 2) ? hg__le16(s.p + off) : 0;
}
static inline uint32_t hg__span_u32(hg__span_t s, size_t off) {
    return hg__span_has(s, off, 4) ? hg__le32(s.p + off) : 0;
}
/* The NUL-terminated string at off, or NULL when it is not terminated inside s. */
const char *hg__span_str(hg__span_t s, size_t off);
/* The span [off, off + len) of s, or an empty span (p NULL) when it does not fit. */
hg__span_t hg__span_sub(hg__span_t s, size_t off, size_t len);

/* ---- pdb_msf.c: the container ----------------------------------------------------------- */

/* Where the file's bytes come from: a FILE, or the whole file in memory (given, or mapped). */
typedef struct hg__msf_src {
    int (*read_at)(void *ctx, uint64_t off, void *buf, size_t n); /* 0 or HG_EIO */
    void *ctx;
    uint64_t size;
    const uint8_t *base; /* the whole file when it is in memory, else NULL */
} hg__msf_src_t;

/* A stream's bytes: lent from the file in memory when its blocks are adjacent there, else a
 * copy (owned). Valid until hg__stream_free and while the file is open. */
typedef struct hg__stream {
    const uint8_t *p;
    size_t n;
    uint8_t *owned;
} hg__stream_t;

void hg__stream_free(hg__stream_t *s);
static inline hg__span_t hg__stream_span(const hg__stream_t *s) {
    return (hg__span_t){s->p, s->n};
}

typedef struct hg__msf {
    hg__msf_src_t src;
    const char *name; /* for messages */
    uint32_t block_size, num_blocks;
    uint32_t nstreams;
    uint8_t *dir;          /* the stream directory */
    uint32_t *dir_blocks;  /* the blocks the directory was read from (for messages) */
    uint32_t *first_block; /* per stream: index of its first block number in dir (u32 units) */
} hg__msf_t;

#define HG__NO_STREAM 0xFFFFu

/* Reads the superblock and the stream directory. Returns 0 or HG_EFORMAT/HG_EIO/HG_ENOMEM with
 * err naming the file and offset; on error m holds nothing to free. */
int hg__msf_open(hg__msf_t *m, hg__msf_src_t src, const char *name, hg_error_t *err);
void hg__msf_close(hg__msf_t *m);
/* Reads stream index into *out (release it with hg__stream_free). A stream that does not exist
 * is an error; an empty stream gives out->n 0. */
int hg__msf_read(hg__msf_t *m, uint32_t index, hg__stream_t *out, hg_error_t *err);
uint32_t hg__msf_stream_size(const hg__msf_t *m, uint32_t index);

/* ---- file mapping (pdb_map_posix.c) --------------------------------------------------- */

/* The file fp (size bytes) mapped read-only, or NULL when it cannot be (then it is read). */
const uint8_t *hg__pdb_map(FILE *fp, uint64_t size);
void hg__pdb_unmap(const uint8_t *base, uint64_t size);

/* ---- pdb_info.c: PDB info stream and /names ------------------------------------------- */

typedef struct hg__pdb_info {
    uint32_t version, signature, age;
    uint8_t guid[16];
    uint32_t names_stream; /* stream of "/names", HG__NO_STREAM when absent */
} hg__pdb_info_t;

int hg__pdb_info_parse(hg__span_t s, hg__pdb_info_t *out, const char *name, hg_error_t *err);

typedef struct hg__pdb_names {
    hg__stream_t stream;
    hg__span_t strings; /* the string buffer; offsets index it */
} hg__pdb_names_t;

int hg__pdb_names_load(hg__msf_t *m, uint32_t index, hg__pdb_names_t *out, hg_error_t *err);
const char *hg__pdb_names_get(const hg__pdb_names_t *n, uint32_t offset);

/* ---- pdb_dbi.c: DBI stream ------------------------------------------------------------- */

typedef struct hg__pdb_modi {
    uint16_t stream; /* HG__NO_STREAM: no symbols (a stripped PDB) */
    uint32_t sym_bytes, c11_bytes, c13_bytes;
} hg__pdb_modi_t;

typedef struct hg__pdb_contrib {
    uint32_t rva, size, module;
} hg__pdb_contrib_t;

typedef struct hg__pdb_section {
    uint32_t rva, size;
} hg__pdb_section_t;

typedef struct hg__pdb_omap {
    uint32_t from, to;
} hg__pdb_omap_t;

typedef struct hg__pdb_dbi {
    uint32_t age;
    uint16_t publics_stream, symrec_stream;
    hg__pdb_modi_t *mods;
    size_t nmods;
    hg__pdb_contrib_t *contribs; /* sorted by rva */
    size_t ncontribs;
    hg__pdb_section_t *sections; /* the sections symbols' segment:offset refer to */
    size_t nsections;
    hg__pdb_omap_t *omap_to_src; /* image rva -> rva symbols use; NULL without OMAP */
    size_t nomap;
} hg__pdb_dbi_t;

int hg__pdb_dbi_load(hg__msf_t *m, hg__pdb_dbi_t *out, hg_error_t *err);
void hg__pdb_dbi_free(hg__pdb_dbi_t *d);
/* rva of segment:offset (segment counts from 1); false when the segment does not exist. */
bool hg__pdb_seg_rva(const hg__pdb_dbi_t *d, uint16_t seg, uint32_t off, uint32_t *rva);
/* The section (index into sections) that holds rva, or SIZE_MAX. */
size_t hg__pdb_section_of(const hg__pdb_dbi_t *d, uint32_t rva);
/* The module whose section contribution holds rva, or SIZE_MAX. */
size_t hg__pdb_module_of(const hg__pdb_dbi_t *d, uint32_t rva);
/* rva mapped through OMAP (unchanged without OMAP); false when it maps to nothing. */
bool hg__pdb_omap(const hg__pdb_dbi_t *d, uint32_t rva, uint32_t *out);

/* ---- pdb_publics.c: public symbols ---------------------------------------------------- */

typedef struct hg__pdb_pub {
    uint32_t rva;
    const char *name; /* into the symbol record stream */
} hg__pdb_pub_t;

typedef struct hg__pdb_publics {
    hg__stream_t symrec; /* the symbol record stream: names point into it */
    hg__pdb_pub_t *pubs; /* sorted by rva */
    size_t n;
} hg__pdb_publics_t;

int hg__pdb_publics_load(hg__msf_t *m, const hg__pdb_dbi_t *d, hg__pdb_publics_t *out,
                         hg_error_t *err);
void hg__pdb_publics_free(hg__pdb_publics_t *p);
/* The nearest public symbol at or below rva in rva's section, or NULL. */
const hg__pdb_pub_t *hg__pdb_publics_find(const hg__pdb_publics_t *p, const hg__pdb_dbi_t *d,
                                          uint32_t rva);

/* ---- pdb_module.c, pdb_lines.c, pdb_inline.c: one compiland ----------------------------- */

typedef struct hg__pdb_proc {
    uint32_t rva, len;
    uint32_t sym_off; /* offset of its S_*PROC32 record in the module stream */
    const char *name;
} hg__pdb_proc_t;

#define HG__LINE_END UINT32_MAX /* file of a line that is not known */

/* One DEBUG_S_LINES subsection: the code range it covers and where its data is. */
typedef struct hg__pdb_lineblock {
    uint32_t rva, end; /* [rva, end) */
    uint32_t off, len; /* the subsection's data in the module stream */
} hg__pdb_lineblock_t;

typedef struct hg__pdb_inlinee {
    uint32_t id, file, line; /* an inlined function's IPI id, checksum offset, first line */
} hg__pdb_inlinee_t;

typedef struct hg__pdb_cu {
    hg__stream_t stream;
    hg__span_t syms;       /* symbol records, offsets as the records' parent/end fields count */
    hg__span_t checksums;  /* DEBUG_S_FILECHKSMS data */
    hg__pdb_proc_t *procs; /* sorted by rva */
    size_t nprocs, capprocs;
    hg__pdb_lineblock_t *blocks; /* sorted by rva */
    size_t nblocks, capblocks;
    hg__pdb_inlinee_t *inlinees; /* sorted by id */
    size_t ninlinees, capinlinees;
} hg__pdb_cu_t;

/* Reads module mi's stream: procedures, lines, inlinee lines. Returns 0 or an error with a
 * message naming the stream and offset; on error cu holds nothing to free. */
int hg__pdb_cu_load(hg__msf_t *m, const hg__pdb_dbi_t *d, const hg__pdb_modi_t *mi,
                    hg__pdb_cu_t *cu, hg_error_t *err);
void hg__pdb_cu_free(hg__pdb_cu_t *cu);
/* The procedure whose range holds rva, or NULL. */
const hg__pdb_proc_t *hg__pdb_cu_proc(const hg__pdb_cu_t *cu, uint32_t rva);

/* pdb_lines.c: checks a DEBUG_S_LINES subsection and indexes it; sorts the index when all are
 * in. */
int hg__pdb_lines_add(hg__pdb_cu_t *cu, const hg__pdb_dbi_t *d, hg__span_t sub);
void hg__pdb_lines_sort(hg__pdb_cu_t *cu);
/* The line and file (checksum offset) in effect at rva; false when no line block covers it. */
bool hg__pdb_lines_find(const hg__pdb_cu_t *cu, uint32_t rva, uint32_t *line, uint32_t *file);
/* The file name of checksum offset file, or NULL. */
const char *hg__pdb_file_name(const hg__pdb_cu_t *cu, const hg__pdb_names_t *names, uint32_t file);

/* pdb_inline.c: DEBUG_S_INLINEELINES entries, sorted when all are in. */
int hg__pdb_inlinees_add(hg__pdb_cu_t *cu, hg__span_t sub);
void hg__pdb_inlinees_sort(hg__pdb_cu_t *cu);

typedef struct hg__pdb_ipi {
    hg__stream_t stream;
    uint32_t begin;    /* the first type index */
    uint32_t *offsets; /* record offsets by index - begin */
    size_t n;
} hg__pdb_ipi_t;

int hg__pdb_ipi_load(hg__msf_t *m, hg__pdb_ipi_t *out, hg_error_t *err);
void hg__pdb_ipi_free(hg__pdb_ipi_t *ipi);
/* The name of an LF_FUNC_ID / LF_MFUNC_ID record, or NULL. */
const char *hg__pdb_ipi_name(const hg__pdb_ipi_t *ipi, uint32_t id);

/* One inline site that holds an address: which function, and where in it. */
typedef struct hg__pdb_site {
    uint32_t inlinee;    /* IPI id of the inlined function */
    uint32_t file, line; /* checksum offset and line of the address inside it */
} hg__pdb_site_t;

/* The inline sites of proc that hold rva, outermost first (at most max). */
size_t hg__pdb_inline_chain(const hg__pdb_cu_t *cu, const hg__pdb_proc_t *proc, uint32_t rva,
                            hg__pdb_site_t *out, size_t max);

/* ---- shared helpers -------------------------------------------------------------------- */

/* Grows *arr (elements of size elem) so one more fits; 0 or HG_ENOMEM. */
int hg__pdb_grow(void **arr, size_t *cap, size_t n, size_t elem);
/* qsort, skipped when the array is sorted already (as linkers mostly write them). */
void hg__pdb_sort(void *arr, size_t n, size_t elem, int (*cmp)(const void *, const void *));

#endif
