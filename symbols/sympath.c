/* sympath.c - the symbol path: parsing _NT_SYMBOL_PATH syntax and searching it (sympath.h).
 *
 * Parsing turns each element into a directory, a cache or a chain of stores (srv*); cache* sets
 * the cache of the srv* elements after it. The search offers files to the caller in two passes:
 * first everything on this machine (the exact paths given, plain directories, caches, every
 * directory store of every srv* chain: a file found upstream of a downstream store is copied
 * into it), then the HTTP(S) servers, each download going into the chain's first store or its
 * cache (PerfView searches local places first too: SymbolPath.CacheFirst). Files are copied and
 * downloaded through a temporary name and renamed, so a store never holds half a file. */
#include "sympath.h"

#include <stdio.h>
#include <string.h>

typedef enum { EL_DIR, EL_CACHE, EL_SRV } kind_t;

typedef struct element {
    kind_t kind;
    char **stores; /* EL_DIR, EL_CACHE: the directory; EL_SRV: downstream first, upstream last */
    size_t nstores;
    char *server_cache; /* EL_SRV with only a server: where its downloads go */
    char *desc;
    bool dead; /* its server could not be reached: not asked again */
} element_t;

struct hg_sympath {
    element_t *els;
    size_t n, cap;
    char *cache; /* the cache*DIR in effect while parsing */
    hg_sympath_warn_fn warn;
    void *ctx;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static bool has_prefix_nocase(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        if (c != *prefix) {
            return false;
        }
    }
    return true;
}

static bool is_url(const char *s) {
    return has_prefix_nocase(s, "http://") || has_prefix_nocase(s, "https://");
}

/* A copy of [s, s + n) without leading and trailing blanks. */
static char *trimmed(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        n--;
    }
    return hg_strndup(s, n);
}

static void warnf(const hg_sympath_t *p, const char *fmt, const char *arg) {
    if (p->warn) {
        char msg[600];
        snprintf(msg, sizeof msg, fmt, arg);
        p->warn(p->ctx, msg);
    }
}

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        hg_free(v[i]);
    }
    hg_free(v);
}

/* Splits s at sep into trimmed copies (empty parts kept). NULL when out of memory. */
static char **split(const char *s, char sep, size_t *n) {
    size_t count = 1;
    for (const char *c = s; *c; c++) {
        count += *c == sep;
    }
    char **v = hg_calloc(count, sizeof *v);
    for (size_t i = 0; v && i < count; i++) {
        const char *end = strchr(s, sep);
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (!(v[i] = trimmed(s, len))) {
            free_strings(v, i);
            return NULL;
        }
        s += len + (end != NULL);
    }
    *n = count;
    return v;
}

/* ---- parsing ---------------------------------------------------------------------------- */

static element_t *add_element(hg_sympath_t *p, kind_t kind) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        element_t *grown = hg_realloc(p->els, cap * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        p->els = grown;
        p->cap = cap;
    }
    element_t *el = &p->els[p->n++];
    memset(el, 0, sizeof *el);
    el->kind = kind;
    return el;
}

/* An element with one directory (EL_DIR, EL_CACHE); dir is taken over. */
static int add_dir(hg_sympath_t *p, kind_t kind, char *dir) {
    element_t *el = add_element(p, kind);
    char **stores = el ? hg_malloc(sizeof *stores) : NULL;
    hg_buf_t d;
    hg_buf_init(&d);
    hg_buf_printf(&d, "%s %s", kind == EL_DIR ? "dir" : "cache", dir);
    if (!stores || d.failed) {
        hg_buf_free(&d);
        hg_free(stores);
        hg_free(dir);
        p->n -= el != NULL;
        return HG_ENOMEM;
    }
    stores[0] = dir;
    el->stores = stores;
    el->nstores = 1;
    el->desc = hg_buf_take(&d);
    return 0;
}

/* The default downstream store: the cache in effect, else the default cache (NULL: none). */
static char *default_store(const hg_sympath_t *p) {
    return p->cache ? hg_strdup(p->cache) : hg__sym_default_cache();
}

static int describe_srv(element_t *el) {
    hg_buf_t d;
    hg_buf_init(&d);
    hg_buf_puts(&d, "srv");
    for (size_t i = 0; i + 1 < el->nstores; i++) {
        hg_buf_printf(&d, "%s%s", i ? "*" : " ", el->stores[i]);
    }
    if (el->server_cache) {
        hg_buf_printf(&d, " %s", el->server_cache);
    }
    hg_buf_printf(&d, " -> %s", el->stores[el->nstores - 1]);
    el->desc = d.failed ? NULL : hg_buf_take(&d);
    hg_buf_free(&d);
    return el->desc ? 0 : HG_ENOMEM;
}

/* Fills empty downstream stores and a server's cache with the default store. */
static int fill_defaults(hg_sympath_t *p, element_t *el) {
    for (size_t i = 0; i + 1 < el->nstores; i++) {
        if (!el->stores[i][0]) {
            hg_free(el->stores[i]);
            if (!(el->stores[i] = default_store(p))) {
                return HG_EUSAGE;
            }
        }
    }
    if (el->nstores == 1 && is_url(el->stores[0]) && !(el->server_cache = default_store(p))) {
        return HG_EUSAGE;
    }
    return 0;
}

static void drop_last(hg_sympath_t *p) {
    element_t *el = &p->els[--p->n];
    free_strings(el->stores, el->nstores);
    hg_free(el->server_cache);
    hg_free(el->desc);
}

/* srv*[STORE*...]STORE: chain is the text after "srv*". */
static int add_srv(hg_sympath_t *p, const char *chain, const char *text) {
    size_t n;
    char **stores = split(chain, '*', &n);
    element_t *el = stores ? add_element(p, EL_SRV) : NULL;
    if (!el) {
        free_strings(stores, stores ? n : 0);
        return HG_ENOMEM;
    }
    el->stores = stores;
    el->nstores = n;
    if (!stores[n - 1][0]) {
        drop_last(p);
        warnf(p, "symbol path: '%s' names no store: ignored", text);
        return 0;
    }
    int rc = fill_defaults(p, el);
    if (rc == 0) {
        rc = describe_srv(el);
    }
    if (rc != 0) {
        drop_last(p);
    }
    if (rc == HG_EUSAGE) {
        warnf(p,
              "symbol path: '%s' needs a cache directory and none can be named (set "
              "XDG_CACHE_HOME or HOME): ignored",
              text);
        rc = 0;
    }
    return rc;
}

static int add_cache(hg_sympath_t *p, const char *dir, const char *text) {
    char *copy = dir[0] ? hg_strdup(dir) : hg__sym_default_cache();
    if (!copy && !dir[0]) {
        warnf(p,
              "symbol path: '%s': no default cache can be named (set XDG_CACHE_HOME or "
              "HOME): ignored",
              text);
        return 0;
    }
    char *current = copy ? hg_strdup(copy) : NULL;
    if (!current) {
        hg_free(copy);
        return HG_ENOMEM;
    }
    hg_free(p->cache);
    p->cache = current;
    return add_dir(p, EL_CACHE, copy);
}

static int add_text_element(hg_sympath_t *p, const char *e) {
    if (has_prefix_nocase(e, "srv*")) {
        return add_srv(p, e + 4, e);
    }
    if (has_prefix_nocase(e, "symsrv*")) {
        const char *dll_end = strchr(e + 7, '*');
        return dll_end ? add_srv(p, dll_end + 1, e) : add_srv(p, "", e);
    }
    if (has_prefix_nocase(e, "cache*")) {
        return add_cache(p, e + 6, e);
    }
    if (is_url(e)) {
        return add_srv(p, e, e);
    }
    char *dir = hg_strdup(e);
    return dir ? add_dir(p, EL_DIR, dir) : HG_ENOMEM;
}

hg_sympath_t *hg_sympath_parse(const char *text, hg_sympath_warn_fn warn, void *ctx) {
    hg_sympath_t *p = hg_calloc(1, sizeof *p);
    size_t n = 0;
    char **parts = p ? split(text ? text : "", ';', &n) : NULL;
    int rc = parts ? 0 : HG_ENOMEM;
    if (p) {
        p->warn = warn;
        p->ctx = ctx;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = parts[i][0] ? add_text_element(p, parts[i]) : 0;
    }
    free_strings(parts, n);
    if (rc != 0) {
        hg_sympath_free(p);
        return NULL;
    }
    hg_free(p->cache);
    p->cache = NULL;
    return p;
}

void hg_sympath_free(hg_sympath_t *p) {
    if (!p) {
        return;
    }
    while (p->n) {
        drop_last(p);
    }
    hg_free(p->els);
    hg_free(p->cache);
    hg_free(p);
}

size_t hg_sympath_count(const hg_sympath_t *p) {
    return p->n;
}

const char *hg_sympath_describe(const hg_sympath_t *p, size_t i) {
    return i < p->n ? p->els[i].desc : NULL;
}

void hg_sympath_pdb_key(const uint8_t guid[16], uint32_t age, char key[41]) {
    uint32_t data1 = (uint32_t)guid[0] | (uint32_t)guid[1] << 8 | (uint32_t)guid[2] << 16 |
                     (uint32_t)guid[3] << 24;
    unsigned data2 = guid[4] | guid[5] << 8, data3 = guid[6] | guid[7] << 8;
    int n = snprintf(key, 41, "%08X%04X%04X", (unsigned)data1, data2, data3);
    for (int i = 8; i < 16; i++) {
        n += snprintf(key + n, (size_t)(41 - n), "%02X", guid[i]);
    }
    snprintf(key + n, (size_t)(41 - n), "%X", (unsigned)age);
}

/* ---- searching -------------------------------------------------------------------------- */

typedef struct search {
    hg_sympath_t *p;
    const hg_symfile_t *f;
    const hg_symfile_cb_t *cb;
    bool found;
    int rc; /* HG_ENOMEM once memory ran out */
} search_t;

static void say(const search_t *s, const char *msg) {
    if (s->cb->warn) {
        s->cb->warn(s->cb->ctx, msg);
    }
}

/* root/NAME/KEY/NAME, or root/NA/NAME/KEY/NAME in a two-tier store (root/index2.txt exists). */
static char *store_path(search_t *s, const char *root) {
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_printf(&b, "%s/index2.txt", root);
    bool two_tier = !b.failed && hg__sym_is_file(b.data);
    hg_buf_reset(&b);
    hg_buf_printf(&b, "%s/", root);
    if (two_tier) {
        hg_buf_printf(&b, "%.2s/", s->f->name);
    }
    hg_buf_printf(&b, "%s/%s/%s", s->f->name, s->f->key, s->f->name);
    char *path = b.failed ? NULL : hg_buf_take(&b);
    hg_buf_free(&b);
    if (!path) {
        s->rc = HG_ENOMEM;
    }
    return path;
}

/* Offers path to the caller when it is a file; true when it was taken. */
static bool offer(search_t *s, const char *path) {
    if (!s->found && path && hg__sym_is_file(path) && s->cb->accept(s->cb->ctx, path)) {
        s->found = true;
    }
    return s->found;
}

static bool offer_store(search_t *s, const char *root) {
    char *path = store_path(s, root);
    bool taken = offer(s, path);
    hg_free(path);
    return taken;
}

/* Creates the directories above path. */
static int make_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? hg_strndup(path, (size_t)(slash - path)) : NULL;
    int rc = dir ? hg__sym_mkdirs(dir) : HG_EIO;
    hg_free(dir);
    return rc;
}

static int copy_bytes(FILE *in, FILE *out) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            return HG_EIO;
        }
    }
    return ferror(in) ? HG_EIO : 0;
}

/* Copies src to dst through a temporary file beside dst. */
static int copy_file(const char *src, const char *dst) {
    char suffix[64], tmp[4096];
    hg__sym_temp_suffix(suffix, sizeof suffix);
    snprintf(tmp, sizeof tmp, "%s%s", dst, suffix);
    FILE *in = fopen(src, "rb"), *out = NULL;
    int rc = in && make_parent(dst) == 0 && (out = fopen(tmp, "wb")) ? copy_bytes(in, out) : HG_EIO;
    if (out && fclose(out) != 0) {
        rc = HG_EIO;
    }
    if (in) {
        fclose(in);
    }
    if (rc == 0 && rename(tmp, dst) != 0) {
        rc = HG_EIO;
    }
    if (rc != 0) {
        remove(tmp);
    }
    return rc;
}

/* Copies the file found at src into the local stores [first, last) of el. */
static void copy_down(search_t *s, const element_t *el, size_t first, size_t last,
                      const char *src) {
    for (size_t i = first; i < last; i++) {
        char *dst = is_url(el->stores[i]) ? NULL : store_path(s, el->stores[i]);
        if (dst && !hg__sym_is_file(dst) && copy_file(src, dst) != 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "symbol cache: cannot copy %s to %s", src, dst);
            say(s, msg);
        }
        hg_free(dst);
    }
}

static void search_local(search_t *s, element_t *el) {
    if (el->kind == EL_DIR) {
        hg_buf_t b;
        hg_buf_init(&b);
        hg_buf_printf(&b, "%s/%s", el->stores[0], s->f->name); /* DIR/NAME */
        s->rc = b.failed ? HG_ENOMEM : s->rc;
        offer(s, b.data);
        hg_buf_free(&b);
    }
    for (size_t i = 0; i < el->nstores && !s->found; i++) {
        char *path = is_url(el->stores[i]) ? NULL : store_path(s, el->stores[i]);
        if (offer(s, path)) {
            copy_down(s, el, 0, i, path);
        }
        hg_free(path);
    }
    if (!s->found && el->server_cache) {
        offer_store(s, el->server_cache);
    }
}

static void download_failed(search_t *s, element_t *el, bool unreachable, const char *why) {
    char msg[800];
    snprintf(msg, sizeof msg, "symbol server %s: %s%s", el->stores[el->nstores - 1], why,
             unreachable ? " (not asked again)" : "");
    say(s, msg);
    el->dead = unreachable;
}

static void search_server(search_t *s, element_t *el) {
    const char *server = el->stores[el->nstores - 1];
    const char *cache = el->nstores > 1 ? el->stores[0] : el->server_cache;
    if (el->kind != EL_SRV || el->dead || !is_url(server) || !cache || is_url(cache)) {
        return;
    }
    char *dest = store_path(s, cache), why[512] = "";
    bool unreachable = false;
    int rc = !dest                    ? HG_ENOMEM
             : make_parent(dest) != 0 ? HG_EIO
                                      : hg__symsrv_download(server, s->f->name, s->f->key, dest,
                                                            &unreachable, why, sizeof why);
    if (rc == HG_EIO && !why[0]) {
        snprintf(why, sizeof why, "cannot create the cache directory for %s", dest);
    }
    if (rc == HG_ENOMEM) {
        s->rc = rc;
    } else if (rc == HG_EIO) {
        download_failed(s, el, unreachable, why);
    } else if (rc == 0 && offer(s, dest)) {
        copy_down(s, el, 1, el->nstores - 1, dest);
    } else if (rc == 0) {
        remove(dest); /* not the file wanted: do not leave it where the key says it is */
    }
    hg_free(dest);
}

int hg_sympath_find(hg_sympath_t *p, const hg_symfile_t *f, const hg_symfile_cb_t *cb) {
    search_t s = {p, f, cb, false, 0};
    for (size_t i = 0; f->local && f->local[i] && !s.found; i++) {
        offer(&s, f->local[i]);
    }
    for (size_t i = 0; i < p->n && !s.found && s.rc == 0; i++) {
        search_local(&s, &p->els[i]);
    }
    for (size_t i = 0; i < p->n && !s.found && s.rc == 0; i++) {
        search_server(&s, &p->els[i]);
    }
    return s.rc ? s.rc : s.found ? 0 : 1;
}

/* hg_sympath_locate's callbacks share one context: the path taken and the caller's warnings. */
typedef struct locate {
    char *path;
    bool nomem;
    hg_sympath_warn_fn warn;
    void *ctx;
} locate_t;

static bool take_first(void *ctx, const char *path) {
    locate_t *l = ctx;
    l->path = hg_strdup(path);
    l->nomem = !l->path;
    return true;
}

static void pass_warning(void *ctx, const char *msg) {
    locate_t *l = ctx;
    if (l->warn) {
        l->warn(l->ctx, msg);
    }
}

char *hg_sympath_locate(hg_sympath_t *p, const hg_symfile_t *f, hg_sympath_warn_fn warn, void *ctx,
                        int *rc) {
    locate_t l = {NULL, false, warn, ctx};
    hg_symfile_cb_t cb = {take_first, pass_warning, &l};
    *rc = hg_sympath_find(p, f, &cb);
    if (*rc == 0 && l.nomem) {
        *rc = HG_ENOMEM;
    }
    return l.path;
}
