/* xperf_rows.c - data rows of an xperf text dump (docs/etw-format.md §4.1) turned into the event
 * stream: heap rows become events that wait in the pending queue (etl_pending.c) for their stack;
 * Stack rows - one row per frame ("Stack, ts, tid, No., Address, Image!Function"), or one row per
 * stack with -target machine ("Stack, ts, tid, frame1, frame2, ...") - are matched to the event
 * of the same TimeStamp and ThreadID; process and image rows give processes and modules.
 *
 * Frames come already named ("ntdll.dll!RtlAllocateHeap"). The event model carries addresses, so
 * a frame keeps its Address (or, without one, gets a synthetic address, one per distinct
 * Image!Function), and its name goes to the caller's hg_read_options_t.symbol once per process
 * and address, so reports show the names the dump had. */
#include "xperf_priv.h"

#include <string.h>

/* ---- fields by role ----------------------------------------------------------------------- */

static const xperf_field_t *field(const xperf_type_t *t, const xperf_field_t *f, int nf,
                                  xperf_role_t role) {
    int i = t->col[role];
    return i > 0 && i < nf ? &f[i] : NULL;
}

static uint64_t number(const xperf_type_t *t, const xperf_field_t *f, int nf, xperf_role_t role) {
    const xperf_field_t *v = field(t, f, nf, role);
    uint64_t n = 0;
    return v && hg__xperf_number(v, &n) ? n : 0;
}

/* The text from the role's field to the end of the line (commas in it are kept). */
static xperf_field_t rest(const xperf_type_t *t, const xperf_field_t *f, int nf,
                          xperf_role_t role) {
    const xperf_field_t *v = field(t, f, nf, role);
    if (!v) {
        return (xperf_field_t){"", 0};
    }
    const xperf_field_t *last = &f[nf - 1];
    return (xperf_field_t){v->s, (size_t)(last->s + last->n - v->s)};
}

/* "name.exe (1234)": the pid in the last parentheses, the name before them. */
static uint32_t process_of(const xperf_type_t *t, const xperf_field_t *f, int nf, char *name,
                           size_t cap) {
    const xperf_field_t *v = field(t, f, nf, XR_PROCESS);
    name[0] = '\0';
    if (!v) {
        return (uint32_t)number(t, f, nf, XR_PID);
    }
    size_t open = v->n;
    while (open > 0 && v->s[open - 1] != '(') {
        open--;
    }
    uint64_t pid = 0;
    if (open > 0) {
        xperf_field_t num = {v->s + open, v->n - open};
        while (num.n && (num.s[num.n - 1] == ')' || num.s[num.n - 1] == ' ')) {
            num.n--;
        }
        while (num.n && num.s[0] == ' ') {
            num.s++;
            num.n--;
        }
        hg__xperf_number(&num, &pid);
        size_t nl = open - 1;
        while (nl && v->s[nl - 1] == ' ') {
            nl--;
        }
        snprintf(name, cap, "%.*s", (int)nl, v->s);
    }
    return (uint32_t)pid;
}

/* ---- delivery ----------------------------------------------------------------------------- */

int hg__xperf_deliver(void *ud, hg__pend_item_t *it) {
    hg__xperf_t *x = ud;
    const hg_sink_ops_t *ops = x->sink.ops;
    int rc = it->info && ops->process ? ops->process(x->sink.ctx, it->info) : 0;
    if (rc != 0 || it->ev.kind == 0) {
        return rc;
    }
    it->ev.stack_id = it->part_u;
    return ops->event ? ops->event(x->sink.ctx, &it->ev) : 0;
}

int hg__xperf_send_trace(hg__xperf_t *x) {
    if (x->trace_sent) {
        return 0;
    }
    x->trace_sent = true;
    const hg_sink_ops_t *ops = x->sink.ops;
    int rc = ops->trace ? ops->trace(x->sink.ctx, &x->trace) : 0;
    if (rc != 0 || (x->lost_events == 0 && x->lost_buffers == 0)) {
        return rc;
    }
    hg_event_t lost = {.kind = HG_EV_LOST, .size = x->lost_events, .old_size = x->lost_buffers};
    return hg__pending_push(&x->pending, &lost, 0, false, NULL, NULL);
}

static int push(hg__xperf_t *x, const hg_event_t *ev, uint64_t ts_us, bool waiting,
                hg_process_info_t *info) {
    int rc = hg__xperf_send_trace(x);
    if (rc == 0) {
        rc = hg__pending_push(&x->pending, ev, ts_us, waiting, info, NULL);
    } else {
        hg_free(info);
    }
    return rc == 0 ? hg__pending_drain(&x->pending, ts_us) : rc;
}

/* ---- heap rows ---------------------------------------------------------------------------- */

static int heap_row(hg__xperf_t *x, const xperf_type_t *t, const xperf_field_t *f, int nf) {
    static const uint8_t kind[] = {[XK_HEAP_ALLOC] = HG_EV_ALLOC,
                                   [XK_HEAP_REALLOC] = HG_EV_REALLOC,
                                   [XK_HEAP_FREE] = HG_EV_FREE,
                                   [XK_HEAP_CREATE] = HG_EV_HEAP_CREATE,
                                   [XK_HEAP_DESTROY] = HG_EV_HEAP_DESTROY};
    char name[128];
    uint64_t ts = number(t, f, nf, XR_TS);
    hg_event_t ev = {.kind = kind[t->kind], .ts_ns = ts * 1000};
    ev.pid = process_of(t, f, nf, name, sizeof name);
    ev.tid = (uint32_t)number(t, f, nf, XR_TID);
    ev.heap = number(t, f, nf, XR_HEAP);
    ev.addr = number(t, f, nf, XR_ADDR);
    ev.size = number(t, f, nf, XR_SIZE);
    ev.old_addr = number(t, f, nf, XR_OLD_ADDR);
    ev.old_size = number(t, f, nf, XR_OLD_SIZE);
    ev.flags = field(t, f, nf, XR_OLD_SIZE) ? HG_EVF_OLD_SIZE : 0;
    uint64_t source = number(t, f, nf, XR_SOURCE);
    ev.source = (uint8_t)(source > 255 ? 255 : source);
    if (!field(t, f, nf, XR_TS) ||
        (t->kind != XK_HEAP_CREATE && t->kind != XK_HEAP_DESTROY && !field(t, f, nf, XR_ADDR))) {
        return hg__xperf_fail(x, "%s row without the TimeStamp or address its header declares",
                              t->name);
    }
    return push(x, &ev, ts, true, NULL);
}

/* ---- process and image rows --------------------------------------------------------------- */

static int process_row(hg__xperf_t *x, const xperf_type_t *t, const xperf_field_t *f, int nf) {
    char name[256];
    uint64_t ts = number(t, f, nf, XR_TS);
    hg_event_t ev = {.ts_ns = ts * 1000};
    ev.pid = process_of(t, f, nf, name, sizeof name);
    ev.kind = t->kind == XK_PROCESS_START ? HG_EV_PROCESS_START
              : t->kind == XK_PROCESS_END ? HG_EV_PROCESS_END
                                          : 0;
    xperf_field_t cmd = rest(t, f, nf, XR_CMDLINE);
    size_t nl = strlen(name) + 1;
    hg_process_info_t *info = hg_malloc(sizeof *info + nl + cmd.n + 1);
    if (!info) {
        return HG_ENOMEM;
    }
    char *s = (char *)(info + 1);
    memcpy(s, name, nl);
    memcpy(s + nl, cmd.s, cmd.n);
    s[nl + cmd.n] = '\0';
    *info = (hg_process_info_t){.pid = ev.pid,
                                .parent_pid = (uint32_t)number(t, f, nf, XR_PARENT),
                                .name = *s ? s : NULL,
                                .cmdline = cmd.n ? s + nl : NULL};
    return push(x, &ev, ts, false, info);
}

static int image_row(hg__xperf_t *x, const xperf_type_t *t, const xperf_field_t *f, int nf) {
    char pname[128], path[1024];
    xperf_field_t file = rest(t, f, nf, XR_FILE);
    hg_module_info_t m = {.base = number(t, f, nf, XR_BASE), .unload = t->kind == XK_IMAGE_UNLOAD};
    m.pid = process_of(t, f, nf, pname, sizeof pname);
    uint64_t end = number(t, f, nf, XR_END);
    m.size = end > m.base ? end - m.base : number(t, f, nf, XR_IMAGE_SIZE);
    bool rundown = t->kind == XK_IMAGE_DCSTART || t->kind == XK_IMAGE_DCEND;
    m.ts_ns = rundown ? 0 : number(t, f, nf, XR_TS) * 1000;
    snprintf(path, sizeof path, "%.*s", (int)file.n, file.s);
    m.path = path;
    const hg_sink_ops_t *ops = x->sink.ops;
    int rc = hg__xperf_send_trace(x);
    return rc == 0 && ops->module ? ops->module(x->sink.ctx, &m) : rc;
}

/* ---- stacks ------------------------------------------------------------------------------- */

static void add_frame(hg__xperf_t *x, uint64_t addr, const xperf_field_t *name) {
    if (x->nframes < HG_MAX_FRAMES) {
        xperf_frame_t *fr = &x->frames[x->nframes++];
        fr->addr = addr;
        snprintf(fr->name, sizeof fr->name, "%.*s", (int)name->n, name->s);
    }
}

static int stack_row(hg__xperf_t *x, const xperf_type_t *t, const xperf_field_t *f, int nf) {
    uint64_t ts = number(t, f, nf, XR_TS), no;
    uint32_t tid = (uint32_t)number(t, f, nf, XR_TID);
    const xperf_field_t *nofield = field(t, f, nf, XR_FRAME_NO);
    bool per_frame = nofield && hg__xperf_number(nofield, &no);
    int rc = 0;
    if (x->in_stack && (!per_frame || no <= 1 || ts != x->stack_ts || tid != x->stack_tid)) {
        rc = hg__xperf_end_stack(x);
    }
    if (rc != 0) {
        return rc;
    }
    if (!x->in_stack) {
        x->in_stack = true;
        x->stack_ts = ts;
        x->stack_tid = tid;
        x->nframes = 0;
    }
    if (per_frame) {
        xperf_field_t name = rest(t, f, nf, XR_FRAME);
        add_frame(x, number(t, f, nf, XR_ADDR), &name);
        return 0;
    }
    for (int i = t->col[XR_TID] + 1; i < nf; i++) { /* -target machine: every field a frame */
        if (f[i].n) {
            add_frame(x, 0, &f[i]);
        }
    }
    return hg__xperf_end_stack(x);
}

int hg__xperf_row(hg__xperf_t *x, const xperf_type_t *t, const xperf_field_t *f, int nf) {
    switch (t->kind) {
    case XK_HEAP_ALLOC:
    case XK_HEAP_REALLOC:
    case XK_HEAP_FREE:
    case XK_HEAP_CREATE:
    case XK_HEAP_DESTROY:
        return heap_row(x, t, f, nf);
    case XK_STACK:
        return stack_row(x, t, f, nf);
    case XK_PROCESS_START:
    case XK_PROCESS_END:
    case XK_PROCESS_DCSTART:
    case XK_PROCESS_DCEND:
        return process_row(x, t, f, nf);
    case XK_IMAGE_LOAD:
    case XK_IMAGE_UNLOAD:
    case XK_IMAGE_DCSTART:
    case XK_IMAGE_DCEND:
        return image_row(x, t, f, nf);
    default:
        return 0;
    }
}
