/* results.c - reading the tracker's results after hg_tracker_finish: processes (only those not
 * filtered out, renumbered 0..count-1), their sites, heaps with fragmentation, anomalies and
 * lifetime classes; trace quality; timeline; the tracker's own memory. */
#include "tracker_priv.h"

#include <string.h>

static const char *growth_signal(const hg_tracker_t *t, const hg__process_t *p, uint32_t hi);

const hg_trace_quality_t *hg_tracker_quality(const hg_tracker_t *t) {
    return &t->q;
}

size_t hg_tracker_process_count(const hg_tracker_t *t) {
    return t->nvisible;
}

static const hg__process_t *visible(const hg_tracker_t *t, size_t i) {
    return i < t->nvisible ? t->procs[t->visible[i]] : NULL;
}

static hg_totals_t process_totals(const hg__process_t *p) {
    hg_totals_t tot;
    memset(&tot, 0, sizeof tot);
    for (uint32_t i = 0; i < p->sites.n; i++) {
        const hg__site_t *s = &p->sites.v[i];
        if (p->ended) {
            tot.leaked_bytes += s->live_bytes;
            tot.leaked_blocks += s->live_blocks;
        } else {
            tot.outstanding_bytes += s->live_bytes;
            tot.outstanding_blocks += s->live_blocks;
        }
        tot.released_bytes += s->released_bytes;
        tot.released_blocks += s->released_blocks;
    }
    return tot;
}

void hg_tracker_process(const hg_tracker_t *t, size_t i, hg_process_summary_t *out) {
    const hg__process_t *p = visible(t, i);
    memset(out, 0, sizeof *out);
    if (!p) {
        return;
    }
    out->index = (uint32_t)i;
    out->pid = p->pid;
    out->parent_pid = p->parent_pid;
    out->instance = p->instance;
    out->name = p->name;
    out->cmdline = p->cmdline;
    out->pointer_size = hg__process_ptr(t, p);
    out->allocator = p->allocator;
    out->traced_from_start = p->traced_from_start;
    out->ended = p->ended;
    out->start_ts_ns = p->start_ts_ns;
    out->end_ts_ns = p->ended ? p->end_ts_ns : t->last_ts_ns;
    out->totals = process_totals(p);
    out->allocs = p->allocs;
    out->reallocs = p->reallocs;
    out->frees = p->frees;
    out->alloc_bytes = p->alloc_bytes;
    out->peak_live_bytes = p->peak_live_bytes;
    out->peak_live_ts_ns = p->peak_live_ts_ns;
    out->heaps = p->heaps.n;
    out->sites = p->sites.n;
    out->anomalies = p->anomalies.count;
}

hg_totals_t hg_tracker_totals(const hg_tracker_t *t) {
    hg_totals_t sum;
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i < t->nvisible; i++) {
        hg_totals_t p = process_totals(visible(t, i));
        sum.leaked_bytes += p.leaked_bytes;
        sum.leaked_blocks += p.leaked_blocks;
        sum.outstanding_bytes += p.outstanding_bytes;
        sum.outstanding_blocks += p.outstanding_blocks;
        sum.released_bytes += p.released_bytes;
        sum.released_blocks += p.released_blocks;
    }
    return sum;
}

int hg_tracker_visit_sites(const hg_tracker_t *t, size_t process, hg_site_cb cb, void *ud) {
    const hg__process_t *p = visible(t, process);
    for (uint32_t i = 0; p && i < p->sites.n; i++) {
        const hg__site_t *s = &p->sites.v[i];
        hg_site_stats_t out = {
            .stack_id = s->stack_id,
            .live_blocks = s->live_blocks,
            .live_bytes = s->live_bytes,
            .released_blocks = s->released_blocks,
            .released_bytes = s->released_bytes,
            .allocs = s->allocs,
            .alloc_bytes = s->alloc_bytes,
            .peak_live_bytes = s->peak_live_bytes,
            .first_ts_ns = s->first_ts_ns,
            .last_ts_ns = s->last_ts_ns,
            .aifo_blocks = s->aifo_blocks,
            .aifo_bytes = s->aifo_bytes,
        };
        int rc = cb(ud, &out);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

static void heap_summary(const hg_tracker_t *t, const hg__process_t *p, uint32_t hi,
                         hg_heap_summary_t *out) {
    const hg__heap_t *h = &p->heaps.v[hi];
    memset(out, 0, sizeof *out);
    out->index = hi;
    out->handle = h->handle;
    out->created_in_trace = h->created_in_trace;
    out->destroyed = h->destroyed;
    out->create_ts_ns = h->create_ts_ns;
    out->destroy_ts_ns = h->destroy_ts_ns;
    out->allocs = h->allocs;
    out->frees = h->frees;
    out->alloc_bytes = h->alloc_bytes;
    out->peak_live_bytes = h->peak_live_bytes;
    out->peak_live_ts_ns = h->peak_live_ts_ns;
    out->peak_live_blocks = h->peak_live_blocks;
    out->max_span_bytes = h->max_span_bytes;
    /* both maxima over the same walks: the exact live peak may fall between walks */
    out->peak_ratio =
        h->max_measured_live ? (double)h->max_span_bytes / (double)h->max_measured_live - 1.0 : 0;
    memcpy(out->source_allocs, h->source_allocs, sizeof out->source_allocs);
    out->growth_signal = growth_signal(t, p, hi);
    out->frag = h->final;
}

int hg_tracker_visit_heaps(const hg_tracker_t *t, size_t process, hg_heap_cb cb, void *ud) {
    const hg__process_t *p = visible(t, process);
    for (uint32_t i = 0; p && i < p->heaps.n; i++) {
        hg_heap_summary_t out;
        heap_summary(t, p, i, &out);
        int rc = cb(ud, &out);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

int hg_tracker_visit_anomalies(const hg_tracker_t *t, size_t process, hg_anomaly_cb cb, void *ud) {
    const hg__process_t *p = visible(t, process);
    Word_t key = 0;
    for (PWord_t v = p ? (PWord_t)JudyLFirst(p->anomalies.by_key, &key, PJE0) : NULL; v;
         v = (PWord_t)JudyLNext(p->anomalies.by_key, &key, PJE0)) {
        int rc = cb(ud, (const hg_anomaly_t *)*v);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

void hg_tracker_lifetime(const hg_tracker_t *t, size_t process, hg_lifetime_t *out) {
    const hg__process_t *p = visible(t, process);
    memset(out, 0, sizeof *out);
    out->enabled = t->opt.window;
    out->t0_ns = t->opt.window_t0_ns;
    out->t1_ns = t->opt.window_t1_ns;
    if (!p || !t->opt.window) {
        return;
    }
    const hg__lifetime_t *l = &p->lifetime;
    out->aifi_blocks = l->aifi_blocks;
    out->aifi_bytes = l->aifi_bytes;
    out->aifo_blocks = l->aifo_blocks;
    out->aifo_bytes = l->aifo_bytes;
    out->aofi_blocks = l->aofi_blocks;
    out->aofi_bytes = l->aofi_bytes;
    out->aofo_blocks = l->aofo_blocks;
    out->aofo_bytes = l->aofo_bytes;
    out->impacting_bytes = (int64_t)l->aifo_bytes - (int64_t)l->aofi_bytes;
}

const hg_sample_t *hg_tracker_samples(const hg_tracker_t *t, size_t *count) {
    *count = t->timeline.n;
    return t->timeline.v;
}

const hg_stats_sample_t *hg_tracker_stats_samples(const hg_tracker_t *t, size_t *count) {
    *count = t->timeline.nstats;
    return t->timeline.stats;
}

uint64_t hg_tracker_memory_bytes(const hg_tracker_t *t) {
    uint64_t judy = (uint64_t)JudyLMemUsed(t->stacks) + (uint64_t)JudyLMemUsed(t->by_pid);
    for (uint32_t i = 0; i < t->nprocs; i++) {
        const hg__process_t *p = t->procs[i];
        judy += (uint64_t)JudyLMemUsed(p->live.judy);
        judy += (uint64_t)JudyLMemUsed(p->heaps.by_handle) +
                (uint64_t)JudyLMemUsed(p->anomalies.by_key);
    }
    return hg_mem_stats().live_bytes + judy;
}

/* ---- growth signal (heap-semantics.md §4 item 9) ------------------------------------------ */

#define GROWTH_MIN 0.20 /* a figure grew when it rose by more than 20 % */
#define FLAT_MAX   0.05 /* ... and stayed flat within 5 % */

/* The heap's measured samples at about the middle and at the end of its timeline. */
static bool mid_and_end(const hg_tracker_t *t, const hg__process_t *p, uint32_t hi,
                        const hg_sample_t **mid, const hg_sample_t **end) {
    size_t n = 0;
    const hg_sample_t *v = hg_tracker_samples(t, &n), *first = NULL, *last = NULL;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (t->visible && t->visible[v[i].process] == p->index && v[i].heap == hi &&
            v[i].measured) {
            first = first ? first : &v[i];
            last = &v[i];
            count++;
        }
    }
    if (count < 4) {
        return false;
    }
    uint64_t half = first->ts_ns + (last->ts_ns - first->ts_ns) / 2;
    *end = last;
    for (size_t i = 0; i < n; i++) {
        if (t->visible[v[i].process] == p->index && v[i].heap == hi && v[i].measured &&
            v[i].ts_ns >= half) {
            *mid = &v[i];
            return (*mid)->ts_ns < last->ts_ns;
        }
    }
    return false;
}

static double rel_change(uint64_t from, uint64_t to) {
    return from ? ((double)to - (double)from) / (double)from : (to ? 1.0 : 0.0);
}

static const char *growth_signal(const hg_tracker_t *t, const hg__process_t *p, uint32_t hi) {
    const hg_sample_t *mid = NULL, *end = NULL;
    if (!mid_and_end(t, p, hi, &mid, &end)) {
        return "too few samples";
    }
    double live = rel_change(mid->live_bytes, end->live_bytes);
    double span = rel_change(mid->span_bytes, end->span_bytes);
    double util_mid = mid->span_bytes ? (double)mid->live_bytes / (double)mid->span_bytes : 0;
    double util_end = end->span_bytes ? (double)end->live_bytes / (double)end->span_bytes : 0;
    if (span > GROWTH_MIN && live < FLAT_MAX && live > -FLAT_MAX) {
        return "fragmentation-driven growth";
    }
    if (live > GROWTH_MIN && util_end >= util_mid * (1.0 - 2 * FLAT_MAX)) {
        return "leak-like growth";
    }
    return "stable";
}
