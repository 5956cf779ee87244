/* etl_read.c - hg_etl_read: Windows ETW trace files (docs/etw-format.md; docs/etl-reader.md).
 *
 * etl_file.c yields the file's events in time order; this file reads the trace header first
 * (trace information, losses), then hands each event to its decoder: heap events become
 * hg_event_t and wait in the pending queue (etl_pending.c) for their stacks; StackWalk events
 * and stack-key references attach stack parts to the waiting event of the same thread and
 * timestamp (§3.1, §3.2); key definitions go to the stack store (etl_stacks.c); process and
 * image events go to etl_kernel.c. Everything else is skipped by its size. When an item leaves
 * the queue its parts become a stack id and it goes to the sink. */
#include "etl_priv.h"

#include <errno.h>
#include <string.h>

#define PENDING_MAX   65536u /* events held back at most (memory bound) */
#define HOOK_STACK    0x1820 /* StackWalk Stack */
#define HOOK_KEY_NEW  0x1822 /* STACKTRACE_CREATE: key + frames */
#define HOOK_KEY_DEL  0x1823 /* KeyDelete */
#define HOOK_KEY_RUN  0x1824 /* KeyRundown */
#define HOOK_KEY_KERN 0x1825 /* StackKeyKernel reference */
#define HOOK_KEY_USER 0x1826 /* StackKeyUser reference */

int hg__etl_fail(hg__etl_reader_t *r, const char *why) {
    char where[160];
    hg__etl_file_where(&r->file, where, sizeof where);
    return hg_error_set(r->err, HG_EFORMAT, "%s: %s: %s", r->name, where, why);
}

/* ---- delivery ----------------------------------------------------------------------------- */

static int deliver(void *ud, hg__pend_item_t *it) {
    hg__etl_reader_t *r = ud;
    const hg_sink_ops_t *ops = r->sink.ops;
    int rc = it->info && ops->process ? ops->process(r->sink.ctx, it->info) : 0;
    if (rc != 0 || it->ev.kind == 0) {
        return rc;
    }
    if ((rc = hg__etl_stacks_id(r->stacks, it->part_k, it->part_u, &it->ev.stack_id)) != 0) {
        return rc;
    }
    return ops->event ? ops->event(r->sink.ctx, &it->ev) : 0;
}

/* ---- processes seen in heap events -------------------------------------------------------- */

static hg__etl_proc_t *proc_of(hg__etl_reader_t *r, uint32_t pid) {
    uint64_t i;
    if (r->nprocs && r->last_pid == pid) {
        return &r->procv[r->last_proc];
    }
    if (hg__map_get(&r->procs, pid, &i)) {
        r->last_pid = pid;
        r->last_proc = (size_t)i;
        return &r->procv[i];
    }
    if (r->nprocs == r->capprocs) {
        size_t cap = r->capprocs ? r->capprocs * 2 : 16;
        hg__etl_proc_t *v = hg_realloc(r->procv, cap * sizeof *v);
        if (!v) {
            return NULL;
        }
        r->procv = v;
        r->capprocs = cap;
    }
    if (hg__map_put(&r->procs, pid, r->nprocs) != 0) {
        return NULL;
    }
    r->procv[r->nprocs] = (hg__etl_proc_t){0};
    return &r->procv[r->nprocs++];
}

/* A heap event of pid with ptr-sized payloads: lend it the kernel's images, and tell the sink
 * its pointer size the first time (or when it changes). *info is NULL or owned by the caller. */
static int note_process(hg__etl_reader_t *r, uint32_t pid, uint8_t ptr, hg_process_info_t **info) {
    hg__etl_proc_t *p = proc_of(r, pid);
    *info = NULL;
    if (!p) {
        return HG_ENOMEM;
    }
    if (p->ptr != ptr) {
        if (!(*info = hg_calloc(1, sizeof **info))) {
            return HG_ENOMEM;
        }
        (*info)->pid = pid;
        (*info)->pointer_size = ptr;
        p->ptr = ptr;
    }
    return hg__etl_kernel_lend(r, pid, &p->kmods_sent);
}

/* ---- heap events and stacks --------------------------------------------------------------- */

static int on_heap(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg_event_t ev = {0};
    const char *why = NULL;
    int rc = hg__etl_heap_decode(e, &ev, &why);
    if (rc <= 0) {
        return rc < 0 ? hg__etl_fail(r, why) : 0;
    }
    ev.pid = e->pid;
    ev.tid = e->tid;
    ev.ts_ns = hg__etl_ts_ns(&r->hdr, e->ts);
    r->stats.heap_events++;
    hg_process_info_t *info;
    if ((rc = note_process(r, ev.pid, e->ptr, &info)) != 0) {
        hg_free(info);
        return rc;
    }
    return hg__pending_push(&r->pending, &ev, e->ts, true, info, NULL);
}

/* A stack part for the waiting event of (tid, ts): kernel-only parts wait for the rest. */
static void attach(hg__pend_item_t *it, uint32_t part, bool kernel_only) {
    if (kernel_only) {
        it->part_k = it->part_k ? it->part_k : part;
    } else if (!it->part_u) {
        it->part_u = part;
        it->waiting = false;
    }
}

/* Frames of a StackWalk payload (P-sized, innermost first), cut to HG_MAX_FRAMES. */
static uint32_t read_frames(const uint8_t *d, uint32_t len, unsigned p, uint64_t *out) {
    uint32_t n = len / p;
    n = n < HG_MAX_FRAMES ? n : HG_MAX_FRAMES;
    for (uint32_t i = 0; i < n; i++) {
        out[i] = hg__get_ptr(d + (size_t)i * p, p);
    }
    return n;
}

static int on_stack(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    if (e->data_len < 16) {
        return hg__etl_fail(r, "StackWalk event payload shorter than 16 bytes (§3.1)");
    }
    r->stats.stack_events++;
    hg__pend_item_t *it =
        hg__pending_find(&r->pending, hg__get_u32(e->data + 12), hg__get_u64(e->data));
    if (!it) {
        r->stats.unmatched_stacks++;
        return 0;
    }
    uint64_t frames[HG_MAX_FRAMES];
    uint32_t n = read_frames(e->data + 16, e->data_len - 16, e->ptr, frames);
    uint32_t part = hg__etl_stacks_frames(r->stacks, frames, n);
    if (!part) {
        return HG_ENOMEM;
    }
    attach(it, part, n > 0 && hg__is_kernel_addr(frames[n - 1], e->ptr));
    return 0;
}

static int on_key_ref(hg__etl_reader_t *r, const hg__etl_event_t *e, bool kernel) {
    if (e->data_len < 16u + e->ptr) {
        return hg__etl_fail(r, "stack key reference shorter than its layout (§3.2)");
    }
    r->stats.stack_refs++;
    hg__pend_item_t *it =
        hg__pending_find(&r->pending, hg__get_u32(e->data + 12), hg__get_u64(e->data));
    if (!it) {
        r->stats.unmatched_stacks++;
        return 0;
    }
    uint32_t part = hg__etl_stacks_key_ref(r->stacks, kernel, hg__get_ptr(e->data + 16, e->ptr));
    if (!part) {
        return HG_ENOMEM;
    }
    attach(it, part, kernel);
    return 0;
}

static int on_key_def(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    if (e->data_len < e->ptr) {
        return hg__etl_fail(r, "stack key definition shorter than its key (§3.2)");
    }
    r->stats.stack_defs++;
    uint64_t frames[HG_MAX_FRAMES];
    uint32_t n = read_frames(e->data + e->ptr, e->data_len - e->ptr, e->ptr, frames);
    bool kernel = n > 0 && hg__is_kernel_addr(frames[n - 1], e->ptr);
    return hg__etl_stacks_key_def(r->stacks, kernel, hg__get_ptr(e->data, e->ptr), frames, n);
}

static int on_stackwalk(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    switch (e->hook) {
    case HOOK_STACK:
        return on_stack(r, e);
    case HOOK_KEY_NEW:
    case HOOK_KEY_DEL:
    case HOOK_KEY_RUN:
        return on_key_def(r, e);
    case HOOK_KEY_KERN:
    case HOOK_KEY_USER:
        return on_key_ref(r, e, e->hook == HOOK_KEY_KERN);
    default:
        return 0;
    }
}

/* ---- the event loop ----------------------------------------------------------------------- */

static int dispatch(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    if (e->cls == ETL_CLASS_HOOK) {
        if (e->hook >= 0x1020 && e->hook <= 0x102E) {
            return on_heap(r, e);
        }
        if ((e->hook >> 8) == 0x18) {
            return on_stackwalk(r, e);
        }
    }
    return e->cls == ETL_CLASS_MESSAGE ? 0 : hg__etl_kernel_event(r, e);
}

static int read_events(hg__etl_reader_t *r, const hg_read_options_t *opt) {
    const hg__etl_event_t *e;
    int rc;
    uint64_t shown = 0;
    while ((rc = hg__etl_file_next(&r->file, &e)) > 0) {
        r->stats.events_by_type[e->type & 31]++;
        if (r->kernel.ngroup && e->ts != r->kernel.group_ts && (rc = hg__etl_kernel_flush(r))) {
            return rc;
        }
        r->now = e->ts;
        if ((rc = dispatch(r, e)) != 0 || (rc = hg__pending_drain(&r->pending, e->ts)) != 0) {
            return rc;
        }
        if (opt && opt->progress && r->file.bytes_loaded - shown >= (1u << 22)) {
            shown = r->file.bytes_loaded;
            opt->progress(opt->progress_ud, shown, r->file.size);
        }
    }
    if (rc == 0) {
        rc = hg__etl_kernel_flush(r);
    }
    return rc == 0 ? hg__pending_flush(&r->pending) : rc;
}

/* ---- the trace header --------------------------------------------------------------------- */

static int read_header(hg__etl_reader_t *r) {
    hg__etl_event_t e;
    const char *why = NULL;
    const hg__etl_file_t *f = &r->file;
    int rc = hg__etl_parse_event(f->first + ETL_BUFFER_HEADER_BYTES,
                                 f->first_len - ETL_BUFFER_HEADER_BYTES, &e, &why);
    why = rc == 0 ? "the first buffer holds no events (expected the trace header)" : why;
    if (rc <= 0 || (why = hg__etl_header_decode(&e, &r->hdr)) != NULL) {
        return hg_error_set(r->err, HG_EFORMAT, "%s: offset %u: %s", r->name,
                            ETL_BUFFER_HEADER_BYTES, why);
    }
    return 0;
}

/* Trace information first, then the losses the header counts (as one LOST event at time 0). */
static int announce(hg__etl_reader_t *r) {
    hg_trace_info_t info;
    hg__etl_trace_info(&r->hdr, &info);
    const hg_sink_ops_t *ops = r->sink.ops;
    int rc = ops->trace ? ops->trace(r->sink.ctx, &info) : 0;
    if (rc != 0 || (r->hdr.events_lost == 0 && r->hdr.buffers_lost == 0)) {
        return rc;
    }
    hg_event_t lost = {
        .kind = HG_EV_LOST, .size = r->hdr.events_lost, .old_size = r->hdr.buffers_lost};
    return hg__pending_push(&r->pending, &lost, r->hdr.ts0, false, NULL, NULL);
}

static int run(hg__etl_reader_t *r, FILE *fp, uint64_t size, const hg_read_options_t *opt) {
    int rc = hg__etl_file_open(&r->file, fp, r->name, size, r->err);
    if (rc == 0 && (rc = read_header(r)) == 0) {
        hg__pending_init(&r->pending, PENDING_MAX, r->hdr.perf_freq / 2, deliver, r);
        r->stacks = hg__etl_stacks_new(r->sink);
        rc = r->stacks ? announce(r) : HG_ENOMEM;
    }
    return rc == 0 ? read_events(r, opt) : rc;
}

static int file_size(FILE *fp, const char *name, uint64_t *size, hg_error_t *err) {
    if (*size) {
        return 0;
    }
    if (fseeko(fp, 0, SEEK_END) != 0) {
        return hg_error_set(err, HG_EIO, "%s: input must be a seekable file: %s", name,
                            strerror(errno));
    }
    off_t end = ftello(fp);
    *size = end > 0 ? (uint64_t)end : 0;
    return 0;
}

static void finish(hg__etl_reader_t *r, hg_read_result_t *res, hg__etl_stats_t *stats) {
    res->truncated = r->file.truncated;
    snprintf(res->warning, sizeof res->warning, "%s", r->file.warning);
    res->bytes_read = r->file.end;
    r->stats.buffers = r->file.buffers;
    r->stats.compressed_buffers = r->file.compressed_buffers;
    r->stats.events = r->file.events;
    r->stats.forced = r->pending.forced;
    r->stats.header = r->hdr;
    if (stats) {
        *stats = r->stats;
    }
    hg__pending_free(&r->pending);
    hg__etl_stacks_free(r->stacks);
    hg__etl_kernel_free(&r->kernel);
    hg__map_free(&r->procs);
    hg_free(r->procv);
    hg__etl_file_close(&r->file);
}

int hg__etl_read_observed(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                          const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err,
                          const hg__etl_observer_t *obs, hg__etl_stats_t *stats) {
    hg_read_result_t ignored;
    res = res ? res : &ignored;
    memset(res, 0, sizeof *res);
    res->format = HG_FMT_ETL;
    name = name ? name : "(etl)";
    hg__etl_reader_t *r = hg_calloc(1, sizeof *r);
    if (!r) {
        return hg_error_set(err, HG_ENOMEM, "%s: out of memory", name);
    }
    *r = (hg__etl_reader_t){.name = name, .sink = sink, .err = err, .obs = obs};
    int rc = file_size(fp, name, &size_bytes, err);
    rc = rc == 0 ? run(r, fp, size_bytes, opt) : rc;
    if (rc == HG_ENOMEM && (!err || err->code != HG_ENOMEM)) {
        hg_error_set(err, HG_ENOMEM, "%s: out of memory", name);
    }
    finish(r, res, stats);
    hg_free(r);
    return rc;
}

int hg_etl_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err) {
    return hg__etl_read_observed(fp, name, size_bytes, sink, opt, res, err, NULL, NULL);
}
