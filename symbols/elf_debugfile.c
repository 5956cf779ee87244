/* elf_debugfile.c - finds a module's separate debug file, by gdb's rules (GDB manual,
 * "Debugging Information in Separate Files"):
 *
 *   by build-id   DIR/.build-id/NN/REST.debug, NN the build-id's first byte in lowercase hex
 *                 and REST the other bytes, for DIR each directory of the symbol path and then
 *                 the global debug directory /usr/lib/debug;
 *   by debuglink  NAME from .gnu_debuglink, MOD the module's directory: MOD/NAME,
 *                 MOD/.debug/NAME, then DIR/MOD/NAME for DIR as above. heapgate also tries
 *                 DIR/NAME in the symbol path's own directories (a flat folder of debug files).
 *
 * A candidate found by build-id must carry that build-id. One found by debuglink must carry
 * the module's build-id when both have one, else match the CRC-32 the link records (the
 * .gnu_debuglink section holds the name, padding and the CRC-32 of the whole debug file; gdb
 * checks it the same way). The module file itself is never taken as its own debug file.
 *
 * The symbol path uses _NT_SYMBOL_PATH syntax: ';'-separated entries; a plain entry is a
 * directory, cache*DIR names DIR, srv*A*B... names each field that is not a URL (the local
 * downstream stores). Nothing is downloaded here. */
#include "dwarf_priv.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define GLOBAL_DEBUG_DIR "/usr/lib/debug"
#define MAX_DIRS         32
#define MAX_BUILD_ID     64

typedef struct dirs {
    char *buf; /* the symbol path, cut into strings */
    const char *dir[MAX_DIRS + 1];
    size_t n, nuser; /* nuser: from the symbol path (the global directory follows) */
} dirs_t;

typedef struct search {
    const hg__debug_query_t *q;
    const dirs_t *dirs;
    struct stat module; /* to recognise the module itself */
    bool module_known;
    bool by_build_id;
    hg__elf_file_t *out;
} search_t;

/* The byte-wise table of the reflected CRC-32 polynomial 0xEDB88320. */
static const uint32_t *crc_table(void) {
    static uint32_t table[256];
    static bool ready;
    for (uint32_t i = 0; !ready && i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    ready = true;
    return table;
}

uint32_t hg__crc32(uint32_t crc, const void *bytes, size_t n) {
    const uint32_t *table = crc_table();
    const uint8_t *p = bytes;
    crc = ~crc;
    while (n--) {
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static void add_dir(dirs_t *d, const char *dir) {
    if (*dir && d->n < MAX_DIRS) {
        d->dir[d->n++] = dir;
    }
}

static bool is_server_entry(const char *e) {
    return strncasecmp(e, "srv*", 4) == 0 || strncasecmp(e, "symsrv*", 7) == 0 ||
           strncasecmp(e, "cache*", 6) == 0;
}

/* Adds the local directories one symbol-path entry names (e is cut in place). */
static void add_entry(dirs_t *d, char *e) {
    if (!is_server_entry(e)) {
        add_dir(d, e);
        return;
    }
    char *save = NULL;
    strtok_r(e, "*", &save); /* the keyword */
    for (char *f = strtok_r(NULL, "*", &save); f; f = strtok_r(NULL, "*", &save)) {
        size_t len = strlen(f);
        bool dll = len > 4 && strcasecmp(f + len - 4, ".dll") == 0;
        if (!strstr(f, "://") && !dll) {
            add_dir(d, f);
        }
    }
}

static int dirs_parse(const char *symbol_path, dirs_t *d) {
    memset(d, 0, sizeof *d);
    d->buf = hg_strdup(symbol_path ? symbol_path : "");
    if (!d->buf) {
        return HG_ENOMEM;
    }
    char *save = NULL;
    for (char *e = strtok_r(d->buf, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
        add_entry(d, e);
    }
    d->nuser = d->n;
    add_dir(d, GLOBAL_DEBUG_DIR);
    return 0;
}

static bool file_crc32(int fd, uint32_t *out) {
    uint8_t buf[32768];
    uint32_t crc = 0;
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
        crc = hg__crc32(crc, buf, (size_t)n);
        off += n;
    }
    *out = crc;
    return n == 0;
}

static bool link_matches(const hg__elf_file_t *f, const hg__debug_query_t *q) {
    if (q->build_id && f->build_id) {
        return hg__elf_build_id_is(f, q->build_id, q->build_id_len);
    }
    uint32_t crc;
    return file_crc32(f->fd, &crc) && crc == q->debuglink_crc;
}

/* Opens the candidate at path and keeps it when it belongs to the module. */
static bool try_file(search_t *se, const char *path) {
    if (hg__elf_open(path, se->out) != 0) {
        return false;
    }
    struct stat st;
    bool self = se->module_known && fstat(se->out->fd, &st) == 0 &&
                st.st_dev == se->module.st_dev && st.st_ino == se->module.st_ino;
    bool ok = !self &&
              (se->by_build_id ? hg__elf_build_id_is(se->out, se->q->build_id, se->q->build_id_len)
                               : link_matches(se->out, se->q));
    if (!ok) {
        hg__elf_close(se->out);
    }
    return ok;
}

__attribute__((format(printf, 2, 3))) static bool try_path(search_t *se, const char *fmt, ...) {
    char path[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return n > 0 && (size_t)n < sizeof path && try_file(se, path);
}

static bool by_build_id(search_t *se) {
    const hg__debug_query_t *q = se->q;
    if (!q->build_id || q->build_id_len < 2 || q->build_id_len > MAX_BUILD_ID) {
        return false;
    }
    char hex[2 * MAX_BUILD_ID + 1];
    for (size_t i = 0; i < q->build_id_len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", q->build_id[i]);
    }
    se->by_build_id = true;
    bool found = false;
    for (size_t i = 0; !found && i < se->dirs->n; i++) {
        found = try_path(se, "%s/.build-id/%.2s/%s.debug", se->dirs->dir[i], hex, hex + 2);
    }
    return found;
}

static bool link_name_ok(const char *name) {
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The module's directory ("." when its path has none) into dir. */
static void module_dir(const char *path, char *dir, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, cap, ".");
    } else {
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    }
}

static bool by_debuglink(search_t *se) {
    const char *name = se->q->debuglink;
    if (!link_name_ok(name)) {
        return false;
    }
    char dir[PATH_MAX];
    module_dir(se->q->module_path ? se->q->module_path : "", dir, sizeof dir);
    se->by_build_id = false;
    bool found = try_path(se, "%s/%s", dir, name) || try_path(se, "%s/.debug/%s", dir, name);
    for (size_t i = 0; !found && i < se->dirs->n; i++) {
        const char *d = se->dirs->dir[i];
        found = (dir[0] == '/' && try_path(se, "%s%s/%s", d, dir, name)) ||
                (i < se->dirs->nuser && try_path(se, "%s/%s", d, name));
    }
    return found;
}

int hg__elf_find_debug(const hg__debug_query_t *q, hg__elf_file_t *out) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    dirs_t dirs;
    if (dirs_parse(q->symbol_path, &dirs) != 0) {
        return HG_ENOMEM;
    }
    search_t se = {.q = q, .dirs = &dirs, .out = out};
    se.module_known = q->module_path && stat(q->module_path, &se.module) == 0;
    bool found = by_build_id(&se) || by_debuglink(&se);
    hg_free(dirs.buf);
    return found ? 0 : HG_EIO;
}
