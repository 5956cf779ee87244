/* timeline.c - samples of every heap at regular intervals, bounded in number.
 *
 * Samples sit on a grid of the interval: the first event at or after a grid time triggers a
 * sample labelled with that grid time (the state before the event is the state at that time).
 * The interval starts from the trace's duration hint (duration / max samples) or 1 ms, and
 * doubles whenever more than max_samples distinct times are kept, keeping the samples on the
 * coarser grid: evenly spaced over however long the trace runs, in bounded memory.
 * Live figures are maintained per event and always exact; the walk that measures span and holes
 * (frag.c) runs at a sample only when the events since the last walk at least equal the live
 * blocks to visit, so walking never costs more than one block visit per event. */
#include "tracker_priv.h"

#include <string.h>

#define DEFAULT_FIRST_INTERVAL_NS UINT64_C(1000000) /* 1 ms */

void hg__timeline_free(hg__timeline_t *tl) {
    hg_free(tl->v);
    hg_free(tl->stats);
    memset(tl, 0, sizeof *tl);
}

static hg_sample_t *append(hg__timeline_t *tl) {
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 256;
        hg_sample_t *v = hg_realloc(tl->v, cap * sizeof *v);
        if (!v) {
            return NULL;
        }
        tl->v = v;
        tl->cap = cap;
    }
    hg_sample_t *s = &tl->v[tl->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static bool sampled(const hg__process_t *p) {
    return !p->ended && !p->ignored && p->heaps.n > 0;
}

static int add_row(hg__timeline_t *tl, const hg__process_t *p, uint32_t hi, uint64_t ts_ns,
                   const hg_frag_t *f) {
    const hg__heap_t *h = &p->heaps.v[hi];
    hg_sample_t *s = append(tl);
    if (!s) {
        return HG_ENOMEM;
    }
    s->ts_ns = ts_ns;
    s->process = p->index;
    s->heap = hi;
    s->live_bytes = h->live_bytes;
    s->live_blocks = h->live_blocks;
    s->allocs_total = h->allocs;
    s->slow_allocs_total = h->slow_allocs;
    if (f) {
        s->measured = true;
        s->span_bytes = f->span_bytes;
        s->free_bytes = f->free_bytes;
        s->largest_hole = f->largest_hole;
        s->external = f->external;
    }
    return 0;
}

static int sample_process(hg_tracker_t *t, hg__process_t *p, uint64_t ts_ns, bool measure) {
    hg_frag_t *f = measure ? hg_calloc(p->heaps.n, sizeof *f) : NULL;
    int rc = (measure && !f) ? HG_ENOMEM : 0;
    if (!rc && f) {
        rc = hg__frag_compute(t, p, f, false, ts_ns);
    }
    for (uint32_t hi = 0; !rc && hi < p->heaps.n; hi++) {
        if (p->heaps.v[hi].destroyed) {
            continue;
        }
        if (f) {
            hg__heap_note_measure(&p->heaps.v[hi], &f[hi]);
        }
        rc = add_row(&t->timeline, p, hi, ts_ns, f ? &f[hi] : NULL);
    }
    hg_free(f);
    return rc;
}

static uint64_t live_to_walk(const hg_tracker_t *t) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < t->nprocs; i++) {
        if (sampled(t->procs[i])) {
            n += t->procs[i]->live.count;
        }
    }
    return n;
}

static int take(hg_tracker_t *t, uint64_t ts_ns, bool force_measure) {
    hg__timeline_t *tl = &t->timeline;
    bool measure = force_measure || tl->events_since_walk >= live_to_walk(t);
    if (measure) {
        tl->events_since_walk = 0;
    }
    for (uint32_t i = 0; i < t->nprocs; i++) {
        if (sampled(t->procs[i])) {
            int rc = sample_process(t, t->procs[i], ts_ns, measure);
            if (rc) {
                return rc;
            }
        }
    }
    tl->times++;
    return 0;
}

/* Doubles the interval and keeps the samples on its grid (times that are multiples of it):
 * about every other one, and the kept ones stay evenly spaced. */
static void thin(hg__timeline_t *tl) {
    tl->interval_ns *= 2;
    size_t kept = 0;
    uint32_t times = 0;
    for (size_t i = 0; i < tl->n; i++) {
        if (tl->v[i].ts_ns % tl->interval_ns == 0) {
            times += kept == 0 || tl->v[kept - 1].ts_ns != tl->v[i].ts_ns;
            tl->v[kept++] = tl->v[i];
        }
    }
    tl->n = kept;
    tl->times = times;
}

static void start(hg_tracker_t *t) {
    hg__timeline_t *tl = &t->timeline;
    uint64_t from_hint = t->duration_hint_ns / (t->opt.max_samples ? t->opt.max_samples : 1);
    tl->interval_ns = t->opt.sample_interval_ns ? t->opt.sample_interval_ns
                      : from_hint               ? from_hint
                                                : DEFAULT_FIRST_INTERVAL_NS;
    tl->next_ns = tl->interval_ns;
}

int hg__timeline_tick(hg_tracker_t *t, uint64_t ts_ns) {
    hg__timeline_t *tl = &t->timeline;
    tl->events_since_walk++;
    if (tl->interval_ns == 0) {
        start(t);
    }
    if (ts_ns < tl->next_ns) {
        return 0;
    }
    /* the state before this event is the state at the last grid time it passed */
    int rc = take(t, ts_ns / tl->interval_ns * tl->interval_ns, false);
    while (tl->times > t->opt.max_samples) {
        thin(tl);
    }
    tl->next_ns = (ts_ns / tl->interval_ns + 1) * tl->interval_ns;
    return rc;
}

int hg__timeline_final(hg_tracker_t *t, uint64_t ts_ns) {
    hg__timeline_t *tl = &t->timeline;
    if (tl->n && tl->v[tl->n - 1].ts_ns == ts_ns) {
        tl->n--; /* replaced by the final, measured sample */
        while (tl->n && tl->v[tl->n - 1].ts_ns == ts_ns) {
            tl->n--;
        }
        tl->times--;
    }
    return take(t, ts_ns, true);
}

int hg__timeline_add_stats(hg_tracker_t *t, uint32_t process, const hg_alloc_stats_t *st) {
    hg__timeline_t *tl = &t->timeline;
    if (tl->nstats == tl->capstats) {
        if (tl->nstats >= 4u * t->opt.max_samples) {
            size_t kept = 0;
            for (size_t i = 0; i < tl->nstats; i += 2) {
                tl->stats[kept++] = tl->stats[i];
            }
            tl->nstats = kept;
        } else {
            size_t cap = tl->capstats ? tl->capstats * 2 : 64;
            hg_stats_sample_t *v = hg_realloc(tl->stats, cap * sizeof *v);
            if (!v) {
                return HG_ENOMEM;
            }
            tl->stats = v;
            tl->capstats = cap;
        }
    }
    tl->stats[tl->nstats].process = process;
    tl->stats[tl->nstats].stats = *st;
    tl->nstats++;
    return 0;
}
