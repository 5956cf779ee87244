/* sample_report.c - builds the fixed reports of sample_report.h in code. Every field of every
 * struct is set to a distinct, recognisable value so golden files show each one; strings are
 * copied with hg_strdup (a failed copy makes the builder return NULL). */
#include "sample_report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool g_nomem;

static char *S(const char *s) {
    char *d = s ? hg_strdup(s) : NULL;
    g_nomem |= s && !d;
    return d;
}

static void set_frame(hg_rframe_t *f, uint64_t addr, const char *module, uint64_t offset,
                      const char *function, const char *file, uint32_t line, uint32_t column) {
    f->addr = addr;
    f->module = S(module);
    f->offset = offset;
    f->function = S(function);
    f->file = S(file);
    f->line = line;
    f->column = column;
}

static void set_totals(hg_rtotals_t *t, uint64_t leaked, uint64_t outstanding, uint64_t released) {
    t->leaked_bytes = leaked;
    t->leaked_blocks = leaked / 1024;
    t->outstanding_bytes = outstanding;
    t->outstanding_blocks = outstanding / 1024;
    t->released_by_destroy_bytes = released;
    t->released_by_destroy_blocks = released / 1024;
}

static bool set_pids(hg_rsite_t *s, const uint32_t *pids, size_t n) {
    s->pids = hg_malloc(n * sizeof *pids);
    if (!s->pids) {
        return false;
    }
    memcpy(s->pids, pids, n * sizeof *pids);
    s->npids = n;
    return true;
}

static bool alloc_frames(hg_rsite_t *s, size_t n) {
    s->frames = hg_calloc(n, sizeof *s->frames);
    s->nframes = s->frames ? n : 0;
    return s->frames != NULL;
}

static void set_lifetime(hg_rlifetime_t *l, uint64_t scale, int64_t impacting) {
    l->enabled = true;
    l->t0_ns = 1000000000;
    l->t1_ns = 5000000000;
    l->aifi_blocks = 10 * scale;
    l->aifi_bytes = 10240 * scale;
    l->aifo_blocks = 3 * scale;
    l->aifo_bytes = 3072 * scale;
    l->aofi_blocks = 2 * scale;
    l->aofi_bytes = 2048 * scale;
    l->aofo_blocks = 1 * scale;
    l->aofo_bytes = 1024 * scale;
    l->impacting_bytes = impacting;
}

/* ---- header, processes -------------------------------------------------------------------- */

static bool add_header(hg_report_t *r) {
    r->tool_version = S(SAMPLE_TOOL_VERSION);
    set_totals(&r->totals, 5120, 2048, 1024);
    r->incomplete = true;
    r->cluster_gap_bytes = 1048576;
    return hg_report_add_input(r, "traces/app run.hgt", "hgt") == 0 &&
           hg_report_add_input(r, SAMPLE_EVIL_INPUT, "etl") == 0 &&
           hg_report_add_warning(r, "trace.etl: buffer 12 cut short at offset 0x4000") == 0 &&
           hg_report_add_warning(r, SAMPLE_EVIL_WARNING) == 0;
}

static void fill_process(hg_rprocess_t *p, uint32_t pid, const char *name, bool ended) {
    p->pid = pid;
    p->parent_pid = pid - 1;
    p->instance = ended ? 0 : 1;
    p->name = S(name);
    p->cmdline = S(ended ? "app.exe --run \"fast\"" : NULL);
    p->pointer_size = ended ? 8 : 4;
    p->allocator = S(ended ? "windows" : "glibc");
    p->ended = ended;
    p->traced_from_start = ended;
    p->start_ts_ns = ended ? 0 : 250000;
    p->end_ts_ns = ended ? 9000000000 : 0;
    set_totals(&p->totals, ended ? 5120 : 0, ended ? 0 : 2048, ended ? 1024 : 0);
    p->allocs = pid * 10;
    p->reallocs = pid;
    p->frees = pid * 9;
    p->alloc_bytes = pid * 1000;
    p->peak_live_bytes = pid * 100;
    p->peak_live_ts_ns = 4500000000;
    set_lifetime(&p->lifetime, ended ? 1 : 2, ended ? 4096 : -4096);
    p->input = S(ended ? "traces/app run.hgt" : SAMPLE_EVIL_INPUT);
}

static bool add_processes(hg_report_t *r) {
    hg_rprocess_t *a = hg_report_add_process(r);
    if (a) {
        fill_process(a, 1234, "app.exe", true);
    }
    hg_rprocess_t *b = a ? hg_report_add_process(r) : NULL;
    if (b) {
        fill_process(b, 5678, SAMPLE_EVIL_PROCESS, false);
    }
    return b != NULL;
}

/* ---- sites -------------------------------------------------------------------------------- */

static void fill_site_counts(hg_rsite_t *s, uint64_t k) {
    s->allocs = 10 * k;
    s->alloc_bytes = 40960 * k;
    s->peak_live_bytes = 8192 * k;
    s->first_ts_ns = 1234567890 * k;
    s->last_ts_ns = 2500000000 * k;
    s->aifo_blocks = k;
    s->aifo_bytes = 1024 * k;
}

/* The leak: every kind of frame (resolved, inlined, no file, module+offset, bare address). */
static bool add_leak_site(hg_report_t *r) {
    static const uint32_t pids[] = {1234, 5678};
    hg_rsite_t *s = hg_report_add_site(r);
    if (!s || !alloc_frames(s, 5) || !set_pids(s, pids, 2)) {
        return false;
    }
    s->id = S("00a1b2c3d4e5f607");
    set_frame(&s->frames[0], 0x7f0000001000, "libc.so.6", 0x1000, "malloc", NULL, 0, 0);
    set_frame(&s->frames[1], 0x7f0000002000, "app", 0x2000, "inline_helper", "src/helper.h", 17, 3);
    s->frames[1].inlined = true;
    set_frame(&s->frames[2], 0x7f0000002000, "app", 0x2000, "make_widget", "/src/widget.c", 42, 7);
    set_frame(&s->frames[3], 0x7f0000003abc, "app", 0x3abc, NULL, NULL, 0, 0);
    set_frame(&s->frames[4], SAMPLE_MAX_ADDR, NULL, 0, NULL, NULL, 0, 0);
    set_totals(&s->totals, 4096, 0, 1024);
    fill_site_counts(s, 1);
    return true;
}

/* Outstanding, with a deep stack (more than max_frames) and very long names. */
static bool add_deep_site(hg_report_t *r) {
    static const uint32_t pids[] = {5678};
    char fn[64];
    hg_rsite_t *s = hg_report_add_site(r);
    if (!s || !alloc_frames(s, 20) || !set_pids(s, pids, 1)) {
        return false;
    }
    s->id = S("1111222233334444");
    set_frame(&s->frames[0], 0x401000, "server", 0x1000,
              "std::vector<std::basic_string<char, std::char_traits<char>, "
              "std::allocator<char>>, std::allocator<std::basic_string<char>>>::_M_realloc_"
              "insert<std::basic_string<char> const&>",
              "/usr/include/c++/12/bits/vector.tcc", 449, 0);
    set_frame(&s->frames[1], 0x402000, "server", 0x2000, "handler\x1b[2J\xff", "evil\n.c", 9, 1);
    for (size_t i = 2; i < 20; i++) {
        snprintf(fn, sizeof fn, "level_%zu", i);
        set_frame(&s->frames[i], 0x403000 + i, "server", 0x3000 + i, fn, "server.c",
                  (uint32_t)(100 + i), 0);
    }
    set_totals(&s->totals, 0, 2048, 0);
    fill_site_counts(s, 2);
    return true;
}

static hg_rsite_t *add_plain_site(hg_report_t *r, const char *id, uint64_t leaked,
                                  const char *suppressed_by, bool runtime) {
    static const uint32_t pids[] = {1234};
    hg_rsite_t *s = hg_report_add_site(r);
    if (!s || !alloc_frames(s, 1) || !set_pids(s, pids, 1)) {
        return NULL;
    }
    s->id = S(id);
    set_frame(&s->frames[0], 0x500000, "libfoo.so", 0x10, "foo_init", "foo.c", 5, 0);
    set_totals(&s->totals, leaked, 0, 0);
    fill_site_counts(s, 3);
    s->suppressed_by = S(suppressed_by);
    s->runtime = runtime;
    return s;
}

static bool add_sites(hg_report_t *r) {
    hg_rsite_t *quiet;
    if (!add_leak_site(r) || !add_deep_site(r) ||
        !add_plain_site(r, "5555666677778888", 1024, "leak:libfoo", false) ||
        !add_plain_site(r, "9999aaaabbbbcccc", 72704, "leak:__gnu_cxx::__freeres", true) ||
        !(quiet = add_plain_site(r, "ddddeeeeffff0000", 0, NULL, false))) {
        return false;
    }
    hg_rframe_t *f = &quiet->frames[0]; /* a site that freed everything, with no stack */
    hg_free(f->module);
    hg_free(f->function);
    hg_free(f->file);
    quiet->nframes = 0;
    return true;
}

/* ---- anomalies ---------------------------------------------------------------------------- */

static hg_ranomaly_t *add_anomaly(hg_report_t *r, int kind, const char *name, int severity,
                                  uint64_t count, const char *site) {
    char id[8];
    hg_ranomaly_t *a = hg_report_add_anomaly(r);
    if (!a) {
        return NULL;
    }
    snprintf(id, sizeof id, "A%d", kind);
    a->kind = kind;
    a->id = S(id);
    a->name = S(name);
    a->severity = severity;
    a->count = count;
    a->site = S(site);
    a->example.ts_ns = 1500000000 + (uint64_t)kind;
    a->example.pid = 1234;
    a->example.tid = 77;
    a->example.heap = 0x20a1b2c0000;
    a->example.addr = 0x20a1b2c0010 + (uint64_t)kind * 16;
    a->example.size = 64;
    return a;
}

static bool add_anomalies(hg_report_t *r) {
    hg_ranomaly_t *a3 = add_anomaly(r, 3, "wrong-heap-free", 3, 2, "00a1b2c3d4e5f607");
    hg_ranomaly_t *a2 = add_anomaly(r, 2, "double-free", 2, 5, NULL);
    hg_ranomaly_t *a7 = add_anomaly(r, 7, "realloc-size-mismatch", 1, 1, "1111222233334444");
    hg_ranomaly_t *a13 = add_anomaly(r, 13, "lfh-never-engaged", 1, 40, "nosuchsite");
    if (!a3 || !a2 || !a7 || !a13) {
        return false;
    }
    a3->description = S("block freed on a heap other than the one it was allocated from");
    a3->example.other = SAMPLE_MAX_ADDR - 0xffff;
    a2->description = S("free of an address already freed \"twice\"\x01");
    a7->description = S("realloc's recorded old size differs from the block's size");
    a7->example.other = 48;
    a13->description = S("18+ allocations of one size below 16 KiB on a heap, none from the LFH");
    a13->example.other = 40;
    return true;
}

/* ---- heaps, timeline, statistics ---------------------------------------------------------- */

static void fill_frag(hg_rfrag_t *f, uint64_t k) {
    f->ts_ns = 9000000000;
    f->live_bytes = 1536 * 1024 * k;
    f->live_blocks = 120 * k;
    f->rounded_bytes = f->live_bytes + 4096;
    f->clusters = 3;
    f->span_bytes = 2048 * 1024 * k;
    f->utilisation = 0.75;
    f->span_overhead = 1.0 / 3.0;
    f->holes = 40;
    f->free_bytes = 512 * 1024;
    f->largest_hole = 128 * 1024;
    f->hole_hist[4] = 30;
    f->hole_hist[17] = 10;
    f->hole_hist[40] = 1;
    f->external = 0.75;
    f->sawicki = 0.8125;
    f->nfit = 2;
    f->fit[0] = (hg_rfit_t){.size = 64, .requests = 1000, .defined = true, .ratio = 0.984375};
    f->fit[1] = (hg_rfit_t){.size = 1048576, .requests = 3, .defined = false, .ratio = 0};
}

static void fill_heap(hg_rheap_t *h, uint32_t pid, uint32_t process, uint64_t handle, uint64_t k) {
    h->pid = pid;
    h->process = process;
    h->handle = handle;
    h->created_in_trace = k == 1;
    h->destroyed = k == 2;
    h->create_ts_ns = k == 1 ? 1000 : 0;
    h->destroy_ts_ns = k == 2 ? 8000000000 : 0;
    h->allocs = 500 * k;
    h->frees = 380 * k;
    h->alloc_bytes = 4096000 * k;
    h->peak_live_bytes = 2000000 * k;
    h->peak_live_ts_ns = 3000000000;
    h->peak_live_blocks = 150 * k;
    h->max_span_bytes = 3000000 * k;
    h->peak_ratio = 0.5;
    for (int i = 0; i < 8; i++) {
        h->source_allocs[i] = (uint64_t)i * k;
    }
    h->growth_signal = S(k == 1 ? "leak-like growth" : "fragmentation-driven growth");
    fill_frag(&h->frag, k);
}

static bool add_heaps(hg_report_t *r) {
    hg_rheap_t *a = hg_report_add_heap(r);
    hg_rheap_t *b = a ? hg_report_add_heap(r) : NULL;
    if (!b) {
        return false;
    }
    fill_heap(a, 1234, 0, 0x20a1b2c0000, 1);
    fill_heap(b, 5678, 1, SAMPLE_MAX_ADDR, 2);
    b->frag.sawicki = NAN; /* not finite: JSON null, text "-" */
    b->peak_ratio = INFINITY;
    return true;
}

static bool add_series(hg_report_t *r) {
    for (uint32_t i = 0; i < 3; i++) {
        hg_rsample_t *s = hg_report_add_sample(r);
        if (!s) {
            return false;
        }
        *s = (hg_rsample_t){.ts_ns = 1000000000ull * (i + 1),
                            .process = i == 2 ? 7 : i,
                            .heap = 0x20a1b2c0000,
                            .live_bytes = 1000u * (i + 1),
                            .live_blocks = i + 1,
                            .measured = i < 2,
                            .span_bytes = 4096u * (i + 1),
                            .free_bytes = 96u * (i + 1),
                            .largest_hole = 64,
                            .external = i == 1 ? NAN : 0.25 * i,
                            .allocs_total = 10u * (i + 1),
                            .slow_allocs_total = i};
    }
    for (uint32_t i = 0; i < 2; i++) {
        hg_rstats_t *s = hg_report_add_stats(r);
        if (!s) {
            return false;
        }
        *s = (hg_rstats_t){.process = i,
                           .ts_ns = 2000000000ull * (i + 1),
                           .arena_bytes = 135168u * (i + 1),
                           .in_use_bytes = 100000,
                           .free_bytes = 35168,
                           .mmapped_bytes = 1u << 20,
                           .rss_bytes = i ? 0 : 8u << 20};
    }
    return true;
}

/* ---- trace, suppressions, gate ------------------------------------------------------------ */

static void fill_trace(hg_rtrace_t *t) {
    *t = (hg_rtrace_t){.events = SAMPLE_BIG_COUNT,
                       .filtered_events = 12,
                       .unmatched_frees = 3,
                       .failed_allocations = 1,
                       .allocs = 600,
                       .reallocs = 40,
                       .frees = 550,
                       .heap_creates = 2,
                       .heap_destroys = 1,
                       .lost_events = 17,
                       .lost_buffers = 2,
                       .lost_counts_known = true,
                       .truncated = true,
                       .first_ts_ns = 1000,
                       .last_ts_ns = 9000000000,
                       .start_wall_ns = 1700000000123456789ull,
                       .stacks_defined = 40,
                       .stacks_undefined = 2,
                       .markers = 4,
                       .settle_ignored_blocks = 6,
                       .settle_ignored_bytes = 6144,
                       .out_of_order_events = 5};
}

static bool add_suppressions(hg_report_t *r) {
    hg_rsuppression_t *a = hg_report_add_suppression(r);
    hg_rsuppression_t *b = a ? hg_report_add_suppression(r) : NULL;
    if (!b) {
        return false;
    }
    *a = (hg_rsuppression_t){.pattern = S("leak:libfoo"), .sites = 1, .bytes = 1024, .blocks = 1};
    *b = (hg_rsuppression_t){.pattern = S("leak:__gnu_cxx::__freeres"),
                             .builtin = true,
                             .sites = 1,
                             .bytes = 72704,
                             .blocks = 1};
    set_totals(&r->suppressed, 73728, 0, 0);
    r->suppressed_sites = 2;
    return true;
}

static bool add_check(hg_report_t *r, const char *name, const char *measured, const char *limit,
                      bool passed, const char *detail, const char *site) {
    hg_rcheck_t *c = hg_report_add_check(r);
    if (c) {
        *c = (hg_rcheck_t){.name = S(name),
                           .measured = S(measured),
                           .limit = S(limit),
                           .passed = passed,
                           .detail = S(detail),
                           .site = S(site)};
    }
    return c != NULL;
}

static bool add_gate(hg_report_t *r) {
    r->gate.evaluated = true;
    r->gate.passed = false;
    return add_check(r, "max-leaked-bytes", "5120", "1024", false,
                     "leaked bytes after suppressions exceed --max-leaked-bytes", NULL) &&
           add_check(r, "site-leaked-bytes", "4096", "0", false,
                     "site leaks \"\x1b[1mbold\x1b[0m\" \xff bytes", "00a1b2c3d4e5f607") &&
           add_check(r, "fail-on:error", "1", "0", false, "1 error-severity anomaly (A3)", NULL) &&
           add_check(r, "max-fragmentation", "0.75", "0.9", true, NULL, NULL);
}

/* ---- the reports -------------------------------------------------------------------------- */

hg_report_t *sample_report_new(void) {
    hg_report_t *r = hg_report_new();
    g_nomem = false;
    if (!r) {
        return NULL;
    }
    bool ok = add_header(r) && add_processes(r) && add_sites(r) && add_anomalies(r) &&
              add_heaps(r) && add_series(r) && add_suppressions(r) && add_gate(r);
    fill_trace(&r->trace);
    set_lifetime(&r->lifetime, 3, 8192);
    if (!ok || g_nomem) {
        hg_report_free(r);
        return NULL;
    }
    hg_report_sort(r);
    return r;
}

static bool add_many_site(hg_report_t *r, size_t i) {
    char id[32], fn[32];
    hg_rsite_t *s = hg_report_add_site(r);
    if (!s || !alloc_frames(s, 6)) {
        return false;
    }
    snprintf(id, sizeof id, "%016zx", i * 0x9e3779b97f4a7c15u);
    s->id = S(id);
    for (size_t f = 0; f < 6; f++) {
        snprintf(fn, sizeof fn, "function_%zu_%zu", i % 977, f);
        set_frame(&s->frames[f], 0x400000 + i * 64 + f, "app", i * 64 + f, fn, "src/app.c",
                  (uint32_t)(f + 1), 0);
    }
    set_totals(&s->totals, (i % 7) * 1024, (i % 5) * 1024, 0);
    fill_site_counts(s, 1 + i % 3);
    return true;
}

hg_report_t *sample_report_many_sites(size_t n) {
    hg_report_t *r = hg_report_new();
    g_nomem = false;
    bool ok = r && add_header(r) && add_processes(r) && add_heaps(r);
    for (size_t i = 0; ok && i < n; i++) {
        ok = add_many_site(r, i);
    }
    if (r && (!ok || g_nomem)) {
        hg_report_free(r);
        return NULL;
    }
    hg_report_sort(r);
    return r;
}
