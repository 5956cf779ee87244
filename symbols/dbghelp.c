/* dbghelp.c - the DbgHelp backend (backend.h): Windows modules symbolized by Windows' own
 * DbgHelp library, in the Windows build.
 *
 * Each module gets a DbgHelp session of its own: SymInitialize with a handle value unique to it
 * and no live process (fInvadeProcess FALSE: DbgHelp reads files only), then SymLoadModuleEx at
 * the base and size the trace recorded, so modules of different address spaces never collide.
 * Options: line numbers, undecorated names (unless demangling is off), deferred loads, no
 * critical-error dialogs, no prompts, and _NT_SYMBOL_PATH ignored: the symbolizer's symbol path
 * decides. SymUnloadModule64 and SymCleanup end the session when the symbolizer closes.
 *
 * Files. DbgHelp reads the image to learn which PDB it wants (its CodeView record), so the
 * backend needs the image: the recorded path when it is a file here, else the image looked up
 * in the symbol path by its store key, TimeDateStamp and SizeOfImage (Microsoft, "Symbol Store
 * Folder Tree"). The PDB is looked for with heapgate's own symbol-path code (sympath.h) by name,
 * GUID and age, candidates checked with heapgate's PDB reader; srv*CACHE*STORE chains of
 * directories are resolved there (a PDB found upstream is copied into the cache), since Wine's
 * DbgHelp has no symbol-server support. DbgHelp is then handed the PDB's directory. When no
 * PDB is found that way, DbgHelp gets the symbol path as written, so that on Windows its
 * symsrv.dll can ask the HTTP servers in it. A module for which DbgHelp loads no debug
 * information (exports only, or nothing) answers nothing: the nearest export is not the
 * function.
 *
 * Inline frames (DbgHelp 6.2 and later; Microsoft's reference pages of each function):
 * SymAddrIncludeInlineTrace counts the inline frames at an address, SymQueryInlineTrace gives
 * the innermost one's context and the contexts of the outer ones follow it, and
 * SymFromInlineContext with SymGetLineFromInlineContext name each; SymFromAddr and
 * SymGetLineFromAddr64 then name the function they were inlined into. The four are looked up
 * in dbghelp.dll at run time (mingw-w64's header does not declare them); without them an
 * address gets its outer frame only.
 *
 * DbgHelp is single-threaded: every call into it holds one lock. */
#include "backend.h"
#include "pdb.h"
#include "sympath.h"

#include <windows.h>
/* after windows.h */
#include <dbghelp.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_CHARS 1024
#define INLINE_MAX     15

typedef DWORD(WINAPI *include_inline_fn)(HANDLE, DWORD64);
typedef BOOL(WINAPI *query_inline_fn)(HANDLE, DWORD64, DWORD, DWORD64, DWORD64, LPDWORD, LPDWORD);
typedef BOOL(WINAPI *from_inline_fn)(HANDLE, DWORD64, ULONG, PDWORD64, PSYMBOL_INFO);
typedef BOOL(WINAPI *line_inline_fn)(HANDLE, DWORD64, ULONG, DWORD64, PDWORD, PIMAGEHLP_LINE64);

static SRWLOCK g_lock = SRWLOCK_INIT;

static struct {
    bool looked_up;
    include_inline_fn include;
    query_inline_fn query;
    from_inline_fn from_context;
    line_inline_fn line_context;
} g_inline;

typedef struct dh_module {
    HANDLE process; /* the session's handle value: this struct's address */
    DWORD64 base;
    bool type_checked, no_debug_info;
    char image[MAX_PATH * 2];
} dh_module_t;

typedef struct sym_buffer {
    SYMBOL_INFO info;
    char name[NAME_MAX_CHARS];
} sym_buffer_t;

/* A copy of the directory part of path (up to its last separator), or of "." without one. */
static char *dir_of(const char *path) {
    const char *name = hg__sym_file_part(path);
    return name == path ? hg_strdup(".") : hg_strndup(path, (size_t)(name - path - 1));
}

/* dir of path + name (hg_malloc'd), or NULL. */
static char *beside(const char *path, const char *name) {
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_printf(&b, "%.*s%s", (int)(hg__sym_file_part(path) - path), path, name);
    char *joined = b.failed ? NULL : hg_buf_take(&b);
    hg_buf_free(&b);
    return joined;
}

static bool is_absolute(const char *path) {
    return path[0] == '/' || path[0] == '\\' || (path[0] && path[1] == ':');
}

/* ---- finding the image and the PDB --------------------------------------------------------- */

typedef struct finder {
    hg_symbolizer_t *s;
    const hg_sym_module_t *m;
    char *found; /* the PDB accepted */
} finder_t;

/* Takes the candidate at path when it is a PDB of m's GUID and age (heapgate's reader says). */
static bool accept_pdb(void *ctx, const char *path) {
    finder_t *f = ctx;
    hg_error_t err;
    hg_error_clear(&err);
    hg_pdb_t *p = hg_pdb_open_file(path, &err);
    bool match = p && hg_pdb_matches(p, f->m->pdb_guid, f->m->pdb_age);
    hg_pdb_close(p);
    f->found = match ? hg_strdup(path) : NULL;
    return f->found != NULL;
}

static void search_warning(void *ctx, const char *msg) {
    hg__sym_warn(ctx, "%s", msg);
}

static void finder_warning(void *ctx, const char *msg) {
    finder_t *f = ctx;
    hg__sym_warn(f->s, "%s", msg);
}

/* The image file: the recorded path, else the symbol path by TimeDateStamp and SizeOfImage. */
static char *find_image(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    if (!m->path || !m->path[0]) {
        return NULL;
    }
    if (hg__sym_is_file(m->path)) {
        return hg_strdup(m->path);
    }
    if (m->pe_timestamp == 0 || m->size > UINT32_MAX) {
        return NULL;
    }
    hg_sympath_t *sp = hg__sym_path(s);
    char key[32];
    int rc;
    snprintf(key, sizeof key, "%08X%x", (unsigned)m->pe_timestamp, (unsigned)m->size);
    hg_symfile_t file = {hg__sym_file_part(m->path), key, NULL};
    return sp ? hg_sympath_locate(sp, &file, search_warning, s, &rc) : NULL;
}

/* The directory of m's PDB found by heapgate's own search, or NULL. */
static char *find_pdb_dir(hg_symbolizer_t *s, const hg_sym_module_t *m, const char *image) {
    if (!m->pdb_name || !m->pdb_name[0]) {
        return NULL;
    }
    const char *name = hg__sym_file_part(m->pdb_name);
    char key[41], *next_to_image = beside(image, name);
    const char *local[3] = {NULL, NULL, NULL};
    size_t n = 0;
    hg_sympath_pdb_key(m->pdb_guid, m->pdb_age, key);
    if (is_absolute(m->pdb_name)) {
        local[n++] = m->pdb_name;
    }
    if (next_to_image) {
        local[n++] = next_to_image;
    }
    hg_sympath_t *sp = hg__sym_path(s);
    finder_t f = {s, m, NULL};
    hg_symfile_t file = {name, key, local};
    hg_symfile_cb_t cb = {accept_pdb, finder_warning, &f};
    char *pdb = sp && hg_sympath_find(sp, &file, &cb) == 0 ? f.found : NULL;
    char *dir = pdb ? dir_of(pdb) : NULL;
    hg_free(pdb);
    hg_free(next_to_image);
    return dir;
}

/* ---- the DbgHelp session ------------------------------------------------------------------ */

static void look_up_inline_functions(void) {
    if (g_inline.looked_up) {
        return;
    }
    g_inline.looked_up = true;
    HMODULE dll = GetModuleHandleA("dbghelp.dll");
    if (!dll) {
        return;
    }
    /* the casts go through FARPROC, the type GetProcAddress returns for every function */
    g_inline.include =
        (include_inline_fn)(void (*)(void))GetProcAddress(dll, "SymAddrIncludeInlineTrace");
    g_inline.query = (query_inline_fn)(void (*)(void))GetProcAddress(dll, "SymQueryInlineTrace");
    g_inline.from_context =
        (from_inline_fn)(void (*)(void))GetProcAddress(dll, "SymFromInlineContext");
    g_inline.line_context =
        (line_inline_fn)(void (*)(void))GetProcAddress(dll, "SymGetLineFromInlineContext");
}

static DWORD session_options(const hg_symbolizer_t *s) {
    DWORD opt = SYMOPT_LOAD_LINES | SYMOPT_DEFERRED_LOADS | SYMOPT_FAIL_CRITICAL_ERRORS |
                SYMOPT_NO_PROMPTS | SYMOPT_IGNORE_NT_SYMPATH;
    return hg__sym_options(s)->demangle ? opt | SYMOPT_UNDNAME : opt;
}

/* Starts h's session with search_path and loads the image; false (warned) when it fails. */
static bool start_session(hg_symbolizer_t *s, dh_module_t *h, const hg_sym_module_t *m,
                          const char *search_path) {
    SymSetOptions(session_options(s));
    look_up_inline_functions();
    if (!SymInitialize(h->process, search_path, FALSE)) {
        hg__sym_warn(s, "DbgHelp cannot start a session for %s: error %lu", h->image,
                     (unsigned long)GetLastError());
        return false;
    }
    DWORD size = m->size <= UINT32_MAX ? (DWORD)m->size : 0;
    if (SymLoadModuleEx(h->process, NULL, h->image, NULL, h->base, size, NULL, 0) == 0) {
        hg__sym_warn(s, "DbgHelp cannot load %s at 0x%llx: error %lu", h->image,
                     (unsigned long long)h->base, (unsigned long)GetLastError());
        SymCleanup(h->process);
        return false;
    }
    return true;
}

static void *dh_open(hg_symbolizer_t *s, const hg_sym_module_t *m) {
    char *image = find_image(s, m);
    dh_module_t *h = image ? hg_calloc(1, sizeof *h) : NULL;
    if (!h || strlen(image) >= sizeof h->image) {
        hg_free(image);
        hg_free(h);
        return NULL;
    }
    memcpy(h->image, image, strlen(image) + 1);
    hg_free(image);
    h->process = (HANDLE)h;
    h->base = m->base;
    char *pdb_dir = find_pdb_dir(s, m, h->image);
    AcquireSRWLockExclusive(&g_lock);
    bool ok = start_session(s, h, m, pdb_dir ? pdb_dir : hg__sym_options(s)->symbol_path);
    ReleaseSRWLockExclusive(&g_lock);
    hg_free(pdb_dir);
    if (!ok) {
        hg_free(h);
        return NULL;
    }
    return h;
}

/* ---- lookups --------------------------------------------------------------------------------- */

static void sym_buffer_init(sym_buffer_t *b) {
    memset(&b->info, 0, sizeof b->info);
    b->info.SizeOfStruct = sizeof b->info;
    b->info.MaxNameLen = NAME_MAX_CHARS;
}

/* Fills f's function and line from what DbgHelp answered; false when it answered neither. */
static bool fill_frame(hg_symbolizer_t *s, hg_sym_frame_t *f, BOOL named, const sym_buffer_t *sym,
                       BOOL lined, const IMAGEHLP_LINE64 *line) {
    memset(f, 0, sizeof *f);
    if (named && sym->info.NameLen > 0) {
        f->function = hg__sym_intern(s, sym->info.Name);
    }
    if (lined && line->FileName && line->FileName[0]) {
        f->file = hg__sym_intern(s, line->FileName);
        f->line = line->LineNumber;
    }
    return f->function || f->file;
}

/* The frame of inline context ctx at addr. */
static bool inline_frame(hg_symbolizer_t *s, dh_module_t *h, DWORD64 addr, ULONG ctx,
                         hg_sym_frame_t *f) {
    sym_buffer_t sym;
    IMAGEHLP_LINE64 line = {.SizeOfStruct = sizeof line};
    DWORD64 disp = 0;
    DWORD disp32 = 0;
    sym_buffer_init(&sym);
    BOOL named = g_inline.from_context(h->process, addr, ctx, &disp, &sym.info);
    BOOL lined = g_inline.line_context(h->process, addr, ctx, 0, &disp32, &line);
    bool known = fill_frame(s, f, named, &sym, lined, &line);
    f->inlined = true;
    return known;
}

/* The inline frames at addr, innermost first, at most max (the innermost ones, as the PDB
 * backend and the symbolizer keep them). How many were written. */
static size_t inline_frames(hg_symbolizer_t *s, dh_module_t *h, DWORD64 addr, hg_sym_frame_t *out,
                            size_t max) {
    if (!g_inline.include || !g_inline.query || !g_inline.from_context || !g_inline.line_context) {
        return 0;
    }
    DWORD count = g_inline.include(h->process, addr), ctx = 0, index = 0;
    if (count == 0 || !g_inline.query(h->process, addr, 0, addr, addr, &ctx, &index)) {
        return 0;
    }
    DWORD limit = max < INLINE_MAX ? (DWORD)max : INLINE_MAX;
    size_t n = 0;
    for (DWORD i = 0; i < count && i < limit; i++) {
        n += inline_frame(s, h, addr, ctx + i, &out[n]);
    }
    return n;
}

static bool outer_frame(hg_symbolizer_t *s, dh_module_t *h, DWORD64 addr, hg_sym_frame_t *f) {
    sym_buffer_t sym;
    IMAGEHLP_LINE64 line = {.SizeOfStruct = sizeof line};
    DWORD64 disp = 0;
    DWORD disp32 = 0;
    sym_buffer_init(&sym);
    BOOL named = SymFromAddr(h->process, addr, &disp, &sym.info);
    BOOL lined = SymGetLineFromAddr64(h->process, addr, &disp32, &line);
    return fill_frame(s, f, named, &sym, lined, &line);
}

/* After the first lookup loaded the module (loads are deferred): whether DbgHelp found debug
 * information; warns once when it found none. */
static bool has_debug_info(hg_symbolizer_t *s, dh_module_t *h) {
    if (!h->type_checked) {
        IMAGEHLP_MODULE64 info;
        memset(&info, 0, sizeof info);
        info.SizeOfStruct = sizeof info;
        h->type_checked = true;
        h->no_debug_info = !SymGetModuleInfo64(h->process, h->base, &info) ||
                           info.SymType == SymNone || info.SymType == SymExport;
        if (h->no_debug_info) {
            hg__sym_warn(s, "DbgHelp found no debug information for %s", h->image);
        }
    }
    return !h->no_debug_info;
}

static size_t dh_lookup(hg_symbolizer_t *s, void *handle, uint64_t rva, hg_sym_frame_t *out,
                        size_t max) {
    dh_module_t *h = handle;
    DWORD64 addr = h->base + rva;
    AcquireSRWLockExclusive(&g_lock);
    size_t n = max > 1 ? inline_frames(s, h, addr, out, max - 1) : 0;
    n += outer_frame(s, h, addr, &out[n]);
    if (!has_debug_info(s, h)) {
        n = 0;
    }
    ReleaseSRWLockExclusive(&g_lock);
    return n;
}

static void dh_close(void *handle) {
    dh_module_t *h = handle;
    AcquireSRWLockExclusive(&g_lock);
    SymUnloadModule64(h->process, h->base);
    SymCleanup(h->process);
    ReleaseSRWLockExclusive(&g_lock);
    hg_free(h);
}

const hg__sym_backend_t hg__sym_backend_dbghelp = {"dbghelp", dh_open, dh_lookup, dh_close};
