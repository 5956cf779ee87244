/* pdb_reader.c - hg_pdb_open and hg_pdb_lookup (pdb.h): the PDB reader's pieces put together.
 *
 * A file is mapped into memory where the system allows, so streams whose blocks are adjacent
 * are used in place. Opening reads the MSF directory, the PDB info stream (stream 1) and the DBI
 * stream (stream 3); a damaged one fails the open. A lookup maps the rva through OMAP (if any),
 * finds the compiland whose section contribution holds it, loads that compiland once (procedures,
 * lines, inlinee lines, each sorted for binary search), and answers with the procedure, the inline
 * sites inside it (pdb_inline.c) and the line; when no procedure covers the address, the
 * nearest public symbol names it. The /names table, the publics and the IPI stream are read on
 * first need. A part that turns out damaged is remembered as failed with one warning and stays
 * unknown: the lookups it would have answered come back with less, never with an error. */
#include "pdb_priv.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define MAX_INLINE_DEPTH 64 /* inline sites followed; deeper ones are not named */

typedef enum { LAZY_TODO, LAZY_DONE, LAZY_FAILED } lazy_t;

struct hg_pdb {
    hg__msf_t msf;
    char *name;
    FILE *fp;
    const uint8_t *mem; /* the whole file: given (hg_pdb_open_memory) or mapped */
    bool mapped;
    hg__pdb_info_t info;
    hg__pdb_dbi_t dbi;
    lazy_t names_state, publics_state, ipi_state;
    hg__pdb_names_t names;
    hg__pdb_publics_t publics;
    hg__pdb_ipi_t ipi;
    uint8_t *cu_state; /* lazy_t per module */
    hg__pdb_cu_t *cus;
    uint64_t nwarnings;
    char warning[512];
};

/* ---- sources ---------------------------------------------------------------------------- */

static int file_read_at(void *ctx, uint64_t off, void *buf, size_t n) {
    hg_pdb_t *p = ctx;
    if (off > (uint64_t)LONG_MAX || fseek(p->fp, (long)off, SEEK_SET) != 0) {
        return HG_EIO;
    }
    return fread(buf, 1, n, p->fp) == n ? 0 : HG_EIO;
}

static int mem_read_at(void *ctx, uint64_t off, void *buf, size_t n) {
    hg_pdb_t *p = ctx;
    if (off > p->msf.src.size || n > p->msf.src.size - off) {
        return HG_EIO;
    }
    memcpy(buf, p->mem + off, n);
    return 0;
}

/* ---- open / close ----------------------------------------------------------------------- */

static int read_info(hg_pdb_t *p, hg_error_t *err) {
    hg__stream_t st;
    int rc = hg__msf_read(&p->msf, 1, &st, err);
    if (rc == 0) {
        rc = hg__pdb_info_parse(hg__stream_span(&st), &p->info, p->name, err);
        hg__stream_free(&st);
    }
    return rc;
}

static int open_streams(hg_pdb_t *p, hg__msf_src_t src, hg_error_t *err) {
    int rc = hg__msf_open(&p->msf, src, p->name, err);
    if (rc == 0) {
        rc = read_info(p, err);
    }
    if (rc == 0) {
        rc = hg__pdb_dbi_load(&p->msf, &p->dbi, err);
    }
    if (rc == 0) {
        size_t n = p->dbi.nmods ? p->dbi.nmods : 1;
        p->cu_state = hg_calloc(n, sizeof *p->cu_state);
        p->cus = hg_calloc(n, sizeof *p->cus);
        if (!p->cu_state || !p->cus) {
            rc = hg_error_set(err, HG_ENOMEM, "%s: out of memory", p->name);
        }
    }
    return rc;
}

static hg_pdb_t *open_with(hg_pdb_t *p, hg__msf_src_t src, hg_error_t *err) {
    if (open_streams(p, src, err) != 0) {
        hg_pdb_close(p);
        return NULL;
    }
    return p;
}

static hg_pdb_t *new_pdb(const char *name, hg_error_t *err) {
    hg_pdb_t *p = hg_calloc(1, sizeof *p);
    if (p && !(p->name = hg_strdup(name))) {
        hg_free(p);
        p = NULL;
    }
    if (!p) {
        hg_error_set(err, HG_ENOMEM, "%s: out of memory", name);
    }
    return p;
}

hg_pdb_t *hg_pdb_open_file(const char *path, hg_error_t *err) {
    hg_pdb_t *p = new_pdb(path, err);
    if (!p) {
        return NULL;
    }
    p->fp = fopen(path, "rb");
    long size = -1;
    if (p->fp && fseek(p->fp, 0, SEEK_END) == 0) {
        size = ftell(p->fp);
    }
    if (size < 0) {
        hg_error_set(err, HG_EIO, "%s: cannot read it", path);
        hg_pdb_close(p);
        return NULL;
    }
    p->mem = hg__pdb_map(p->fp, (uint64_t)size);
    p->mapped = p->mem != NULL;
    hg__msf_src_t src = {p->mapped ? mem_read_at : file_read_at, p, (uint64_t)size, p->mem};
    return open_with(p, src, err);
}

hg_pdb_t *hg_pdb_open_memory(const void *data, size_t size, const char *name, hg_error_t *err) {
    hg_pdb_t *p = new_pdb(name, err);
    if (p) {
        p->mem = data;
        p = open_with(p, (hg__msf_src_t){mem_read_at, p, size, p->mem}, err);
    }
    return p;
}

void hg_pdb_close(hg_pdb_t *p) {
    if (!p) {
        return;
    }
    for (size_t i = 0; p->cus && i < p->dbi.nmods; i++) {
        hg__pdb_cu_free(&p->cus[i]);
    }
    hg_free(p->cus);
    hg_free(p->cu_state);
    hg__stream_free(&p->names.stream);
    hg__pdb_publics_free(&p->publics);
    hg__pdb_ipi_free(&p->ipi);
    hg__pdb_dbi_free(&p->dbi);
    hg__msf_close(&p->msf);
    if (p->mapped) {
        hg__pdb_unmap(p->mem, p->msf.src.size);
    }
    if (p->fp) {
        fclose(p->fp);
    }
    hg_free(p->name);
    hg_free(p);
}

void hg_pdb_identity(const hg_pdb_t *p, uint8_t guid[16], uint32_t *age) {
    memcpy(guid, p->info.guid, 16);
    *age = p->info.age;
}

bool hg_pdb_matches(const hg_pdb_t *p, const uint8_t guid[16], uint32_t age) {
    return memcmp(guid, p->info.guid, 16) == 0 && (age == p->info.age || age == p->dbi.age);
}

uint64_t hg_pdb_warnings(const hg_pdb_t *p, const char **last) {
    if (last) {
        *last = p->warning;
    }
    return p->nwarnings;
}

/* ---- parts read on first need ----------------------------------------------------------- */

/* Settles a lazy part after its load returned rc: failures become one warning. */
static bool settle(hg_pdb_t *p, lazy_t *state, int rc, const hg_error_t *err) {
    *state = rc == 0 ? LAZY_DONE : LAZY_FAILED;
    if (rc != 0) {
        p->nwarnings++;
        snprintf(p->warning, sizeof p->warning, "%s", err->msg[0] ? err->msg : hg_strerror(rc));
    }
    return rc == 0;
}

static const hg__pdb_names_t *get_names(hg_pdb_t *p) {
    if (p->names_state == LAZY_TODO && p->info.names_stream != HG__NO_STREAM) {
        hg_error_t err;
        hg_error_clear(&err);
        settle(p, &p->names_state,
               hg__pdb_names_load(&p->msf, p->info.names_stream, &p->names, &err), &err);
    }
    return &p->names; /* an empty table when absent or damaged: files stay unknown */
}

static const hg__pdb_publics_t *get_publics(hg_pdb_t *p) {
    if (p->publics_state == LAZY_TODO) {
        hg_error_t err;
        hg_error_clear(&err);
        settle(p, &p->publics_state, hg__pdb_publics_load(&p->msf, &p->dbi, &p->publics, &err),
               &err);
    }
    return &p->publics;
}

static const hg__pdb_ipi_t *get_ipi(hg_pdb_t *p) {
    if (p->ipi_state == LAZY_TODO) {
        hg_error_t err;
        hg_error_clear(&err);
        settle(p, &p->ipi_state, hg__pdb_ipi_load(&p->msf, &p->ipi, &err), &err);
    }
    return &p->ipi;
}

static const hg__pdb_cu_t *get_cu(hg_pdb_t *p, size_t i) {
    if (i >= p->dbi.nmods) {
        return NULL;
    }
    lazy_t state = (lazy_t)p->cu_state[i];
    if (state == LAZY_TODO) {
        hg_error_t err;
        hg_error_clear(&err);
        settle(p, &state, hg__pdb_cu_load(&p->msf, &p->dbi, &p->dbi.mods[i], &p->cus[i], &err),
               &err);
        p->cu_state[i] = (uint8_t)state;
    }
    return state == LAZY_DONE ? &p->cus[i] : NULL;
}

/* ---- lookup ----------------------------------------------------------------------------- */

/* The file and line the compiland's line table gives rva. */
static void set_line(hg_pdb_t *p, const hg__pdb_cu_t *cu, uint32_t rva, hg_pdb_frame_t *f) {
    uint32_t line, file;
    if (cu && hg__pdb_lines_find(cu, rva, &line, &file)) {
        f->file = hg__pdb_file_name(cu, get_names(p), file);
        f->line = line;
    }
}

/* The procedure and the inline sites holding rva; cut to max frames, the innermost max - 1
 * sites and the procedure are kept (as the symbolizer cuts, symbols.h). */
static size_t from_proc(hg_pdb_t *p, const hg__pdb_cu_t *cu, const hg__pdb_proc_t *proc,
                        uint32_t rva, hg_pdb_frame_t *out, size_t max) {
    hg__pdb_site_t sites[MAX_INLINE_DEPTH];
    size_t all = hg__pdb_inline_chain(cu, proc, rva, sites, MAX_INLINE_DEPTH);
    size_t n = all < max - 1 ? all : max - 1;
    for (size_t i = 0; i < n; i++) { /* innermost first */
        const hg__pdb_site_t *s = &sites[all - 1 - i];
        out[i] = (hg_pdb_frame_t){hg__pdb_ipi_name(get_ipi(p), s->inlinee),
                                  hg__pdb_file_name(cu, get_names(p), s->file), s->line, true};
    }
    out[n] = (hg_pdb_frame_t){proc->name, NULL, 0, false};
    set_line(p, cu, rva, &out[n]);
    return n + 1;
}

static size_t from_public(hg_pdb_t *p, const hg__pdb_cu_t *cu, uint32_t rva, hg_pdb_frame_t *out) {
    const hg__pdb_pub_t *pub = hg__pdb_publics_find(get_publics(p), &p->dbi, rva);
    if (!pub) {
        return 0;
    }
    *out = (hg_pdb_frame_t){pub->name, NULL, 0, false};
    set_line(p, cu, rva, out);
    return 1;
}

size_t hg_pdb_lookup(hg_pdb_t *p, uint64_t rva64, hg_pdb_frame_t *out, size_t max) {
    uint32_t rva;
    if (max == 0 || rva64 > UINT32_MAX || !hg__pdb_omap(&p->dbi, (uint32_t)rva64, &rva)) {
        return 0;
    }
    const hg__pdb_cu_t *cu = get_cu(p, hg__pdb_module_of(&p->dbi, rva));
    const hg__pdb_proc_t *proc = cu ? hg__pdb_cu_proc(cu, rva) : NULL;
    return proc ? from_proc(p, cu, proc, rva, out, max) : from_public(p, cu, rva, out);
}
