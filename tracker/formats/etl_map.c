/* etl_map.c - the ETL and xperf readers' hash map: u64 keys to u64 values, open addressing with
 * linear probing, at most half full, deletion by backward shift (no tombstones), so lookups stay
 * short however many keys come and go (thread ids, stack keys, stack parts). */
#include "etl_priv.h"

#include <string.h>

void hg__map_free(hg__map_t *m) {
    hg_free(m->slots);
    memset(m, 0, sizeof *m);
}

static size_t find_slot(const hg__map_t *m, uint64_t key) {
    return hg__map_find_slot(m, key);
}

static int grow(hg__map_t *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    hg__map_slot_t *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = hg_calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return HG_ENOMEM;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].val) {
            m->slots[find_slot(m, old[i].key)] = old[i];
        }
    }
    hg_free(old);
    return 0;
}

int hg__map_put(hg__map_t *m, uint64_t key, uint64_t val) {
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0) {
        return HG_ENOMEM;
    }
    hg__map_slot_t *s = &m->slots[find_slot(m, key)];
    m->n += s->val == 0;
    s->key = key;
    s->val = val + 1;
    return 0;
}

int hg__map_swap(hg__map_t *m, uint64_t key, uint64_t val, uint64_t *old) {
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0) {
        return HG_ENOMEM;
    }
    hg__map_slot_t *s = &m->slots[find_slot(m, key)];
    int had = s->val != 0;
    *old = had ? s->val - 1 : 0;
    m->n += !had;
    s->key = key;
    s->val = val + 1;
    return had;
}

void hg__map_keep(hg__map_t *m, bool (*keep)(void *ud, uint64_t key, uint64_t val), void *ud) {
    hg__map_t fresh = {0};
    for (size_t i = 0; i < m->cap; i++) {
        hg__map_slot_t *s = &m->slots[i];
        if (s->val && keep(ud, s->key, s->val - 1) && hg__map_put(&fresh, s->key, s->val - 1)) {
            hg__map_free(&fresh);
            return; /* out of memory: keep everything */
        }
    }
    hg__map_free(m);
    *m = fresh;
}

/* Whether the entry at j (home h) may move into the hole at i when probing wraps around. */
static bool may_fill(size_t i, size_t j, size_t h) {
    return i <= j ? (h <= i || h > j) : (h <= i && h > j);
}

void hg__map_del(hg__map_t *m, uint64_t key) {
    if (m->n == 0) {
        return;
    }
    size_t mask = m->cap - 1, i = find_slot(m, key);
    if (!m->slots[i].val) {
        return;
    }
    m->slots[i].val = 0;
    m->n--;
    for (size_t j = (i + 1) & mask; m->slots[j].val; j = (j + 1) & mask) {
        size_t h = hg__map_hash(m->slots[j].key) & mask;
        if (may_fill(i, j, h)) {
            m->slots[i] = m->slots[j];
            m->slots[j].val = 0;
            i = j;
        }
    }
}
