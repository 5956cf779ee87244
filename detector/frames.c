/* frames.c - turns a raw stack into report frames: each return address symbolized (inline
 * frames expanded), the allocator's own frames trimmed from the innermost end, and the site's
 * ASLR-stable identity: the frames as "module!function" or "module+0xoffset", hashed.
 *
 * Return addresses point after the call; every frame but the innermost is looked up at
 * address - 1 so the call's own line is found (the report still shows the recorded address).
 *
 * The trim list (the "cull list" of allocator frames) holds LeakSanitizer-style templates
 * matched against function names; a template "module=PATTERN" matches the module's file name
 * instead. Defaults cover glibc, libstdc++, heapgate's agent, ntdll and the Windows CRTs;
 * --trim adds, --no-default-trim drops the defaults. */
#include "detector_priv.h"

#include <string.h>

#define MAX_INLINE 16 /* frames per address: the call and what was inlined into it */

static const char *const default_trim[] = {
    /* glibc and libstdc++ (and heapgate's agent, which wraps them) */
    "^malloc$", "^calloc$", "^realloc$", "^reallocarray$", "^free$", "^posix_memalign$",
    "^aligned_alloc$", "^memalign$", "^valloc$", "^pvalloc$", "^__libc_malloc", "^__libc_calloc",
    "^__libc_realloc", "^__libc_memalign", "^_int_malloc", "^_int_realloc", "^tcache_",
    "^operator new", "^operator delete", "^hg_agent_", "^hg__agent_", "module=libheapgate-agent",
    /* Windows: ntdll heap, kernel32/kernelbase wrappers, the CRTs (etw-format.md, §6) */
    "^RtlAllocateHeap$", "^RtlpAllocateHeap", "^RtlReAllocateHeap$", "^RtlpReAllocateHeap",
    "^RtlpLogHeap", "^RtlpAllocateHeapInternal", "^RtlDebugAllocateHeap", "^HeapAlloc$",
    "^HeapReAlloc$", "^LocalAlloc$", "^GlobalAlloc$", "^_malloc_base$", "^_calloc_base$",
    "^_realloc_base$", "^_malloc_dbg", "^_calloc_dbg", "^_realloc_dbg", "^_heap_alloc",
    "^_nh_malloc", "^_recalloc", "^_aligned_malloc", "^_aligned_realloc", "^_expand",
    "^malloc_base$",
    /* Windows ETW heap events are logged from inside the heap (ntdll) through a system call, so
     * their stacks begin with kernel frames, then ntdll's heap and logging frames
     * (NtTraceEvent, RtlpLogHeap*): without PDBs those are known by module only */
    "^NtTraceEvent$", "^ZwTraceEvent$", "module=ntoskrnl.exe", "module=ntkrnlmp.exe",
    "module=ntkrnlpa.exe", "module=ntkrpamp.exe", "module=ntdll.dll"};

struct hg_trim {
    const char **patterns;
    size_t n;
};

hg_trim_t *hg__trim_new(const char *const *extra, size_t nextra, bool no_defaults) {
    size_t ndef = no_defaults ? 0 : sizeof default_trim / sizeof default_trim[0];
    hg_trim_t *tr = hg_calloc(1, sizeof *tr);
    if (!tr || !(tr->patterns = hg_calloc(ndef + nextra + 1, sizeof *tr->patterns))) {
        hg_free(tr);
        return NULL;
    }
    for (size_t i = 0; i < ndef; i++) {
        tr->patterns[tr->n++] = default_trim[i];
    }
    for (size_t i = 0; i < nextra; i++) {
        tr->patterns[tr->n++] = extra[i];
    }
    return tr;
}

void hg__trim_free(hg_trim_t *tr) {
    if (tr) {
        hg_free(tr->patterns);
        hg_free(tr);
    }
}

bool hg__trim_match(const hg_trim_t *tr, const hg_sym_frame_t *f) {
    for (size_t i = 0; tr && i < tr->n; i++) {
        const char *p = tr->patterns[i];
        if (strncmp(p, "module=", 7) == 0) {
            if (f->module && hg__template_match(p + 7, f->module)) {
                return true;
            }
        } else if (f->function && hg__template_match(p, f->function)) {
            return true;
        }
    }
    return false;
}

static int copy_frame(hg_rframe_t *out, const hg_sym_frame_t *in, uint64_t addr) {
    memset(out, 0, sizeof *out);
    out->addr = addr;
    out->offset = in->offset;
    out->line = in->line;
    out->column = in->column;
    out->inlined = in->inlined;
    out->module = in->module ? hg_strdup(in->module) : NULL;
    out->function = in->function ? hg_strdup(in->function) : NULL;
    out->file = in->file ? hg_strdup(in->file) : NULL;
    bool failed = (in->module && !out->module) || (in->function && !out->function) ||
                  (in->file && !out->file);
    return failed ? HG_ENOMEM : 0;
}

static void identity_of(const hg_rframe_t *f, hg_buf_t *key) {
    if (f->function) {
        hg_buf_printf(key, "%s!%s;", f->module ? f->module : "?", f->function);
    } else if (f->module) {
        hg_buf_printf(key, "%s+0x%llx;", f->module, (unsigned long long)f->offset);
    } else {
        hg_buf_printf(key, "0x%llx;", (unsigned long long)f->addr);
    }
}

static int set_id(hg_rsite_t *site, const char *fallback) {
    hg_buf_t key;
    hg_buf_init(&key);
    for (size_t i = 0; i < site->nframes; i++) {
        identity_of(&site->frames[i], &key);
    }
    if (site->nframes == 0) {
        hg_buf_puts(&key, fallback);
    }
    uint64_t h = hg_fnv1a(HG_FNV_INIT, key.data ? key.data : "", key.len);
    bool failed = key.failed;
    hg_buf_free(&key);
    char id[17];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)h);
    site->id = failed ? NULL : hg_strdup(id);
    return site->id ? 0 : HG_ENOMEM;
}

/* Resolves every raw frame; returns the count of report frames written to out (<= cap). */
static size_t resolve_all(hg_symbolizer_t *sym, uint32_t space, const uint64_t *frames, uint32_t n,
                          uint64_t ts_ns, hg_sym_frame_t *out, uint64_t *addrs, size_t cap) {
    size_t count = 0;
    for (uint32_t i = 0; i < n && count + MAX_INLINE <= cap; i++) {
        uint64_t lookup = i > 0 && frames[i] > 0 ? frames[i] - 1 : frames[i];
        size_t k = hg_sym_resolve(sym, space, lookup, ts_ns, out + count, MAX_INLINE);
        for (size_t j = 0; j < k; j++) {
            if (!out[count + j].module) {
                out[count + j].offset = frames[i]; /* bare address: show what was recorded */
            }
            addrs[count + j] = frames[i];
        }
        count += k;
    }
    return count;
}

/* How many leading report frames are the allocator's: whole recorded frames (an address and
 * the frames inlined into it) whose function or any inlined one matches the trim list, so a
 * helper inlined into malloc does not stop the trimming. At least one frame is kept. */
static size_t trim_count(const hg_trim_t *trim, const hg_sym_frame_t *f, const uint64_t *addrs,
                         size_t n) {
    size_t first = 0;
    while (first < n) {
        size_t end = first;
        bool match = false;
        while (end < n && addrs[end] == addrs[first]) {
            match |= hg__trim_match(trim, &f[end]);
            end++;
        }
        if (!match || end >= n) {
            break;
        }
        first = end;
    }
    return first;
}

int hg__site_frames(hg_rsite_t *site, hg_symbolizer_t *sym, const hg_trim_t *trim, uint32_t space,
                    const uint64_t *frames, uint32_t nframes, uint32_t stack_id, uint64_t ts_ns) {
    size_t cap = (size_t)nframes * MAX_INLINE;
    hg_sym_frame_t *resolved = hg_malloc((cap ? cap : 1) * sizeof *resolved);
    uint64_t *addrs = hg_malloc((cap ? cap : 1) * sizeof *addrs);
    int rc = resolved && addrs ? 0 : HG_ENOMEM;
    size_t n = rc ? 0 : resolve_all(sym, space, frames, nframes, ts_ns, resolved, addrs, cap);
    size_t first = trim_count(trim, resolved, addrs, n);
    site->frames = n > first ? hg_calloc(n - first, sizeof *site->frames) : NULL;
    rc = rc || (n > first && !site->frames) ? HG_ENOMEM : 0;
    for (size_t i = first; !rc && i < n; i++) {
        rc = copy_frame(&site->frames[site->nframes++], &resolved[i], addrs[i]);
    }
    hg_free(resolved);
    hg_free(addrs);
    char fallback[48];
    snprintf(fallback, sizeof fallback, stack_id ? "stack:undefined:%u" : "stack:none", stack_id);
    return rc ? rc : set_id(site, fallback);
}
