/* html_flame.c - the HTML report's icicle graph of leaked bytes by stack (a flame graph drawn
 * top-down: the outermost frames at the top, each box as wide as the leaked bytes below it).
 *
 * The leaking, unsuppressed sites are merged into a tree keyed by (parent node, frame name),
 * outermost frame first, the way flamegraph.pl merges collapsed stacks; node lookup goes
 * through an intern table, so building costs one hash lookup per frame. Children are laid out
 * widest first. Boxes narrower than half a unit of the 1200-unit viewBox are not drawn (their
 * bytes stay in their parent, as flamegraph.pl's --minwidth does) and at most MAX_DEPTH levels
 * are drawn, so the SVG stays small for 100,000 sites. Each box has a <title> tooltip with
 * the exact bytes and share; names are cut to fit their box, whole characters only. */
#include "html_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAME_W   1200
#define ROW_H     20
#define MAX_DEPTH 64
#define MIN_W     0.5
#define CHAR_W    7.0

typedef struct node {
    size_t parent, first_child, nchildren;
    uint64_t bytes;
    const hg_rframe_t *frame; /* the first frame seen here; NULL for the root */
    unsigned depth;
} node_t;

typedef struct tree {
    node_t *v;
    size_t n, cap;
    hg__intern_t index; /* (parent, name) -> node - 1 */
    size_t *order;      /* nodes 1.. grouped by parent, widest first */
    unsigned max_depth;
    hg_buf_t key;
    bool nomem;
} tree_t;

static const tree_t *g_sort_tree; /* qsort has no context argument */

/* ---- building ------------------------------------------------------------------------------ */

static const char *node_name(const tree_t *t, size_t i, size_t *len) {
    const char *k = hg__intern_key(&t->index, i - 1, len);
    *len -= sizeof(size_t);
    return k + sizeof(size_t);
}

static size_t child(tree_t *t, size_t parent, const hg_rframe_t *f) {
    hg_buf_reset(&t->key);
    hg_buf_append(&t->key, &parent, sizeof parent);
    hg_rframe_name(f, &t->key);
    bool added;
    size_t i = t->key.failed ? SIZE_MAX : hg__intern(&t->index, t->key.data, t->key.len, &added);
    if (i == SIZE_MAX || (added && t->n == t->cap)) {
        size_t cap = t->cap * 2;
        node_t *v = i == SIZE_MAX ? NULL : hg_realloc(t->v, cap * sizeof *v);
        if (!v) {
            t->nomem = true;
            return 0;
        }
        t->v = v;
        t->cap = cap;
    }
    if (added) {
        unsigned depth = t->v[parent].depth + 1;
        t->v[t->n++] = (node_t){.parent = parent, .frame = f, .depth = depth};
        t->max_depth = depth > t->max_depth ? depth : t->max_depth;
    }
    return i + 1;
}

static void add_site(tree_t *t, const hg_rsite_t *s) {
    static const hg_rframe_t no_stack = {.function = "(no stack)"};
    size_t cur = 0, nf = s->nframes ? s->nframes : 1;
    const hg_rframe_t *frames = s->nframes ? s->frames : &no_stack;
    t->v[0].bytes += s->totals.leaked_bytes;
    for (size_t i = nf; i-- > 0 && !t->nomem && t->v[cur].depth < MAX_DEPTH;) {
        cur = child(t, cur, &frames[i]);
        t->v[cur].bytes += t->nomem ? 0 : s->totals.leaked_bytes;
    }
}

static int cmp_nodes(const void *pa, const void *pb) {
    const tree_t *t = g_sort_tree;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb, la, lb;
    const node_t *x = &t->v[a], *y = &t->v[b];
    if (x->parent != y->parent) {
        return x->parent < y->parent ? -1 : 1;
    }
    if (x->bytes != y->bytes) {
        return x->bytes > y->bytes ? -1 : 1;
    }
    const char *na = node_name(t, a, &la), *nb = node_name(t, b, &lb);
    int c = memcmp(na, nb, la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb;
}

/* Sorts nodes by parent and links each parent to its run of children. */
static void link_children(tree_t *t) {
    t->order = hg_malloc(t->n * sizeof *t->order);
    if (!t->order) {
        t->nomem = true;
        return;
    }
    for (size_t i = 1; i < t->n; i++) {
        t->order[i - 1] = i;
    }
    g_sort_tree = t;
    qsort(t->order, t->n - 1, sizeof *t->order, cmp_nodes);
    for (size_t k = 0; k + 1 < t->n; k++) {
        node_t *p = &t->v[t->v[t->order[k]].parent];
        p->first_child = p->nchildren++ ? p->first_child : k;
    }
}

static bool build(tree_t *t, const hg_report_t *r) {
    memset(t, 0, sizeof *t);
    hg__intern_init(&t->index);
    hg_buf_init(&t->key);
    t->cap = 1024;
    t->v = hg_calloc(t->cap, sizeof *t->v);
    t->n = 1;
    t->nomem = !t->v;
    for (size_t i = 0; i < r->nsites && !t->nomem; i++) {
        const hg_rsite_t *s = &r->sites[i];
        if (s->totals.leaked_bytes && !s->suppressed_by) {
            add_site(t, s);
        }
    }
    if (!t->nomem) {
        link_children(t);
    }
    return !t->nomem;
}

static void tree_free(tree_t *t) {
    hg_free(t->v);
    hg_free(t->order);
    hg__intern_free(&t->index);
    hg_buf_free(&t->key);
}

/* ---- drawing ------------------------------------------------------------------------------- */

/* Appends at most max_chars characters of s[0..len) to b, "..." when cut. */
static void clip_name(hg_buf_t *b, const char *s, size_t len, size_t max_chars) {
    size_t i = 0, chars = 0;
    uint32_t cp;
    while (i < len && chars + 1 < max_chars) {
        size_t k =
            (unsigned char)s[i] < 0x80 ? 1 : hg__report_utf8_decode((const void *)(s + i), &cp);
        i += k ? k : 1;
        chars++;
    }
    hg_buf_append(b, s, i > len ? len : i);
    if (i < len) {
        hg_buf_puts(b, "..");
    }
}

static void put_title(hg__html_t *h, const tree_t *t, size_t i, const char *name, size_t len) {
    char size[32];
    const node_t *nd = &t->v[i];
    hg_buf_reset(&h->b);
    hg_buf_append(&h->b, name, len);
    hg_buf_printf(&h->b, " - %s (%llu bytes, %.1f%%)",
                  hg_format_bytes(nd->bytes, size, sizeof size), (unsigned long long)nd->bytes,
                  100.0 * (double)nd->bytes / (double)t->v[0].bytes);
    if (nd->frame && nd->frame->file) {
        hg_buf_puts(&h->b, "\n");
        hg_rframe_format(nd->frame, &h->b);
    }
    hg_out_puts(h->o, "<title>");
    hg__html_text(h, h->b.data);
    hg_out_puts(h->o, "</title>");
}

static void put_box(hg__html_t *h, const tree_t *t, size_t i, double x, double w) {
    size_t len = 3;
    const char *name = i ? node_name(t, i, &len) : "all";
    uint64_t hue = hg_fnv1a(HG_FNV_INIT, name, len) % 50;
    int y = (int)t->v[i].depth * ROW_H;
    hg_out_printf(h->o, "<g data-bytes=\"%llu\">", (unsigned long long)t->v[i].bytes);
    put_title(h, t, i, name, len);
    hg_out_printf(h->o,
                  "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                  "fill=\"hsl(%u,78%%,%u%%)\"/>",
                  x, y, w, ROW_H - 1, (unsigned)(hue + 5), i ? 62u : 80u);
    size_t max_chars = w > 2 * CHAR_W ? (size_t)((w - 6) / CHAR_W) : 0;
    if (max_chars >= 3) {
        hg_buf_reset(&h->b);
        clip_name(&h->b, name, len, max_chars);
        hg_out_printf(h->o, "<text x=\"%.1f\" y=\"%d\">", x + 3, y + 14);
        hg__html_text(h, h->b.data);
        hg_out_puts(h->o, "</text>");
    }
    hg_out_puts(h->o, "</g>\n");
}

static void draw(hg__html_t *h, const tree_t *t, size_t i, double x) {
    const node_t *nd = &t->v[i];
    double w = (double)nd->bytes * FLAME_W / (double)t->v[0].bytes;
    if (w < MIN_W || hg__report_out_failed(h->o)) {
        return;
    }
    put_box(h, t, i, x, w);
    for (size_t k = 0; k < nd->nchildren; k++) {
        size_t c = t->order[nd->first_child + k];
        draw(h, t, c, x);
        x += (double)t->v[c].bytes * FLAME_W / (double)t->v[0].bytes;
    }
}

void hg__html_icicle(hg__html_t *h) {
    tree_t t;
    hg_out_puts(h->o, "<section id=\"icicle\"><h2>Leaked bytes by stack</h2>\n");
    if (!build(&t, h->r)) {
        hg__report_out_fail(h->o, HG_ENOMEM);
    } else if (t.v[0].bytes == 0) {
        hg_out_puts(h->o, "<p class=\"good\">Nothing leaked.</p>\n");
    } else {
        hg_out_printf(h->o,
                      "<p class=\"muted\">Outermost frames at the top; each box is as wide "
                      "as the bytes leaked below it (hover for figures).</p>\n"
                      "<div class=\"scroll\"><svg class=\"icicle\" viewBox=\"0 0 %d %u\" "
                      "role=\"img\" data-chart=\"icicle\" data-total=\"%llu\">\n",
                      FLAME_W, (t.max_depth + 1) * ROW_H, (unsigned long long)t.v[0].bytes);
        draw(h, &t, 0, 0);
        hg_out_puts(h->o, "</svg></div>\n");
    }
    hg_out_puts(h->o, "</section>\n");
    tree_free(&t);
}
