/* threads.c - groups a moving realloc with its own alloc/free companions.
 *
 * heap-semantics.md §3: a HeapRealloc whose new address differs from the old may come with its
 * own HeapAlloc(new) and/or HeapFree(old) from the same thread, next to it in that thread's
 * event order; the group is one operation. Each thread (a direct-mapped slot by thread id)
 * remembers its last two alloc/free events, so a realloc can see companions that came before
 * it, and the companions a realloc still expects, for its next two events. An address that
 * changes hands in between (freed and allocated again, as glibc does at once) is no companion:
 * only the newest event at an address counts. Two threads whose ids share a slot may miss a
 * grouping: the companion then counts as an event of its own. */
#include "tracker_priv.h"

#include <string.h>

#define COMPANION_WINDOW 2 /* events of the same thread that may still belong to a realloc */

void hg__threads_free(hg__threads_t *th) {
    hg_free(th->slots);
    th->slots = NULL;
}

static hg__thread_slot_t *slot_for(hg__threads_t *th, uint32_t tid, bool create) {
    if (!th->slots) {
        if (!create) {
            return NULL;
        }
        th->slots = hg_calloc(HG__THREAD_SLOTS, sizeof *th->slots);
        if (!th->slots) {
            return NULL;
        }
    }
    hg__thread_slot_t *s = &th->slots[(tid * 2654435761u) >> 24];
    if (!s->used || s->tid != tid) {
        if (!create) {
            return NULL;
        }
        memset(s, 0, sizeof *s);
        s->used = true;
        s->tid = tid;
    }
    return s;
}

static void remember(hg__thread_slot_t *s, uint8_t kind, uint64_t addr) {
    s->recent_kind[1] = s->recent_kind[0];
    s->recent_addr[1] = s->recent_addr[0];
    s->recent_kind[0] = kind;
    s->recent_addr[0] = addr;
}

/* Whether an alloc/free at addr is a companion the last realloc still expects. An address that
 * changes hands first (the realloc's new block freed, its old address allocated again) expects
 * nothing more: the event after that is the program's own. */
static bool take_pending(hg__thread_slot_t *s, uint8_t kind, uint64_t addr) {
    uint64_t *same = kind == HG_EV_ALLOC ? &s->pending_alloc : &s->pending_free;
    uint64_t *other = kind == HG_EV_ALLOC ? &s->pending_free : &s->pending_alloc;
    if (*same && *same == addr) {
        *same = 0;
        return true;
    }
    if (*other == addr) {
        *other = 0;
    }
    return false;
}

bool hg__threads_companion(hg__threads_t *th, uint32_t tid, uint8_t kind, uint64_t addr) {
    hg__thread_slot_t *s = slot_for(th, tid, true);
    if (!s) {
        return false; /* out of memory: no grouping, every event counts on its own */
    }
    bool companion = false;
    if (s->pending_ttl) {
        companion = take_pending(s, kind, addr);
        if (--s->pending_ttl == 0) {
            s->pending_alloc = s->pending_free = 0;
        }
    }
    remember(s, companion ? 0 : kind, addr);
    return companion;
}

/* Whether the thread's newest recent event at addr is of kind. Only the newest counts: a free
 * followed by an alloc of the same address (glibc hands a freed chunk straight back) left a
 * live block there, which a later realloc of that address really ends. */
static bool seen_before(const hg__thread_slot_t *s, uint8_t kind, uint64_t addr) {
    for (int i = 0; i < COMPANION_WINDOW; i++) {
        if (s->recent_kind[i] && s->recent_addr[i] == addr) {
            return s->recent_kind[i] == kind;
        }
    }
    return false;
}

int hg__threads_realloc(hg__threads_t *th, uint32_t tid, uint64_t old_addr, uint64_t new_addr,
                        hg__realloc_group_t *out) {
    hg__thread_slot_t *s = slot_for(th, tid, true);
    if (!s) {
        return HG_ENOMEM;
    }
    out->alloc_seen = seen_before(s, HG_EV_ALLOC, new_addr);
    out->free_seen = seen_before(s, HG_EV_FREE, old_addr);
    s->pending_alloc = out->alloc_seen ? 0 : new_addr;
    s->pending_free = out->free_seen ? 0 : old_addr;
    s->pending_ttl = COMPANION_WINDOW;
    s->recent_kind[0] = s->recent_kind[1] = 0;
    return 0;
}
