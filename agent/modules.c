/* modules.c - the process's module map: every loaded object's path, build-id, load address and
 * extent, sent to heapgate as MODULE records so addresses are symbolized later, out of the
 * process (docs/agent-stream.md).
 *
 * A scan walks the loaded objects with dl_iterate_phdr(3): an object's base is the start of
 * its lowest PT_LOAD segment (page-aligned) and its size reaches the end of its highest one;
 * the build-id is read from its PT_NOTE segments in memory (NT_GNU_BUILD_ID, elf(5)). Objects
 * not in the table are added (load time: no later than `since`), objects that disappeared
 * become unload records. Scans run at start, from the helper thread when dl_iterate_phdr's
 * adds/subs counters moved, and around dlclose (hooks_proc.c); dlopen itself is not wrapped,
 * because glibc resolves a dlopen's search path and namespace from its caller's address.
 *
 * Locks: scans are serialised by scan_lock and run without the recording lock (the loader's
 * lock is taken inside dl_iterate_phdr, and an allocation made under the loader's lock takes
 * the recording lock); the table has its own leaf lock, taken by the scan callback and by the
 * emitter under the recording lock, never while waiting for another lock. */
#include "agent.h"
#include "encode.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#define MAX_MODULES  1024
#define MAX_UNLOADS  256
#define PATH_POOL    (192u << 10)
#define BUILD_ID_MAX 64
#define PAGE_MASK_4K (~(uint64_t)4095)

typedef struct module {
    uint64_t base, size, load_ts;
    uint32_t path_at, path_len;
    uint32_t gen;
    bool sent;
    uint8_t build_id_len;
    uint8_t build_id[BUILD_ID_MAX];
} module_t;

typedef struct unload {
    uint64_t base, ts;
} unload_t;

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static module_t mods[MAX_MODULES];
static uint32_t nmods, gen;
static unload_t unloads[MAX_UNLOADS];
static uint32_t nunloads;
static char pool[2][PATH_POOL]; /* paths; compacted into the other half when full */
static uint32_t pool_cur, pool_used;
static char exe_path[4096];
static unsigned long long seen_adds, seen_subs;
static uint64_t last_scan_ns; /* objects a scan finds new were loaded after the previous one */

/* ---- paths -------------------------------------------------------------------------------- */

static const char *path_of(const module_t *m) {
    return pool[pool_cur] + m->path_at;
}

/* Moves the paths of the current modules into the other half of the pool. */
static void compact_paths(void) {
    uint32_t other = pool_cur ^ 1, used = 0;
    for (uint32_t i = 0; i < nmods; i++) {
        memcpy(pool[other] + used, path_of(&mods[i]), mods[i].path_len + 1);
        mods[i].path_at = used;
        used += mods[i].path_len + 1;
    }
    pool_cur = other;
    pool_used = used;
}

static bool store_path(module_t *m, const char *path) {
    size_t n = strnlen(path, 4095);
    if (pool_used + n + 1 > PATH_POOL) {
        compact_paths();
    }
    if (pool_used + n + 1 > PATH_POOL) {
        return false;
    }
    memcpy(pool[pool_cur] + pool_used, path, n);
    pool[pool_cur][pool_used + n] = '\0';
    m->path_at = pool_used;
    m->path_len = (uint32_t)n;
    pool_used += (uint32_t)n + 1;
    return true;
}

static const char *main_path(void) {
    if (!exe_path[0]) {
        ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
        exe_path[n > 0 ? n : 0] = '\0';
    }
    return exe_path;
}

/* ---- one object --------------------------------------------------------------------------- */

static void extent(const struct dl_phdr_info *info, uint64_t *base, uint64_t *size) {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uint64_t start = (info->dlpi_addr + ph->p_vaddr) & PAGE_MASK_4K;
            uint64_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
            lo = start < lo ? start : lo;
            hi = end > hi ? end : hi;
        }
    }
    *base = lo == UINT64_MAX ? info->dlpi_addr : lo;
    *size = hi > *base ? hi - *base : 0;
}

/* NT_GNU_BUILD_ID in one PT_NOTE segment: notes are Elf64_Nhdr, name and desc 4-aligned. */
static void note_build_id(const uint8_t *p, uint64_t len, module_t *m) {
    while (len >= sizeof(ElfW(Nhdr))) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        uint64_t name = (nh->n_namesz + 3u) & ~3u, desc = (nh->n_descsz + 3u) & ~3u;
        uint64_t total = sizeof *nh + name + desc;
        if (total > len) {
            return;
        }
        const char *nm = (const char *)(nh + 1);
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(nm, "GNU", 4) == 0 &&
            nh->n_descsz <= BUILD_ID_MAX) {
            memcpy(m->build_id, (const uint8_t *)(nh + 1) + name, nh->n_descsz);
            m->build_id_len = (uint8_t)nh->n_descsz;
            return;
        }
        p += total;
        len -= total;
    }
}

static void find_build_id(const struct dl_phdr_info *info, module_t *m) {
    for (int i = 0; i < info->dlpi_phnum && !m->build_id_len; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_NOTE) {
            note_build_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, m);
        }
    }
}

static module_t *find(uint64_t base, uint64_t size) {
    for (uint32_t i = 0; i < nmods; i++) {
        if (mods[i].base == base && mods[i].size == size) {
            return &mods[i];
        }
    }
    return NULL;
}

static void add(const struct dl_phdr_info *info, uint64_t base, uint64_t size, uint64_t ts) {
    if (nmods == MAX_MODULES) {
        return;
    }
    module_t *m = &mods[nmods];
    memset(m, 0, sizeof *m);
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : main_path();
    if (!store_path(m, name)) {
        return;
    }
    m->base = base;
    m->size = size;
    m->load_ts = ts;
    m->gen = gen;
    find_build_id(info, m);
    nmods++;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uint64_t base, extent_bytes, ts = *(const uint64_t *)data;
    extent(info, &base, &extent_bytes);
    if (extent_bytes == 0) {
        return 0;
    }
    pthread_mutex_lock(&table_lock);
    module_t *m = find(base, extent_bytes);
    if (m) {
        m->gen = gen;
    } else {
        add(info, base, extent_bytes, ts);
    }
    seen_adds = info->dlpi_adds;
    seen_subs = info->dlpi_subs;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

/* ---- scans -------------------------------------------------------------------------------- */

/* Modules the last scan did not see become unload records. Called with table_lock held. */
static void sweep(uint64_t now) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < nmods; i++) {
        if (mods[i].gen == gen) {
            mods[kept++] = mods[i];
        } else if (mods[i].sent && nunloads < MAX_UNLOADS) {
            unloads[nunloads++] = (unload_t){mods[i].base, now};
        }
    }
    nmods = kept;
}

void hg__modules_scan(void) {
    hg__tls.internal++;
    pthread_mutex_lock(&scan_lock);
    pthread_mutex_lock(&table_lock);
    gen++;
    uint64_t since_ns = last_scan_ns;
    last_scan_ns = hg__now_ns();
    pthread_mutex_unlock(&table_lock);
    dl_iterate_phdr(on_object, &since_ns);
    pthread_mutex_lock(&table_lock);
    sweep(hg__now_ns() + 1); /* after every event timed at the current tick */
    pthread_mutex_unlock(&table_lock);
    pthread_mutex_unlock(&scan_lock);
    hg__tls.internal--;
}

static int first_counters(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    unsigned long long *c = data;
    c[0] = info->dlpi_adds;
    c[1] = info->dlpi_subs;
    return 1;
}

bool hg__modules_changed(void) {
    unsigned long long c[2] = {0, 0};
    dl_iterate_phdr(first_counters, c);
    pthread_mutex_lock(&table_lock);
    bool changed = c[0] != seen_adds || c[1] != seen_subs;
    pthread_mutex_unlock(&table_lock);
    return changed;
}

void hg__modules_fork_lock(void) {
    pthread_mutex_lock(&scan_lock);
}

void hg__modules_fork_unlock(void) {
    pthread_mutex_unlock(&scan_lock);
}

void hg__modules_fork_table_lock(void) {
    pthread_mutex_lock(&table_lock);
}

void hg__modules_fork_table_unlock(void) {
    pthread_mutex_unlock(&table_lock);
}

void hg__modules_after_fork_child(void) {
    pthread_mutex_init(&scan_lock, NULL);
    pthread_mutex_init(&table_lock, NULL);
}

void hg__modules_resend(void) {
    pthread_mutex_lock(&table_lock);
    last_scan_ns = 0;
    for (uint32_t i = 0; i < nmods; i++) {
        mods[i].sent = false;
    }
    nunloads = 0;
    pthread_mutex_unlock(&table_lock);
}

/* ---- records ------------------------------------------------------------------------------ */

static void emit_one(hg__chunk_t *c, const hg__mod_rec_t *r) {
    if (!hg__chunk_room(c, r->path ? (size_t)BUILD_ID_MAX + 4200 : 128)) {
        hg__rec_flush_locked();
    }
    hg__chunk_module(c, r);
}

void hg__modules_emit_locked(void) {
    pthread_mutex_lock(&table_lock);
    for (uint32_t i = 0; i < nunloads; i++) {
        hg__mod_rec_t r = {
            .pid = hg__pid, .unload = true, .base = unloads[i].base, .ts_ns = unloads[i].ts};
        emit_one(&hg__main_chunk, &r);
    }
    nunloads = 0;
    for (uint32_t i = 0; i < nmods; i++) {
        module_t *m = &mods[i];
        if (!m->sent) {
            hg__mod_rec_t r = {hg__pid,    false,      m->base,     m->size,
                               m->load_ts, path_of(m), m->build_id, m->build_id_len};
            emit_one(&hg__main_chunk, &r);
            m->sent = true;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

bool hg__modules_range_of(const void *addr, uint64_t *lo, uint64_t *hi) {
    uint64_t a = (uint64_t)(uintptr_t)addr;
    bool found = false;
    pthread_mutex_lock(&table_lock);
    for (uint32_t i = 0; i < nmods && !found; i++) {
        if (a >= mods[i].base && a < mods[i].base + mods[i].size) {
            *lo = mods[i].base;
            *hi = mods[i].base + mods[i].size;
            found = true;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return found;
}
