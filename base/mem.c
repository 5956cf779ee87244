/* mem.c - the tool's own allocations: counted (live, peak) and failable on demand.
 *
 * Each block carries a 16-byte prefix holding its size, so hg_free can keep the live count
 * exact without asking the allocator. */
#include "base.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX 16 /* keeps the user pointer 16-byte aligned */

static hg_mem_stats_t g_stats;
static long g_fail_after = -1;

static bool should_fail(void) {
    if (g_fail_after < 0) {
        return false;
    }
    if (g_fail_after == 0) {
        return true;
    }
    g_fail_after--;
    return false;
}

static void account(int64_t delta) {
    g_stats.live_bytes += (uint64_t)delta;
    if (g_stats.live_bytes > g_stats.peak_bytes) {
        g_stats.peak_bytes = g_stats.live_bytes;
    }
}

void *hg_malloc(size_t size_bytes) {
    if (size_bytes > SIZE_MAX - PREFIX || should_fail()) {
        return NULL;
    }
    unsigned char *p = malloc(size_bytes + PREFIX);
    if (!p) {
        return NULL;
    }
    memcpy(p, &size_bytes, sizeof size_bytes);
    g_stats.allocations++;
    account((int64_t)size_bytes);
    return p + PREFIX;
}

void *hg_calloc(size_t count, size_t size_bytes) {
    if (size_bytes && count > SIZE_MAX / size_bytes) {
        return NULL;
    }
    void *p = hg_malloc(count * size_bytes);
    if (p) {
        memset(p, 0, count * size_bytes);
    }
    return p;
}

void *hg_realloc(void *ptr, size_t size_bytes) {
    if (!ptr) {
        return hg_malloc(size_bytes);
    }
    if (size_bytes > SIZE_MAX - PREFIX || should_fail()) {
        return NULL;
    }
    unsigned char *base = (unsigned char *)ptr - PREFIX;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, size_bytes + PREFIX);
    if (!p) {
        return NULL;
    }
    memcpy(p, &size_bytes, sizeof size_bytes);
    account((int64_t)size_bytes - (int64_t)old);
    return p + PREFIX;
}

void hg_free(void *ptr) {
    if (!ptr) {
        return;
    }
    unsigned char *base = (unsigned char *)ptr - PREFIX;
    size_t old;
    memcpy(&old, base, sizeof old);
    account(-(int64_t)old);
    free(base);
}

char *hg_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *d = hg_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *hg_strdup(const char *s) {
    return hg_strndup(s, strlen(s));
}

hg_mem_stats_t hg_mem_stats(void) {
    return g_stats;
}

void hg_mem_fail_after(long n) {
    g_fail_after = n;
}
