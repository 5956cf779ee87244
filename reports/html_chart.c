/* html_chart.c - the HTML report's charts, as inline SVG (no script, no external assets).
 *
 * Per process with timeline samples: "live heap" plots each heap's live bytes at every sample
 * (exact at every sample), and overlays the process's top leak sites as dashed lines from (first
 * allocation, 0) to (last allocation, leaked bytes): the model keeps no per-site series, so the
 * line shows when a site's leaked bytes accumulated, not its exact path (the caption says so).
 * "Fragmentation" plots each heap's external fragmentation E = 1 - largest hole / free bytes at
 * the measured samples only: a sample whose live set was not walked has no span figures and is
 * left out. Coordinates are integers in a 1000 x 300 viewBox; the legend is HTML below the
 * chart, so it wraps on a narrow screen. */
#include "html_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define VB_W          1000
#define VB_H          300
#define PLOT_L        90
#define PLOT_R        985
#define PLOT_T        14
#define PLOT_B        262
#define SITE_OVERLAYS 5

typedef struct axis {
    uint64_t x0, x1;
    double y1;
} axis_t;

typedef struct heaps {
    uint64_t *v;
    size_t n;
} heaps_t;

static int px(const axis_t *a, uint64_t ts) {
    double f = a->x1 > a->x0 ? (double)(ts - a->x0) / (double)(a->x1 - a->x0) : 0;
    return PLOT_L + (int)lround(f * (PLOT_R - PLOT_L));
}

static int py(const axis_t *a, double v) {
    double f = a->y1 > 0 ? v / a->y1 : 0;
    return PLOT_B - (int)lround((f > 1 ? 1 : f < 0 ? 0 : f) * (PLOT_B - PLOT_T));
}

static void widen(axis_t *a, uint64_t ts, double y, bool *first) {
    a->x0 = *first || ts < a->x0 ? ts : a->x0;
    a->x1 = *first || ts > a->x1 ? ts : a->x1;
    a->y1 = y > a->y1 ? y : a->y1;
    *first = false;
}

/* The distinct heaps of process pi in the timeline, in order of first appearance. */
static int heaps_of(const hg_report_t *r, uint32_t pi, heaps_t *hs) {
    hs->n = 0;
    hs->v = hg_malloc((r->ntimeline + 1) * sizeof *hs->v);
    if (!hs->v) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < r->ntimeline; i++) {
        const hg_rsample_t *s = &r->timeline[i];
        size_t k = 0;
        while (s->process == pi && k < hs->n && hs->v[k] != s->heap) {
            k++;
        }
        if (s->process == pi && k == hs->n) {
            hs->v[hs->n++] = s->heap;
        }
    }
    return 0;
}

static bool site_in(const hg_rsite_t *s, uint32_t pid) {
    for (size_t i = 0; i < s->npids; i++) {
        if (s->pids[i] == pid) {
            return true;
        }
    }
    return false;
}

/* The top leak sites of process pid (report order), at most SITE_OVERLAYS. */
static size_t overlay_sites(const hg_report_t *r, uint32_t pid, const hg_rsite_t **out) {
    size_t n = 0;
    for (size_t i = 0; i < r->nsites && n < SITE_OVERLAYS; i++) {
        const hg_rsite_t *s = &r->sites[i];
        if (s->totals.leaked_bytes && !s->suppressed_by && site_in(s, pid)) {
            out[n++] = s;
        }
    }
    return n;
}

/* ---- axes and frame ------------------------------------------------------------------------ */

static void put_label(hg__html_t *h, int x, int y, const char *anchor, const char *text) {
    hg_out_printf(h->o, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\">%s</text>\n", x, y, anchor,
                  text);
}

static void put_axes(hg__html_t *h, const axis_t *a, bool bytes) {
    char b[32];
    for (int i = 0; i <= 2; i++) {
        double v = a->y1 * i / 2;
        int y = py(a, v);
        hg_out_printf(h->o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dadce0\"/>\n",
                      PLOT_L, y, PLOT_R, y);
        if (bytes) {
            hg_format_bytes((uint64_t)llround(v), b, sizeof b);
        } else {
            snprintf(b, sizeof b, "%.2f", v);
        }
        put_label(h, PLOT_L - 6, y + 4, "end", b);
    }
    for (int i = 0; i <= (a->x1 > a->x0 ? 2 : 0); i++) {
        uint64_t ts = i == 2 ? a->x1 : a->x0 + (a->x1 - a->x0) / 2 * (uint64_t)i;
        put_label(h, px(a, ts), PLOT_B + 20,
                  i == 0   ? "start"
                  : i == 1 ? "middle"
                           : "end",
                  hg_format_duration(ts, b, sizeof b));
    }
}

static void open_svg(hg__html_t *h, const char *kind, uint32_t pi, const char *title) {
    const hg_rprocess_t *p = &h->r->processes[pi];
    hg_out_printf(h->o,
                  "<figure><div class=\"scroll\"><svg class=\"chart\" viewBox=\"0 0 %d %d\" "
                  "role=\"img\" data-chart=\"%s\" data-process=\"%u\" data-pid=\"%u\">"
                  "<title>%s, pid %u ",
                  VB_W, VB_H, kind, (unsigned)pi, (unsigned)p->pid, title, (unsigned)p->pid);
    hg__html_text(h, p->name);
    hg_out_puts(h->o, "</title>\n");
}

static void legend_item(hg__html_t *h, size_t color, bool dashed, const char *label) {
    hg_out_printf(h->o, "<li><i style=\"%s%s\"></i>",
                  dashed ? "height:0;border-top:3px dashed " : "background:",
                  hg__html_colors[color % HG_HTML_NCOLORS]);
    hg__html_text(h, label);
    hg_out_puts(h->o, "</li>");
}

/* ---- series -------------------------------------------------------------------------------- */

static bool in_series(const hg_rsample_t *s, uint32_t pi, uint64_t heap, bool frag) {
    return s->process == pi && s->heap == heap && (!frag || (s->measured && isfinite(s->external)));
}

/* Dots on the points of a short series, so one or two samples still show. */
static void put_dots(hg__html_t *h, const axis_t *a, uint32_t pi, uint64_t heap, const char *color,
                     bool frag) {
    for (size_t i = 0; i < h->r->ntimeline; i++) {
        const hg_rsample_t *s = &h->r->timeline[i];
        if (in_series(s, pi, heap, frag)) {
            double v = frag ? s->external : (double)s->live_bytes;
            hg_out_printf(h->o, "<circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"%s\"/>\n",
                          px(a, s->ts_ns), py(a, v), color);
        }
    }
}

/* One heap's polyline: every sample (live) or the measured ones with a finite E (frag). */
static void put_series(hg__html_t *h, const axis_t *a, uint32_t pi, uint64_t heap, size_t color,
                       bool frag) {
    const hg_report_t *r = h->r;
    const char *c = hg__html_colors[color % HG_HTML_NCOLORS];
    size_t n = 0;
    hg_buf_reset(&h->b);
    for (size_t i = 0; i < r->ntimeline; i++) {
        const hg_rsample_t *s = &r->timeline[i];
        if (in_series(s, pi, heap, frag)) {
            double v = frag ? s->external : (double)s->live_bytes;
            hg_buf_printf(&h->b, "%s%d,%d", n++ ? " " : "", px(a, s->ts_ns), py(a, v));
        }
    }
    hg_out_printf(h->o,
                  "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                  "data-heap=\"0x%llx\" data-points=\"%zu\" points=\"%s\"/>\n",
                  c, (unsigned long long)heap, n, h->b.data ? h->b.data : "");
    if (n <= 40) {
        put_dots(h, a, pi, heap, c, frag);
    }
}

static void put_site_line(hg__html_t *h, const axis_t *a, const hg_rsite_t *s, size_t color) {
    hg_out_printf(h->o,
                  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                  "stroke-width=\"2\" stroke-dasharray=\"8 5\"",
                  px(a, s->first_ts_ns), py(a, 0), px(a, s->last_ts_ns),
                  py(a, (double)s->totals.leaked_bytes), hg__html_colors[color % HG_HTML_NCOLORS]);
    hg__html_attr(h, "data-site", s->id);
    hg__html_attr_u64(h, "data-leaked-bytes", s->totals.leaked_bytes);
    hg_out_puts(h->o, "/>\n");
}

/* ---- the two charts of a process ----------------------------------------------------------- */

static axis_t live_axis(const hg_report_t *r, uint32_t pi, const hg_rsite_t **sites, size_t ns) {
    axis_t a = {0, 0, 0};
    bool first = true;
    for (size_t i = 0; i < r->ntimeline; i++) {
        if (r->timeline[i].process == pi) {
            widen(&a, r->timeline[i].ts_ns, (double)r->timeline[i].live_bytes, &first);
        }
    }
    for (size_t i = 0; i < ns; i++) {
        widen(&a, sites[i]->first_ts_ns, 0, &first);
        widen(&a, sites[i]->last_ts_ns, (double)sites[i]->totals.leaked_bytes, &first);
    }
    a.y1 = a.y1 > 0 ? a.y1 : 1;
    return a;
}

static void put_live_legend(hg__html_t *h, const heaps_t *hs, const hg_rsite_t **sites, size_t ns) {
    char label[96];
    hg_out_puts(h->o, "<figcaption><ul class=\"legend\">");
    for (size_t i = 0; i < hs->n; i++) {
        snprintf(label, sizeof label, "heap 0x%llx live bytes", (unsigned long long)hs->v[i]);
        legend_item(h, i, false, label);
    }
    for (size_t i = 0; i < ns; i++) {
        hg_buf_t *b = &h->b;
        hg_buf_reset(b);
        hg_buf_printf(b, "leak site %s ", sites[i]->id ? sites[i]->id : "?");
        legend_item(h, hs->n + i, true, b->data);
    }
    hg_out_puts(h->o, ns ? "</ul>Dashed: a leak site's leaked bytes between its first and last "
                           "allocation (the report keeps no per-site series).</figcaption>"
                           "</figure>\n"
                         : "</ul></figcaption></figure>\n");
}

static void live_chart(hg__html_t *h, uint32_t pi, const heaps_t *hs) {
    const hg_rsite_t *sites[SITE_OVERLAYS];
    size_t ns = overlay_sites(h->r, h->r->processes[pi].pid, sites);
    axis_t a = live_axis(h->r, pi, sites, ns);
    open_svg(h, "live", pi, "Live heap bytes over time");
    put_axes(h, &a, true);
    for (size_t i = 0; i < hs->n; i++) {
        put_series(h, &a, pi, hs->v[i], i, false);
    }
    for (size_t i = 0; i < ns; i++) {
        put_site_line(h, &a, sites[i], hs->n + i);
    }
    hg_out_puts(h->o, "</svg></div>");
    put_live_legend(h, hs, sites, ns);
}

static bool frag_axis(const hg_report_t *r, uint32_t pi, axis_t *a) {
    bool first = true;
    for (size_t i = 0; i < r->ntimeline; i++) {
        const hg_rsample_t *s = &r->timeline[i];
        if (s->process == pi) {
            widen(a, s->ts_ns, 0, &first);
        }
    }
    for (size_t i = 0; i < r->ntimeline; i++) {
        const hg_rsample_t *s = &r->timeline[i];
        if (s->process == pi && s->measured && isfinite(s->external)) {
            a->y1 = 1;
        }
    }
    return a->y1 > 0;
}

static void frag_chart(hg__html_t *h, uint32_t pi, const heaps_t *hs) {
    axis_t a = {0, 0, 0};
    char label[96];
    if (!frag_axis(h->r, pi, &a)) {
        return; /* no measured sample: nothing to plot */
    }
    open_svg(h, "fragmentation", pi, "External fragmentation over time");
    put_axes(h, &a, false);
    for (size_t i = 0; i < hs->n; i++) {
        put_series(h, &a, pi, hs->v[i], i, true);
    }
    hg_out_puts(h->o, "</svg></div><figcaption><ul class=\"legend\">");
    for (size_t i = 0; i < hs->n; i++) {
        snprintf(label, sizeof label, "heap 0x%llx: E = 1 - largest hole / free bytes",
                 (unsigned long long)hs->v[i]);
        legend_item(h, i, false, label);
    }
    hg_out_puts(h->o, "</ul>Measured samples only (the live set walked); estimates from "
                      "addresses and requested sizes.</figcaption></figure>\n");
}

void hg__html_charts(hg__html_t *h) {
    const hg_report_t *r = h->r;
    hg_out_puts(h->o, "<section id=\"charts\"><h2>Heap over time</h2>\n");
    if (r->ntimeline == 0) {
        hg_out_puts(h->o, "<p class=\"muted\">No timeline samples.</p>\n");
    }
    for (uint32_t pi = 0; pi < r->nprocesses && r->ntimeline; pi++) {
        heaps_t hs;
        if (heaps_of(r, pi, &hs) != 0) {
            hg__report_out_fail(h->o, HG_ENOMEM);
            return;
        }
        if (hs.n) {
            hg_out_puts(h->o, "<h3>pid ");
            hg_out_printf(h->o, "%u ", (unsigned)r->processes[pi].pid);
            hg__html_text(h, r->processes[pi].name);
            hg_out_puts(h->o, "</h3>\n");
            live_chart(h, pi, &hs);
            frag_chart(h, pi, &hs);
        }
        hg_free(hs.v);
    }
    hg_out_puts(h->o, "</section>\n");
}
