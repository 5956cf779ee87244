/* sympath.h - the symbol path (_NT_SYMBOL_PATH syntax) and the search for one debug file in it,
 * private to symbols/.
 *
 * A symbol path is a ';'-separated list of elements:
 *   DIR                  a plain directory: DIR/NAME, then DIR as a symbol store
 *   srv*STORE            a symbol store used in place (a directory), or an HTTP(S) server whose
 *                        files are downloaded into the cache (cache*DIR before it, else the
 *                        default cache)
 *   srv*CACHE*...*STORE  downstream stores (directories, searched first) before the upstream
 *                        STORE; a file found further up is copied into every store before it
 *   srv**STORE           an empty downstream store is the default cache
 *   symsrv*DLL*...       as srv*... (the DLL name is ignored)
 *   cache*DIR, cache*    DIR (or the default cache) is searched as a store and becomes the
 *                        cache of the srv* elements after it that name none
 *   http(s)://URL        as srv*URL
 * A store holds NAME/KEY/NAME (two-tier NA/NAME/KEY/NAME when it has index2.txt), KEY being
 * the file's index (for a PDB: GUID and age, hg_sympath_pdb_key). Sources: Microsoft's "Symbol
 * path syntax", "Advanced SymSrv Use" and "Symbol Store Folder Tree" pages; PerfView's
 * SymbolPath.cs (srv* parsing, a default cache for servers named without one, local places
 * searched before servers) and SymbolReader.cs (the key); docs/pdb-reader.md.
 *
 * The search knows nothing about debug formats: it offers candidate files to the caller's
 * accept callback, which says whether one is the file wanted. Every local place comes first,
 * in path order; servers are asked only when no local file was accepted, each file is
 * downloaded once into a cache, and a server that cannot be reached is not asked again by
 * this path. The code uses C and libcurl only, plus the few calls of sympath_posix.c, so a
 * Windows build (the DbgHelp backend) can reuse it with a sympath_win.c. */
#ifndef HG_SYMBOLS_SYMPATH_H
#define HG_SYMBOLS_SYMPATH_H

#include "base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hg_sympath hg_sympath_t;

/* Receives a warning (an element that cannot be used, a download that failed). */
typedef void (*hg_sympath_warn_fn)(void *ctx, const char *msg);

/* Parses text (NULL or "" give an empty path). Elements that cannot be used are skipped with a
 * warning. Returns NULL only when out of memory. */
hg_sympath_t *hg_sympath_parse(const char *text, hg_sympath_warn_fn warn, void *ctx);
void hg_sympath_free(hg_sympath_t *p);

/* How many elements were kept, and a description of element i ("dir /x", "cache /c",
 * "srv /c -> http://h/s"); for tests and messages. NULL when i is out of range. */
size_t hg_sympath_count(const hg_sympath_t *p);
const char *hg_sympath_describe(const hg_sympath_t *p, size_t i);

/* The file looked for. */
typedef struct hg_symfile {
    const char *name;         /* as stores index it, without directories: "app.pdb" */
    const char *key;          /* the store key (hg_sympath_pdb_key) */
    const char *const *local; /* exact paths tried first (NULL-terminated list; may be NULL) */
} hg_symfile_t;

typedef struct hg_symfile_cb {
    /* True when the file at path is the one wanted (the caller may keep it open). */
    bool (*accept)(void *ctx, const char *path);
    hg_sympath_warn_fn warn;
    void *ctx;
} hg_symfile_cb_t;

/* Searches for f. Returns 0 when accept took a file, 1 when none was found, HG_ENOMEM. */
int hg_sympath_find(hg_sympath_t *p, const hg_symfile_t *f, const hg_symfile_cb_t *cb);

/* The local path of the first candidate for f that exists (a download from a server lands in
 * its cache first), without looking inside it: for a backend, such as DbgHelp's, that checks
 * the file itself. Returns an hg_malloc'd path, or NULL when none was found or out of memory
 * (*rc says which: 1 or HG_ENOMEM; 0 with a path). */
char *hg_sympath_locate(hg_sympath_t *p, const hg_symfile_t *f, hg_sympath_warn_fn warn, void *ctx,
                        int *rc);

/* The store key of a PDB: the GUID (Windows in-memory byte order) as 32 upper-case hex digits,
 * Data1, Data2, Data3 as numbers then the 8 bytes of Data4, followed by the age in upper-case
 * hex without leading zeros (PerfView SymbolReader.cs: Guid.ToString("N") + age "x"). */
void hg_sympath_pdb_key(const uint8_t guid[16], uint32_t age, char key[41]);

/* ---- platform calls (sympath_posix.c) ---------------------------------------------------- */

/* True when path names a regular file. */
bool hg__sym_is_file(const char *path);
/* Creates dir and its missing parents. Returns 0 or HG_EIO. */
int hg__sym_mkdirs(const char *dir);
/* The default cache directory (hg_malloc'd; NULL when none can be named). */
char *hg__sym_default_cache(void);
/* A suffix for temporary files that no other process or call uses at the same time. */
void hg__sym_temp_suffix(char *buf, size_t cap);

/* ---- downloads (symsrv.c) ---------------------------------------------------------------- */

/* Downloads server/NAME/KEY/NAME into dest (through a temporary file in dest's directory, so
 * dest appears whole or not at all). Returns 0, 1 when the server does not have it (HTTP 404
 * or 410), HG_EIO when it could not be asked or answered otherwise (msg says why), HG_ENOMEM.
 * unreachable is set when the server itself could not be reached. */
int hg__symsrv_download(const char *server, const char *name, const char *key, const char *dest,
                        bool *unreachable, char *msg, size_t cap);

#endif
