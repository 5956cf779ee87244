/* etl_stacks.c - stack parts and the stack ids the sink sees (docs/etw-format.md §3.1, §3.2).
 *
 * A part is one piece of a stack: the frames of a StackWalk Stack event (known at once), or the
 * current generation of a stack key (known when a KeyDelete or KeyRundown defines it, which may
 * be at the end of the trace). Kernel and user keys live in separate tables, since they may
 * collide; a definition's generation ends with it, so a later reference to the same key starts a
 * new one. Parts with the same frames share storage: a definition's frames are interned and the
 * generation becomes an alias of the interned part.
 *
 * An event's stack is a (kernel part, user part) pair; each distinct pair gets a stack id, dense
 * from 1 (the order in which events asked). A pair whose parts are all known is defined through
 * the sink at once; otherwise it waits on its unknown parts (a list threaded through the pairs)
 * and is defined when the last one arrives: the late-bound stack ids of ARCHITECTURE.md. Frames
 * go innermost first: the kernel part, then the user part, cut to HG_MAX_FRAMES.
 *
 * Memory grows with distinct stacks and key generations, not with events. */
#include "etl_priv.h"

#include <string.h>

typedef struct part {
    uint64_t off; /* frames at s->frames[off..off + n) */
    uint32_t n;
    uint32_t alias;   /* a key generation: the interned part holding its frames (0 = own) */
    uint32_t waiters; /* first pair waiting on this part: (pair index << 1 | slot) + 1 */
    bool defined;
} part_t;

typedef struct pair {
    uint32_t part[2]; /* kernel part, user part (0 = none) */
    uint32_t next[2]; /* next waiter on part[slot], encoded as part_t.waiters */
    uint8_t missing;  /* parts not yet defined */
} pair_t;

struct hg__etl_stacks {
    hg_sink_t sink;
    part_t *parts;
    uint32_t nparts, capparts;
    uint64_t *frames;
    uint64_t nframes, capframes;
    pair_t *pairs;
    uint32_t npairs, cappairs;
    hg__map_t by_hash;  /* frames hash -> part id */
    hg__map_t keys[2];  /* [0] kernel, [1] user: stack key -> part id */
    hg__map_t pair_ids; /* (kernel part << 32 | user part) -> stack id */
    struct {
        uint64_t hash;
        uint32_t id;
    } recent_parts[256]; /* a direct-mapped cache of by_hash */
    struct {
        uint64_t key;
        uint32_t id;
    } recent[256]; /* a direct-mapped cache of pair_ids: heap traces repeat few stacks */
    uint64_t scratch[HG_MAX_FRAMES];
};

hg__etl_stacks_t *hg__etl_stacks_new(hg_sink_t sink) {
    hg__etl_stacks_t *s = hg_calloc(1, sizeof *s);
    if (s) {
        s->sink = sink;
    }
    return s;
}

void hg__etl_stacks_free(hg__etl_stacks_t *s) {
    if (!s) {
        return;
    }
    hg_free(s->parts);
    hg_free(s->frames);
    hg_free(s->pairs);
    hg__map_free(&s->by_hash);
    hg__map_free(&s->keys[0]);
    hg__map_free(&s->keys[1]);
    hg__map_free(&s->pair_ids);
    hg_free(s);
}

uint32_t hg__etl_stacks_count(const hg__etl_stacks_t *s) {
    return s->npairs;
}

/* v (of *cap elements of size each) grown to hold need elements; NULL when out of memory (v is
 * then unchanged). */
static void *reserve(void *v, uint64_t *cap, uint64_t need, size_t each) {
    if (need <= *cap) {
        return v;
    }
    uint64_t n = *cap ? *cap * 2 : 256;
    n = n < need ? need : n;
    void *p = hg_realloc(v, (size_t)n * each);
    *cap = p ? n : *cap;
    return p;
}

static uint32_t new_part(hg__etl_stacks_t *s) {
    uint64_t cap = s->capparts;
    part_t *v = s->nparts < UINT32_MAX - 1
                    ? reserve(s->parts, &cap, s->nparts + 1ull, sizeof *s->parts)
                    : NULL;
    if (!v) {
        return 0;
    }
    s->parts = v;
    s->capparts = (uint32_t)cap;
    s->parts[s->nparts] = (part_t){0};
    return ++s->nparts;
}

static part_t *part_of(hg__etl_stacks_t *s, uint32_t id) {
    return &s->parts[id - 1];
}

/* The part holding id's frames (itself, or the interned part of a key generation). */
static const part_t *frames_part(hg__etl_stacks_t *s, uint32_t id) {
    const part_t *p = part_of(s, id);
    return p->alias ? part_of(s, p->alias) : p;
}

static uint64_t hash_frames(const uint64_t *f, uint32_t n) {
    uint64_t h = n;
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ f[i]) * UINT64_C(0x100000001b3);
        h ^= h >> 29;
    }
    return hg__map_hash(h);
}

static bool same_frames(hg__etl_stacks_t *s, uint32_t id, const uint64_t *f, uint32_t n) {
    const part_t *p = part_of(s, id);
    const uint64_t *g = s->frames + p->off;
    uint64_t diff = p->n ^ n;
    for (uint32_t i = 0; i < n && !diff && i < p->n; i++) {
        diff |= g[i] ^ f[i]; /* short arrays: a loop beats a memcmp call */
    }
    return diff == 0;
}

static uint32_t add_frames_part(hg__etl_stacks_t *s, const uint64_t *f, uint32_t n) {
    uint32_t id = new_part(s);
    uint64_t *v = id ? reserve(s->frames, &s->capframes, s->nframes + n, sizeof *f) : NULL;
    if (!v) {
        return 0;
    }
    s->frames = v;
    part_t *p = part_of(s, id);
    p->off = s->nframes;
    p->n = n;
    p->defined = true;
    memcpy(s->frames + s->nframes, f, n * sizeof *f);
    s->nframes += n;
    return id;
}

uint32_t hg__etl_stacks_frames(hg__etl_stacks_t *s, const uint64_t *frames, uint32_t n) {
    uint64_t h = hash_frames(frames, n), found;
    size_t slot = (size_t)(h & 255);
    if (s->recent_parts[slot].id && s->recent_parts[slot].hash == h &&
        same_frames(s, s->recent_parts[slot].id, frames, n)) {
        return s->recent_parts[slot].id;
    }
    bool known = hg__map_get(&s->by_hash, h, &found);
    if (known) {
        s->recent_parts[slot].hash = h;
        s->recent_parts[slot].id = (uint32_t)found;
    }
    if (known && same_frames(s, (uint32_t)found, frames, n)) {
        return (uint32_t)found;
    }
    uint32_t id = add_frames_part(s, frames, n);
    if (id && !known && hg__map_put(&s->by_hash, h, id) != 0) {
        return 0;
    }
    return id; /* a hash collision keeps its own unshared part */
}

uint32_t hg__etl_stacks_key_ref(hg__etl_stacks_t *s, bool kernel, uint64_t key) {
    hg__map_t *m = &s->keys[kernel ? 0 : 1];
    uint64_t id;
    if (hg__map_get(m, key, &id)) {
        return (uint32_t)id;
    }
    uint32_t part = new_part(s);
    return part && hg__map_put(m, key, part) == 0 ? part : 0;
}

/* ---- pairs -------------------------------------------------------------------------------- */

static int define_pair(hg__etl_stacks_t *s, uint32_t index) {
    const pair_t *pr = &s->pairs[index];
    uint32_t n = 0;
    for (int k = 0; k < 2; k++) {
        if (pr->part[k]) {
            const part_t *p = frames_part(s, pr->part[k]);
            uint32_t take = p->n < HG_MAX_FRAMES - n ? p->n : HG_MAX_FRAMES - n;
            memcpy(s->scratch + n, s->frames + p->off, take * sizeof *s->scratch);
            n += take;
        }
    }
    const hg_sink_ops_t *ops = s->sink.ops;
    return ops->stack ? ops->stack(s->sink.ctx, index + 1, s->scratch, n) : 0;
}

/* Part id was just defined: pairs waiting on it that are now whole get defined. */
static int wake_waiters(hg__etl_stacks_t *s, uint32_t id) {
    uint32_t w = part_of(s, id)->waiters;
    part_of(s, id)->waiters = 0;
    while (w) {
        uint32_t index = (w - 1) >> 1, slot = (w - 1) & 1;
        pair_t *pr = &s->pairs[index];
        w = pr->next[slot];
        if (--pr->missing == 0) {
            int rc = define_pair(s, index);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

int hg__etl_stacks_key_def(hg__etl_stacks_t *s, bool kernel, uint64_t key, const uint64_t *frames,
                           uint32_t n) {
    hg__map_t *m = &s->keys[kernel ? 0 : 1];
    uint64_t id;
    if (!hg__map_get(m, key, &id)) {
        return 0; /* never referenced: nothing waits for it */
    }
    hg__map_del(m, key); /* this generation ends; the key may be reused */
    uint32_t interned = hg__etl_stacks_frames(s, frames, n);
    if (!interned) {
        return HG_ENOMEM;
    }
    part_t *p = part_of(s, (uint32_t)id);
    p->alias = interned;
    p->defined = true;
    return wake_waiters(s, (uint32_t)id);
}

static uint32_t new_pair(hg__etl_stacks_t *s, uint32_t part_k, uint32_t part_u) {
    uint64_t cap = s->cappairs;
    pair_t *v = s->npairs < UINT32_MAX - 1
                    ? reserve(s->pairs, &cap, s->npairs + 1ull, sizeof *s->pairs)
                    : NULL;
    if (!v) {
        return 0;
    }
    s->pairs = v;
    s->cappairs = (uint32_t)cap;
    uint32_t index = s->npairs++;
    pair_t *pr = &s->pairs[index];
    *pr = (pair_t){.part = {part_k, part_u}};
    for (uint32_t k = 0; k < 2; k++) {
        part_t *p = pr->part[k] ? part_of(s, pr->part[k]) : NULL;
        if (p && !p->defined) {
            pr->next[k] = p->waiters;
            p->waiters = (index << 1 | k) + 1;
            pr->missing++;
        }
    }
    return index + 1;
}

int hg__etl_stacks_id(hg__etl_stacks_t *s, uint32_t part_k, uint32_t part_u, uint32_t *id) {
    *id = 0;
    if (!part_k && !part_u) {
        return 0;
    }
    uint64_t key = (uint64_t)part_k << 32 | part_u, found;
    size_t slot = (size_t)(hg__map_hash(key) & 255);
    if (s->recent[slot].id && s->recent[slot].key == key) {
        *id = s->recent[slot].id;
        return 0;
    }
    if (hg__map_get(&s->pair_ids, key, &found)) {
        s->recent[slot].key = key;
        s->recent[slot].id = *id = (uint32_t)found;
        return 0;
    }
    uint32_t pid = new_pair(s, part_k, part_u);
    if (!pid || hg__map_put(&s->pair_ids, key, pid) != 0) {
        return HG_ENOMEM;
    }
    *id = pid;
    return s->pairs[pid - 1].missing ? 0 : define_pair(s, pid - 1);
}
