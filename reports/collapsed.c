/* collapsed.c - leaked bytes by stack in the collapsed ("folded") stack format read by Brendan
 * Gregg's flamegraph.pl, inferno and speedscope: one line per stack, its frames outermost first
 * separated by ';', a space, and the count (flamegraph.pl reads the count as everything after
 * the last space, so frame names may hold spaces but never ';' or a line end).
 *
 * One line per site that leaked and is not suppressed, in report order; the counts are leaked
 * bytes, so the lines add up to the report's leaked_bytes. A frame is named by its function, or
 * module+0xoffset, or its bare address (no source position: one function is one box). Inline
 * frames get the "_[i]" suffix that stackcollapse-perf.pl gives them (flamegraph.pl colours
 * them apart). A site without frames is one frame "(no stack)". Names are cleaned so a line
 * stays one line: ';' becomes ':', control characters and bytes that are not UTF-8 become
 * U+FFFD. */
#include "internal.h"

#include <stdio.h>

/* Appends s cleaned for a collapsed line. */
static void put_clean(hg_buf_t *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp = 0;
        size_t n = *p >= 0x80 ? hg__report_utf8_decode(p, &cp) : 1;
        if (n == 0 || (*p < 0x80 && (*p < 0x20 || *p == 0x7f)) || (n > 1 && cp <= 0x9f)) {
            hg_buf_puts(b, "\xef\xbf\xbd");
            p += n ? n : 1;
        } else {
            hg_buf_append(b, *p == ';' ? ":" : (const char *)p, n);
            p += n;
        }
    }
}

static void put_frame_name(hg_buf_t *b, const hg_rframe_t *f) {
    char tmp[40];
    if (f->function) {
        put_clean(b, f->function);
    } else if (f->module) {
        put_clean(b, f->module);
        snprintf(tmp, sizeof tmp, "+0x%llx", (unsigned long long)f->offset);
        hg_buf_puts(b, tmp);
    } else {
        snprintf(tmp, sizeof tmp, "0x%llx", (unsigned long long)f->addr);
        hg_buf_puts(b, tmp);
    }
    if (f->inlined) {
        hg_buf_puts(b, "_[i]");
    }
}

static void put_site(hg_out_t *o, hg_buf_t *line, const hg_rsite_t *s) {
    hg_buf_reset(line);
    for (size_t i = s->nframes; i-- > 0;) {
        put_frame_name(line, &s->frames[i]);
        if (i) {
            hg_buf_putc(line, ';');
        }
    }
    if (s->nframes == 0) {
        hg_buf_puts(line, "(no stack)");
    }
    hg_buf_printf(line, " %llu\n", (unsigned long long)s->totals.leaked_bytes);
    if (line->failed) {
        hg__report_out_fail(o, HG_ENOMEM);
        return;
    }
    hg_out_write(o, line->data, line->len);
}

void hg_report_write_collapsed(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    (void)opt; /* every leaking site: flame graph tools prune narrow frames themselves */
    hg_buf_t line;
    hg_buf_init(&line);
    for (size_t i = 0; i < r->nsites && !hg__report_out_failed(o); i++) {
        const hg_rsite_t *s = &r->sites[i];
        if (s->totals.leaked_bytes && !s->suppressed_by) {
            put_site(o, &line, s);
        }
    }
    hg_buf_free(&line);
}
