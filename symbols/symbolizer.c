/* symbolizer.c - the module map and the resolution cache behind symbols.h.
 *
 * Each address space (a process) has a JudyL keyed by module base; an address finds its module
 * with JudyLLast (the greatest base <= address), then the list at that base is searched for the
 * load that was current at the requested time (a base can be reused after an unload). Modules
 * open their debug information lazily, on the first address resolved in them, by asking each
 * backend in turn. Results are cached per (space, address); strings are interned in a JudyHS
 * pool so frames can point at them until hg_sym_close. Backends share the symbol path, parsed
 * once on first use (sympath.h), and report damaged debug files through hg__sym_warn, which
 * counts them and passes them to the on_warning option. */
#include "backend.h"
#include "sympath.h"

#include <Judy.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNLOADED_NEVER   UINT64_MAX
#define CACHE_FRAMES_MAX 16

typedef struct sym_module {
    struct sym_module *older; /* an earlier module at the same base */
    hg_sym_module_t info;     /* strings point into owned copies below */
    char *path_copy, *pdb_copy;
    uint8_t *build_id_copy;
    const char *file_name; /* interned basename of path */
    uint64_t unload_ts_ns;
    bool opened;
    const hg__sym_backend_t *backend;
    void *handle;
} sym_module_t;

typedef struct cached {
    uint32_t nframes;
    hg_sym_frame_t frames[];
} cached_t;

typedef struct space {
    Pvoid_t modules; /* base -> sym_module_t* (newest first) */
    Pvoid_t cache;   /* addr -> cached_t* */
} space_t;

struct hg_symbolizer {
    hg_sym_options_t opt;
    char *symbol_path;
    hg_sympath_t *sympath; /* parsed on first use */
    bool sympath_parsed;
    Pvoid_t spaces;  /* space id -> space_t* */
    Pvoid_t strings; /* JudyHS: string -> interned copy */
    char **owned;    /* interned copies, freed at close */
    size_t nowned, capowned;
    hg_sym_stats_t stats;
};

void hg_sym_options_init(hg_sym_options_t *opt) {
    memset(opt, 0, sizeof *opt);
    opt->demangle = true;
}

/* The table's own copy of a backend's name, or NULL when the build has no such backend. */
static const char *backend_name(const char *name) {
    for (size_t i = 0; hg__sym_backend_table[i]; i++) {
        if (strcmp(hg__sym_backend_table[i]->name, name) == 0) {
            return hg__sym_backend_table[i]->name;
        }
    }
    return NULL;
}

hg_symbolizer_t *hg_sym_open(const hg_sym_options_t *opt, hg_error_t *err) {
    hg_symbolizer_t *s = hg_calloc(1, sizeof *s);
    if (!s) {
        hg_error_set(err, HG_ENOMEM, "symbolizer: out of memory");
        return NULL;
    }
    if (opt) {
        s->opt = *opt;
    } else {
        hg_sym_options_init(&s->opt);
    }
    const char *path = s->opt.symbol_path ? s->opt.symbol_path : getenv("_NT_SYMBOL_PATH");
    s->symbol_path = hg_strdup(path ? path : "");
    if (!s->symbol_path) {
        hg_free(s);
        hg_error_set(err, HG_ENOMEM, "symbolizer: out of memory");
        return NULL;
    }
    s->opt.symbol_path = s->symbol_path;
    if (s->opt.backend && !(s->opt.backend = backend_name(s->opt.backend))) {
        const char *names = hg_sym_backends();
        int len = (int)strlen(names);
        len -= len > 0 && names[len - 1] == ' ';
        hg_error_set(err, HG_EUSAGE, "symbolizer: no backend '%s' in this build (it has: %.*s)",
                     opt->backend, len, names);
        hg_free(s->symbol_path);
        hg_free(s);
        return NULL;
    }
    return s;
}

const hg_sym_options_t *hg__sym_options(const hg_symbolizer_t *s) {
    return &s->opt;
}

void hg__sym_warn(hg_symbolizer_t *s, const char *fmt, ...) {
    s->stats.warnings++;
    if (s->opt.on_warning) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        s->opt.on_warning(s->opt.warning_ctx, msg);
    }
}

static void path_warning(void *ctx, const char *msg) {
    hg__sym_warn(ctx, "%s", msg);
}

hg_sympath_t *hg__sym_path(hg_symbolizer_t *s) {
    if (!s->sympath_parsed) {
        s->sympath_parsed = true;
        s->sympath = hg_sympath_parse(s->symbol_path, path_warning, s);
    }
    return s->sympath;
}

const char *hg__sym_intern(hg_symbolizer_t *s, const char *str) {
    if (!str) {
        return NULL;
    }
    size_t len = strlen(str);
    PWord_t slot = (PWord_t)JudyHSGet(s->strings, (void *)str, len);
    if (slot) {
        return (const char *)*slot;
    }
    if (s->nowned == s->capowned) {
        size_t cap = s->capowned ? s->capowned * 2 : 256;
        char **grown = hg_realloc(s->owned, cap * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        s->owned = grown;
        s->capowned = cap;
    }
    char *copy = hg_strndup(str, len);
    if (!copy) {
        return NULL;
    }
    slot = (PWord_t)JudyHSIns(&s->strings, copy, len, PJE0);
    if (slot == PJERR) {
        hg_free(copy);
        return NULL;
    }
    *slot = (Word_t)copy;
    s->owned[s->nowned++] = copy;
    return copy;
}

static space_t *get_space(hg_symbolizer_t *s, uint32_t id, bool create) {
    PWord_t slot = (PWord_t)JudyLGet(s->spaces, id, PJE0);
    if (slot) {
        return (space_t *)*slot;
    }
    if (!create) {
        return NULL;
    }
    space_t *sp = hg_calloc(1, sizeof *sp);
    if (!sp) {
        return NULL;
    }
    slot = (PWord_t)JudyLIns(&s->spaces, id, PJE0);
    if (slot == PJERR) {
        hg_free(sp);
        return NULL;
    }
    *slot = (Word_t)sp;
    return sp;
}

const char *hg__sym_file_part(const char *path) {
    const char *name = path;
    for (const char *p = path; *p; p++) {
        if (*p == '/' || *p == '\\') {
            name = p + 1;
        }
    }
    return name;
}

static void module_free(sym_module_t *m) {
    if (m->handle && m->backend) {
        m->backend->close(m->handle);
    }
    hg_free(m->path_copy);
    hg_free(m->pdb_copy);
    hg_free(m->build_id_copy);
    hg_free(m);
}

static int module_copy_info(sym_module_t *m, const hg_sym_module_t *in) {
    m->info = *in;
    m->path_copy = hg_strdup(in->path ? in->path : "");
    m->pdb_copy = in->pdb_name ? hg_strdup(in->pdb_name) : NULL;
    if (in->build_id && in->build_id_len) {
        m->build_id_copy = hg_malloc(in->build_id_len);
        if (m->build_id_copy) {
            memcpy(m->build_id_copy, in->build_id, in->build_id_len);
        }
    }
    if (!m->path_copy || (in->pdb_name && !m->pdb_copy) ||
        (in->build_id_len && !m->build_id_copy)) {
        return HG_ENOMEM;
    }
    m->info.path = m->path_copy;
    m->info.pdb_name = m->pdb_copy;
    m->info.build_id = m->build_id_copy;
    return 0;
}

int hg_sym_add_module(hg_symbolizer_t *s, uint32_t space, const hg_sym_module_t *in) {
    space_t *sp = get_space(s, space, true);
    sym_module_t *m = sp ? hg_calloc(1, sizeof *m) : NULL;
    if (!m) {
        return HG_ENOMEM;
    }
    if (module_copy_info(m, in) != 0 ||
        !(m->file_name = hg__sym_intern(s, hg__sym_file_part(m->path_copy)))) {
        module_free(m);
        return HG_ENOMEM;
    }
    m->unload_ts_ns = UNLOADED_NEVER;
    PWord_t slot = (PWord_t)JudyLIns(&sp->modules, in->base, PJE0);
    if (slot == PJERR) {
        module_free(m);
        return HG_ENOMEM;
    }
    m->older = (sym_module_t *)*slot;
    *slot = (Word_t)m;
    s->stats.modules++;
    return 0;
}

int hg_sym_unload_module(hg_symbolizer_t *s, uint32_t space, uint64_t base, uint64_t ts_ns) {
    space_t *sp = get_space(s, space, false);
    PWord_t slot = sp ? (PWord_t)JudyLGet(sp->modules, base, PJE0) : NULL;
    if (slot) {
        sym_module_t *m = (sym_module_t *)*slot;
        if (m->unload_ts_ns == UNLOADED_NEVER) {
            m->unload_ts_ns = ts_ns;
        }
    }
    return 0;
}

/* The module covering addr at ts_ns: the newest load at the greatest base <= addr whose life
 * includes ts_ns (or, failing that, the newest one covering addr at all). */
static sym_module_t *find_module(space_t *sp, uint64_t addr, uint64_t ts_ns) {
    Word_t base = addr;
    PWord_t slot = (PWord_t)JudyLLast(sp->modules, &base, PJE0);
    if (!slot) {
        return NULL;
    }
    sym_module_t *fallback = NULL;
    for (sym_module_t *m = (sym_module_t *)*slot; m; m = m->older) {
        if (addr - m->info.base >= m->info.size) {
            continue;
        }
        if (ts_ns >= m->info.load_ts_ns && ts_ns < m->unload_ts_ns) {
            return m;
        }
        if (!fallback) {
            fallback = m;
        }
    }
    return fallback;
}

static void module_open(hg_symbolizer_t *s, sym_module_t *m) {
    m->opened = true;
    if (s->opt.no_debug_files) {
        return;
    }
    for (size_t i = 0; hg__sym_backend_table[i]; i++) {
        if (s->opt.backend && s->opt.backend != hg__sym_backend_table[i]->name) {
            continue;
        }
        void *h = hg__sym_backend_table[i]->open(s, &m->info);
        if (h) {
            m->backend = hg__sym_backend_table[i];
            m->handle = h;
            s->stats.modules_with_symbols++;
            return;
        }
    }
}

static size_t resolve_uncached(hg_symbolizer_t *s, space_t *sp, uint64_t addr, uint64_t ts_ns,
                               hg_sym_frame_t *out, size_t max) {
    sym_module_t *m = sp ? find_module(sp, addr, ts_ns) : NULL;
    memset(out, 0, sizeof *out);
    out->offset = addr;
    if (!m) {
        s->stats.unresolved++;
        return 1;
    }
    if (!m->opened) {
        module_open(s, m);
    }
    uint64_t rva = addr - m->info.base;
    size_t n = m->handle ? m->backend->lookup(s, m->handle, rva, out, max) : 0;
    if (n == 0) {
        memset(out, 0, sizeof *out);
        n = 1;
        s->stats.unresolved++;
    }
    for (size_t i = 0; i < n; i++) {
        out[i].module = m->file_name;
        out[i].offset = rva;
    }
    return n;
}

static void cache_store(space_t *sp, uint64_t addr, const hg_sym_frame_t *frames, size_t n) {
    if (n > CACHE_FRAMES_MAX) {
        n = CACHE_FRAMES_MAX;
    }
    cached_t *c = hg_malloc(sizeof *c + n * sizeof c->frames[0]);
    if (!c) {
        return; /* not cached: resolved again next time */
    }
    c->nframes = (uint32_t)n;
    memcpy(c->frames, frames, n * sizeof c->frames[0]);
    PWord_t slot = (PWord_t)JudyLIns(&sp->cache, addr, PJE0);
    if (slot == PJERR) {
        hg_free(c);
        return;
    }
    *slot = (Word_t)c;
}

/* Replaces what the cache holds for addr with the one frame f. */
static int cache_set(space_t *sp, uint64_t addr, const hg_sym_frame_t *f) {
    cached_t *c = hg_malloc(sizeof *c + sizeof c->frames[0]);
    PWord_t slot = c ? (PWord_t)JudyLIns(&sp->cache, addr, PJE0) : NULL;
    if (!slot || slot == PJERR) {
        hg_free(c);
        return HG_ENOMEM;
    }
    hg_free((void *)*slot);
    c->nframes = 1;
    c->frames[0] = *f;
    *slot = (Word_t)c;
    return 0;
}

int hg_sym_add_symbol(hg_symbolizer_t *s, uint32_t space, uint64_t addr, const char *module,
                      const char *function) {
    space_t *sp = get_space(s, space, true);
    hg_sym_frame_t f = {0};
    f.module = module ? hg__sym_intern(s, hg__sym_file_part(module)) : NULL;
    f.function = function ? hg__sym_intern(s, function) : NULL;
    if (!sp || (module && !f.module) || (function && !f.function)) {
        return HG_ENOMEM;
    }
    const sym_module_t *m = find_module(sp, addr, 0); /* when registered already */
    f.offset = m ? addr - m->info.base : 0;
    int rc = cache_set(sp, addr, &f);
    return rc == 0 && addr > 0 ? cache_set(sp, addr - 1, &f) : rc;
}

/* Copies n frames to out, at most max: when cut, the innermost max-1 and the outermost (the
 * function the address is in), as the backends keep them. */
static size_t copy_kept(hg_sym_frame_t *out, const hg_sym_frame_t *f, size_t n, size_t max) {
    if (n <= max) {
        memcpy(out, f, n * sizeof *out);
        return n;
    }
    memcpy(out, f, (max - 1) * sizeof *out);
    out[max - 1] = f[n - 1];
    return max;
}

size_t hg_sym_resolve(hg_symbolizer_t *s, uint32_t space, uint64_t addr, uint64_t ts_ns,
                      hg_sym_frame_t *out, size_t max) {
    if (max == 0) {
        return 0;
    }
    s->stats.lookups++;
    space_t *sp = get_space(s, space, true);
    PWord_t slot = sp ? (PWord_t)JudyLGet(sp->cache, addr, PJE0) : NULL;
    if (slot) {
        const cached_t *c = (const cached_t *)*slot;
        s->stats.cache_hits++;
        return copy_kept(out, c->frames, c->nframes, max);
    }
    hg_sym_frame_t frames[CACHE_FRAMES_MAX];
    size_t n = resolve_uncached(s, sp, addr, ts_ns, frames, CACHE_FRAMES_MAX);
    if (sp) {
        cache_store(sp, addr, frames, n);
    }
    return copy_kept(out, frames, n, max);
}

hg_sym_stats_t hg_sym_stats(const hg_symbolizer_t *s) {
    return s->stats;
}

static void space_free(space_t *sp) {
    Word_t key = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(sp->modules, &key, PJE0); v;
         v = (PWord_t)JudyLNext(sp->modules, &key, PJE0)) {
        for (sym_module_t *m = (sym_module_t *)*v, *older; m; m = older) {
            older = m->older;
            module_free(m);
        }
    }
    key = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(sp->cache, &key, PJE0); v;
         v = (PWord_t)JudyLNext(sp->cache, &key, PJE0)) {
        hg_free((void *)*v);
    }
    JudyLFreeArray(&sp->modules, PJE0);
    JudyLFreeArray(&sp->cache, PJE0);
    hg_free(sp);
}

void hg_sym_close(hg_symbolizer_t *s) {
    if (!s) {
        return;
    }
    Word_t key = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(s->spaces, &key, PJE0); v;
         v = (PWord_t)JudyLNext(s->spaces, &key, PJE0)) {
        space_free((space_t *)*v);
    }
    JudyLFreeArray(&s->spaces, PJE0);
    JudyHSFreeArray(&s->strings, PJE0);
    for (size_t i = 0; i < s->nowned; i++) {
        hg_free(s->owned[i]);
    }
    hg_free(s->owned);
    hg_sympath_free(s->sympath);
    hg_free(s->symbol_path);
    hg_free(s);
}
