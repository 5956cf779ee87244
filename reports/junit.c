/* junit.c - the gate as JUnit XML, so CI dashboards (Jenkins, GitLab, GitHub test reporters)
 * list what failed and why.
 *
 * Layout follows the de-facto JUnit XML schema that Apache Ant's XMLJUnitResultFormatter writes
 * and the Jenkins JUnit plugin reads (junit-4.xsd): a <testsuites> root with name, tests,
 * failures, errors, skipped and time; <testsuite> elements with the same counts, an optional
 * timestamp (ISO 8601 without zone, here UTC) and <properties>; <testcase name classname time>
 * holding a <failure message type> whose text is the detail, or a <skipped message>.
 *
 * Suite "heapgate.gate": one test case per gate check, in the gate's order (each threshold,
 * each per-site check); a report whose gate was not run gets one skipped case, so there is
 * always at least one. Suite "heapgate.sites" (only when some site leaked): one case per
 * leaking site, failing when a failing check names the site or a total leak threshold
 * (max-leaked-*) failed, skipped when a suppression matched it. No time is measured per check:
 * time is 0. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GATE_SUITE  "heapgate.gate"
#define SITES_SUITE "heapgate.sites"

typedef struct junit {
    const hg_report_t *r;
    hg_out_t *o;
    hg__gate_index_t failed;
    hg_buf_t scratch;
} junit_t;

static void put_attr(hg_out_t *o, const char *name, const char *value) {
    hg_out_printf(o, " %s=\"", name);
    hg__report_xml_escape(o, value ? value : "", true);
    hg_out_write(o, "\"", 1);
}

static void put_counts(hg_out_t *o, size_t tests, size_t failures, size_t skipped) {
    hg_out_printf(o, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\"",
                  tests, failures, skipped);
}

/* ---- which sites fail (shared with the SARIF writer) ---------------------------------------- */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int hg__gate_index_build(hg__gate_index_t *g, const hg_report_t *r) {
    const hg_rgate_t *gate = &r->gate;
    memset(g, 0, sizeof *g);
    g->sites = hg_calloc(gate->nchecks + 1, sizeof *g->sites);
    if (!g->sites) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < gate->nchecks; i++) {
        const hg_rcheck_t *c = &gate->checks[i];
        if (!c->passed && c->site) {
            g->sites[g->n++] = c->site;
        }
        g->totals_failed |= !c->passed && c->name && strncmp(c->name, "max-leaked-", 11) == 0;
    }
    qsort(g->sites, g->n, sizeof *g->sites, cmp_str);
    return 0;
}

bool hg__gate_index_failed(const hg__gate_index_t *g, const hg_rsite_t *s) {
    const char *id = s->id ? s->id : "";
    if (s->suppressed_by) {
        return false;
    }
    return (g->totals_failed && (s->totals.leaked_bytes || s->totals.leaked_blocks)) ||
           bsearch(&id, g->sites, g->n, sizeof *g->sites, cmp_str);
}

void hg__gate_index_free(hg__gate_index_t *g) {
    hg_free(g->sites);
    memset(g, 0, sizeof *g);
}

static bool leaking(const hg_rsite_t *s) {
    return s->totals.leaked_bytes || s->totals.leaked_blocks;
}

/* ---- the gate suite ------------------------------------------------------------------------- */

static void put_property(hg_out_t *o, const char *name, const char *value) {
    hg_out_puts(o, "      <property");
    put_attr(o, "name", name);
    put_attr(o, "value", value);
    hg_out_puts(o, "/>\n");
}

static void put_property_u64(hg_out_t *o, const char *name, uint64_t v) {
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    put_property(o, name, b);
}

static void put_properties(const junit_t *j) {
    const hg_report_t *r = j->r;
    const hg_rgate_t *g = &r->gate;
    hg_out_puts(j->o, "    <properties>\n");
    put_property(j->o, "verdict", !g->evaluated ? "not evaluated" : g->passed ? "pass" : "fail");
    put_property(j->o, "tool_version", r->tool_version);
    for (size_t i = 0; i < r->ninputs; i++) {
        put_property(j->o, "input", r->inputs[i]);
    }
    put_property_u64(j->o, "leaked_bytes", r->totals.leaked_bytes);
    put_property_u64(j->o, "leaked_blocks", r->totals.leaked_blocks);
    put_property_u64(j->o, "outstanding_bytes", r->totals.outstanding_bytes);
    put_property(j->o, "incomplete", r->incomplete ? "true" : "false");
    hg_out_puts(j->o, "    </properties>\n");
}

static void put_timestamp(hg_out_t *o, uint64_t wall_ns) {
    time_t t = (time_t)(wall_ns / 1000000000u);
    struct tm tm;
    char b[32];
    if (wall_ns && gmtime_r(&t, &tm) && strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm)) {
        put_attr(o, "timestamp", b);
    }
}

static void put_check(hg_out_t *o, const hg_rcheck_t *c) {
    hg_out_puts(o, "    <testcase");
    put_attr(o, "name", c->name);
    put_attr(o, "classname", GATE_SUITE);
    hg_out_puts(o, " time=\"0\"");
    if (c->passed) {
        hg_out_puts(o, "/>\n");
        return;
    }
    hg_out_puts(o, ">\n      <failure");
    put_attr(o, "message", c->detail ? c->detail : c->name);
    put_attr(o, "type", c->name);
    hg_out_puts(o, ">measured ");
    hg__report_xml_escape(o, c->measured ? c->measured : "?", false);
    hg_out_puts(o, ", limit ");
    hg__report_xml_escape(o, c->limit ? c->limit : "?", false);
    if (c->site) {
        hg_out_puts(o, ", site ");
        hg__report_xml_escape(o, c->site, false);
    }
    hg_out_puts(o, "</failure>\n    </testcase>\n");
}

static void put_gate_suite(const junit_t *j, size_t failures) {
    const hg_rgate_t *g = &j->r->gate;
    hg_out_puts(j->o, "  <testsuite");
    put_attr(j->o, "name", GATE_SUITE);
    put_counts(j->o, g->evaluated ? g->nchecks : 1, failures, g->evaluated ? 0 : 1);
    put_timestamp(j->o, j->r->trace.start_wall_ns);
    hg_out_puts(j->o, ">\n");
    put_properties(j);
    for (size_t i = 0; g->evaluated && i < g->nchecks; i++) {
        put_check(j->o, &g->checks[i]);
    }
    if (!g->evaluated) {
        hg_out_puts(j->o, "    <testcase name=\"gate\" classname=\"" GATE_SUITE "\" time=\"0\">\n"
                          "      <skipped message=\"no gate was run\"/>\n    </testcase>\n");
    }
    hg_out_puts(j->o, "  </testsuite>\n");
}

/* ---- the sites suite ------------------------------------------------------------------------ */

static void put_stack(junit_t *j, const hg_rsite_t *s) {
    for (size_t i = 0; i < s->nframes; i++) {
        hg_buf_reset(&j->scratch);
        hg_rframe_format(&s->frames[i], &j->scratch);
        hg_out_puts(j->o, "\n  at ");
        hg__report_xml_escape(j->o, j->scratch.data ? j->scratch.data : "", false);
    }
}

static void put_site_name(junit_t *j, const hg_rsite_t *s) {
    hg_buf_reset(&j->scratch);
    hg_buf_printf(&j->scratch, "site %s: ", s->id ? s->id : "?");
    const hg_rframe_t *f = hg__report_source_frame(s);
    if (f || s->nframes) {
        hg_rframe_format(f ? f : &s->frames[0], &j->scratch);
    } else {
        hg_buf_puts(&j->scratch, "(no stack)");
    }
    put_attr(j->o, "name", j->scratch.data);
}

static void put_site_case(junit_t *j, const hg_rsite_t *s) {
    char msg[128];
    snprintf(msg, sizeof msg, "%llu bytes leaked in %llu blocks",
             (unsigned long long)s->totals.leaked_bytes,
             (unsigned long long)s->totals.leaked_blocks);
    hg_out_puts(j->o, "    <testcase");
    put_site_name(j, s);
    put_attr(j->o, "classname", SITES_SUITE);
    hg_out_puts(j->o, " time=\"0\">\n      ");
    if (s->suppressed_by) {
        hg_out_puts(j->o, "<skipped");
        put_attr(j->o, "message", s->suppressed_by);
        hg_out_puts(j->o, "/>\n    </testcase>\n");
        return;
    }
    bool failed = hg__gate_index_failed(&j->failed, s);
    hg_out_puts(j->o, failed ? "<failure" : "<system-out");
    if (failed) {
        put_attr(j->o, "message", msg);
        put_attr(j->o, "type", "leak");
    }
    hg_out_printf(j->o, ">%s", msg);
    put_stack(j, s);
    hg_out_puts(j->o, failed ? "</failure>\n" : "</system-out>\n");
    hg_out_puts(j->o, "    </testcase>\n");
}

static void put_sites_suite(junit_t *j, size_t tests, size_t failures, size_t skipped) {
    hg_out_puts(j->o, "  <testsuite");
    put_attr(j->o, "name", SITES_SUITE);
    put_counts(j->o, tests, failures, skipped);
    hg_out_puts(j->o, ">\n");
    for (size_t i = 0; i < j->r->nsites && !hg__report_out_failed(j->o); i++) {
        if (leaking(&j->r->sites[i])) {
            put_site_case(j, &j->r->sites[i]);
        }
    }
    hg_out_puts(j->o, "  </testsuite>\n");
}

/* ---- the document --------------------------------------------------------------------------- */

typedef struct tally {
    size_t gate_tests, gate_failures, gate_skipped;
    size_t site_tests, site_failures, site_skipped;
} tally_t;

static tally_t count_cases(const junit_t *j) {
    const hg_rgate_t *g = &j->r->gate;
    tally_t t = {g->evaluated ? g->nchecks : 1, 0, g->evaluated ? 0 : 1, 0, 0, 0};
    for (size_t i = 0; g->evaluated && i < g->nchecks; i++) {
        t.gate_failures += !g->checks[i].passed;
    }
    for (size_t i = 0; i < j->r->nsites; i++) {
        const hg_rsite_t *s = &j->r->sites[i];
        if (leaking(s)) {
            t.site_tests++;
            t.site_skipped += s->suppressed_by != NULL;
            t.site_failures += hg__gate_index_failed(&j->failed, s);
        }
    }
    return t;
}

void hg_report_write_junit(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    (void)opt;
    junit_t j = {.r = r, .o = o};
    hg_buf_init(&j.scratch);
    if (hg__gate_index_build(&j.failed, r) != 0) {
        hg__report_out_fail(o, HG_ENOMEM);
        return;
    }
    tally_t t = count_cases(&j);
    hg_out_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"heapgate\"");
    put_counts(o, t.gate_tests + t.site_tests, t.gate_failures + t.site_failures,
               t.gate_skipped + t.site_skipped);
    hg_out_puts(o, ">\n");
    put_gate_suite(&j, t.gate_failures);
    if (t.site_tests) {
        put_sites_suite(&j, t.site_tests, t.site_failures, t.site_skipped);
    }
    hg_out_puts(o, "</testsuites>\n");
    if (j.scratch.failed) {
        hg__report_out_fail(o, HG_ENOMEM);
    }
    hg_buf_free(&j.scratch);
    hg__gate_index_free(&j.failed);
}
