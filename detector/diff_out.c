/* diff_out.c - `heapgate diff`'s output: JSON (built with jansson, keys in a fixed order,
 * documented in docs/report-formats.md) and text for a terminal.
 *
 * Names come from traces or reports of other runs, so every string is cleaned first: bytes
 * that are not UTF-8 become U+FFFD (JSON needs valid UTF-8) and, for text, control characters
 * (C0, DEL, C1) become '?' so a hostile function name cannot drive the terminal. */
#include "diff_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define DIFF_SCHEMA_VERSION 1

/* ---- cleaning ----------------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at p, 0 when it is not one. */
static size_t utf8_len(const unsigned char *p) {
    size_t n = p[0] < 0x80                    ? 1
               : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
               : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    bool overlong = (p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xf0 && p[1] < 0x90);
    bool surrogate_or_big = (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf4 && p[1] >= 0x90);
    return n > 1 && (overlong || surrogate_or_big) ? 0 : n;
}

static bool control(const unsigned char *p, size_t n) {
    return (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

/* s cleaned into b (reset first); for_text also replaces control characters. */
static const char *clean(hg_buf_t *b, const char *s, bool for_text) {
    hg_buf_reset(b);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        size_t n = utf8_len(p);
        if (n == 0) {
            hg_buf_puts(b, "\xef\xbf\xbd");
            p++;
        } else {
            hg_buf_append(b, for_text && control(p, n) ? "?" : (const char *)p,
                          for_text && control(p, n) ? 1 : n);
            p += n;
        }
    }
    return b->data && !b->failed ? b->data : "";
}

static const char *frame_name(hg_buf_t *tmp, hg_buf_t *b, const hg_rsite_t *s, bool for_text) {
    hg_buf_reset(tmp);
    if (s->nframes) {
        hg_rframe_format(&s->frames[0], tmp);
    } else {
        hg_buf_puts(tmp, "(no stack)");
    }
    return clean(b, tmp->data, for_text);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static json_t *side(const char *path, uint64_t bytes, uint64_t blocks, hg_buf_t *b) {
    return json_pack("{s:s, s:I, s:I}", "path", clean(b, path, false), "leaked_bytes",
                     (json_int_t)bytes, "leaked_blocks", (json_int_t)blocks);
}

static json_t *site_json(const hg_dsite_t *x, hg_buf_t *tmp, hg_buf_t *b) {
    json_t *frames = json_array();
    for (size_t i = 0; frames && i < x->site->nframes; i++) {
        hg_buf_reset(tmp);
        hg_rframe_format(&x->site->frames[i], tmp);
        json_array_append_new(frames, json_string(clean(b, tmp->data, false)));
    }
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "id", clean(b, x->site->id, false),
        "status", hg__dstatus_name(x->status), "old_bytes", (json_int_t)x->old_bytes, "new_bytes",
        (json_int_t)x->new_bytes, "delta_bytes", (json_int_t)(x->new_bytes - x->old_bytes),
        "old_blocks", (json_int_t)x->old_blocks, "new_blocks", (json_int_t)x->new_blocks,
        "delta_blocks", (json_int_t)(x->new_blocks - x->old_blocks), "fails", x->beyond);
    if (o) {
        json_object_set_new(o, "frames", frames ? frames : json_null());
    }
    return o;
}

static json_t *anomaly_json(const hg_danomaly_t *x, hg_buf_t *b) {
    static const char *const sev[] = {"unknown", "info", "warning", "error"};
    const hg_ranomaly_t *a = x->a;
    json_t *o = json_pack("{s:s, s:s, s:I}", "status", x->gone ? "gone" : "new", "severity",
                          sev[a->severity >= 1 && a->severity <= 3 ? a->severity : 0], "count",
                          (json_int_t)a->count);
    if (o) {
        json_object_set_new(o, "id", json_string(clean(b, a->id, false)));
        json_object_set_new(o, "name", json_string(clean(b, a->name, false)));
        json_object_set_new(o, "site",
                            a->site ? json_string(clean(b, a->site, false)) : json_null());
    }
    return o;
}

static json_t *summary_json(const hg_diff_t *d) {
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "new", (json_int_t)d->counts[HG_DS_NEW],
                     "grown", (json_int_t)d->counts[HG_DS_GROWN], "shrunk",
                     (json_int_t)d->counts[HG_DS_SHRUNK], "fixed",
                     (json_int_t)d->counts[HG_DS_FIXED], "unchanged",
                     (json_int_t)d->counts[HG_DS_SAME], "anomalies_new",
                     (json_int_t)d->new_anomalies, "anomalies_gone", (json_int_t)d->gone_anomalies);
}

static json_t *diff_json(const hg_diff_t *d, hg_buf_t *tmp, hg_buf_t *b) {
    json_t *sites = json_array(), *anomalies = json_array();
    for (size_t i = 0; sites && i < d->nsites; i++) {
        json_array_append_new(sites, site_json(&d->sites[i], tmp, b));
    }
    for (size_t i = 0; anomalies && i < d->nanomalies; i++) {
        json_array_append_new(anomalies, anomaly_json(&d->anomalies[i], b));
    }
    return json_pack("{s:i, s:s, s:o, s:o, s:I, s:o, s:o, s:o}", "diff_schema_version",
                     DIFF_SCHEMA_VERSION, "verdict", d->failed ? "fail" : "pass", "old",
                     side(d->old_path, d->old_bytes, d->old_blocks, b), "new",
                     side(d->new_path, d->new_bytes, d->new_blocks, b), "max_growth_bytes",
                     (json_int_t)d->max_growth_bytes, "summary", summary_json(d), "sites",
                     sites ? sites : json_null(), "anomalies", anomalies ? anomalies : json_null());
}

int hg__diff_write_json(const hg_diff_t *d, hg_out_t *o) {
    hg_buf_t tmp, b;
    hg_buf_init(&tmp);
    hg_buf_init(&b);
    json_t *doc = diff_json(d, &tmp, &b);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    int rc = text && !tmp.failed && !b.failed ? 0 : HG_ENOMEM;
    if (!rc) {
        hg_out_puts(o, text);
        hg_out_puts(o, "\n");
    }
    free(text);
    json_decref(doc);
    hg_buf_free(&tmp);
    hg_buf_free(&b);
    return rc;
}

/* ---- text --------------------------------------------------------------------------------- */

static void put_side(hg_out_t *o, const char *label, const char *path, uint64_t bytes,
                     uint64_t blocks, hg_buf_t *b) {
    char size[32];
    hg_out_printf(o, "  %-4s %s: %s leaked (%llu bytes in %llu blocks)\n", label,
                  clean(b, path, true), hg_format_bytes(bytes, size, sizeof size),
                  (unsigned long long)bytes, (unsigned long long)blocks);
}

static void put_header(const hg_diff_t *d, hg_out_t *o, hg_buf_t *b) {
    hg_out_printf(o,
                  "heapgate diff: %s (%zu new, %zu grown, %zu shrunk, %zu fixed leak sites; "
                  "%zu new, %zu gone anomalies)\n",
                  d->failed ? "FAIL" : "PASS", d->counts[HG_DS_NEW], d->counts[HG_DS_GROWN],
                  d->counts[HG_DS_SHRUNK], d->counts[HG_DS_FIXED], d->new_anomalies,
                  d->gone_anomalies);
    put_side(o, "old", d->old_path, d->old_bytes, d->old_blocks, b);
    put_side(o, "new", d->new_path, d->new_bytes, d->new_blocks, b);
    hg_out_printf(o, "  fails on: a new leak site, growth above %llu bytes, a new error anomaly\n",
                  (unsigned long long)d->max_growth_bytes);
}

static void put_site(const hg_dsite_t *x, hg_out_t *o, hg_buf_t *tmp, hg_buf_t *b) {
    long long db = (long long)(x->new_bytes - x->old_bytes);
    long long dk = (long long)(x->new_blocks - x->old_blocks);
    hg_out_printf(o, "  %s %+12lld B %+8lld blocks  %10llu -> %-10llu site ", x->beyond ? "!" : " ",
                  db, dk, (unsigned long long)x->old_bytes, (unsigned long long)x->new_bytes);
    hg_out_puts(o, clean(b, x->site->id, true));
    hg_out_puts(o, "\n      at ");
    hg_out_puts(o, frame_name(tmp, b, x->site, true));
    hg_out_puts(o, "\n");
}

static void put_sites(const hg_diff_t *d, unsigned top, hg_out_t *o, hg_buf_t *tmp, hg_buf_t *b) {
    for (int st = HG_DS_NEW; st < HG_DS_SAME; st++) {
        size_t shown = 0;
        if (!d->counts[st]) {
            continue;
        }
        hg_out_printf(o, "\n%s leak sites (%zu)\n",
                      st == HG_DS_NEW      ? "New"
                      : st == HG_DS_GROWN  ? "Grown"
                      : st == HG_DS_SHRUNK ? "Shrunk"
                                           : "Fixed",
                      d->counts[st]);
        for (size_t i = 0; i < d->nsites; i++) {
            if ((int)d->sites[i].status == st && (!top || shown++ < top)) {
                put_site(&d->sites[i], o, tmp, b);
            }
        }
        if (top && d->counts[st] > top) {
            hg_out_printf(o, "  ... %zu more\n", d->counts[st] - top);
        }
    }
}

static void put_anomalies(const hg_diff_t *d, hg_out_t *o, hg_buf_t *b) {
    for (int gone = 0; gone <= 1; gone++) {
        if (gone ? !d->gone_anomalies : !d->new_anomalies) {
            continue;
        }
        hg_out_printf(o, "\n%s anomalies (%zu)\n", gone ? "Gone" : "New",
                      gone ? d->gone_anomalies : d->new_anomalies);
        for (size_t i = 0; i < d->nanomalies; i++) {
            const hg_ranomaly_t *a = d->anomalies[i].a;
            if (d->anomalies[i].gone == (bool)gone) {
                hg_out_printf(o, "  %s ", clean(b, a->id, true));
                hg_out_printf(o, "%s x%llu ", clean(b, a->name, true),
                              (unsigned long long)a->count);
                hg_out_printf(o, "(%s) site %s\n",
                              a->severity >= 3   ? "error"
                              : a->severity == 2 ? "warning"
                                                 : "info",
                              a->site ? clean(b, a->site, true) : "(no stack)");
            }
        }
    }
}

void hg__diff_write_text(const hg_diff_t *d, unsigned top, hg_out_t *o) {
    hg_buf_t tmp, b;
    hg_buf_init(&tmp);
    hg_buf_init(&b);
    put_header(d, o, &b);
    put_sites(d, top, o, &tmp, &b);
    put_anomalies(d, o, &b);
    if (d->counts[HG_DS_SAME]) {
        hg_out_printf(o, "\n%zu leak sites unchanged\n", d->counts[HG_DS_SAME]);
    }
    hg_buf_free(&tmp);
    hg_buf_free(&b);
}
