/* ingest.c - reads one input: events, stacks and processes go to the tracker, modules to the
 * symbolizer's module map (address space = pid). Shows progress on stderr when asked. */
#include "detector_priv.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct ingest {
    hg_sink_t tracker;
    hg_symbolizer_t *sym;
    const char *path;
    double last_shown;
    bool shown;
} ingest_t;

static int on_trace(void *ctx, const hg_trace_info_t *info) {
    ingest_t *in = ctx;
    return in->tracker.ops->trace(in->tracker.ctx, info);
}

static int on_process(void *ctx, const hg_process_info_t *info) {
    ingest_t *in = ctx;
    return in->tracker.ops->process(in->tracker.ctx, info);
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    ingest_t *in = ctx;
    if (m->unload) {
        return hg_sym_unload_module(in->sym, m->pid, m->base, m->ts_ns);
    }
    hg_sym_module_t sm = {
        .base = m->base,
        .size = m->size,
        .path = m->path,
        .build_id = m->build_id,
        .build_id_len = m->build_id_len,
        .pdb_name = m->pdb_name,
        .pdb_age = m->pdb_age,
        .pe_timestamp = m->pe_timestamp,
        .load_ts_ns = m->ts_ns,
    };
    memcpy(sm.pdb_guid, m->pdb_guid, sizeof sm.pdb_guid);
    return hg_sym_add_module(in->sym, m->pid, &sm);
}

/* Frames the input named itself (xperf dumps) go to the symbolizer's cache. */
static int on_symbol(void *ud, uint32_t pid, uint64_t addr, const char *module,
                     const char *function) {
    ingest_t *in = ud;
    return hg_sym_add_symbol(in->sym, pid, addr, module, function);
}

static int on_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    ingest_t *in = ctx;
    return in->tracker.ops->stack(in->tracker.ctx, id, frames, n);
}

static int on_event(void *ctx, const hg_event_t *ev) {
    ingest_t *in = ctx;
    return in->tracker.ops->event(in->tracker.ctx, ev);
}

static int on_stats(void *ctx, const hg_alloc_stats_t *st) {
    ingest_t *in = ctx;
    return in->tracker.ops->stats(in->tracker.ctx, st);
}

static const hg_sink_ops_t ingest_ops = {on_trace, on_process, on_module,
                                         on_stack, on_event,   on_stats};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_progress(void *ud, uint64_t done, uint64_t total) {
    ingest_t *in = ud;
    double now = now_s();
    if (now - in->last_shown < 0.25) {
        return;
    }
    in->last_shown = now;
    in->shown = true;
    char a[32], b[32];
    if (total) {
        fprintf(stderr, "\rheapgate: reading %s: %3.0f%% (%s of %s)   ", in->path,
                100.0 * (double)done / (double)total, hg_format_bytes(done, a, sizeof a),
                hg_format_bytes(total, b, sizeof b));
    } else {
        fprintf(stderr, "\rheapgate: reading %s: %s   ", in->path,
                hg_format_bytes(done, a, sizeof a));
    }
}

bool hg__progress_wanted(hg_progress_mode_t mode) {
    return mode == HG_PROGRESS_ALWAYS || (mode == HG_PROGRESS_AUTO && isatty(STDERR_FILENO));
}

int hg__ingest(const char *path, hg_tracker_t *t, hg_symbolizer_t *sym, bool progress,
               hg_input_result_t *res, hg_error_t *err) {
    ingest_t in = {.tracker = hg_tracker_sink(t), .sym = sym, .path = path};
    in.last_shown = now_s();
    hg_read_options_t ropt = {.progress = progress ? show_progress : NULL,
                              .progress_ud = &in,
                              .symbol = on_symbol,
                              .symbol_ud = &in};
    hg_sink_t sink = {&ingest_ops, &in};
    hg_read_result_t rr;
    int rc = hg_read_file(path, sink, &ropt, &rr, err);
    if (in.shown) {
        fprintf(stderr, "\r\033[K");
    }
    if (rc == HG_ENOMEM) {
        hg_error_set(err, rc, "%s: out of memory while reading", path);
    }
    memset(res, 0, sizeof *res);
    res->format = rr.format;
    res->truncated = rr.truncated;
    snprintf(res->warning, sizeof res->warning, "%s", rr.warning);
    return rc;
}
