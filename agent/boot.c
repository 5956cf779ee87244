/* boot.c - the real allocation functions behind the hooks, and the bootstrap allocator.
 *
 * The hooks find the functions they wrap with dlsym: RTLD_NEXT when preloaded (the next
 * definition after the agent's, normally glibc's), RTLD_DEFAULT when loaded by `attach` (the
 * agent is then not in the global scope, so the global definition is the real one). dlsym
 * itself allocates (glibc's dlerror buffer uses calloc, dlfcn/dlerror.c), and those calls come
 * back into the hooks before any real function is known: they are served from a static arena
 * that is never freed (a few hundred bytes per process). Other threads arriving during the
 * resolution wait for it. */
#include "agent.h"

#include <dlfcn.h>
#include <sched.h>
#include <string.h>

hg__real_t hg__real;
bool hg__glibc_malloc;
HG_TLS hg__tls_t hg__tls;

static atomic_int resolve_state; /* 0 not started, 1 in progress, 2 done */

#define BOOT_ARENA_BYTES (256u << 10)
#define BOOT_HEADER      16u

static _Alignas(64) uint8_t boot_arena[BOOT_ARENA_BYTES];
static atomic_size_t boot_used;

/* ---- bootstrap allocator ------------------------------------------------------------------ */

void *hg__boot_alloc(size_t size, size_t align, bool zero) {
    (void)zero; /* the arena is static: zero until used, and never reused */
    align = align < BOOT_HEADER ? BOOT_HEADER : align;
    size_t need = size + BOOT_HEADER + align;
    size_t start = atomic_fetch_add(&boot_used, need);
    if (start + need > BOOT_ARENA_BYTES || need < size) {
        return NULL;
    }
    uintptr_t base = (uintptr_t)boot_arena + start + BOOT_HEADER;
    uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = size;
    return (void *)p;
}

bool hg__boot_owns(const void *p) {
    return (const uint8_t *)p >= boot_arena && (const uint8_t *)p < boot_arena + BOOT_ARENA_BYTES;
}

size_t hg__boot_size(const void *p) {
    return ((const size_t *)p)[-1];
}

/* ---- the real functions ------------------------------------------------------------------- */

static void *find(void *scope, const char *name) {
    return dlsym(scope, name);
}

#define FIND(field, name) *(void **)&hg__real.field = find(scope, name)

static void find_allocation(void *scope) {
    FIND(free, "free");
    FIND(calloc, "calloc");
    FIND(realloc, "realloc");
    FIND(reallocarray, "reallocarray");
    FIND(posix_memalign, "posix_memalign");
    FIND(aligned_alloc, "aligned_alloc");
    FIND(memalign, "memalign");
    FIND(valloc, "valloc");
    FIND(pvalloc, "pvalloc");
    FIND(malloc_usable_size, "malloc_usable_size");
    FIND(malloc, "malloc"); /* last: the hooks test it to know the others are there */
}

static void find_process(void *scope) {
    FIND(dlopen, "dlopen");
    FIND(dlclose, "dlclose");
    FIND(exit_, "_exit");
    FIND(Exit_, "_Exit");
    FIND(abort, "abort");
    FIND(execve, "execve");
    FIND(execv, "execv");
    FIND(execvp, "execvp");
    FIND(execvpe, "execvpe");
    FIND(fexecve, "fexecve");
}

/* glibc's malloc, not another allocator interposed before the agent (arena identity and
 * mallinfo2 assume glibc's chunk layout). */
static bool is_glibc(void *(*fn)(size_t)) {
    Dl_info info;
    return fn && dladdr((const void *)(uintptr_t)fn, &info) && info.dli_fname &&
           strstr(info.dli_fname, "/libc.so");
}

static void resolve_all(void) {
    void *scope = hg__cfg.attach ? RTLD_DEFAULT : RTLD_NEXT;
    find_process(scope);
    find_allocation(scope);
    hg__glibc_malloc = is_glibc(hg__real.malloc);
}

void hg__boot_resolve(void) {
    if (atomic_load_explicit(&resolve_state, memory_order_acquire) == 2) {
        return;
    }
    int expected = 0;
    if (atomic_compare_exchange_strong(&resolve_state, &expected, 1)) {
        hg__tls.booting = 1;
        resolve_all();
        hg__tls.booting = 0;
        atomic_store_explicit(&resolve_state, 2, memory_order_release);
        return;
    }
    while (!hg__tls.booting && atomic_load_explicit(&resolve_state, memory_order_acquire) != 2) {
        sched_yield();
    }
}

bool hg__boot_resolved(void) {
    return atomic_load_explicit(&resolve_state, memory_order_acquire) == 2;
}
