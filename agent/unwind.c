/* unwind.c - the stack of each allocation, innermost first. As in .hgt (and ETW), frame 0 is
 * where execution was, not a return address: a position inside the agent's hook (the
 * allocation function the program called, which reports trim); the return addresses follow,
 * the first being the allocating call's. What the hook called (recorder, unwinder) is dropped.
 * Reports look up return addresses minus one (the call instruction) but frame 0 as it is, so
 * a return address in frame 0 would name the line after the call.
 *
 * Two unwinders. libunwind (the default) reads DWARF call frame information and so works on
 * code built without frame pointers, as distributions build it; its x86-64 fast path
 * (unw_backtrace with a per-thread cache of frame layouts, UNW_CACHE_PER_THREAD, libunwind's
 * unw_set_caching_policy(3)) costs a table lookup per frame once warm. libunwind may allocate
 * while it sets up its caches (pthread_setspecific): the thread is marked internal meanwhile so
 * those calls pass through unrecorded. Frame pointers (--unwind=fp) follow the saved rbp chain:
 * faster, but complete only for code built with -fno-omit-frame-pointer; the walk stays inside
 * the thread's stack and stops at the first frame pointer that does not go up. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "agent.h"

#include <pthread.h>

#define OWN_FRAMES_MAX 8 /* hook, recorder, unwinder: a margin above what is needed */

static bool use_fp;
static uint32_t depth = 32;
static uint64_t self_lo, self_hi;

void hg__unwind_init(bool fp, uint32_t d) {
    use_fp = fp;
    depth = d == 0 ? 1 : d > HG_AG_MAX_DEPTH ? HG_AG_MAX_DEPTH : d;
    if (!fp) {
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    }
}

void hg__unwind_set_self(uint64_t lo, uint64_t hi) {
    self_lo = lo;
    self_hi = hi;
}

static bool is_self(uint64_t addr) {
    return addr >= self_lo && addr < self_hi;
}

/* Copies the last of the agent's own leading frames (the return address into the hook: a
 * position inside it) and, after it, at most depth of the frames beyond. */
static void keep(hg__stack_t *st, const uint64_t *frames, uint32_t n) {
    uint32_t first = 0;
    while (first < n && is_self(frames[first])) {
        first++;
    }
    st->n = 0;
    if (first > 0) {
        st->frames[st->n++] = frames[first - 1];
    }
    for (uint32_t i = first; i < n && st->n < depth + 1; i++) {
        st->frames[st->n++] = frames[i];
    }
}

static uint32_t with_libunwind(uint64_t *frames, uint32_t max) {
    hg__tls.internal++;
    int n = unw_backtrace((void **)frames, (int)max);
    hg__tls.internal--;
    return n > 0 ? (uint32_t)n : 0;
}

/* The top of this thread's stack, looked up once per thread. */
static uintptr_t stack_top(uintptr_t here) {
    if (hg__tls.stack_hi > here) {
        return hg__tls.stack_hi;
    }
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    hg__tls.internal++;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    hg__tls.internal--;
    uintptr_t hi = (uintptr_t)addr + size;
    hg__tls.stack_hi = hi > here ? hi : here + ((uintptr_t)8 << 20);
    return hg__tls.stack_hi;
}

static uint32_t with_frame_pointers(uint64_t *frames, uint32_t max) {
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t hi = stack_top((uintptr_t)fp);
    uint32_t n = 0;
    while (n < max && ((uintptr_t)fp & 7) == 0 && (uintptr_t)fp + 16 <= hi) {
        uintptr_t ret = fp[1], *next = (uintptr_t *)fp[0];
        if (ret == 0) {
            break;
        }
        frames[n++] = ret;
        if (next <= fp || (uintptr_t)next - (uintptr_t)fp > ((uintptr_t)1 << 20)) {
            break;
        }
        fp = next;
    }
    return n;
}

__attribute__((noinline)) void hg__unwind(hg__stack_t *st) {
    uint64_t frames[HG_AG_MAX_DEPTH + OWN_FRAMES_MAX];
    uint32_t max = depth + OWN_FRAMES_MAX;
    uint32_t n = use_fp ? with_frame_pointers(frames, max) : with_libunwind(frames, max);
    keep(st, frames, n);
}
