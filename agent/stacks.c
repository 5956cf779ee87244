/* stacks.c - per-process stack deduplication: each distinct stack gets an id and is sent once
 * (a STACK record before the first event that uses it). The table keeps only a 64-bit hash of
 * the frames and the id (16 bytes per stack), open addressing with linear probing, in mmapped
 * memory that doubles from 64 Ki to 1 Mi slots. When it is full it is cleared and stacks seen
 * again are sent again under new ids (heapgate interns frames, so sites are not split): the
 * agent's memory stays bounded however many distinct stacks a program makes. Two distinct
 * stacks with the same hash would share an id: with n stacks the chance is about n^2 / 2^65
 * (1e-8 for a million stacks). Called under the recording lock. */
#include "agent.h"

#include <sys/mman.h>

typedef struct slot {
    uint64_t hash; /* 0 = empty */
    uint32_t id;
    uint32_t pad;
} slot_t;

#define MIN_SLOTS (UINT32_C(1) << 16)
#define MAX_SLOTS (UINT32_C(1) << 20)

static slot_t *table;
static uint32_t nslots, used, next_id = 1;

static slot_t *map_slots(uint32_t n) {
    void *p = mmap(NULL, (size_t)n * sizeof(slot_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void unmap_slots(slot_t *t, uint32_t n) {
    if (t) {
        munmap(t, (size_t)n * sizeof(slot_t));
    }
}

static uint64_t hash_frames(const hg__stack_t *st) {
    uint64_t h = 0x9E3779B97F4A7C15u ^ st->n;
    for (uint32_t i = 0; i < st->n; i++) {
        h = (h ^ st->frames[i]) * 0xbf58476d1ce4e5b9u;
        h ^= h >> 31;
    }
    h ^= h >> 29;
    return h ? h : 1;
}

static slot_t *probe(slot_t *t, uint32_t n, uint64_t hash) {
    uint32_t mask = n - 1;
    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
        if (t[i].hash == hash || t[i].hash == 0) {
            return &t[i];
        }
    }
}

/* Doubles the table, or clears it at its largest size. False when no memory. */
static bool grow(void) {
    uint32_t n = nslots ? nslots * 2 : MIN_SLOTS;
    if (n > MAX_SLOTS) {
        unmap_slots(table, nslots);
        table = NULL;
        nslots = used = 0;
        n = MIN_SLOTS;
    }
    slot_t *t = map_slots(n);
    if (!t) {
        return false;
    }
    for (uint32_t i = 0; i < nslots; i++) {
        if (table[i].hash) {
            *probe(t, n, table[i].hash) = table[i];
        }
    }
    unmap_slots(table, nslots);
    table = t;
    nslots = n;
    return true;
}

uint32_t hg__stacks_id(const hg__stack_t *st, bool *is_new) {
    *is_new = false;
    if ((used + 1) * 2 > nslots && !grow()) {
        return 0;
    }
    uint64_t h = hash_frames(st);
    slot_t *s = probe(table, nslots, h);
    if (s->hash == h) {
        return s->id;
    }
    s->hash = h;
    s->id = next_id++;
    used++;
    *is_new = true;
    return s->id;
}

void hg__stacks_reset(void) {
    unmap_slots(table, nslots);
    table = NULL;
    nslots = used = 0;
    next_id = 1;
}
