/* live_sink.c - what a live session does with each record an agent sends: events, processes
 * and statistics go to the tracker, modules to the symbolizer (address space = pid), and
 * everything to the --save writer, in the session's terms:
 *
 *   - stack ids: an agent numbers its stacks per process; each definition is interned by its
 *     frames into the session's ids, so a forked child or a reconnected stream that sends the
 *     same frames again uses the same id, and an id defined again (after the agent's table was
 *     cleared, or by a new image with the same pid) simply points elsewhere from then on;
 *   - exec: a PROCESS_START for a pid that had an image before unloads that image's modules;
 *   - attach: blocks allocated before heapgate attached were never seen, so their frees are
 *     dropped here (counted, not anomalies: docs/heap-semantics.md §1) and a realloc of one
 *     becomes an allocation; a Judy1 set per process remembers every address allocated since
 *     attaching;
 *   - the end: processes known to be gone whose agent could not record their end (killed, or
 *     attached, where nothing runs late enough to write it) get it at their last event. */
#include "live_priv.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ---- processes ---------------------------------------------------------------------------- */

hg_live_pid_t *hg__live_pid(struct hg_live *lv, uint32_t pid) {
    if (lv->last_ps && lv->last_ps->pid == pid) {
        return lv->last_ps;
    }
    PWord_t slot = (PWord_t)JudyLIns(&lv->pids, pid, PJE0);
    if (!slot || slot == PJERR) {
        return NULL;
    }
    if (!*slot) {
        hg_live_pid_t *ps = hg_calloc(1, sizeof *ps);
        if (!ps) {
            JudyLDel(&lv->pids, pid, PJE0);
            return NULL;
        }
        ps->pid = pid;
        *slot = (Word_t)ps;
    }
    lv->last_ps = (hg_live_pid_t *)*slot;
    return lv->last_ps;
}

void hg__live_pids_free(struct hg_live *lv) {
    Word_t pid = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(lv->pids, &pid, PJE0); v;
         v = (PWord_t)JudyLNext(lv->pids, &pid, PJE0)) {
        hg_live_pid_t *ps = (hg_live_pid_t *)*v;
        Word_t freed;
        J1FA(freed, ps->born);
        (void)freed;
        JudyLFreeArray(&ps->modules, PJE0);
        hg_free(ps->stack_map);
        hg_free(ps);
    }
    JudyLFreeArray(&lv->pids, PJE0);
    lv->last_ps = NULL;
}

static int map_stack(hg_live_pid_t *ps, uint32_t agent_id, uint32_t id) {
    if (agent_id >= ps->stack_cap) {
        uint32_t cap = ps->stack_cap ? ps->stack_cap : 1024;
        while (cap <= agent_id) {
            cap *= 2;
        }
        uint32_t *m = hg_realloc(ps->stack_map, cap * sizeof *m);
        if (!m) {
            return HG_ENOMEM;
        }
        memset(m + ps->stack_cap, 0, (cap - ps->stack_cap) * sizeof *m);
        ps->stack_map = m;
        ps->stack_cap = cap;
    }
    ps->stack_map[agent_id] = id;
    return 0;
}

static uint32_t mapped_stack(const hg_live_pid_t *ps, uint32_t agent_id) {
    return agent_id < ps->stack_cap ? ps->stack_map[agent_id] : 0;
}

/* ---- forwarding to --save ----------------------------------------------------------------- */

static int save_event(struct hg_live *lv, const hg_event_t *ev) {
    return lv->save ? hg_hgt_writer_sink(lv->save).ops->event(lv->save, ev) : 0;
}

static int save_module(struct hg_live *lv, const hg_module_info_t *m) {
    return lv->save ? hg_hgt_writer_sink(lv->save).ops->module(lv->save, m) : 0;
}

/* ---- modules ------------------------------------------------------------------------------ */

static int unload_module(struct hg_live *lv, hg_live_pid_t *ps, uint64_t base, uint64_t ts) {
    hg_module_info_t m = {.pid = ps->pid, .unload = true, .base = base, .ts_ns = ts};
    int rc = hg_sym_unload_module(lv->sym, ps->pid, base, ts);
    JudyLDel(&ps->modules, base, PJE0);
    return rc ? rc : save_module(lv, &m);
}

/* A new image of this pid starts (exec): the previous image's modules are gone. */
static int unload_image(struct hg_live *lv, hg_live_pid_t *ps, uint64_t ts) {
    Word_t base = 0;
    int rc = 0;
    while (!rc && JudyLFirst(ps->modules, &base, PJE0)) {
        rc = unload_module(lv, ps, base, ts);
    }
    return rc;
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    hg_live_conn_t *c = ctx;
    hg_live_pid_t *ps = hg__live_pid(c->lv, m->pid);
    if (!ps) {
        return HG_ENOMEM;
    }
    if (m->unload) {
        return unload_module(c->lv, ps, m->base, m->ts_ns);
    }
    hg_sym_module_t sm = {.base = m->base,
                          .size = m->size,
                          .path = m->path,
                          .build_id = m->build_id,
                          .build_id_len = m->build_id_len,
                          .load_ts_ns = m->ts_ns};
    PWord_t slot = (PWord_t)JudyLIns(&ps->modules, m->base, PJE0);
    if (!slot || slot == PJERR) {
        return HG_ENOMEM;
    }
    *slot = 1;
    int rc = hg_sym_add_module(c->lv->sym, m->pid, &sm);
    return rc ? rc : save_module(c->lv, m);
}

/* ---- trace, process, stacks, statistics --------------------------------------------------- */

static int on_trace(void *ctx, const hg_trace_info_t *info) {
    hg_live_conn_t *c = ctx;
    struct hg_live *lv = c->lv;
    if (lv->trace_set) {
        return 0; /* every connection starts with one; the first tells the session's */
    }
    lv->trace_set = true;
    int rc = hg_tracker_set_trace(lv->t, info);
    return rc || !lv->save ? rc : hg_hgt_writer_sink(lv->save).ops->trace(lv->save, info);
}

static int on_process(void *ctx, const hg_process_info_t *info) {
    hg_live_conn_t *c = ctx;
    hg_live_pid_t *ps = hg__live_pid(c->lv, info->pid);
    if (!ps) {
        return HG_ENOMEM;
    }
    if (c->ps != ps) {
        c->ps = ps;
        ps->open_conns++;
        ps->stream_done = false;
        snprintf(c->name, sizeof c->name, "agent stream of pid %u", info->pid);
    }
    int rc = hg_tracker_set_process(c->lv->t, info);
    return rc || !c->lv->save ? rc
                              : hg_hgt_writer_sink(c->lv->save).ops->process(c->lv->save, info);
}

static int on_stack(void *ctx, uint32_t agent_id, const uint64_t *frames, uint32_t n) {
    hg_live_conn_t *c = ctx;
    struct hg_live *lv = c->lv;
    if (!c->ps) {
        return HG_EFORMAT; /* a stack before the stream said whose process it is */
    }
    bool is_new = false;
    uint32_t id = hg_stack_interner_intern(lv->stacks, frames, n, &is_new);
    int rc = id ? map_stack(c->ps, agent_id, id) : HG_ENOMEM;
    if (!rc && is_new) {
        rc = hg_tracker_define_stack(lv->t, id, frames, n);
    }
    if (!rc && is_new && lv->save) {
        rc = hg_hgt_writer_sink(lv->save).ops->stack(lv->save, id, frames, n);
    }
    return rc;
}

static int on_stats(void *ctx, const hg_alloc_stats_t *st) {
    hg_live_conn_t *c = ctx;
    int rc = hg_tracker_add_stats(c->lv->t, st);
    return rc || !c->lv->save ? rc : hg_hgt_writer_sink(c->lv->save).ops->stats(c->lv->save, st);
}

/* ---- events ------------------------------------------------------------------------------- */

/* Attach mode: false when the event is the free of a block allocated before attaching. */
static bool attached_keep(struct hg_live *lv, hg_live_pid_t *ps, hg_event_t *e) {
    int was = 0, rc;
    if (e->kind == HG_EV_ALLOC && e->addr) {
        J1S(rc, ps->born, e->addr);
    } else if (e->kind == HG_EV_FREE) {
        J1T(was, ps->born, e->addr);
        lv->pre_attach_frees += !was;
        return was != 0;
    } else if (e->kind == HG_EV_REALLOC) {
        J1T(was, ps->born, e->old_addr);
        J1S(rc, ps->born, e->addr);
        if (!was) { /* the old block predates the trace: only the new one is seen */
            lv->pre_attach_frees++;
            e->kind = HG_EV_ALLOC;
            e->old_addr = e->old_size = 0;
            e->flags &= (uint16_t)~HG_EVF_OLD_SIZE;
        }
    }
    (void)rc;
    return true;
}

static int on_event(void *ctx, const hg_event_t *ev) {
    hg_live_conn_t *c = ctx;
    struct hg_live *lv = c->lv;
    hg_event_t e = *ev;
    hg_live_pid_t *ps = hg__live_pid(lv, e.pid);
    if (!ps) {
        return HG_ENOMEM;
    }
    int rc = e.kind == HG_EV_PROCESS_START ? unload_image(lv, ps, e.ts_ns) : 0;
    e.stack_id = e.stack_id ? mapped_stack(ps, e.stack_id) : 0;
    if (rc || (lv->o.attach && !attached_keep(lv, ps, &e))) {
        return rc;
    }
    ps->end_seen |= e.kind == HG_EV_PROCESS_END;
    ps->last_ts_ns = e.ts_ns > ps->last_ts_ns ? e.ts_ns : ps->last_ts_ns;
    rc = hg_tracker_feed(lv->t, &e);
    return rc ? rc : save_event(lv, &e);
}

static const hg_sink_ops_t conn_ops = {on_trace, on_process, on_module,
                                       on_stack, on_event,   on_stats};

hg_sink_t hg__live_conn_sink(hg_live_conn_t *c) {
    return (hg_sink_t){&conn_ops, c};
}

/* ---- the end ------------------------------------------------------------------------------ */

/* Gone or a zombie (/proc/PID/stat, proc(5): the state follows the command in parentheses). */
static bool process_gone(uint32_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return true;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

static int end_process(struct hg_live *lv, hg_live_pid_t *ps) {
    hg_event_t e = {.kind = HG_EV_PROCESS_END, .pid = ps->pid, .ts_ns = ps->last_ts_ns};
    ps->end_seen = true;
    int rc = hg_tracker_feed(lv->t, &e);
    return rc ? rc : save_event(lv, &e);
}

static void note_cut(struct hg_live *lv, const hg_live_pid_t *ps) {
    char why[200];
    snprintf(why, sizeof why,
             "pid %u: the agent's stream ended without its end record (the process was killed "
             "or could not send the rest); what it sent before is reported",
             ps->pid);
    fprintf(stderr, "heapgate: warning: %s\n", why);
    hg_tracker_mark_truncated(lv->t, why);
}

int hg__live_settle(struct hg_live *lv) {
    Word_t pid = 0;
    int rc = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(lv->pids, &pid, PJE0); v && !rc;
         v = (PWord_t)JudyLNext(lv->pids, &pid, PJE0)) {
        hg_live_pid_t *ps = (hg_live_pid_t *)*v;
        bool gone = ps->exited || process_gone(ps->pid);
        if (!ps->end_seen && gone) {
            rc = end_process(lv, ps);
        }
        if (!ps->stream_done && !(lv->o.attach && gone)) {
            note_cut(lv, ps);
        }
    }
    return rc;
}
