/* xperf_frames.c - a gathered xperf stack attached to its event: frames named by the dump
 * ("Image!Function") travel to the caller through hg_read_options_t.symbol, once per process and
 * address; frames without an address (-target machine) get a synthetic one per distinct name,
 * from a range no Windows process uses (0x7ffe000000000000 upwards, 16 bytes apart). The
 * addresses are interned into stack ids (hg_stack_interner_t), defined through the sink when new.
 */
#include "xperf_priv.h"

#include <string.h>

static uint64_t name_hash(const char *s) {
    return hg_fnv1a(HG_FNV_INIT, s, strlen(s));
}

/* A synthetic address for a frame known by name only. 0 when out of memory. */
static uint64_t synthetic(hg__xperf_t *x, const char *name) {
    uint64_t h = name_hash(name), addr;
    if (hg__map_get(&x->synthetic, h, &addr)) {
        return addr;
    }
    addr = x->next_synthetic;
    x->next_synthetic += 16;
    return hg__map_put(&x->synthetic, h, addr) == 0 ? addr : 0;
}

/* Splits "Image!Function" and hands it to the caller; unresolved functions ("?", "0x...") and
 * names without '!' give the image alone. */
static int name_frame(hg__xperf_t *x, uint32_t pid, uint64_t addr, char *name) {
    uint64_t key = hg__map_hash(addr) ^ pid, seen;
    if (!x->opt || !x->opt->symbol || hg__map_get(&x->named, key, &seen)) {
        return 0;
    }
    if (hg__map_put(&x->named, key, 1) != 0) {
        return HG_ENOMEM;
    }
    char *bang = strchr(name, '!');
    const char *function = NULL;
    if (bang) {
        *bang = '\0';
        function = bang + 1;
        if (!*function || strcmp(function, "?") == 0 || strncmp(function, "0x", 2) == 0) {
            function = NULL;
        }
    }
    int rc = x->opt->symbol(x->opt->symbol_ud, pid, addr, name, function);
    if (bang) {
        *bang = '!';
    }
    return rc;
}

static int define(hg__xperf_t *x, const uint64_t *addrs, uint32_t n, uint32_t *id) {
    bool is_new = false;
    *id = hg_stack_interner_intern(x->interner, addrs, n, &is_new);
    if (*id == 0) {
        return HG_ENOMEM;
    }
    const hg_sink_ops_t *ops = x->sink.ops;
    return is_new && ops->stack ? ops->stack(x->sink.ctx, *id, addrs, n) : 0;
}

int hg__xperf_end_stack(hg__xperf_t *x) {
    x->in_stack = false;
    hg__pend_item_t *it = hg__pending_find(&x->pending, x->stack_tid, x->stack_ts);
    if (!it || it->part_u || x->nframes == 0) {
        return 0; /* a stack of an event this reader does not keep */
    }
    uint64_t addrs[HG_MAX_FRAMES];
    int rc = 0;
    for (uint32_t i = 0; i < x->nframes && rc == 0; i++) {
        xperf_frame_t *fr = &x->frames[i];
        addrs[i] = fr->addr ? fr->addr : synthetic(x, fr->name);
        rc = addrs[i] ? name_frame(x, it->ev.pid, addrs[i], fr->name) : HG_ENOMEM;
    }
    uint32_t id = 0;
    if (rc == 0 && (rc = define(x, addrs, x->nframes, &id)) == 0) {
        it->part_u = id;
        it->waiting = false;
    }
    return rc;
}
