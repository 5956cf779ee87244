/* hooks.c - the allocation functions the agent interposes: malloc, free, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc, and
 * malloc_usable_size (passed through). C++'s operator new and delete reach these through
 * libstdc++. Preloaded, the dynamic linker binds every call to these definitions; attached,
 * got.c points the GOT entries at them.
 *
 * Each hook calls the real function (boot.c) and records the event unless the thread is inside
 * the agent (hg__tls.internal) or nothing is being recorded. Allocations are recorded after the
 * call, frees before it, reallocs around it under the lock (record.c). Calls made before the
 * real functions are known (during dlsym) get memory from the bootstrap arena; such blocks are
 * recognised by address when they come back and are never given to the real free. The sizes
 * recorded are the sizes asked for (pvalloc's page rounding and calloc's product included). */
#include "agent.h"

#include <errno.h>
#include <string.h>

/* Whether the calling thread's event is to be recorded. Starts the agent on first use. */
static inline bool wanted(void) {
    if (HG_LIKELY(atomic_load_explicit(&hg__recording, memory_order_relaxed))) {
        if (HG_UNLIKELY(atomic_load_explicit(&hg__helper_pending, memory_order_relaxed))) {
            hg__life_child_first_event();
        }
        return hg__tls.internal == 0;
    }
    hg__life_ensure_started();
    return atomic_load_explicit(&hg__recording, memory_order_relaxed) && hg__tls.internal == 0;
}

/* The real functions, resolved on first use; false while they are being resolved (dlsym's
 * own calls), when the caller must use the bootstrap arena. */
static inline bool ready(void) {
    if (HG_LIKELY(hg__real.malloc != NULL)) {
        return true;
    }
    hg__boot_resolve();
    return hg__real.malloc != NULL;
}

HG_AGENT_EXPORT void *malloc(size_t size) {
    if (HG_UNLIKELY(!ready())) {
        return hg__boot_alloc(size, 16, false);
    }
    void *p = hg__real.malloc(size);
    if (wanted()) {
        hg__rec_alloc(p, size);
    }
    return p;
}

HG_AGENT_EXPORT void free(void *p) {
    if (HG_UNLIKELY(!p || hg__boot_owns(p))) {
        return;
    }
    if (HG_UNLIKELY(!ready())) {
        return; /* cannot happen: a non-bootstrap block implies a known real malloc */
    }
    if (wanted()) {
        hg__rec_free(p);
    }
    hg__real.free(p);
}

HG_AGENT_EXPORT void *calloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (HG_UNLIKELY(!ready())) {
        return hg__boot_alloc(total, 16, true);
    }
    void *p = hg__real.calloc(n, size);
    if (wanted()) {
        hg__rec_alloc(p, total);
    }
    return p;
}

/* realloc of a bootstrap block: a real block with its bytes (the old one stays in the arena). */
static void *from_boot(void *old, size_t size) {
    void *p = malloc(size);
    if (p) {
        size_t n = hg__boot_size(old);
        memcpy(p, old, n < size ? n : size);
    }
    return p;
}

HG_AGENT_EXPORT void *realloc(void *old, size_t size) {
    if (HG_UNLIKELY(!ready())) {
        void *p = hg__boot_alloc(size, 16, false);
        if (p && old) {
            size_t n = hg__boot_size(old);
            memcpy(p, old, n < size ? n : size);
        }
        return p;
    }
    if (HG_UNLIKELY(old && hg__boot_owns(old))) {
        return from_boot(old, size);
    }
    if (!wanted()) {
        return hg__real.realloc(old, size);
    }
    if (!old) {
        void *p = hg__real.realloc(NULL, size);
        hg__rec_alloc(p, size);
        return p;
    }
    if (size == 0) { /* glibc frees old and returns NULL (malloc/malloc.c, __libc_realloc) */
        hg__rec_free(old);
        return hg__real.realloc(old, 0);
    }
    return hg__rec_realloc(old, size);
}

HG_AGENT_EXPORT void *reallocarray(void *old, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

HG_AGENT_EXPORT int posix_memalign(void **out, size_t align, size_t size) {
    if (HG_UNLIKELY(!ready())) {
        *out = hg__boot_alloc(size, align, false);
        return *out ? 0 : ENOMEM;
    }
    int rc = hg__real.posix_memalign(out, align, size);
    if (rc == 0 && wanted()) {
        hg__rec_alloc(*out, size);
    }
    return rc;
}

/* aligned_alloc, memalign, valloc and pvalloc: one real call, one allocation event. */
static void *aligned(void *p, size_t size) {
    if (wanted()) {
        hg__rec_alloc(p, size);
    }
    return p;
}

HG_AGENT_EXPORT void *aligned_alloc(size_t align, size_t size) {
    if (HG_UNLIKELY(!ready())) {
        return hg__boot_alloc(size, align, false);
    }
    return aligned(hg__real.aligned_alloc(align, size), size);
}

HG_AGENT_EXPORT void *memalign(size_t align, size_t size) {
    if (HG_UNLIKELY(!ready())) {
        return hg__boot_alloc(size, align, false);
    }
    return aligned(hg__real.memalign(align, size), size);
}

HG_AGENT_EXPORT void *valloc(size_t size) {
    if (HG_UNLIKELY(!ready())) {
        return hg__boot_alloc(size, 4096, false);
    }
    return aligned(hg__real.valloc(size), size);
}

HG_AGENT_EXPORT void *pvalloc(size_t size) {
    if (HG_UNLIKELY(!ready())) {
        return hg__boot_alloc(size, 4096, false);
    }
    return aligned(hg__real.pvalloc(size), size);
}

HG_AGENT_EXPORT size_t malloc_usable_size(void *p) {
    if (!p) {
        return 0;
    }
    if (hg__boot_owns(p)) {
        return hg__boot_size(p);
    }
    return ready() ? hg__real.malloc_usable_size(p) : 0;
}
