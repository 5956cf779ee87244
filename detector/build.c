/* build.c - the report model from finished trackers.
 *
 * Each input's tracker is added in turn: its processes are appended; its sites get symbolized
 * frames and an identity, and sites with the same identity (in any process of any input) are
 * one report site whose figures are summed; anomalies are merged by (kind, variant, site);
 * heaps, timeline, allocator statistics, lifetime classes and trace quality are appended or
 * summed. The model never points back into a tracker: trackers are freed after each input. */
#include "detector_priv.h"

#include <Judy.h>
#include <stdlib.h>
#include <string.h>

struct hg_builder {
    hg_report_t *r;
    const hg_trim_t *trim;
    Pvoid_t sites_by_id;      /* identity hash -> report site index + 1 */
    Pvoid_t anomalies_by_key; /* hash of kind, variant, site -> anomaly index + 1 */
};

/* The context of one tracker being added. */
typedef struct adding {
    hg_builder_t *b;
    const hg_tracker_t *t;
    hg_symbolizer_t *sym;
    size_t proc;        /* tracker's process index */
    size_t report_proc; /* the same process in the report */
    bool ended;
    uint32_t pid;
    Pvoid_t site_of_stack; /* stack id -> report site index + 1, for this process */
    uint64_t *heap_handles;
    size_t nheaps;
    int rc;
} adding_t;

hg_builder_t *hg__builder_new(hg_report_t *r, const hg_trim_t *trim) {
    hg_builder_t *b = hg_calloc(1, sizeof *b);
    if (b) {
        b->r = r;
        b->trim = trim;
    }
    return b;
}

void hg__builder_free(hg_builder_t *b) {
    if (b) {
        JudyLFreeArray(&b->sites_by_id, PJE0);
        JudyLFreeArray(&b->anomalies_by_key, PJE0);
        hg_free(b);
    }
}

static void add_totals(hg_rtotals_t *dst, const hg_rtotals_t *src) {
    dst->leaked_bytes += src->leaked_bytes;
    dst->leaked_blocks += src->leaked_blocks;
    dst->outstanding_bytes += src->outstanding_bytes;
    dst->outstanding_blocks += src->outstanding_blocks;
    dst->released_by_destroy_bytes += src->released_by_destroy_bytes;
    dst->released_by_destroy_blocks += src->released_by_destroy_blocks;
}

static hg_rtotals_t totals_of(const hg_totals_t *t) {
    hg_rtotals_t r = {t->leaked_bytes,       t->leaked_blocks,  t->outstanding_bytes,
                      t->outstanding_blocks, t->released_bytes, t->released_blocks};
    return r;
}

/* ---- processes ------------------------------------------------------------------------------ */

static const char *allocator_name(uint8_t a) {
    return a == HG_ALLOCATOR_GLIBC ? "glibc" : a == HG_ALLOCATOR_WINDOWS ? "windows" : "unknown";
}

static void lifetime_copy(hg_rlifetime_t *dst, const hg_lifetime_t *l) {
    dst->enabled = l->enabled;
    dst->t0_ns = l->t0_ns;
    dst->t1_ns = l->t1_ns;
    dst->aifi_blocks = l->aifi_blocks;
    dst->aifi_bytes = l->aifi_bytes;
    dst->aifo_blocks = l->aifo_blocks;
    dst->aifo_bytes = l->aifo_bytes;
    dst->aofi_blocks = l->aofi_blocks;
    dst->aofi_bytes = l->aofi_bytes;
    dst->aofo_blocks = l->aofo_blocks;
    dst->aofo_bytes = l->aofo_bytes;
    dst->impacting_bytes = l->impacting_bytes;
}

static void lifetime_sum(hg_rlifetime_t *dst, const hg_rlifetime_t *l) {
    dst->enabled |= l->enabled;
    dst->t0_ns = l->t0_ns;
    dst->t1_ns = l->t1_ns;
    dst->aifi_blocks += l->aifi_blocks;
    dst->aifi_bytes += l->aifi_bytes;
    dst->aifo_blocks += l->aifo_blocks;
    dst->aifo_bytes += l->aifo_bytes;
    dst->aofi_blocks += l->aofi_blocks;
    dst->aofi_bytes += l->aofi_bytes;
    dst->aofo_blocks += l->aofo_blocks;
    dst->aofo_bytes += l->aofo_bytes;
    dst->impacting_bytes += l->impacting_bytes;
}

static int add_process(adding_t *a, const char *input) {
    hg_process_summary_t s;
    hg_tracker_process(a->t, a->proc, &s);
    hg_rprocess_t *p = hg_report_add_process(a->b->r);
    if (!p) {
        return HG_ENOMEM;
    }
    a->report_proc = a->b->r->nprocesses - 1;
    a->ended = s.ended;
    a->pid = s.pid;
    p->pid = s.pid;
    p->parent_pid = s.parent_pid;
    p->instance = s.instance;
    p->pointer_size = s.pointer_size;
    p->ended = s.ended;
    p->traced_from_start = s.traced_from_start;
    p->start_ts_ns = s.start_ts_ns;
    p->end_ts_ns = s.end_ts_ns;
    p->totals = totals_of(&s.totals);
    p->allocs = s.allocs;
    p->reallocs = s.reallocs;
    p->frees = s.frees;
    p->alloc_bytes = s.alloc_bytes;
    p->peak_live_bytes = s.peak_live_bytes;
    p->peak_live_ts_ns = s.peak_live_ts_ns;
    hg_lifetime_t l;
    hg_tracker_lifetime(a->t, a->proc, &l);
    lifetime_copy(&p->lifetime, &l);
    lifetime_sum(&a->b->r->lifetime, &p->lifetime);
    p->name = s.name ? hg_strdup(s.name) : NULL;
    p->cmdline = s.cmdline ? hg_strdup(s.cmdline) : NULL;
    p->allocator = hg_strdup(allocator_name(s.allocator));
    p->input = hg_strdup(input);
    bool failed = (s.name && !p->name) || (s.cmdline && !p->cmdline) || !p->allocator || !p->input;
    return failed ? HG_ENOMEM : 0;
}

/* ---- sites ---------------------------------------------------------------------------------- */

static int add_pid(hg_rsite_t *s, uint32_t pid) {
    for (size_t i = 0; i < s->npids; i++) {
        if (s->pids[i] == pid) {
            return 0;
        }
    }
    uint32_t *v = hg_realloc(s->pids, (s->npids + 1) * sizeof *v);
    if (!v) {
        return HG_ENOMEM;
    }
    s->pids = v;
    s->pids[s->npids++] = pid;
    return 0;
}

/* Adds one tracker site's figures to report site s. */
static int merge_figures(adding_t *a, hg_rsite_t *s, const hg_site_stats_t *st) {
    hg_rtotals_t t = {0};
    if (a->ended) {
        t.leaked_bytes = st->live_bytes;
        t.leaked_blocks = st->live_blocks;
    } else {
        t.outstanding_bytes = st->live_bytes;
        t.outstanding_blocks = st->live_blocks;
    }
    t.released_by_destroy_bytes = st->released_bytes;
    t.released_by_destroy_blocks = st->released_blocks;
    add_totals(&s->totals, &t);
    bool first = s->allocs == 0;
    s->allocs += st->allocs;
    s->alloc_bytes += st->alloc_bytes;
    s->peak_live_bytes =
        st->peak_live_bytes > s->peak_live_bytes ? st->peak_live_bytes : s->peak_live_bytes;
    s->first_ts_ns = first || st->first_ts_ns < s->first_ts_ns ? st->first_ts_ns : s->first_ts_ns;
    s->last_ts_ns = st->last_ts_ns > s->last_ts_ns ? st->last_ts_ns : s->last_ts_ns;
    s->aifo_blocks += st->aifo_blocks;
    s->aifo_bytes += st->aifo_bytes;
    return add_pid(s, a->pid);
}

/* The report site with tmp's identity: an existing one (tmp is freed) or tmp appended. */
static size_t site_index(adding_t *a, hg_rsite_t *tmp, int *rc) {
    Word_t hash = (Word_t)strtoull(tmp->id, NULL, 16);
    PWord_t slot = (PWord_t)JudyLIns(&a->b->sites_by_id, hash, PJE0);
    if (slot == PJERR || *slot) {
        hg_rsite_clear(tmp);
        *rc = slot == PJERR ? HG_ENOMEM : 0;
        return slot == PJERR ? 0 : *slot - 1;
    }
    hg_rsite_t *s = hg_report_add_site(a->b->r);
    if (!s) {
        JudyLDel(&a->b->sites_by_id, hash, PJE0);
        hg_rsite_clear(tmp);
        *rc = HG_ENOMEM;
        return 0;
    }
    *s = *tmp;
    *slot = a->b->r->nsites;
    return a->b->r->nsites - 1;
}

static int visit_site(void *ud, const hg_site_stats_t *st) {
    adding_t *a = ud;
    uint32_t n = 0;
    const uint64_t *frames = hg_tracker_stack(a->t, st->stack_id, &n);
    hg_rsite_t tmp;
    memset(&tmp, 0, sizeof tmp);
    int rc =
        hg__site_frames(&tmp, a->sym, a->b->trim, a->pid, frames, n, st->stack_id, st->first_ts_ns);
    if (rc) {
        hg_rsite_clear(&tmp);
        return a->rc = rc;
    }
    size_t i = site_index(a, &tmp, &rc);
    PWord_t slot = rc ? NULL : (PWord_t)JudyLIns(&a->site_of_stack, st->stack_id, PJE0);
    if (rc || slot == PJERR) {
        return a->rc = HG_ENOMEM;
    }
    *slot = i + 1;
    return a->rc = merge_figures(a, &a->b->r->sites[i], st);
}

/* ---- anomalies ------------------------------------------------------------------------------ */

static const char *site_id_of(const adding_t *a, uint32_t stack_id) {
    PWord_t slot = stack_id ? (PWord_t)JudyLGet(a->site_of_stack, stack_id, PJE0) : NULL;
    return slot ? a->b->r->sites[*slot - 1].id : NULL;
}

static const char *description_of(const hg_anomaly_t *an) {
    if (an->kind == HG_A8_SIZE) {
        return an->variant ? "allocation of size 0"
                           : "allocation at or above the size cap (--max-size)";
    }
    return hg_anomaly_description(an->kind);
}

static int new_anomaly(adding_t *a, const hg_anomaly_t *an, const char *site) {
    hg_ranomaly_t *r = hg_report_add_anomaly(a->b->r);
    if (!r) {
        return HG_ENOMEM;
    }
    r->kind = an->kind;
    r->severity = an->severity;
    r->id = hg_strdup(hg_anomaly_id(an->kind));
    r->name = hg_strdup(hg_anomaly_name(an->kind));
    r->description = hg_strdup(description_of(an));
    r->site = site ? hg_strdup(site) : NULL;
    r->example.ts_ns = an->example.ts_ns;
    r->example.pid = an->example.pid;
    r->example.tid = an->example.tid;
    r->example.heap = an->example.heap;
    r->example.addr = an->example.addr;
    r->example.size = an->example.size;
    r->example.other = an->example.other;
    return r->id && r->name && r->description && (!site || r->site) ? 0 : HG_ENOMEM;
}

static int visit_anomaly(void *ud, const hg_anomaly_t *an) {
    adding_t *a = ud;
    const char *site = site_id_of(a, an->stack_id);
    uint64_t key = hg_fnv1a(HG_FNV_INIT, &an->kind, 1);
    key = hg_fnv1a(key, &an->variant, 1);
    key = hg_fnv1a(key, site ? site : "-", site ? strlen(site) : 1);
    PWord_t slot = (PWord_t)JudyLIns(&a->b->anomalies_by_key, (Word_t)key, PJE0);
    if (slot == PJERR) {
        return a->rc = HG_ENOMEM;
    }
    if (*slot) {
        hg_ranomaly_t *r = &a->b->r->anomalies[*slot - 1];
        r->count += an->count;
        r->severity = an->severity > r->severity ? an->severity : r->severity;
        return 0;
    }
    int rc = new_anomaly(a, an, site);
    a->b->r->anomalies[a->b->r->nanomalies - 1].count = an->count;
    *slot = a->b->r->nanomalies;
    return a->rc = rc;
}

/* ---- heaps, timeline, statistics ------------------------------------------------------------ */

static void frag_copy(hg_rfrag_t *dst, const hg_frag_t *f) {
    dst->ts_ns = f->ts_ns;
    dst->live_bytes = f->live_bytes;
    dst->live_blocks = f->live_blocks;
    dst->rounded_bytes = f->rounded_bytes;
    dst->clusters = f->clusters;
    dst->span_bytes = f->span_bytes;
    dst->utilisation = f->utilisation;
    dst->span_overhead = f->span_overhead;
    dst->holes = f->holes;
    dst->free_bytes = f->free_bytes;
    dst->largest_hole = f->largest_hole;
    memcpy(dst->hole_hist, f->hole_hist, sizeof dst->hole_hist);
    dst->external = f->external;
    dst->sawicki = f->sawicki;
    dst->nfit = f->nfit;
    for (uint32_t i = 0; i < f->nfit; i++) {
        dst->fit[i].size = f->fit[i].size;
        dst->fit[i].requests = f->fit[i].requests;
        dst->fit[i].defined = f->fit[i].defined;
        dst->fit[i].ratio = f->fit[i].ratio;
    }
}

static int visit_heap(void *ud, const hg_heap_summary_t *h) {
    adding_t *a = ud;
    uint64_t *handles = hg_realloc(a->heap_handles, (a->nheaps + 1) * sizeof *handles);
    hg_rheap_t *r = handles ? hg_report_add_heap(a->b->r) : NULL;
    if (handles) {
        a->heap_handles = handles;
        handles[a->nheaps++] = h->handle;
    }
    if (!r) {
        return a->rc = HG_ENOMEM;
    }
    r->pid = a->pid;
    r->process = (uint32_t)a->report_proc;
    r->handle = h->handle;
    r->created_in_trace = h->created_in_trace;
    r->destroyed = h->destroyed;
    r->create_ts_ns = h->create_ts_ns;
    r->destroy_ts_ns = h->destroy_ts_ns;
    r->allocs = h->allocs;
    r->frees = h->frees;
    r->alloc_bytes = h->alloc_bytes;
    r->peak_live_bytes = h->peak_live_bytes;
    r->peak_live_ts_ns = h->peak_live_ts_ns;
    r->peak_live_blocks = h->peak_live_blocks;
    r->max_span_bytes = h->max_span_bytes;
    r->peak_ratio = h->peak_ratio;
    memcpy(r->source_allocs, h->source_allocs, sizeof r->source_allocs);
    frag_copy(&r->frag, &h->frag);
    r->growth_signal = hg_strdup(h->growth_signal ? h->growth_signal : "");
    return a->rc = r->growth_signal ? 0 : HG_ENOMEM;
}

/* Heap handles of every process of the tracker, for the timeline (process-major). */
typedef struct handles {
    uint64_t **by_proc;
    size_t *n;
} handles_t;

static int add_samples(hg_builder_t *b, const hg_tracker_t *t, size_t proc_base,
                       const handles_t *hh) {
    size_t n = 0;
    const hg_sample_t *v = hg_tracker_samples(t, &n);
    for (size_t i = 0; i < n; i++) {
        hg_rsample_t *s = hg_report_add_sample(b->r);
        if (!s) {
            return HG_ENOMEM;
        }
        s->ts_ns = v[i].ts_ns;
        s->process = (uint32_t)(proc_base + v[i].process);
        s->heap = v[i].heap < hh->n[v[i].process] ? hh->by_proc[v[i].process][v[i].heap] : 0;
        s->live_bytes = v[i].live_bytes;
        s->live_blocks = v[i].live_blocks;
        s->measured = v[i].measured;
        s->span_bytes = v[i].span_bytes;
        s->free_bytes = v[i].free_bytes;
        s->largest_hole = v[i].largest_hole;
        s->external = v[i].external;
        s->allocs_total = v[i].allocs_total;
        s->slow_allocs_total = v[i].slow_allocs_total;
    }
    return 0;
}

static int add_stats(hg_builder_t *b, const hg_tracker_t *t, size_t proc_base) {
    size_t n = 0;
    const hg_stats_sample_t *v = hg_tracker_stats_samples(t, &n);
    for (size_t i = 0; i < n; i++) {
        hg_rstats_t *s = hg_report_add_stats(b->r);
        if (!s) {
            return HG_ENOMEM;
        }
        s->process = (uint32_t)(proc_base + v[i].process);
        s->ts_ns = v[i].stats.ts_ns;
        s->arena_bytes = v[i].stats.arena_bytes;
        s->in_use_bytes = v[i].stats.in_use_bytes;
        s->free_bytes = v[i].stats.free_bytes;
        s->mmapped_bytes = v[i].stats.mmapped_bytes;
        s->rss_bytes = v[i].stats.rss_bytes;
    }
    return 0;
}

/* ---- trace quality -------------------------------------------------------------------------- */

static void add_quality(hg_report_t *r, const hg_trace_quality_t *q, bool first_input) {
    hg_rtrace_t *t = &r->trace;
    t->events += q->events;
    t->filtered_events += q->filtered_events;
    t->unmatched_frees += q->unmatched_frees;
    t->failed_allocations += q->failed_allocations;
    t->allocs += q->events_by_kind[HG_EV_ALLOC];
    t->reallocs += q->events_by_kind[HG_EV_REALLOC];
    t->frees += q->events_by_kind[HG_EV_FREE];
    t->heap_creates += q->events_by_kind[HG_EV_HEAP_CREATE];
    t->heap_destroys += q->events_by_kind[HG_EV_HEAP_DESTROY];
    t->lost_events += q->lost_events;
    t->lost_buffers += q->lost_buffers;
    t->lost_counts_known =
        first_input ? q->lost_counts_known : t->lost_counts_known && q->lost_counts_known;
    t->truncated |= q->truncated;
    t->first_ts_ns =
        first_input || q->first_ts_ns < t->first_ts_ns ? q->first_ts_ns : t->first_ts_ns;
    t->last_ts_ns = q->last_ts_ns > t->last_ts_ns ? q->last_ts_ns : t->last_ts_ns;
    t->start_wall_ns = first_input ? q->start_wall_ns : t->start_wall_ns;
    t->stacks_defined += q->stacks_defined;
    t->stacks_undefined += q->stacks_undefined;
    t->markers += q->markers;
    t->settle_ignored_blocks += q->settle_ignored_blocks;
    t->settle_ignored_bytes += q->settle_ignored_bytes;
    t->out_of_order_events += q->out_of_order_events;
    r->incomplete |= q->incomplete;
}

/* ---- one tracker ---------------------------------------------------------------------------- */

static int add_one_process(adding_t *a, const char *input, handles_t *hh) {
    int rc = add_process(a, input);
    if (!rc) {
        rc = hg_tracker_visit_sites(a->t, a->proc, visit_site, a) ? a->rc : 0;
    }
    if (!rc) {
        rc = hg_tracker_visit_anomalies(a->t, a->proc, visit_anomaly, a) ? a->rc : 0;
    }
    if (!rc) {
        rc = hg_tracker_visit_heaps(a->t, a->proc, visit_heap, a) ? a->rc : 0;
    }
    hh->by_proc[a->proc] = a->heap_handles;
    hh->n[a->proc] = a->nheaps;
    JudyLFreeArray(&a->site_of_stack, PJE0);
    return rc;
}

int hg__builder_add(hg_builder_t *b, const hg_tracker_t *t, hg_symbolizer_t *sym, const char *input,
                    const char *format, uint64_t cluster_gap) {
    size_t np = hg_tracker_process_count(t), base = b->r->nprocesses;
    bool first_input = b->r->ninputs == 0;
    handles_t hh = {hg_calloc(np + 1, sizeof *hh.by_proc), hg_calloc(np + 1, sizeof *hh.n)};
    int rc = hh.by_proc && hh.n ? hg_report_add_input(b->r, input, format) : HG_ENOMEM;
    for (size_t i = 0; !rc && i < np; i++) {
        adding_t a = {.b = b, .t = t, .sym = sym, .proc = i};
        rc = add_one_process(&a, input, &hh); /* hh owns a's heap handles now */
    }
    if (!rc) {
        rc = add_samples(b, t, base, &hh);
    }
    if (!rc) {
        rc = add_stats(b, t, base);
    }
    add_quality(b->r, hg_tracker_quality(t), first_input);
    b->r->cluster_gap_bytes = cluster_gap;
    for (size_t i = 0; hh.by_proc && i < np; i++) {
        hg_free(hh.by_proc[i]);
    }
    hg_free(hh.by_proc);
    hg_free(hh.n);
    return rc;
}

void hg__report_totals(hg_report_t *r) {
    memset(&r->totals, 0, sizeof r->totals);
    for (size_t i = 0; i < r->nsites; i++) {
        if (!r->sites[i].suppressed_by) {
            add_totals(&r->totals, &r->sites[i].totals);
        }
    }
}
