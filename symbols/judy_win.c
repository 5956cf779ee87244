/* judy_win.c - the Judy API subset of win/Judy.h for builds without libJudy (mingw-w64).
 *
 * JudyL: entries (key, value) in insertion order, found through an open-addressing hash table
 * of entry numbers; the ascending walks use an array of entry numbers sorted on the first walk
 * after an insertion (the symbolizer inserts in bursts and walks modules often, caches once).
 * JudyHS: the same table keyed by a copy of the key bytes. Memory comes from malloc, as Judy's
 * own does; a failed allocation leaves the array as it was and returns PJERR. */
#include "Judy.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    Word_t key, value;
    char *bytes; /* JudyHS: the key's bytes (key holds their length) */
} entry_t;

typedef struct table {
    entry_t *entries;
    size_t n, cap;
    size_t *slots; /* entry number + 1, 0 when empty; a power of two long */
    size_t nslots;
    size_t *sorted; /* entry numbers by ascending key (JudyL) */
    bool sorted_ok;
} table_t;

static uint64_t mix(uint64_t h) { /* splitmix64's finaliser */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static uint64_t hash_bytes(const void *key, size_t len) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h = (h ^ ((const unsigned char *)key)[i]) * 0x100000001b3ULL;
    }
    return mix(h);
}

static uint64_t hash_entry(const entry_t *e) {
    return e->bytes ? hash_bytes(e->bytes, e->key) : mix(e->key);
}

static bool same(const entry_t *e, Word_t key, const void *bytes) {
    if (!bytes) {
        return e->key == key;
    }
    return e->key == key && memcmp(e->bytes, bytes, key) == 0;
}

/* The slot holding the entry (key, bytes), or the empty slot where it would go. */
static size_t *find_slot(const table_t *t, uint64_t h, Word_t key, const void *bytes) {
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (!t->slots[i] || same(&t->entries[t->slots[i] - 1], key, bytes)) {
            return &t->slots[i];
        }
    }
}

static entry_t *lookup(const table_t *t, Word_t key, const void *bytes) {
    if (!t || !t->nslots) {
        return NULL;
    }
    uint64_t h = bytes ? hash_bytes(bytes, key) : mix(key);
    size_t *slot = find_slot(t, h, key, bytes);
    return *slot ? &t->entries[*slot - 1] : NULL;
}

static bool rehash(table_t *t, size_t nslots) {
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) {
        return false;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    for (size_t i = 0; i < t->n; i++) {
        *find_slot(t, hash_entry(&t->entries[i]), t->entries[i].key, t->entries[i].bytes) = i + 1;
    }
    return true;
}

/* Room for one more entry: the entry array and a table at most half full. */
static bool reserve(table_t *t) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        entry_t *grown = realloc(t->entries, cap * sizeof *grown);
        if (!grown) {
            return false;
        }
        t->entries = grown;
        t->cap = cap;
    }
    return (t->n + 1) * 2 <= t->nslots || rehash(t, t->nslots ? t->nslots * 2 : 32);
}

/* Inserts (key, bytes) unless present; the entry, or NULL when out of memory. */
static entry_t *insert(PPvoid_t array, Word_t key, const void *bytes) {
    table_t *t = *array;
    entry_t *e = lookup(t, key, bytes);
    if (e) {
        return e;
    }
    if (!t && !(t = *array = calloc(1, sizeof *t))) {
        return NULL;
    }
    char *copy = bytes ? malloc(key ? key : 1) : NULL;
    if ((bytes && !copy) || !reserve(t)) {
        free(copy);
        return NULL;
    }
    if (copy) {
        memcpy(copy, bytes, key);
    }
    e = &t->entries[t->n];
    *e = (entry_t){key, 0, copy};
    *find_slot(t, hash_entry(e), key, bytes) = ++t->n;
    t->sorted_ok = false;
    return e;
}

static void free_table(PPvoid_t array) {
    table_t *t = *array;
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        free(t->entries[i].bytes);
    }
    free(t->entries);
    free(t->slots);
    free(t->sorted);
    free(t);
    *array = NULL;
}

/* ---- JudyL ------------------------------------------------------------------------------ */

PPvoid_t JudyLGet(Pcvoid_t array, Word_t index, PJError_t err) {
    (void)err;
    entry_t *e = lookup(array, index, NULL);
    return e ? (PPvoid_t)&e->value : NULL;
}

PPvoid_t JudyLIns(PPvoid_t array, Word_t index, PJError_t err) {
    (void)err;
    entry_t *e = insert(array, index, NULL);
    return e ? (PPvoid_t)&e->value : (PPvoid_t)PJERR;
}

static const entry_t *sort_base; /* qsort has no context argument */

static int by_key(const void *a, const void *b) {
    Word_t ka = sort_base[*(const size_t *)a].key, kb = sort_base[*(const size_t *)b].key;
    return ka < kb ? -1 : ka > kb;
}

/* The entries in key order; false when out of memory. */
static bool sorted(table_t *t) {
    if (t->sorted_ok) {
        return true;
    }
    size_t *order = realloc(t->sorted, (t->n ? t->n : 1) * sizeof *order);
    if (!order) {
        return false;
    }
    for (size_t i = 0; i < t->n; i++) {
        order[i] = i;
    }
    sort_base = t->entries;
    qsort(order, t->n, sizeof *order, by_key);
    t->sorted = order;
    t->sorted_ok = true;
    return true;
}

/* Position of the first key > index (strict) or >= index in the sorted order. */
static size_t lower(const table_t *t, Word_t index, bool strict) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        Word_t k = t->entries[t->sorted[mid]].key;
        if (k < index || (strict && k == index)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static PPvoid_t at(table_t *t, size_t pos, Word_t *index) {
    entry_t *e = &t->entries[t->sorted[pos]];
    *index = e->key;
    return (PPvoid_t)&e->value;
}

static PPvoid_t walk(Pcvoid_t array, Word_t *index, int how) {
    table_t *t = (table_t *)array; /* the sort order is a cache: the walk itself changes nothing */
    if (!t || !t->n || !sorted(t)) {
        return NULL;
    }
    if (how < 0) { /* last <= index */
        size_t pos = lower(t, *index, true);
        return pos ? at(t, pos - 1, index) : NULL;
    }
    size_t pos = lower(t, *index, how > 0);
    return pos < t->n ? at(t, pos, index) : NULL;
}

PPvoid_t JudyLFirst(Pcvoid_t array, Word_t *index, PJError_t err) {
    (void)err;
    return walk(array, index, 0);
}

PPvoid_t JudyLNext(Pcvoid_t array, Word_t *index, PJError_t err) {
    (void)err;
    return walk(array, index, 1);
}

PPvoid_t JudyLLast(Pcvoid_t array, Word_t *index, PJError_t err) {
    (void)err;
    return walk(array, index, -1);
}

Word_t JudyLFreeArray(PPvoid_t array, PJError_t err) {
    (void)err;
    free_table(array);
    return 0;
}

/* ---- JudyHS ----------------------------------------------------------------------------- */

PPvoid_t JudyHSGet(Pcvoid_t array, void *key, Word_t len) {
    entry_t *e = lookup(array, len, key ? key : "");
    return e ? (PPvoid_t)&e->value : NULL;
}

PPvoid_t JudyHSIns(PPvoid_t array, void *key, Word_t len, PJError_t err) {
    (void)err;
    entry_t *e = insert(array, len, key ? key : "");
    return e ? (PPvoid_t)&e->value : (PPvoid_t)PJERR;
}

Word_t JudyHSFreeArray(PPvoid_t array, PJError_t err) {
    (void)err;
    free_table(array);
    return 0;
}
