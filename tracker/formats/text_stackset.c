/* text_stackset.c - open-addressing hash set of stack ids (linear probing, at most half full),
 * each with the line that defined it. Memory grows with distinct stacks, never with events. */
#include "text_stackset.h"

#include "base.h"

#define MIN_CAP 64

void hg__text_stackset_init(hg__text_stackset_t *s) {
    s->ids = NULL;
    s->lines = NULL;
    s->cap = 0;
    s->count = 0;
}

void hg__text_stackset_free(hg__text_stackset_t *s) {
    hg_free(s->ids);
    hg_free(s->lines);
    hg__text_stackset_init(s);
}

/* Fibonacci hashing: the product's high bits spread dense ids over the table. */
static size_t slot_of(uint32_t id, size_t cap) {
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static size_t find_slot(const hg__text_stackset_t *s, uint32_t id) {
    size_t i = slot_of(id, s->cap);
    while (s->ids[i] && s->ids[i] != id) {
        i = (i + 1) & (s->cap - 1);
    }
    return i;
}

static int grow(hg__text_stackset_t *s) {
    size_t cap = s->cap ? s->cap * 2 : MIN_CAP;
    hg__text_stackset_t n = {hg_calloc(cap, sizeof *n.ids), hg_malloc(cap * sizeof *n.lines), cap,
                             s->count};
    if (!n.ids || !n.lines) {
        hg__text_stackset_free(&n);
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->ids[i]) {
            size_t j = find_slot(&n, s->ids[i]);
            n.ids[j] = s->ids[i];
            n.lines[j] = s->lines[i];
        }
    }
    hg__text_stackset_free(s);
    *s = n;
    return 0;
}

int hg__text_stackset_add(hg__text_stackset_t *s, uint32_t id, uint64_t line, uint64_t *prev_line) {
    if ((s->count + 1) * 2 > s->cap && grow(s) < 0) {
        return HG_ENOMEM;
    }
    size_t i = find_slot(s, id);
    if (s->ids[i]) {
        *prev_line = s->lines[i];
        return 0;
    }
    s->ids[i] = id;
    s->lines[i] = line;
    s->count++;
    return 1;
}
