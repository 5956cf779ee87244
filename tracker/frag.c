/* frag.c - fragmentation of every heap of a process from one walk of its live set in address
 * order (docs/heap-semantics.md §4 items 2-7).
 *
 * Each live block occupies an estimated chunk [addr - header, addr - header + chunk) (see
 * rounding.c). Walking blocks in address order, a heap's neighbouring chunks are separated by
 * a gap: a gap above the cluster gap G (default 1 MiB) starts a new cluster, a smaller one is a
 * hole. From clusters and holes: span S (sum of cluster extents), utilisation L/S, holes
 * (count, total F, largest, power-of-two histogram), external fragmentation 1 - Hmax/F,
 * Sawicki's 1 - sqrt(sum h^2)/F, and the fit ratio sum floor(h/s) / floor(F/s) for the heap's
 * most requested sizes s. Heaps interleaved in the address space see each other's blocks as
 * part of their own holes; heaps in separate regions (the usual case) do not meet. */
#include "tracker_priv.h"

#include <math.h>
#include <string.h>

typedef struct heap_walk {
    bool any;
    uint64_t cluster_start, prev_end;
    double sum_sq;
    double fit_sum[HG_FIT_SIZES];
} heap_walk_t;

/* Keeps size among the most requested ones so far (visited in ascending order, so on a tie
 * the smaller size stays first). */
static int consider_fit_size(void *ud, uint64_t size, const hg__size_stat_t *st) {
    hg_frag_t *f = ud;
    uint64_t req = st->requests;
    uint32_t pos = f->nfit;
    while (pos > 0 && f->fit[pos - 1].requests < req) {
        pos--;
    }
    if (pos >= HG_FIT_SIZES || size == 0) {
        return 0;
    }
    uint32_t last = f->nfit < HG_FIT_SIZES ? f->nfit : HG_FIT_SIZES - 1;
    memmove(&f->fit[pos + 1], &f->fit[pos], (last - pos) * sizeof f->fit[0]);
    f->fit[pos].size = size;
    f->fit[pos].requests = req;
    if (f->nfit < HG_FIT_SIZES) {
        f->nfit++;
    }
    return 0;
}

/* The heap's most requested sizes (ties: the smaller size first), at most HG_FIT_SIZES. */
static void pick_fit_sizes(const hg__heap_t *h, hg_frag_t *f) {
    hg__sizes_visit(&h->sizes, UINT64_MAX, consider_fit_size, f);
}

static unsigned log2_floor(uint64_t v) {
    unsigned b = 0;
    while (v >>= 1) {
        b++;
    }
    return b;
}

static void add_hole(hg_frag_t *f, heap_walk_t *w, uint64_t hole) {
    f->holes++;
    f->free_bytes += hole;
    if (hole > f->largest_hole) {
        f->largest_hole = hole;
    }
    f->hole_hist[log2_floor(hole)]++;
    w->sum_sq += (double)hole * (double)hole;
    for (uint32_t i = 0; i < f->nfit; i++) {
        w->fit_sum[i] += (double)(hole / f->fit[i].size);
    }
}

static void close_cluster(hg_frag_t *f, const heap_walk_t *w) {
    f->clusters++;
    f->span_bytes += w->prev_end - w->cluster_start;
}

static void visit(hg_frag_t *f, heap_walk_t *w, uint64_t start, uint64_t end, uint64_t gap_max) {
    if (!w->any) {
        w->any = true;
        w->cluster_start = start;
        w->prev_end = end;
        return;
    }
    if (start > w->prev_end) {
        uint64_t gap = start - w->prev_end;
        if (gap > gap_max) {
            close_cluster(f, w);
            w->cluster_start = start;
        } else {
            add_hole(f, w, gap);
        }
    }
    if (end > w->prev_end) {
        w->prev_end = end;
    }
}

/* Ratios from the walked totals. */
static void derive(hg_frag_t *f, const heap_walk_t *w) {
    if (w->any) {
        close_cluster(f, w);
    }
    f->utilisation = f->span_bytes ? (double)f->live_bytes / (double)f->span_bytes : 0;
    f->span_overhead = f->live_bytes ? (double)f->span_bytes / (double)f->live_bytes - 1.0 : 0;
    f->external = f->free_bytes ? 1.0 - (double)f->largest_hole / (double)f->free_bytes : 0;
    f->sawicki = f->free_bytes ? 1.0 - sqrt(w->sum_sq) / (double)f->free_bytes : 0;
    for (uint32_t i = 0; i < f->nfit; i++) {
        uint64_t whole = f->free_bytes / f->fit[i].size;
        f->fit[i].defined = whole > 0;
        f->fit[i].ratio = whole ? w->fit_sum[i] / (double)whole : 0;
    }
}

static void walk(const hg_tracker_t *t, const hg__process_t *p, hg_frag_t *out, heap_walk_t *w) {
    uint8_t ptr = hg__process_ptr(t, p);
    uint64_t header = hg__chunk_header(ptr), addr = 0;
    for (const hg__block_t *b = hg__live_first(&p->live, &addr); b;
         b = hg__live_next(&p->live, &addr)) {
        uint32_t hi = hg__block_heap(b);
        uint64_t size = hg__block_size(b);
        uint64_t chunk =
            hg__round_chunk(size, hg__block_source(b), hg__block_flags(b), ptr, p->allocator);
        uint64_t start = addr >= header ? addr - header : 0;
        uint64_t end = start + chunk < start ? UINT64_MAX : start + chunk;
        out[hi].live_bytes += size;
        out[hi].live_blocks++;
        out[hi].rounded_bytes += chunk;
        visit(&out[hi], &w[hi], start, end, t->opt.cluster_gap_bytes);
    }
}

int hg__frag_compute(const hg_tracker_t *t, const hg__process_t *p, hg_frag_t *out, bool with_fit,
                     uint64_t ts_ns) {
    uint32_t n = p->heaps.n;
    heap_walk_t *w = hg_calloc(n ? n : 1, sizeof *w);
    if (!w) {
        return HG_ENOMEM;
    }
    memset(out, 0, n * sizeof *out);
    for (uint32_t i = 0; i < n; i++) {
        out[i].ts_ns = ts_ns;
        if (with_fit) {
            pick_fit_sizes(&p->heaps.v[i], &out[i]);
        }
    }
    walk(t, p, out, w);
    for (uint32_t i = 0; i < n; i++) {
        derive(&out[i], &w[i]);
    }
    hg_free(w);
    return 0;
}
