/* pdb.c - the PDB backend (backend.h): Windows modules symbolized with heapgate's own PDB
 * reader (pdb.h), on any system.
 *
 * A module is the PDB backend's when the trace recorded its CodeView identity (PDB name, GUID,
 * age). Its PDB is looked for, in this order: the PDB path the image recorded when it is a path
 * of this system, the PDB's file name next to the module when the module's path is one, then
 * the symbol path (sympath.h: plain directories by file name and as stores, srv* chains and
 * their servers). A candidate is used only when its PDB info stream holds the module's GUID
 * and age, as DbgHelp requires; a damaged candidate is a warning, a mismatched one too when no
 * candidate matched. A module without its PDB is no error: its addresses stay module+offset.
 * Each PDB is opened once per module, and read further only as lookups need. */
#include "backend.h"
#include "pdb.h"
#include "sympath.h"

#include <stdio.h>
#include <string.h>

#define MAX_FRAMES 16

typedef struct handle {
    hg_pdb_t *pdb;
    uint64_t warnings_seen; /* the reader's warnings already passed on */
} handle_t;

/* The search's state: the module, the PDB taken, the first mismatch seen. */
typedef struct finder {
    hg_symbolizer_t *s;
    const hg_sym_module_t *m;
    hg_pdb_t *pdb;
    char mismatch[512];
} finder_t;

static void note_mismatch(finder_t *f, hg_pdb_t *p, const char *path) {
    if (f->mismatch[0]) {
        return;
    }
    uint8_t guid[16];
    uint32_t age;
    char have[41], want[41];
    hg_pdb_identity(p, guid, &age);
    hg_sympath_pdb_key(guid, age, have);
    hg_sympath_pdb_key(f->m->pdb_guid, f->m->pdb_age, want);
    snprintf(f->mismatch, sizeof f->mismatch, "%s has GUID+age %s, the module wants %s", path, have,
             want);
}

static bool accept_candidate(void *ctx, const char *path) {
    finder_t *f = ctx;
    hg_error_t err;
    hg_error_clear(&err);
    hg_pdb_t *p = hg_pdb_open_file(path, &err);
    if (!p) {
        hg__sym_warn(f->s, "PDB for %s not used: %s", hg__sym_file_part(f->m->path), err.msg);
        return false;
    }
    if (!hg_pdb_matches(p, f->m->pdb_guid, f->m->pdb_age)) {
        note_mismatch(f, p, path);
        hg_pdb_close(p);
        return false;
    }
    f->pdb = p;
    return true;
}

static void search_warning(void *ctx, const char *msg) {
    finder_t *f = ctx;
    hg__sym_warn(f->s, "%s", msg);
}

/* dir of path (up to its last '/') + name, or NULL. */
static char *beside(const char *path, const char *name) {
    const char *slash = strrchr(path, '/');
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_printf(&b, "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, name);
    char *joined = b.failed ? NULL : hg_buf_take(&b);
    hg_buf_free(&b);
    return joined;
}

/* Finds and opens m's PDB; NULL when none matches (or out of memory). */
static hg_pdb_t *find_pdb(hg_symbolizer_t *s, const hg_sym_module_t *m, hg_sympath_t *sp) {
    finder_t f = {s, m, NULL, ""};
    const char *name = hg__sym_file_part(m->pdb_name);
    char key[41], *next_to_module = NULL;
    const char *local[3] = {NULL, NULL, NULL};
    size_t n = 0;
    hg_sympath_pdb_key(m->pdb_guid, m->pdb_age, key);
    if (m->pdb_name[0] == '/') {
        local[n++] = m->pdb_name; /* a PDB path of this system, as the linker wrote it */
    }
    if (m->path && m->path[0] == '/' && (next_to_module = beside(m->path, name))) {
        local[n++] = next_to_module;
    }
    hg_symfile_t file = {name, key, local};
    hg_symfile_cb_t cb = {accept_candidate, search_warning, &f};
    int rc = hg_sympath_find(sp, &file, &cb);
    hg_free(next_to_module);
    if (rc != 0 && f.mismatch[0]) {
        hg__sym_warn(s, "PDB for %s not used: %s", hg__sym_file_part(m->path), f.mismatch);
    }
    return rc == 0 ? f.pdb : NULL;
}

static void *pdb_open(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    hg_sympath_t *sp = m->pdb_name && m->pdb_name[0] ? hg__sym_path(s) : NULL;
    hg_pdb_t *pdb = sp ? find_pdb(s, m, sp) : NULL;
    handle_t *h = pdb ? hg_calloc(1, sizeof *h) : NULL;
    if (!h) {
        hg_pdb_close(pdb);
        return NULL;
    }
    h->pdb = pdb;
    return h;
}

/* Passes on the warnings the reader raised since the last call. */
static void pass_warnings(hg_symbolizer_t *s, handle_t *h) {
    const char *last;
    uint64_t n = hg_pdb_warnings(h->pdb, &last);
    if (n > h->warnings_seen) {
        h->warnings_seen = n;
        hg__sym_warn(s, "%s", last);
    }
}

static size_t pdb_lookup(hg_symbolizer_t *s, void *handle, uint64_t rva, hg_sym_frame_t *out,
                         size_t max) {
    handle_t *h = handle;
    hg_pdb_frame_t frames[MAX_FRAMES];
    size_t n = hg_pdb_lookup(h->pdb, rva, frames, max < MAX_FRAMES ? max : MAX_FRAMES);
    pass_warnings(s, h);
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].function = hg__sym_intern(s, frames[i].function);
        out[i].file = hg__sym_intern(s, frames[i].file);
        out[i].line = frames[i].line;
        out[i].inlined = frames[i].inlined;
    }
    return n;
}

static void pdb_close(void *handle) {
    handle_t *h = handle;
    hg_pdb_close(h->pdb);
    hg_free(h);
}

const hg__sym_backend_t hg__sym_backend_pdb = {"pdb", pdb_open, pdb_lookup, pdb_close};
