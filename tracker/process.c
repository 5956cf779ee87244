/* process.c - process instances: created by a start event, by metadata, or by the first event
 * of an unseen pid (then not traced from its start: allocations before the trace are invisible,
 * heap-semantics.md §1); ended by an end event, when their live blocks become leaks. A start
 * for a pid whose current instance already had events begins a new instance (pid reuse; the
 * old one is ended at that time). Filters (--pid, --process) mark instances ignored: their
 * events are counted as filtered and change nothing. An ended process keeps only its
 * aggregates: its live set, recent frees and thread slots are released. */
#include "tracker_priv.h"

#include <string.h>
#include <strings.h>

uint8_t hg__process_ptr(const hg_tracker_t *t, const hg__process_t *p) {
    uint8_t ptr = p->pointer_size ? p->pointer_size : t->default_pointer_size;
    return ptr == 4 ? 4 : 8;
}

static const char *base_name(const char *path) {
    const char *name = path;
    for (const char *c = path; *c; c++) {
        if (*c == '/' || *c == '\\') {
            name = c + 1;
        }
    }
    return name;
}

/* --process NAME matches the image name, case-insensitively, with or without ".exe". */
static bool name_matches(const char *name, const char *want) {
    const char *base = base_name(name);
    size_t bl = strlen(base), wl = strlen(want);
    if (strcasecmp(base, want) == 0) {
        return true;
    }
    return bl == wl + 4 && strncasecmp(base, want, wl) == 0 && strcasecmp(base + wl, ".exe") == 0;
}

static void apply_filters(const hg_tracker_t *t, hg__process_t *p) {
    p->ignored = (t->opt.pid_filter_set && p->pid != t->opt.pid_filter) ||
                 (t->process_filter && (!p->name || !name_matches(p->name, t->process_filter)));
}

static hg__process_t *create(hg_tracker_t *t, uint32_t pid, uint64_t ts_ns) {
    if (t->nprocs == t->capprocs) {
        uint32_t cap = t->capprocs ? t->capprocs * 2 : 8;
        hg__process_t **v = hg_realloc(t->procs, cap * sizeof *v);
        if (!v) {
            return NULL;
        }
        t->procs = v;
        t->capprocs = cap;
    }
    hg__process_t *p = hg_calloc(1, sizeof *p);
    PWord_t slot = p ? (PWord_t)JudyLIns(&t->by_pid, pid, PJE0) : NULL;
    if (!slot || slot == PJERR) {
        hg_free(p);
        return NULL;
    }
    p->instance = *slot ? t->procs[*slot - 1]->instance + 1 : 0;
    p->index = t->nprocs;
    p->pid = pid;
    p->start_ts_ns = ts_ns;
    hg__live_init(&p->live);
    t->procs[t->nprocs++] = p;
    *slot = t->nprocs;
    t->last_proc = p;
    t->last_pid = pid;
    apply_filters(t, p);
    return p;
}

static hg__process_t *current(hg_tracker_t *t, uint32_t pid) {
    if (t->last_proc && t->last_pid == pid) {
        return t->last_proc;
    }
    PWord_t slot = (PWord_t)JudyLGet(t->by_pid, pid, PJE0);
    if (!slot) {
        return NULL;
    }
    t->last_proc = t->procs[*slot - 1];
    t->last_pid = pid;
    return t->last_proc;
}

hg__process_t *hg__process_for_event(hg_tracker_t *t, uint32_t pid, uint64_t ts_ns) {
    hg__process_t *p = current(t, pid);
    if (p && !p->ended) {
        return p;
    }
    return create(t, pid, ts_ns); /* unseen pid, or events after its end: a new instance */
}

int hg__process_start(hg_tracker_t *t, const hg_event_t *ev) {
    hg__process_t *p = current(t, ev->pid);
    if (p && !p->ended && p->has_events) {
        int rc = hg__process_end(t, p, ev->ts_ns); /* pid reused without an end event */
        if (rc) {
            return rc;
        }
    }
    if (!p || p->ended || p->has_events) {
        p = create(t, ev->pid, ev->ts_ns);
        if (!p) {
            return HG_ENOMEM;
        }
    }
    p->traced_from_start = true;
    p->start_ts_ns = ev->ts_ns;
    return 0;
}

int hg__process_end(hg_tracker_t *t, hg__process_t *p, uint64_t ts_ns) {
    if (p->ended) {
        return 0;
    }
    int rc = hg__process_close(t, p, ts_ns);
    p->ended = true;
    p->end_ts_ns = ts_ns;
    return rc;
}

static int set_string(char **dst, const char *src) {
    if (!src) {
        return 0;
    }
    char *copy = hg_strdup(src);
    if (!copy) {
        return HG_ENOMEM;
    }
    hg_free(*dst);
    *dst = copy;
    return 0;
}

int hg__process_info(hg_tracker_t *t, const hg_process_info_t *info) {
    hg__process_t *p = current(t, info->pid);
    if (!p || p->ended) {
        p = create(t, info->pid, t->last_ts_ns);
        if (!p) {
            return HG_ENOMEM;
        }
    }
    if (set_string(&p->name, info->name) || set_string(&p->cmdline, info->cmdline)) {
        return HG_ENOMEM;
    }
    p->parent_pid = info->parent_pid ? info->parent_pid : p->parent_pid;
    p->pointer_size = info->pointer_size ? info->pointer_size : p->pointer_size;
    p->allocator = info->allocator ? info->allocator : p->allocator;
    apply_filters(t, p);
    return 0;
}

/* Final fragmentation of the heaps that have none yet (destroyed heaps took theirs). */
static int final_frag(hg_tracker_t *t, hg__process_t *p, uint64_t ts_ns) {
    hg_frag_t *f = hg_calloc(p->heaps.n ? p->heaps.n : 1, sizeof *f);
    if (!f) {
        return HG_ENOMEM;
    }
    int rc = hg__frag_compute(t, p, f, true, ts_ns);
    for (uint32_t i = 0; !rc && i < p->heaps.n; i++) {
        hg__heap_t *h = &p->heaps.v[i];
        if (!h->final_taken) {
            h->final = f[i];
            h->final_taken = true;
            hg__heap_note_measure(h, &f[i]);
            rc = hg__anomalies_lfh(p, h);
        }
    }
    hg_free(f);
    return rc;
}

int hg__process_close(hg_tracker_t *t, hg__process_t *p, uint64_t ts_ns) {
    int rc = final_frag(t, p, ts_ns);
    if (!rc && t->opt.window) {
        uint64_t addr = 0;
        for (hg__block_t *b = hg__live_first(&p->live, &addr); b;
             b = hg__live_next(&p->live, &addr)) {
            hg__lifetime_never(t, p, b);
        }
    }
    hg__live_clear(&p->live);
    hg__recent_free(&p->recent);
    hg__threads_free(&p->threads);
    return rc;
}

void hg__process_free(hg__process_t *p) {
    hg__live_clear(&p->live);
    hg__heaps_free(&p->heaps);
    hg__sites_free(&p->sites);
    hg__anomalies_free(&p->anomalies);
    hg__recent_free(&p->recent);
    hg__threads_free(&p->threads);
    hg_free(p->name);
    hg_free(p->cmdline);
    hg_free(p);
}
