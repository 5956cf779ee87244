/* text_deliver.c - turns one parsed line of a text trace (hg__text_fields_t) into sink calls:
 * events, process and module metadata, stack definitions, allocator statistics, and the
 * directives that only change the reader's state ("default", "trace").
 *
 * sink->trace is sent exactly once, before the first other callback (hg__text_send_trace);
 * "trace" lines are therefore only accepted before it. A key the line left out reads as 0 or
 * NULL here: required keys and defaults were settled by hg__text_parse_fields. */
#include "text_read.h"

#include <string.h>

#define K(x)      HG__TEXT_BIT(HG__TK_##x)
#define META_KEYS (K(NAME) | K(CMD) | K(POINTER_SIZE) | K(ALLOCATOR) | K(PARENT))

static uint64_t num(const hg__text_fields_t *f, int k) {
    return (f->seen & HG__TEXT_BIT(k)) ? f->num[k] : 0;
}

static const char *str(const hg__text_fields_t *f, int k) {
    return (f->seen & HG__TEXT_BIT(k)) ? f->str[k] : NULL;
}

/* A sink callback's result: nonzero stops the reader and is returned unchanged. */
static int sink_result(hg__text_reader_t *r, int rc) {
    if (rc != 0) {
        hg_error_set(r->src.err, rc, "%s:%llu: reading stopped at this line: %s", r->src.name,
                     (unsigned long long)r->src.line_no, hg_strerror(rc));
    }
    return rc;
}

int hg__text_send_trace(hg__text_reader_t *r) {
    if (r->trace_sent) {
        return 0;
    }
    r->trace_sent = true;
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->trace ? sink_result(r, ops->trace(r->sink.ctx, &r->trace)) : 0;
}

/* ---- events ------------------------------------------------------------------------------ */

static void fill_event(const hg__text_fields_t *f, const hg__text_rec_t *rec, hg_event_t *ev) {
    memset(ev, 0, sizeof *ev);
    ev->kind = rec->ev_kind;
    ev->pid = (uint32_t)num(f, HG__TK_PID);
    ev->tid = (uint32_t)num(f, HG__TK_TID);
    ev->heap = num(f, HG__TK_HEAP);
    ev->addr = rec->ev_kind == HG_EV_MARKER ? num(f, HG__TK_VALUE) : num(f, HG__TK_ADDR);
    ev->size = rec->ev_kind == HG_EV_LOST ? num(f, HG__TK_EVENTS) : num(f, HG__TK_SIZE);
    ev->old_addr = num(f, HG__TK_OLD);
    ev->old_size = rec->ev_kind == HG_EV_LOST ? num(f, HG__TK_BUFFERS) : num(f, HG__TK_OLD_SIZE);
    ev->source = (uint8_t)num(f, HG__TK_SOURCE);
    ev->stack_id = (uint32_t)num(f, HG__TK_STACK);
    ev->flags = (uint16_t)((f->seen & K(OLD_SIZE) ? HG_EVF_OLD_SIZE : 0) |
                           (f->seen & K(MMAPPED) ? HG_EVF_MMAPPED : 0));
}

static int send_process(hg__text_reader_t *r) {
    const hg__text_fields_t *f = &r->f;
    hg_process_info_t p = {
        .pid = (uint32_t)num(f, HG__TK_PID),
        .parent_pid = (uint32_t)num(f, HG__TK_PARENT),
        .name = str(f, HG__TK_NAME),
        .cmdline = str(f, HG__TK_CMD),
        .pointer_size = (uint8_t)num(f, HG__TK_POINTER_SIZE),
        .allocator = (uint8_t)num(f, HG__TK_ALLOCATOR),
    };
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->process ? sink_result(r, ops->process(r->sink.ctx, &p)) : 0;
}

static int send_stats(hg__text_reader_t *r, uint64_t ts_ns) {
    const hg__text_fields_t *f = &r->f;
    hg_alloc_stats_t s = {
        .pid = (uint32_t)num(f, HG__TK_PID),
        .ts_ns = ts_ns,
        .arena_bytes = num(f, HG__TK_ARENA),
        .in_use_bytes = num(f, HG__TK_IN_USE),
        .free_bytes = num(f, HG__TK_FREE),
        .mmapped_bytes = num(f, HG__TK_MMAPPED),
        .rss_bytes = num(f, HG__TK_RSS),
    };
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->stats ? sink_result(r, ops->stats(r->sink.ctx, &s)) : 0;
}

int hg__text_deliver_event(hg__text_reader_t *r, const hg__text_rec_t *rec, uint64_t ts_ns) {
    int rc = hg__text_send_trace(r);
    if (rc == 0 && rec->id == HG__TR_STATS) {
        return send_stats(r, ts_ns);
    }
    if (rc == 0 && rec->id == HG__TR_START && (r->f.seen & META_KEYS)) {
        rc = send_process(r);
    }
    if (rc != 0) {
        return rc;
    }
    hg_event_t ev;
    fill_event(&r->f, rec, &ev);
    ev.ts_ns = ts_ns;
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->event ? sink_result(r, ops->event(r->sink.ctx, &ev)) : 0;
}

/* ---- directives -------------------------------------------------------------------------- */

static int send_module(hg__text_reader_t *r, bool unload) {
    const hg__text_fields_t *f = &r->f;
    hg_module_info_t m;
    memset(&m, 0, sizeof m);
    m.pid = (uint32_t)num(f, HG__TK_PID);
    m.unload = unload;
    m.base = num(f, HG__TK_BASE);
    m.size = num(f, HG__TK_SIZE);
    m.ts_ns = num(f, HG__TK_AT);
    m.path = str(f, HG__TK_PATH);
    m.build_id = (f->seen & K(BUILD_ID)) ? f->build_id : NULL;
    m.build_id_len = (f->seen & K(BUILD_ID)) ? f->build_id_len : 0;
    m.pdb_name = str(f, HG__TK_PDB);
    if (f->seen & K(GUID)) {
        memcpy(m.pdb_guid, f->guid, sizeof m.pdb_guid);
    }
    m.pdb_age = (uint32_t)num(f, HG__TK_AGE);
    m.pe_timestamp = (uint32_t)num(f, HG__TK_TIMESTAMP);
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->module ? sink_result(r, ops->module(r->sink.ctx, &m)) : 0;
}

static int send_stack(hg__text_reader_t *r) {
    const hg__text_fields_t *f = &r->f;
    uint32_t id = (uint32_t)f->num[HG__TK_ID];
    uint64_t prev = 0;
    int rc = hg__text_stackset_add(&r->stacks, id, r->src.line_no, &prev);
    if (rc == 0) {
        return hg__text_fail(&r->src, f->at[HG__TK_ID], "stack %u is already defined on line %llu",
                             id, (unsigned long long)prev);
    }
    if (rc < 0) {
        return hg_error_set(r->src.err, rc, "%s:%llu: out of memory for stack ids", r->src.name,
                            (unsigned long long)r->src.line_no);
    }
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->stack ? sink_result(r, ops->stack(r->sink.ctx, id, f->frames, f->nframes)) : 0;
}

static void set_defaults(hg__text_reader_t *r) {
    for (int k = HG__TK_PID; k <= HG__TK_HEAP; k++) {
        if (r->f.seen & HG__TEXT_BIT(k)) {
            r->dflt.num[k] = r->f.num[k];
            r->dflt.seen |= HG__TEXT_BIT(k);
        }
    }
}

static int set_trace(hg__text_reader_t *r, const char *rec_at) {
    const hg__text_fields_t *f = &r->f;
    if (r->trace_sent) {
        return hg__text_fail(&r->src, rec_at,
                             "'trace' lines must come before the first event, "
                             "process, module or stack line");
    }
    uint64_t again = f->seen & r->trace_seen;
    if (again) {
        int k = __builtin_ctzll(again);
        return hg__text_fail(&r->src, f->at[k],
                             "trace setting given twice (also on an earlier "
                             "'trace' line)");
    }
    r->trace_seen |= f->seen;
    r->trace.pointer_size =
        (uint8_t)(f->seen & K(POINTER_SIZE) ? f->num[HG__TK_POINTER_SIZE] : r->trace.pointer_size);
    r->trace.start_wall_ns =
        f->seen & K(START_WALL) ? f->num[HG__TK_START_WALL] : r->trace.start_wall_ns;
    r->trace.duration_hint_ns =
        f->seen & K(DURATION) ? f->num[HG__TK_DURATION] : r->trace.duration_hint_ns;
    r->trace.lost_counts_known =
        f->seen & K(LOST_COUNTS) ? f->num[HG__TK_LOST_COUNTS] != 0 : r->trace.lost_counts_known;
    return 0;
}

int hg__text_deliver_directive(hg__text_reader_t *r, const hg__text_rec_t *rec,
                               const char *rec_at) {
    if (rec->id == HG__TR_DEFAULT) {
        set_defaults(r);
        return 0;
    }
    if (rec->id == HG__TR_TRACE) {
        return set_trace(r, rec_at);
    }
    int rc = hg__text_send_trace(r);
    if (rc != 0) {
        return rc;
    }
    switch (rec->id) {
    case HG__TR_PROCESS:
        return send_process(r);
    case HG__TR_MODULE:
        return send_module(r, false);
    case HG__TR_UNLOAD:
        return send_module(r, true);
    default:
        return send_stack(r);
    }
}
