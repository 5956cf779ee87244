/* hgbench_gen.c - writes a benchmark workload (workload.h) as a .hgt trace.
 *
 *   hgbench_gen WORKLOAD OUT.hgt [--rounds N]     WORKLOAD: a, b, c or tiny
 *
 * The trace is what a recorder would have captured from bench/workload_a.c running that
 * workload: one 64-bit glibc process with a module map (the program, libc, the dynamic
 * loader), one stack per call path and phase (fill or rounds), realloc and leak paths of their
 * own, addresses from a simulated allocator (simheap.c: blocks never overlap), timestamps
 * 50-149 ns apart from a PRNG of their own, and the process end after the last event. The
 * events follow the workload's operation sequence exactly. Prints what it wrote. */
#include "formats.h"
#include "simheap.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PID        4242u
#define TID        4242u
#define HEAP       0u /* glibc's malloc: one heap */
#define HEAP_BASE  UINT64_C(0x55c6d3b8e000)
#define EXE_BASE   UINT64_C(0x55c6d2a00000)
#define LIBC_BASE  UINT64_C(0x7f8e4b600000)
#define LD_BASE    UINT64_C(0x7f8e4b849000)
#define START_WALL UINT64_C(1767225600000000000) /* 2026-01-01T00:00:00Z */

/* Stack ids: alloc paths in the fill, the same paths in the rounds, realloc, leak. */
#define STACK_FILL(path)  (1u + (path))
#define STACK_ROUND(path) (1u + HG_WL_PATHS + (path))
#define STACK_REALLOC     (1u + 2 * HG_WL_PATHS)
#define STACK_LEAK        (2u + 2 * HG_WL_PATHS)
#define MAX_DEPTH         12

typedef struct gen {
    hg_sink_t sink;
    const hg_wl_params_t *p;
    hg_simheap_t heap;
    uint64_t *addr; /* per slot */
    uint32_t *size;
    hg_wl_rng_t time_rng;
    uint64_t ts_ns;
    uint64_t events;
    bool in_rounds;
    int rc; /* first sink error */
} gen_t;

static void *must(void *p) {
    if (!p) {
        fprintf(stderr, "hgbench_gen: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- events ------------------------------------------------------------------------------- */

static void emit(gen_t *g, hg_event_t *ev) {
    g->ts_ns += 50 + hg_wl_rng_next(&g->time_rng) % 100;
    ev->pid = PID;
    ev->tid = TID;
    ev->heap = HEAP;
    ev->ts_ns = g->ts_ns;
    if (g->rc == 0) {
        g->rc = g->sink.ops->event(g->sink.ctx, ev);
    }
    g->events++;
}

static void on_alloc(void *ud, uint32_t slot, uint32_t size, unsigned path) {
    gen_t *g = ud;
    g->addr[slot] = hg_simheap_alloc(&g->heap, size);
    g->size[slot] = size;
    hg_event_t ev = {.kind = HG_EV_ALLOC, .addr = g->addr[slot], .size = size};
    ev.stack_id = g->in_rounds ? STACK_ROUND(path) : STACK_FILL(path);
    emit(g, &ev);
}

static void on_free(void *ud, uint32_t slot) {
    gen_t *g = ud;
    g->in_rounds = true; /* the first free ends the fill */
    hg_event_t ev = {.kind = HG_EV_FREE, .addr = g->addr[slot]};
    hg_simheap_release(&g->heap, g->addr[slot], g->size[slot]);
    emit(g, &ev);
}

static void on_realloc(void *ud, uint32_t slot, uint32_t size) {
    gen_t *g = ud;
    g->in_rounds = true;
    uint64_t old = g->addr[slot];
    g->addr[slot] = hg_simheap_realloc(&g->heap, old, g->size[slot], size);
    hg_event_t ev = {.kind = HG_EV_REALLOC, .addr = g->addr[slot], .size = size};
    ev.old_addr = old; /* old_size unknown, as to an LD_PRELOAD recorder */
    ev.stack_id = STACK_REALLOC;
    g->size[slot] = size;
    emit(g, &ev);
}

static void on_leak(void *ud, uint32_t size) {
    gen_t *g = ud;
    hg_event_t ev = {.kind = HG_EV_ALLOC, .addr = hg_simheap_alloc(&g->heap, size), .size = size};
    ev.stack_id = STACK_LEAK;
    emit(g, &ev);
}

static const hg_wl_ops_t gen_ops = {on_alloc, on_free, on_realloc, on_leak};

/* ---- metadata ----------------------------------------------------------------------------- */

static int put_trace(gen_t *g) {
    hg_trace_info_t t = {.format = "hgbench",
                         .start_wall_ns = START_WALL,
                         .duration_hint_ns = hg_wl_expected_events(g->p) * 100,
                         .pointer_size = 8,
                         .lost_counts_known = true};
    return g->sink.ops->trace(g->sink.ctx, &t);
}

static int put_process(gen_t *g) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "./workload_a %s", g->p->name);
    hg_process_info_t pi = {.pid = PID,
                            .parent_pid = 4200,
                            .name = "workload_a",
                            .cmdline = cmd,
                            .pointer_size = 8,
                            .allocator = HG_ALLOCATOR_GLIBC};
    return g->sink.ops->process(g->sink.ctx, &pi);
}

static int put_module(gen_t *g, const char *path, uint64_t base, uint64_t size, uint8_t id) {
    uint8_t build_id[20];
    for (size_t i = 0; i < sizeof build_id; i++) {
        build_id[i] = (uint8_t)(id * 37 + i * 11);
    }
    hg_module_info_t m = {.pid = PID, .base = base, .size = size, .path = path};
    m.build_id = build_id;
    m.build_id_len = sizeof build_id;
    return g->sink.ops->module(g->sink.ctx, &m);
}

static int put_modules(gen_t *g) {
    int rc = put_module(g, "/opt/hgbench/workload_a", EXE_BASE, 0x6000, 1);
    if (rc == 0) {
        rc = put_module(g, "/usr/lib/x86_64-linux-gnu/libc.so.6", LIBC_BASE, 0x1d9000, 2);
    }
    if (rc == 0) {
        rc = put_module(g, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", LD_BASE, 0x2b000, 3);
    }
    return rc;
}

/* Frames of one stack: the allocator in libc, the call path's own functions (one to four of
 * them, as in workload_a.c), the workload driver, main and the C runtime. */
static uint32_t stack_frames(uint32_t id, uint64_t *f) {
    static const uint64_t libc_fn[] = {0x9a6e0, 0x9b1c0}; /* malloc, realloc */
    uint32_t n = 0;
    f[n++] = LIBC_BASE + libc_fn[id == STACK_REALLOC] + 0x4e;
    uint32_t path = id == STACK_REALLOC ? 4 : id == STACK_LEAK ? 5 : (id - 1) % HG_WL_PATHS;
    uint32_t depth = 1 + path % 4;
    for (uint32_t i = 0; i < depth; i++) {
        f[n++] = EXE_BASE + 0x1400 + path * 0x180 + i * 0x40 + 0x1b;
    }
    bool fill = id <= HG_WL_PATHS;
    f[n++] = EXE_BASE + (fill ? 0x2200 : 0x2300) + 0x5a; /* fill or round_once */
    f[n++] = EXE_BASE + 0x2480 + 0x9c;                   /* hg_wl_run */
    f[n++] = EXE_BASE + 0x1200 + 0x61;                   /* main */
    f[n++] = LIBC_BASE + 0x271ca;                        /* __libc_start_call_main */
    f[n++] = LIBC_BASE + 0x27285;                        /* __libc_start_main */
    f[n++] = EXE_BASE + 0x1111;                          /* _start */
    return n;
}

static int put_stacks(gen_t *g) {
    uint64_t frames[MAX_DEPTH];
    for (uint32_t id = 1; id <= STACK_LEAK; id++) {
        uint32_t n = stack_frames(id, frames);
        int rc = g->sink.ops->stack(g->sink.ctx, id, frames, n);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

static int put_lifetime(gen_t *g, uint8_t kind) {
    hg_event_t ev = {.kind = kind};
    emit(g, &ev);
    return g->rc;
}

/* ---- the trace ---------------------------------------------------------------------------- */

static int generate(gen_t *g) {
    int rc = put_trace(g);
    rc = rc ? rc : put_process(g);
    rc = rc ? rc : put_lifetime(g, HG_EV_PROCESS_START);
    rc = rc ? rc : put_modules(g);
    rc = rc ? rc : put_stacks(g);
    if (rc == 0) {
        hg_wl_run(g->p, &gen_ops, g);
        rc = g->rc;
    }
    return rc ? rc : put_lifetime(g, HG_EV_PROCESS_END);
}

static int usage(void) {
    fprintf(stderr, "usage: hgbench_gen a|b|c|tiny OUT.hgt [--rounds N]\n");
    return 2;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_trace(const hg_wl_params_t *p, const char *out) {
    hg_error_t err;
    hg_error_clear(&err);
    hg_hgt_writer_t *w = hg_hgt_writer_open(out, NULL, &err);
    if (!w) {
        fprintf(stderr, "hgbench_gen: %s\n", err.msg);
        return 2;
    }
    gen_t g = {.sink = hg_hgt_writer_sink(w), .p = p};
    g.addr = must(calloc(p->slots, sizeof *g.addr));
    g.size = must(calloc(p->slots, sizeof *g.size));
    hg_simheap_init(&g.heap, HEAP_BASE, p->max_size);
    hg_wl_rng_seed(&g.time_rng, p->seed ^ 0x71e5ULL);
    double t0 = now_s();
    int rc = generate(&g);
    rc = rc ? (hg_hgt_writer_abort(w), rc) : hg_hgt_writer_close(w, &err);
    if (rc) {
        fprintf(stderr, "hgbench_gen: %s: %s\n", out, err.msg[0] ? err.msg : hg_strerror(rc));
    } else {
        printf("%s: workload %s, %llu events, %.1f s\n", out, p->name, (unsigned long long)g.events,
               now_s() - t0);
    }
    hg_simheap_destroy(&g.heap);
    free(g.addr);
    free(g.size);
    return rc ? 2 : 0;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) {
        return usage();
    }
    const hg_wl_params_t *found = hg_wl_find(argv[1]);
    if (!found) {
        return usage();
    }
    hg_wl_params_t p = *found;
    if (argc == 5) {
        char *end;
        if (strcmp(argv[3], "--rounds") != 0 || (p.rounds = strtoull(argv[4], &end, 10)) == 0 ||
            *end) {
            return usage();
        }
    }
    return write_trace(&p, argv[2]);
}
