/* pprof_intern.c - a table that gives each distinct byte string a dense index (0, 1, 2, ...),
 * the way pprof's string table and its mapping, function and location ids are built, and the
 * way the HTML icicle finds a child node by (parent, name).
 *
 * Open addressing with linear probing over 64-bit FNV-1a hashes; a slot remembers the hash (so
 * most mismatches cost no key comparison) and the key's index. Keys are copied back to back into
 * one buffer; offsets[i] .. offsets[i + 1] delimit key i. The table doubles at half load. */
#include "internal.h"

#include <string.h>

void hg__intern_init(hg__intern_t *t) {
    memset(t, 0, sizeof *t);
    hg_buf_init(&t->keys);
}

void hg__intern_free(hg__intern_t *t) {
    hg_free(t->hashes);
    hg_free(t->slots);
    hg_free(t->offsets);
    hg_buf_free(&t->keys);
    memset(t, 0, sizeof *t);
}

const char *hg__intern_key(const hg__intern_t *t, size_t i, size_t *len) {
    *len = t->offsets[i + 1] - t->offsets[i];
    return t->keys.data + t->offsets[i];
}

static bool same_key(const hg__intern_t *t, size_t i, const void *key, size_t len) {
    size_t klen;
    const char *k = hg__intern_key(t, i, &klen);
    return klen == len && memcmp(k, key, len) == 0;
}

/* The slot holding the key, or the empty slot where it belongs. */
static size_t find_slot(const hg__intern_t *t, uint64_t h, const void *key, size_t len) {
    size_t mask = t->nslots - 1, i = (size_t)h & mask;
    while (t->hashes[i] && !(t->hashes[i] == h && same_key(t, t->slots[i], key, len))) {
        i = (i + 1) & mask;
    }
    return i;
}

static int rehash(hg__intern_t *t) {
    size_t n = t->nslots ? t->nslots * 2 : 64;
    uint64_t *hashes = hg_calloc(n, sizeof *hashes);
    size_t *slots = hg_calloc(n, sizeof *slots);
    if (!hashes || !slots) {
        hg_free(hashes);
        hg_free(slots);
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < t->nslots; i++) {
        size_t j = (size_t)t->hashes[i] & (n - 1);
        while (t->hashes[i] && hashes[j]) {
            j = (j + 1) & (n - 1);
        }
        if (t->hashes[i]) {
            hashes[j] = t->hashes[i];
            slots[j] = t->slots[i];
        }
    }
    hg_free(t->hashes);
    hg_free(t->slots);
    t->hashes = hashes;
    t->slots = slots;
    t->nslots = n;
    return 0;
}

/* Room for one more key: offsets, and a table at most half full. */
static int make_room(hg__intern_t *t) {
    if (t->n + 1 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        size_t *offsets = hg_realloc(t->offsets, (cap + 1) * sizeof *offsets);
        if (!offsets) {
            return HG_ENOMEM;
        }
        offsets[0] = t->offsets ? offsets[0] : 0;
        t->offsets = offsets;
        t->cap = cap;
    }
    return (t->n + 1) * 2 > t->nslots ? rehash(t) : 0;
}

size_t hg__intern(hg__intern_t *t, const void *key, size_t len, bool *added) {
    uint64_t h = hg_fnv1a(HG_FNV_INIT, key, len) | 1;
    *added = false;
    if (t->nslots) {
        size_t i = find_slot(t, h, key, len);
        if (t->hashes[i]) {
            return t->slots[i];
        }
    }
    if (make_room(t) != 0) {
        return SIZE_MAX;
    }
    hg_buf_append(&t->keys, key, len);
    if (t->keys.failed) {
        return SIZE_MAX;
    }
    size_t i = find_slot(t, h, key, len);
    t->hashes[i] = h;
    t->slots[i] = t->n;
    t->offsets[t->n + 1] = t->keys.len;
    *added = true;
    return t->n++;
}
