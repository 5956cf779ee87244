/* html.c - the report as one self-contained HTML page: no network, no external assets (styles,
 * the SVG charts and a few lines of script are inline), readable at 1280x800 and at a phone's
 * width (one column, wide tables and charts scroll inside their own box).
 *
 * Sections, in order: the verdict and every gate check with its threshold; totals (and the
 * INCOMPLETE banner and warnings); live heap over time per process and heap with the top leak
 * sites' growth, and fragmentation over time (html_chart.c); top leak sites, each a <details>
 * whose stack unfolds; an icicle graph of leaked bytes by stack (html_flame.c); anomalies;
 * processes; heaps and their fragmentation figures; trace quality. The page is polyglot markup
 * (it also parses as XML: void elements closed, the script in a CDATA section), so strict XML
 * parsers can check it. Figures the tests compare with the model are also in data-* attributes
 * as exact integers. */
#include "html_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const hg__html_colors[HG_HTML_NCOLORS] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                                      "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

static const char STYLE[] =
    ":root{--fail:#b3261e;--pass:#1b6e2f;--warn:#8a5a00;--muted:#5f6368;--line:#dadce0}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#202124;background:#f8f9fa}"
    "main{max-width:1240px;margin:0 auto;padding:12px}"
    "h1{font-size:22px;margin:0 0 4px}"
    "h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}"
    "h3{font-size:15px;margin:16px 0 6px}"
    "header.verdict{padding:12px 16px;border-radius:8px;color:#fff}"
    "header.fail{background:var(--fail)}header.pass{background:var(--pass)}"
    "header.none{background:#5f6368}"
    ".muted{color:var(--muted)}.bad{color:var(--fail);font-weight:600}"
    ".good{color:var(--pass)}.warn{color:var(--warn);font-weight:600}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:8px}"
    ".card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px}"
    ".card b{display:block;font-size:19px}"
    ".scroll{overflow-x:auto;max-width:100%}.scroll table{min-width:640px}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top;overflow-wrap:anywhere}"
    "th{background:#f1f3f4;font-weight:600}"
    "td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "header table{background:transparent;color:#fff}"
    "header th{background:rgba(0,0,0,.15)}header td,header th{border-color:rgba(255,255,255,.3)}"
    "details.site{background:#fff;border:1px solid var(--line);border-radius:6px;margin:6px 0;"
    "padding:6px 10px}"
    "summary{cursor:pointer;overflow-wrap:anywhere}"
    "ol.stack{margin:6px 0;padding-left:2.6em;overflow-wrap:anywhere;"
    "font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
    "ol.stack li.inl{color:var(--muted)}"
    ".banner{background:#fef7e0;border:1px solid #f9ab00;border-radius:6px;padding:8px 10px;"
    "margin:8px 0}"
    "figure{margin:8px 0 16px}figcaption{color:var(--muted);font-size:12px}"
    "svg.chart{display:block;width:100%;min-width:520px;height:auto;background:#fff;"
    "border:1px solid var(--line)}"
    "svg.icicle{display:block;width:100%;min-width:640px;height:auto;background:#fff}"
    "svg text{font:12px system-ui,sans-serif;fill:#202124}"
    "ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 14px;"
    "font-size:12px;overflow-wrap:anywhere}"
    "ul.legend i{display:inline-block;width:14px;height:3px;margin-right:5px;"
    "vertical-align:middle}"
    "button{font:inherit;padding:4px 10px;margin:4px 0}"
    "@media (max-width:640px){body{font-size:13px}main{padding:6px}h1{font-size:19px}"
    "th,td{padding:3px 5px}}";

static const char SCRIPT[] =
    "(function(){\n"
    "var b=document.getElementById('expand-all');\n"
    "if(b){b.addEventListener('click',function(){\n"
    "var open=b.getAttribute('data-open')!=='1',d=document.querySelectorAll('details.site');\n"
    "for(var i=0;i!==d.length;i++){d[i].open=open;}\n"
    "b.setAttribute('data-open',open?'1':'0');\n"
    "b.textContent=open?'Collapse all stacks':'Expand all stacks';});}\n"
    "var w=document.documentElement.scrollWidth-window.innerWidth;\n"
    "document.documentElement.setAttribute('data-overflow-px',String(w));\n"
    "document.documentElement.setAttribute('data-ready','1');\n"
    "})();\n";

/* ---- helpers shared by the html*.c files --------------------------------------------------- */

void hg__html_text(hg__html_t *h, const char *s) {
    hg__report_xml_escape(h->o, s, false);
}

void hg__html_attr(hg__html_t *h, const char *name, const char *value) {
    hg_out_printf(h->o, " %s=\"", name);
    hg__report_xml_escape(h->o, value ? value : "", true);
    hg_out_write(h->o, "\"", 1);
}

void hg__html_attr_u64(hg__html_t *h, const char *name, uint64_t v) {
    hg_out_printf(h->o, " %s=\"%llu\"", name, (unsigned long long)v);
}

void hg__html_bytes_cell(hg__html_t *h, uint64_t bytes) {
    char b[32];
    hg_out_printf(h->o, "<td class=\"num\" data-value=\"%llu\" title=\"%llu bytes\">%s</td>",
                  (unsigned long long)bytes, (unsigned long long)bytes,
                  hg_format_bytes(bytes, b, sizeof b));
}

void hg__html_count_cell(hg__html_t *h, uint64_t n) {
    hg_out_printf(h->o, "<td class=\"num\" data-value=\"%llu\">%llu</td>", (unsigned long long)n,
                  (unsigned long long)n);
}

void hg__html_frame(hg__html_t *h, const hg_rframe_t *f) {
    hg_buf_reset(&h->b);
    hg_rframe_format(f, &h->b);
    if (h->b.failed) {
        hg__report_out_fail(h->o, HG_ENOMEM);
    }
    hg__html_text(h, h->b.data ? h->b.data : "");
}

void hg__html_site_name(hg__html_t *h, const hg_rsite_t *s) {
    const hg_rframe_t *f = hg__report_source_frame(s);
    if (f || s->nframes) {
        hg__html_frame(h, f ? f : &s->frames[0]);
    } else {
        hg__html_text(h, "(no stack)");
    }
}

static void h2(hg__html_t *h, const char *id, const char *title) {
    hg_out_printf(h->o, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

static void end_section(hg__html_t *h) {
    hg_out_puts(h->o, "</section>\n");
}

/* ---- head and verdict ---------------------------------------------------------------------- */

static const char *verdict_word(const hg_rgate_t *g) {
    return !g->evaluated ? "not evaluated" : g->passed ? "pass" : "fail";
}

static void put_head(hg__html_t *h) {
    hg_out_puts(h->o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                      "<meta name=\"generator\"");
    hg__html_attr(h, "content", h->r->tool_version ? h->r->tool_version : "heapgate");
    hg_out_printf(h->o, "/>\n<title>heapgate report: %s</title>\n<style>",
                  verdict_word(&h->r->gate));
    hg_out_puts(h->o, STYLE);
    hg_out_puts(h->o, "</style>\n</head>\n<body>\n<main>\n");
}

static void put_check_row(hg__html_t *h, const hg_rcheck_t *c) {
    hg_out_puts(h->o, "<tr");
    hg__html_attr(h, "data-check", c->name);
    hg_out_printf(h->o, " data-passed=\"%s\"><td>%s</td><td>", c->passed ? "true" : "false",
                  c->passed ? "pass" : "<b>FAIL</b>");
    hg__html_text(h, c->name);
    hg_out_puts(h->o, "</td><td class=\"num\">");
    hg__html_text(h, c->measured);
    hg_out_puts(h->o, "</td><td class=\"num\">");
    hg__html_text(h, c->limit);
    hg_out_puts(h->o, "</td><td>");
    hg__html_text(h, c->detail);
    if (c->site) {
        hg_out_puts(h->o, " (site ");
        hg__html_text(h, c->site);
        hg_out_puts(h->o, ")");
    }
    hg_out_puts(h->o, "</td></tr>\n");
}

static void put_verdict(hg__html_t *h) {
    const hg_rgate_t *g = &h->r->gate;
    size_t failed = 0;
    for (size_t i = 0; i < g->nchecks; i++) {
        failed += !g->checks[i].passed;
    }
    hg_out_printf(h->o, "<header id=\"verdict\" class=\"verdict %s\" data-verdict=\"%s\">\n",
                  !g->evaluated ? "none"
                  : g->passed   ? "pass"
                                : "fail",
                  verdict_word(g));
    hg_out_printf(h->o, "<h1>heapgate: %s</h1>\n",
                  !g->evaluated ? "verdict not evaluated"
                  : g->passed   ? "PASS"
                                : "FAIL");
    hg_out_printf(h->o, "<p>%zu of %zu checks failed</p>\n", failed, g->nchecks);
    if (g->nchecks) {
        hg_out_puts(h->o, "<div class=\"scroll\"><table id=\"checks\"><tr><th>result</th>"
                          "<th>check</th><th class=\"num\">measured</th><th class=\"num\">limit"
                          "</th><th>detail</th></tr>\n");
        for (size_t i = 0; i < g->nchecks; i++) {
            put_check_row(h, &g->checks[i]);
        }
        hg_out_puts(h->o, "</table></div>\n");
    }
    hg_out_puts(h->o, "</header>\n");
}

/* ---- totals -------------------------------------------------------------------------------- */

static void put_card(hg__html_t *h, const char *key, const char *label, uint64_t v, bool bytes) {
    char b[32];
    hg_out_printf(h->o, "<div class=\"card\" data-key=\"%s\" data-value=\"%llu\">%s<b>", key,
                  (unsigned long long)v, label);
    if (bytes) {
        hg_out_printf(h->o, "%s</b><span class=\"muted\">%llu bytes</span></div>\n",
                      hg_format_bytes(v, b, sizeof b), (unsigned long long)v);
    } else {
        hg_out_printf(h->o, "%llu</b></div>\n", (unsigned long long)v);
    }
}

static void put_warnings(hg__html_t *h) {
    const hg_report_t *r = h->r;
    if (r->incomplete) {
        hg_out_puts(h->o, "<p class=\"banner\" id=\"incomplete\"><b>INCOMPLETE</b>: events or "
                          "buffers were lost or a trace was cut short; leak figures come from an "
                          "incomplete trace and A1, A2, A4 and A6 were demoted to info.</p>\n");
    }
    for (size_t i = 0; i < r->nwarnings; i++) {
        hg_out_puts(h->o, "<p class=\"banner warning\">warning: ");
        hg__html_text(h, r->warnings[i]);
        hg_out_puts(h->o, "</p>\n");
    }
}

static void put_inputs(hg__html_t *h) {
    const hg_report_t *r = h->r;
    hg_out_puts(h->o, "<ul id=\"inputs\">\n");
    for (size_t i = 0; i < r->ninputs; i++) {
        hg_out_puts(h->o, "<li>");
        hg__html_text(h, r->inputs[i]);
        hg_out_puts(h->o, " <span class=\"muted\">(");
        hg__html_text(h, r->input_formats ? r->input_formats[i] : "?");
        hg_out_puts(h->o, ")</span></li>\n");
    }
    hg_out_puts(h->o, "</ul>\n");
}

static void put_totals(hg__html_t *h) {
    const hg_rtotals_t *t = &h->r->totals;
    h2(h, "totals", "Totals");
    hg_out_puts(h->o, "<div class=\"cards\">\n");
    put_card(h, "leaked_bytes", "leaked", t->leaked_bytes, true);
    put_card(h, "leaked_blocks", "leaked blocks", t->leaked_blocks, false);
    put_card(h, "outstanding_bytes", "outstanding", t->outstanding_bytes, true);
    put_card(h, "outstanding_blocks", "outstanding blocks", t->outstanding_blocks, false);
    put_card(h, "released_by_destroy_bytes", "released by HeapDestroy",
             t->released_by_destroy_bytes, true);
    put_card(h, "suppressed_sites", "suppressed sites", h->r->suppressed_sites, false);
    hg_out_puts(h->o, "</div>\n");
    put_warnings(h);
    put_inputs(h);
    end_section(h);
}

/* ---- top leak sites ------------------------------------------------------------------------ */

static bool shown_site(const hg_rsite_t *s) {
    const hg_rtotals_t *t = &s->totals;
    bool live =
        t->leaked_bytes || t->leaked_blocks || t->outstanding_bytes || t->outstanding_blocks;
    return live && !(s->suppressed_by && !s->runtime);
}

static void put_stack(hg__html_t *h, const hg_rsite_t *s) {
    hg_out_puts(h->o, "<ol class=\"stack\">\n");
    for (size_t i = 0; i < s->nframes; i++) {
        hg_out_puts(h->o, s->frames[i].inlined ? "<li class=\"inl\">" : "<li>");
        hg__html_frame(h, &s->frames[i]);
        hg_out_puts(h->o, s->frames[i].inlined ? " <i>(inlined)</i></li>\n" : "</li>\n");
    }
    hg_out_puts(h->o, s->nframes ? "</ol>\n" : "<li>(no stack)</li></ol>\n");
}

static void put_site_figures(hg__html_t *h, const hg_rsite_t *s) {
    char first[32], last[32];
    hg_out_puts(h->o, "<div class=\"scroll\"><table><tr><th>leaked</th><th>outstanding</th>"
                      "<th>released</th><th>allocations</th><th>allocated</th><th>peak live"
                      "</th></tr>\n<tr>");
    hg__html_bytes_cell(h, s->totals.leaked_bytes);
    hg__html_bytes_cell(h, s->totals.outstanding_bytes);
    hg__html_bytes_cell(h, s->totals.released_by_destroy_bytes);
    hg__html_count_cell(h, s->allocs);
    hg__html_bytes_cell(h, s->alloc_bytes);
    hg__html_bytes_cell(h, s->peak_live_bytes);
    hg_out_printf(h->o, "</tr></table></div>\n<p class=\"muted\">allocated from %s to %s in ",
                  hg_format_duration(s->first_ts_ns, first, sizeof first),
                  hg_format_duration(s->last_ts_ns, last, sizeof last));
    for (size_t i = 0; i < s->npids; i++) {
        hg_out_printf(h->o, "%spid %u", i ? ", " : "", (unsigned)s->pids[i]);
    }
    hg_out_puts(h->o, "</p>\n");
}

static void put_site(hg__html_t *h, size_t rank, const hg_rsite_t *s) {
    char b[32];
    hg_out_puts(h->o, "<details class=\"site\"");
    hg__html_attr(h, "data-site", s->id);
    hg__html_attr_u64(h, "data-leaked-bytes", s->totals.leaked_bytes);
    hg__html_attr_u64(h, "data-leaked-blocks", s->totals.leaked_blocks);
    hg__html_attr_u64(h, "data-outstanding-bytes", s->totals.outstanding_bytes);
    bool leaked = s->totals.leaked_bytes || s->totals.leaked_blocks;
    hg_out_printf(
        h->o, "><summary><b>#%zu</b> %s %s (%llu blocks) at ", rank,
        hg_format_bytes(leaked ? s->totals.leaked_bytes : s->totals.outstanding_bytes, b, sizeof b),
        leaked ? "leaked" : "outstanding",
        (unsigned long long)(leaked ? s->totals.leaked_blocks : s->totals.outstanding_blocks));
    hg__html_site_name(h, s);
    hg_out_puts(h->o, " <span class=\"muted\">site ");
    hg__html_text(h, s->id);
    hg_out_puts(h->o, "</span>");
    if (s->runtime) {
        hg_out_puts(h->o, " <span class=\"warn\">runtime, not gated</span>");
    }
    hg_out_puts(h->o, "</summary>\n");
    put_site_figures(h, s);
    put_stack(h, s);
    hg_out_puts(h->o, "</details>\n");
}

static void put_sites(hg__html_t *h) {
    const hg_report_t *r = h->r;
    size_t shown = 0, live = 0, limit = h->opt->top ? h->opt->top : SIZE_MAX;
    h2(h, "sites", "Top leak sites");
    hg_out_puts(h->o, "<button type=\"button\" id=\"expand-all\">Expand all stacks</button>\n");
    for (size_t i = 0; i < r->nsites && !hg__report_out_failed(h->o); i++) {
        if (shown_site(&r->sites[i])) {
            live++;
            if (shown < limit) {
                put_site(h, ++shown, &r->sites[i]);
            }
        }
    }
    if (live == 0) {
        hg_out_puts(h->o, "<p class=\"good\">No leaked or outstanding blocks.</p>\n");
    } else if (shown < live) {
        hg_out_printf(h->o, "<p class=\"muted\">%zu more sites with live blocks (--top).</p>\n",
                      live - shown);
    }
    if (r->suppressed_sites) {
        hg_out_printf(h->o, "<p class=\"muted\">%llu sites matched a suppression.</p>\n",
                      (unsigned long long)r->suppressed_sites);
    }
    end_section(h);
}

/* ---- anomalies ----------------------------------------------------------------------------- */

static const char *severity_name(int s) {
    return s >= 3 ? "error" : s == 2 ? "warning" : "info";
}

static void put_anomaly(hg__html_t *h, const hg_ranomaly_t *a) {
    char ts[32];
    hg_out_puts(h->o, "<tr");
    hg__html_attr(h, "data-anomaly", a->id);
    hg__html_attr_u64(h, "data-count", a->count);
    hg_out_printf(h->o, "><td class=\"%s\">%s</td><td>", a->severity >= 3 ? "bad" : "",
                  severity_name(a->severity));
    hg__html_text(h, a->id);
    hg_out_puts(h->o, " ");
    hg__html_text(h, a->name);
    hg_out_puts(h->o, "</td>");
    hg__html_count_cell(h, a->count);
    hg_out_puts(h->o, "<td>");
    hg__html_text(h, a->site ? a->site : "(no stack)");
    hg_out_printf(h->o, "</td><td>%s pid %u tid %u heap 0x%llx addr 0x%llx size %llu</td><td>",
                  hg_format_duration(a->example.ts_ns, ts, sizeof ts), (unsigned)a->example.pid,
                  (unsigned)a->example.tid, (unsigned long long)a->example.heap,
                  (unsigned long long)a->example.addr, (unsigned long long)a->example.size);
    hg__html_text(h, a->description);
    hg_out_puts(h->o, "</td></tr>\n");
}

static void put_anomalies(hg__html_t *h) {
    const hg_report_t *r = h->r;
    h2(h, "anomalies", "Anomalies");
    if (r->nanomalies == 0) {
        hg_out_puts(h->o, "<p class=\"good\">No heap-event anomalies.</p>\n");
        end_section(h);
        return;
    }
    hg_out_puts(h->o, "<div class=\"scroll\"><table><tr><th>severity</th><th>anomaly</th>"
                      "<th class=\"num\">count</th><th>site</th><th>first occurrence</th>"
                      "<th>meaning</th></tr>\n");
    for (size_t i = 0; i < r->nanomalies; i++) {
        put_anomaly(h, &r->anomalies[i]);
    }
    hg_out_puts(h->o, "</table></div>\n");
    end_section(h);
}

/* ---- processes, heaps, trace quality ------------------------------------------------------- */

static void put_process(hg__html_t *h, const hg_rprocess_t *p) {
    hg_out_printf(h->o, "<tr data-pid=\"%u\"><td class=\"num\">%u</td><td>", (unsigned)p->pid,
                  (unsigned)p->pid);
    hg__html_text(h, p->name ? p->name : "?");
    hg_out_printf(h->o, "</td><td>%s%s</td>", p->ended ? "ended" : "running",
                  p->traced_from_start ? "" : ", attached");
    hg__html_bytes_cell(h, p->totals.leaked_bytes);
    hg__html_bytes_cell(h, p->totals.outstanding_bytes);
    hg__html_bytes_cell(h, p->totals.released_by_destroy_bytes);
    hg__html_bytes_cell(h, p->peak_live_bytes);
    hg_out_puts(h->o, "<td>");
    hg__html_text(h, p->cmdline);
    hg_out_puts(h->o, "</td></tr>\n");
}

static void put_processes(hg__html_t *h) {
    h2(h, "processes", "Processes");
    hg_out_puts(h->o, "<div class=\"scroll\"><table><tr><th class=\"num\">pid</th><th>name</th>"
                      "<th>status</th><th class=\"num\">leaked</th><th class=\"num\">outstanding"
                      "</th><th class=\"num\">released</th><th class=\"num\">peak live</th>"
                      "<th>command line</th></tr>\n");
    for (size_t i = 0; i < h->r->nprocesses; i++) {
        put_process(h, &h->r->processes[i]);
    }
    hg_out_puts(h->o, "</table></div>\n");
    end_section(h);
}

static void put_ratio_cell(hg__html_t *h, double v) {
    if (isfinite(v)) {
        hg_out_printf(h->o, "<td class=\"num\">%.3f</td>", v);
    } else {
        hg_out_puts(h->o, "<td class=\"num\">-</td>");
    }
}

static void put_heap(hg__html_t *h, const hg_rheap_t *hp) {
    const hg_rfrag_t *f = &hp->frag;
    hg_out_printf(h->o, "<tr data-heap=\"0x%llx\"><td class=\"num\">%u</td><td>0x%llx</td>",
                  (unsigned long long)hp->handle, (unsigned)hp->pid,
                  (unsigned long long)hp->handle);
    hg__html_bytes_cell(h, f->live_bytes);
    hg__html_bytes_cell(h, hp->peak_live_bytes);
    hg__html_bytes_cell(h, f->span_bytes);
    put_ratio_cell(h, f->utilisation);
    put_ratio_cell(h, f->external);
    hg__html_bytes_cell(h, f->largest_hole);
    put_ratio_cell(h, hp->peak_ratio);
    hg_out_puts(h->o, "<td>");
    hg__html_text(h, hp->growth_signal);
    hg_out_puts(h->o, "</td></tr>\n");
}

static void put_heaps(hg__html_t *h) {
    h2(h, "heaps", "Heaps and fragmentation");
    hg_out_puts(h->o, "<p class=\"muted\">Estimates from block addresses and requested sizes, "
                      "not the allocator's real state (docs/heap-semantics.md section 4).</p>\n"
                      "<div class=\"scroll\"><table><tr><th class=\"num\">pid</th><th>heap</th>"
                      "<th class=\"num\">live</th><th class=\"num\">peak live</th>"
                      "<th class=\"num\">span</th><th class=\"num\">utilisation</th>"
                      "<th class=\"num\">external frag.</th><th class=\"num\">largest hole</th>"
                      "<th class=\"num\">peak ratio</th><th>growth</th></tr>\n");
    for (size_t i = 0; i < h->r->nheaps; i++) {
        put_heap(h, &h->r->heaps[i]);
    }
    hg_out_puts(h->o, "</table></div>\n");
    end_section(h);
}

static void put_quality_row(hg__html_t *h, const char *key, const char *label, uint64_t v) {
    hg_out_printf(h->o,
                  "<tr data-key=\"%s\" data-value=\"%llu\"><td>%s</td><td class=\"num\">"
                  "%llu</td></tr>\n",
                  key, (unsigned long long)v, label, (unsigned long long)v);
}

static void put_trace(hg__html_t *h) {
    const hg_rtrace_t *t = &h->r->trace;
    h2(h, "trace", "Trace quality");
    hg_out_puts(h->o, "<div class=\"scroll\"><table id=\"trace-quality\">\n");
    put_quality_row(h, "events", "events read", t->events);
    put_quality_row(h, "allocs", "allocations", t->allocs);
    put_quality_row(h, "reallocs", "reallocations", t->reallocs);
    put_quality_row(h, "frees", "frees", t->frees);
    put_quality_row(h, "unmatched_frees", "frees of unknown blocks", t->unmatched_frees);
    put_quality_row(h, "failed_allocations", "failed allocations", t->failed_allocations);
    put_quality_row(h, "lost_events", "lost events", t->lost_events);
    put_quality_row(h, "lost_buffers", "lost buffers", t->lost_buffers);
    put_quality_row(h, "stacks_undefined", "stacks never defined", t->stacks_undefined);
    put_quality_row(h, "out_of_order_events", "events out of order", t->out_of_order_events);
    put_quality_row(h, "filtered_events", "events filtered out", t->filtered_events);
    put_quality_row(h, "settle_ignored_blocks", "blocks ignored by --settle",
                    t->settle_ignored_blocks);
    hg_out_printf(h->o, "<tr><td>trace cut short</td><td class=\"num\">%s</td></tr>\n",
                  t->truncated ? "yes" : "no");
    hg_out_puts(h->o, "</table></div>\n");
    end_section(h);
}

/* ---- the page ------------------------------------------------------------------------------ */

void hg_report_write_html(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    hg_write_options_t defaults;
    if (!opt) {
        hg_write_options_init(&defaults);
        opt = &defaults;
    }
    hg__html_t h = {.r = r, .opt = opt, .o = o};
    hg_buf_init(&h.b);
    put_head(&h);
    put_verdict(&h);
    put_totals(&h);
    hg__html_charts(&h);
    put_sites(&h);
    hg__html_icicle(&h);
    put_anomalies(&h);
    put_processes(&h);
    put_heaps(&h);
    put_trace(&h);
    hg_out_puts(o, "<footer class=\"muted\"><p>Written by heapgate ");
    hg__html_text(&h, r->tool_version);
    hg_out_puts(o, ".</p></footer>\n</main>\n<script>//<![CDATA[\n");
    hg_out_puts(o, SCRIPT);
    hg_out_puts(o, "//]]></script>\n</body>\n</html>\n");
    hg_buf_free(&h.b);
}
