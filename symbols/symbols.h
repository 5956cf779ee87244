/* symbols.h - the symbolization contract: a module map per address space and backends that
 * turn (module, offset) into function, file and line.
 *
 * Open a symbolizer with a symbol path; register the modules a trace recorded (base, size,
 * path, identity: ELF build-id or PDB name+GUID+age); resolve addresses. Each address resolves
 * to one or more frames, innermost inline frame first. An address no backend can name comes
 * back as module+offset (or bare, when no module covers it): never an error. Every distinct
 * (address space, address) is resolved once and cached.
 *
 * Backends live in their own files and are chosen by the build: ELF/DWARF (libdw), PDB (own
 * reader), DbgHelp (Windows). Nothing here runs another program. */
#ifndef HG_SYMBOLS_H
#define HG_SYMBOLS_H

#include "base.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct hg_symbolizer hg_symbolizer_t;

/* A module as a trace recorded it. Strings and bytes belong to the caller and are copied. */
typedef struct hg_sym_module {
    uint64_t base, size;
    const char *path;        /* as recorded (may be a Windows path) */
    const uint8_t *build_id; /* ELF NT_GNU_BUILD_ID; NULL when unknown */
    uint32_t build_id_len;
    const char *pdb_name; /* CodeView RSDS PDB name; NULL when unknown */
    uint8_t pdb_guid[16]; /* GUID, Windows in-memory byte order */
    uint32_t pdb_age;
    uint32_t pe_timestamp; /* PE TimeDateStamp; 0 when unknown */
    uint64_t load_ts_ns;   /* when it was loaded (0: before the trace) */
} hg_sym_module_t;

/* One resolved frame. Strings are owned by the symbolizer and live until hg_sym_close. */
typedef struct hg_sym_frame {
    const char *module;   /* module file name without directory; NULL when none covers addr */
    uint64_t offset;      /* addr - module base (the address itself when module is NULL) */
    const char *function; /* NULL when unknown */
    const char *file;     /* NULL when unknown */
    uint32_t line, column;
    bool inlined; /* inlined into the next (outer) frame */
} hg_sym_frame_t;

typedef struct hg_sym_options {
    /* Where to look for debug files: ';'-separated entries in _NT_SYMBOL_PATH syntax (plain
     * directories, srv*CACHE*STORE, cache*DIR). NULL: $_NT_SYMBOL_PATH, else none. */
    const char *symbol_path;
    bool demangle;       /* C++ names demangled (default true) */
    bool no_debug_files; /* module+offset only: do not open any file */
    /* Receives each warning about debug information (a damaged debug file, a symbol server
     * that failed), after it was counted in hg_sym_stats; NULL: counted only. */
    void (*on_warning)(void *ctx, const char *msg);
    void *warning_ctx;
} hg_sym_options_t;

void hg_sym_options_init(hg_sym_options_t *opt);

/* A new symbolizer or NULL (out of memory, err set). opt may be NULL. */
hg_symbolizer_t *hg_sym_open(const hg_sym_options_t *opt, hg_error_t *err);
void hg_sym_close(hg_symbolizer_t *s);

/* Registers module m in address space `space` (a process index chosen by the caller).
 * Returns 0 or HG_ENOMEM. */
int hg_sym_add_module(hg_symbolizer_t *s, uint32_t space, const hg_sym_module_t *m);
/* The module loaded at base in space is unloaded from ts_ns on. */
int hg_sym_unload_module(hg_symbolizer_t *s, uint32_t space, uint64_t base, uint64_t ts_ns);

/* Names the return address addr in space as the trace itself did (xperf dumps made with
 * -symbols): resolving addr, or addr - 1 (the call site), then gives module!function without
 * asking any backend. module is an image name or path (its file name is kept); function may be
 * NULL (unresolved). Returns 0 or HG_ENOMEM. */
int hg_sym_add_symbol(hg_symbolizer_t *s, uint32_t space, uint64_t addr, const char *module,
                      const char *function);

/* Resolves addr as seen in space at time ts_ns into at most max frames (innermost first);
 * returns how many were written (at least 1 when max >= 1). */
size_t hg_sym_resolve(hg_symbolizer_t *s, uint32_t space, uint64_t addr, uint64_t ts_ns,
                      hg_sym_frame_t *out, size_t max);

/* Names of the backends this build has, e.g. "dwarf pdb" (empty when none). */
const char *hg_sym_backends(void);

typedef struct hg_sym_stats {
    uint64_t lookups, cache_hits, modules, modules_with_symbols, unresolved;
    uint64_t warnings; /* damaged debug files, failed downloads, ... (see on_warning) */
} hg_sym_stats_t;
hg_sym_stats_t hg_sym_stats(const hg_symbolizer_t *s);

#endif
