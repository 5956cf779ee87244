/* backend.h - private to symbols/: what a symbolization backend provides, and the services the
 * symbolizer offers backends (string interning, the parsed symbol path). */
#ifndef HG_SYMBOLS_BACKEND_H
#define HG_SYMBOLS_BACKEND_H

#include "symbols.h"

typedef struct hg__sym_backend {
    const char *name;
    /* Opens m's debug information. Returns a handle, or NULL when this backend cannot serve m
     * (not an error: the next backend is tried, finally module+offset). */
    void *(*open)(hg_symbolizer_t *s, const hg_sym_module_t *m);
    /* Resolves rva (address - module base) into at most max frames, innermost first; strings
     * must come from hg__sym_intern. Returns the count written, 0 when it knows nothing. */
    size_t (*lookup)(hg_symbolizer_t *s, void *handle, uint64_t rva, hg_sym_frame_t *out,
                     size_t max);
    void (*close)(void *handle);
} hg__sym_backend_t;

/* A copy of str that lives until hg_sym_close (deduplicated); NULL for NULL or no memory. */
const char *hg__sym_intern(hg_symbolizer_t *s, const char *str);
/* The file name part of path: after its last '/' or '\\' (Windows paths in traces). */
const char *hg__sym_file_part(const char *path);
const hg_sym_options_t *hg__sym_options(const hg_symbolizer_t *s);
/* Counts a warning about debug information and hands it to the on_warning option. */
void hg__sym_warn(hg_symbolizer_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The symbol path, parsed on first use (sympath.h); NULL when out of memory. */
struct hg_sympath *hg__sym_path(hg_symbolizer_t *s);

/* The backends this build has (CMake lists them in HG_SYM_BACKEND_LIST), NULL-terminated. */
extern const hg__sym_backend_t *const hg__sym_backend_table[];

#endif
