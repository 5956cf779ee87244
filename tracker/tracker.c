/* tracker.c - the tracker object: options, the sink readers feed, event dispatch and the end of
 * the trace.
 *
 * Every event goes through hg_tracker_feed: it is counted (trace quality), its timestamp kept
 * monotonic (an event earlier than the previous one is counted and taken at the previous time),
 * the timeline sampled when its interval has passed, and then dispatched to its process's
 * rules (rules.c). hg_tracker_finish ends the trace: a last measured sample, running processes
 * closed with their live blocks outstanding, severities settled (anomaly.c). */
#include "tracker_priv.h"

#include <stdio.h>
#include <string.h>

void hg_tracker_options_init(hg_tracker_options_t *opt) {
    memset(opt, 0, sizeof *opt);
    opt->cluster_gap_bytes = UINT64_C(1) << 20;
    opt->max_samples = 128;
    opt->extreme_size_32 = UINT64_C(1) << 31;
    opt->extreme_size_64 = UINT64_C(1) << 36;
    opt->recent_frees = 16384;
}

hg_tracker_t *hg_tracker_new(const hg_tracker_options_t *opt) {
    hg_tracker_t *t = hg_calloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    if (opt) {
        t->opt = *opt;
    } else {
        hg_tracker_options_init(&t->opt);
    }
    t->opt.max_samples = t->opt.max_samples ? t->opt.max_samples : 1;
    t->opt.process_filter = NULL;
    if (opt && opt->process_filter && !(t->process_filter = hg_strdup(opt->process_filter))) {
        hg_free(t);
        return NULL;
    }
    t->default_pointer_size = 8;
    t->q.lost_counts_known = true;
    return t;
}

void hg_tracker_free(hg_tracker_t *t) {
    if (!t) {
        return;
    }
    for (uint32_t i = 0; i < t->nprocs; i++) {
        hg__process_free(t->procs[i]);
    }
    hg_free(t->procs);
    hg_free(t->visible);
    JudyLFreeArray(&t->by_pid, PJE0);
    hg__stacks_free(t);
    hg__timeline_free(&t->timeline);
    hg_free(t->process_filter);
    hg_free(t);
}

static int dispatch(hg_tracker_t *t, hg__process_t *p, const hg_event_t *ev) {
    switch (ev->kind) {
    case HG_EV_ALLOC:
        return hg__rule_alloc(t, p, ev);
    case HG_EV_REALLOC:
        return hg__rule_realloc(t, p, ev);
    case HG_EV_FREE:
        return hg__rule_free(t, p, ev);
    case HG_EV_HEAP_CREATE:
        return hg__rule_heap_create(t, p, ev);
    case HG_EV_HEAP_DESTROY:
        return hg__rule_heap_destroy(t, p, ev);
    case HG_EV_PROCESS_END:
        return hg__process_end(t, p, ev->ts_ns);
    default:
        return 0;
    }
}

/* Events that concern the trace, not a process. Returns true when ev was one. */
static bool trace_event(hg_tracker_t *t, const hg_event_t *ev) {
    if (ev->kind == HG_EV_LOST) {
        t->q.lost_events += ev->size;
        t->q.lost_buffers += ev->old_size;
        return true;
    }
    if (ev->kind == HG_EV_MARKER) {
        t->q.markers++;
        return true;
    }
    return false;
}

/* Counts ev and keeps time monotonic: an event earlier than the previous one is taken at the
 * previous time, through a copy in *clamped (events in order are used as they came, uncopied). */
static const hg_event_t *count(hg_tracker_t *t, const hg_event_t *ev, hg_event_t *clamped) {
    t->q.events++;
    t->q.events_by_kind[ev->kind]++;
    if (ev->ts_ns < t->last_ts_ns) {
        t->q.out_of_order_events++;
        *clamped = *ev;
        clamped->ts_ns = t->last_ts_ns;
        ev = clamped;
    }
    if (t->q.events == 1) {
        t->q.first_ts_ns = ev->ts_ns;
    }
    t->last_ts_ns = ev->ts_ns;
    return ev;
}

static int feed(hg_tracker_t *t, const hg_event_t *in) {
    if (t->finished || t->failed) {
        return t->failed ? HG_ENOMEM : HG_EUSAGE;
    }
    if (in->kind == 0 || in->kind > HG_EV_KIND_MAX) {
        return HG_EFORMAT;
    }
    hg_event_t clamped;
    const hg_event_t *ev = count(t, in, &clamped);
    int rc = hg__timeline_tick(t, ev->ts_ns);
    if (rc || trace_event(t, ev)) {
        return rc;
    }
    if (ev->kind == HG_EV_PROCESS_START) {
        return hg__process_start(t, ev);
    }
    hg__process_t *p = hg__process_for_event(t, ev->pid, ev->ts_ns);
    if (!p) {
        return HG_ENOMEM;
    }
    if (p->ignored) {
        t->q.filtered_events++;
        return 0;
    }
    p->has_events = true;
    p->heap_events |= ev->kind <= HG_EV_HEAP_DESTROY;
    return dispatch(t, p, ev);
}

int hg_tracker_feed(hg_tracker_t *t, const hg_event_t *ev) {
    int rc = feed(t, ev);
    if (rc == HG_ENOMEM) {
        t->failed = true;
    }
    return rc;
}

int hg_tracker_define_stack(hg_tracker_t *t, uint32_t stack_id, const uint64_t *frames,
                            uint32_t nframes) {
    return hg__stacks_define(t, stack_id, frames, nframes);
}

int hg_tracker_set_process(hg_tracker_t *t, const hg_process_info_t *info) {
    return hg__process_info(t, info);
}

int hg_tracker_set_trace(hg_tracker_t *t, const hg_trace_info_t *info) {
    if (info->pointer_size) {
        t->default_pointer_size = info->pointer_size;
    }
    t->q.lost_counts_known = info->lost_counts_known;
    t->q.start_wall_ns = info->start_wall_ns;
    t->duration_hint_ns = info->duration_hint_ns;
    return 0;
}

int hg_tracker_add_stats(hg_tracker_t *t, const hg_alloc_stats_t *stats) {
    hg__process_t *p = hg__process_for_event(t, stats->pid, stats->ts_ns);
    if (!p) {
        return HG_ENOMEM;
    }
    return p->ignored ? 0 : hg__timeline_add_stats(t, p->index, stats);
}

void hg_tracker_mark_truncated(hg_tracker_t *t, const char *reason) {
    t->q.truncated = true;
    snprintf(t->q.truncated_reason, sizeof t->q.truncated_reason, "%s", reason ? reason : "");
}

/* ---- sink ----------------------------------------------------------------------------------- */

static int sink_trace(void *ctx, const hg_trace_info_t *info) {
    return hg_tracker_set_trace(ctx, info);
}
static int sink_process(void *ctx, const hg_process_info_t *info) {
    return hg_tracker_set_process(ctx, info);
}
static int sink_module(void *ctx, const hg_module_info_t *info) {
    (void)ctx; /* modules belong to the symbolizer, not the tracker */
    (void)info;
    return 0;
}
static int sink_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    return hg_tracker_define_stack(ctx, id, frames, n);
}
static int sink_event(void *ctx, const hg_event_t *ev) {
    return hg_tracker_feed(ctx, ev);
}
static int sink_stats(void *ctx, const hg_alloc_stats_t *st) {
    return hg_tracker_add_stats(ctx, st);
}

static const hg_sink_ops_t tracker_sink_ops = {sink_trace, sink_process, sink_module,
                                               sink_stack, sink_event,   sink_stats};

hg_sink_t hg_tracker_sink(hg_tracker_t *t) {
    hg_sink_t s = {&tracker_sink_ops, t};
    return s;
}

/* ---- end of trace --------------------------------------------------------------------------- */

/* Stack ids some site used but no definition ever gave frames to. */
static int count_undefined_stacks(hg_tracker_t *t) {
    Pvoid_t seen = NULL;
    for (uint32_t i = 0; i < t->nprocs; i++) {
        const hg__sites_t *ss = &t->procs[i]->sites;
        for (uint32_t s = 0; s < ss->n; s++) {
            uint32_t id = ss->v[s].stack_id;
            int was = 0;
            if (id && !JudyLGet(t->stacks, id, PJE0)) {
                J1S(was, seen, id);
                t->q.stacks_undefined += was == 1;
            }
        }
    }
    Word_t freed;
    J1FA(freed, seen);
    (void)freed;
    return 0;
}

static int build_visible(hg_tracker_t *t) {
    t->visible = hg_malloc((t->nprocs ? t->nprocs : 1) * sizeof *t->visible);
    if (!t->visible) {
        return HG_ENOMEM;
    }
    for (uint32_t i = 0; i < t->nprocs; i++) {
        const hg__process_t *p = t->procs[i];
        if (!p->ignored && p->heap_events) { /* a kernel session lists every process */
            t->visible[t->nvisible++] = i;
        }
    }
    return 0;
}

/* Samples name processes by their internal index; results use the index among visible ones. */
static void remap_samples(hg_tracker_t *t) {
    uint32_t *map = hg_malloc((t->nprocs ? t->nprocs : 1) * sizeof *map);
    if (!map) {
        return; /* leaves internal indices: samples of hidden processes cannot exist anyway */
    }
    for (uint32_t i = 0; i < t->nprocs; i++) {
        map[i] = HG__NONE;
    }
    for (uint32_t v = 0; v < t->nvisible; v++) {
        map[t->visible[v]] = v;
    }
    hg__timeline_t *tl = &t->timeline;
    size_t kept = 0;
    for (size_t i = 0; i < tl->n; i++) {
        if (map[tl->v[i].process] != HG__NONE) {
            tl->v[kept] = tl->v[i];
            tl->v[kept++].process = map[tl->v[i].process];
        }
    }
    tl->n = kept;
    kept = 0;
    for (size_t i = 0; i < tl->nstats; i++) {
        if (map[tl->stats[i].process] != HG__NONE) {
            tl->stats[kept] = tl->stats[i];
            tl->stats[kept++].process = map[tl->stats[i].process];
        }
    }
    tl->nstats = kept;
    hg_free(map);
}

int hg_tracker_finish(hg_tracker_t *t) {
    if (t->finished) {
        return 0;
    }
    t->finished = true;
    t->q.last_ts_ns = t->last_ts_ns;
    t->q.incomplete = t->q.truncated || t->q.lost_events > 0 || t->q.lost_buffers > 0;
    int rc = t->failed ? HG_ENOMEM : hg__timeline_final(t, t->last_ts_ns);
    for (uint32_t i = 0; !rc && i < t->nprocs; i++) {
        hg__process_t *p = t->procs[i];
        if (!p->ended) {
            rc = hg__process_close(t, p, t->last_ts_ns);
        }
        hg__anomalies_settle(t, p);
    }
    if (!rc) {
        rc = count_undefined_stacks(t);
    }
    if (!rc) {
        rc = build_visible(t);
    }
    if (!rc) {
        remap_samples(t);
    }
    return rc;
}
