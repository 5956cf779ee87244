/* recent.c - recently freed addresses, for telling a double free (A2) from a free of an
 * unknown address (A1). A direct-mapped table: each address hashes to one slot and a newer free
 * overwrites an older one, so memory is bounded (--recent-frees slots per process, allocated on
 * the first free) and a double free is recognised as long as its first free is still there. */
#include "tracker_priv.h"

static uint32_t slot_of(const hg__recent_t *r, uint64_t addr) {
    uint64_t h = (addr >> 3) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> 32) & r->mask;
}

void hg__recent_free(hg__recent_t *r) {
    hg_free(r->v);
    r->v = NULL;
    r->mask = 0;
}

static uint32_t pow2_at_least(uint32_t n) {
    uint32_t p = 1;
    while (p < n && p < (UINT32_C(1) << 30)) {
        p <<= 1;
    }
    return p;
}

int hg__recent_put(hg__recent_t *r, uint32_t slots, uint64_t addr, uint64_t ts_ns, uint32_t site,
                   uint32_t flags) {
    if (!r->v) {
        uint32_t n = pow2_at_least(slots ? slots : 1);
        r->v = hg_calloc(n, sizeof *r->v);
        if (!r->v) {
            return HG_ENOMEM;
        }
        r->mask = n - 1;
    }
    hg__recent_entry_t *e = &r->v[slot_of(r, addr)];
    e->addr = addr;
    e->ts_ns = ts_ns;
    e->site = site;
    e->flags = flags | 0x80000000u; /* occupied */
    return 0;
}

const hg__recent_entry_t *hg__recent_get(const hg__recent_t *r, uint64_t addr) {
    if (!r->v) {
        return NULL;
    }
    const hg__recent_entry_t *e = &r->v[slot_of(r, addr)];
    return (e->flags & 0x80000000u) && e->addr == addr ? e : NULL;
}
