/* stacks.c - stack frames by id, and the interner readers use to give immediate stacks ids.
 *
 * The tracker stores each defined stack once: a JudyL from id to an array holding the frame
 * count and the frames. Definitions may arrive after the events that use the id (late binding):
 * sites aggregate by id and reports look the frames up at the end. A second definition of an
 * id keeps the first. The interner (tracker.h) maps a frame array to a dense id with JudyHS. */
#include "tracker_priv.h"

#include <string.h>

int hg__stacks_define(hg_tracker_t *t, uint32_t id, const uint64_t *frames, uint32_t n) {
    if (id == 0) {
        return 0; /* 0 means "no stack" and cannot be defined */
    }
    if (n > HG_MAX_FRAMES) {
        n = HG_MAX_FRAMES; /* keep the innermost frames */
    }
    PWord_t slot = (PWord_t)JudyLIns(&t->stacks, id, PJE0);
    if (slot == PJERR) {
        return HG_ENOMEM;
    }
    if (*slot) {
        return 0;
    }
    uint64_t *copy = hg_malloc((n + 1) * sizeof *copy);
    if (!copy) {
        JudyLDel(&t->stacks, id, PJE0);
        return HG_ENOMEM;
    }
    copy[0] = n;
    memcpy(copy + 1, frames, n * sizeof *copy);
    *slot = (Word_t)copy;
    t->q.stacks_defined++;
    return 0;
}

void hg__stacks_free(hg_tracker_t *t) {
    Word_t id = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(t->stacks, &id, PJE0); v;
         v = (PWord_t)JudyLNext(t->stacks, &id, PJE0)) {
        hg_free((void *)*v);
    }
    JudyLFreeArray(&t->stacks, PJE0);
}

const uint64_t *hg_tracker_stack(const hg_tracker_t *t, uint32_t stack_id, uint32_t *nframes) {
    PWord_t slot = (PWord_t)JudyLGet(t->stacks, stack_id, PJE0);
    if (!slot) {
        *nframes = 0;
        return NULL;
    }
    const uint64_t *s = (const uint64_t *)*slot;
    *nframes = (uint32_t)s[0];
    return s + 1;
}

/* ---- interner ---------------------------------------------------------------------------- */

struct hg_stack_interner {
    Pvoid_t by_frames; /* JudyHS: frame bytes -> id */
    uint32_t next_id;
};

hg_stack_interner_t *hg_stack_interner_new(void) {
    hg_stack_interner_t *si = hg_calloc(1, sizeof *si);
    if (si) {
        si->next_id = 1;
    }
    return si;
}

void hg_stack_interner_free(hg_stack_interner_t *si) {
    if (si) {
        JudyHSFreeArray(&si->by_frames, PJE0);
        hg_free(si);
    }
}

uint32_t hg_stack_interner_intern(hg_stack_interner_t *si, const uint64_t *frames, uint32_t nframes,
                                  bool *is_new) {
    PWord_t slot =
        (PWord_t)JudyHSIns(&si->by_frames, (void *)frames, (Word_t)nframes * sizeof *frames, PJE0);
    if (slot == PJERR || si->next_id == 0) {
        return 0;
    }
    *is_new = *slot == 0;
    if (*is_new) {
        *slot = si->next_id++;
    }
    return (uint32_t)*slot;
}

uint32_t hg_stack_interner_count(const hg_stack_interner_t *si) {
    return si->next_id - 1;
}
