/* sarif.c - leak sites and anomalies as a SARIF 2.1.0 log, so code-scanning UIs (GitHub code
 * scanning, VS Code's SARIF viewer, GitLab) show leaks at the line that allocated them.
 *
 * Facts from the OASIS standard "Static Analysis Results Interchange Format (SARIF) Version
 * 2.1.0" (27 March 2020), cited by section:
 *   - sarifLog: "version" is required and is "2.1.0"; "runs" is required (3.13.2, 3.13.4);
 *     "$schema" is optional (3.13.3).
 *   - run: "tool" is required (3.14.6); tool: "driver" is required (3.18.2); toolComponent:
 *     "name" is required (3.19.8); rules are reportingDescriptors whose "id" is required
 *     (3.49.3).
 *   - invocation: "executionSuccessful" is required (3.20.14).
 *   - result: "message" is required (3.27.11) and a message has "text" or "id" (3.11.2);
 *     "ruleIndex" indexes driver.rules (3.27.6); "level" is none, note, warning or error
 *     (3.27.10).
 *   - physicalLocation holds an artifactLocation or an address (3.29.2); a region's startLine
 *     and startColumn count from 1 (3.30.5, 3.30.6); artifactLocation.uri is a URI reference
 *     (3.4.3, 3.10.2).
 *   - stack: "frames" is required (3.44.3); suppression: "kind" is required, inSource or
 *     external (3.35.2).
 *
 * Mapping: one result per site that leaked (rule "leak") and one per anomaly kind present
 * (rules "A1".."A13"), located at the first frame outside the allocator that has a source
 * file. Frames come trimmed by the detector; known C/C++ allocation entry points are skipped
 * here again. A site without such a frame gets a logical location (its innermost frame's name)
 * and no physical one. Suppressed sites keep their result with an external suppression. A
 * leak result is an error when the gate failed because of it, else a warning; anomaly levels
 * follow severity (error, warning, info -> note). partialFingerprints carry the site id, which
 * is stable across runs, so code-scanning UIs match results between runs. */
#include "sarif_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KINDS 14 /* anomaly kinds 1..13; 0 for a kind outside the catalogue */

typedef struct sarif {
    hg__sj_t w;
    const hg_report_t *r;
    hg__gate_index_t failed;
    int rule_of_kind[KINDS]; /* index in driver.rules, -1 when the kind has no result */
    const hg_ranomaly_t *first_of_kind[KINDS];
    bool any_leak;
    const hg_rsite_t **by_id; /* sites sorted by id, for anomalies' sites */
    hg_buf_t b;
} sarif_t;

static const char *const allocator_functions[] = {
    "malloc",       "calloc",         "realloc",         "reallocarray",
    "free",         "posix_memalign", "aligned_alloc",   "memalign",
    "valloc",       "pvalloc",        "strdup",          "strndup",
    "HeapAlloc",    "HeapReAlloc",    "RtlAllocateHeap", "RtlReAllocateHeap",
    "LocalAlloc",   "GlobalAlloc",    "_malloc_base",    "_calloc_base",
    "_realloc_base"};

static int kind_slot(int kind) {
    return kind >= 1 && kind < KINDS ? kind : 0;
}

static const char *level_of_severity(int severity) {
    return severity >= 3 ? "error" : severity == 2 ? "warning" : "note";
}

static int cmp_site_id(const void *a, const void *b) {
    const hg_rsite_t *x = *(const hg_rsite_t *const *)a, *y = *(const hg_rsite_t *const *)b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static int index_sites(sarif_t *s) {
    s->by_id = hg_calloc(s->r->nsites + 1, sizeof *s->by_id);
    if (!s->by_id) {
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < s->r->nsites; i++) {
        s->by_id[i] = &s->r->sites[i];
    }
    qsort(s->by_id, s->r->nsites, sizeof *s->by_id, cmp_site_id);
    return 0;
}

static const hg_rsite_t *find_site(const sarif_t *s, const char *id) {
    hg_rsite_t key = {.id = (char *)id};
    const hg_rsite_t *k = &key, **hit;
    if (!id) {
        return NULL;
    }
    hit = bsearch(&k, s->by_id, s->r->nsites, sizeof *s->by_id, cmp_site_id);
    return hit ? *hit : NULL;
}

/* ---- locations ---------------------------------------------------------------------------- */

static bool is_allocator(const hg_rframe_t *f) {
    size_t n = sizeof allocator_functions / sizeof allocator_functions[0];
    for (size_t i = 0; f->function && i < n; i++) {
        if (strcmp(f->function, allocator_functions[i]) == 0) {
            return true;
        }
    }
    return f->function && strncmp(f->function, "operator new", 12) == 0;
}

const hg_rframe_t *hg__report_source_frame(const hg_rsite_t *s) {
    for (size_t i = 0; s && i < s->nframes; i++) {
        if (s->frames[i].file && s->frames[i].file[0] && !is_allocator(&s->frames[i])) {
            return &s->frames[i];
        }
    }
    return NULL;
}

static bool uri_plain(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/';
}

/* A file path as a URI reference (RFC 3986): absolute POSIX and Windows paths become file:
 * URIs, relative paths stay relative; backslashes become '/', other bytes outside the
 * unreserved set are percent-encoded. */
static void path_to_uri(hg_buf_t *b, const char *path) {
    const unsigned char *p = (const unsigned char *)path;
    if (p[0] == '/') {
        hg_buf_puts(b, "file://");
    } else if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':' &&
               (p[2] == '\\' || p[2] == '/')) {
        hg_buf_printf(b, "file:///%c:", p[0]);
        p += 2;
    }
    static const char hex[] = "0123456789ABCDEF";
    for (; *p; p++) {
        if (uri_plain(*p) || *p == '\\') {
            hg_buf_putc(b, *p == '\\' ? '/' : (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            hg_buf_append(b, e, 3);
        }
    }
}

static void put_physical(sarif_t *s, const hg_rframe_t *f) {
    hg__sj_open(&s->w, "physicalLocation", '{');
    hg__sj_open(&s->w, "artifactLocation", '{');
    hg_buf_reset(&s->b);
    path_to_uri(&s->b, f->file);
    hg__sj_buf(&s->w, "uri", &s->b);
    hg__sj_close(&s->w, '}');
    if (f->line) {
        hg__sj_open(&s->w, "region", '{');
        hg__sj_u64(&s->w, "startLine", f->line);
        if (f->column) {
            hg__sj_u64(&s->w, "startColumn", f->column);
        }
        hg__sj_close(&s->w, '}');
    }
    hg__sj_close(&s->w, '}');
}

static void put_logical(sarif_t *s, const hg_rframe_t *f) {
    hg__sj_open(&s->w, "logicalLocations", '[');
    hg__sj_open(&s->w, NULL, '{');
    hg_buf_reset(&s->b);
    hg_rframe_format(f, &s->b);
    hg__sj_buf(&s->w, "fullyQualifiedName", &s->b);
    hg__sj_str(&s->w, "kind", "function");
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, ']');
}

/* A location object for frame f (physical when it has a file, logical always). */
static void put_frame_location(sarif_t *s, const char *key, const hg_rframe_t *f) {
    hg__sj_open(&s->w, key, '{');
    if (f->file && f->file[0]) {
        put_physical(s, f);
    }
    put_logical(s, f);
    hg__sj_close(&s->w, '}');
}

/* "locations": the site's source frame, else its innermost frame's name; none without frames. */
static void put_site_locations(sarif_t *s, const char *key, const hg_rsite_t *site) {
    const hg_rframe_t *f = hg__report_source_frame(site);
    if (!f && site && site->nframes) {
        f = &site->frames[0];
    }
    if (f) {
        hg__sj_open(&s->w, key, '[');
        put_frame_location(s, NULL, f);
        hg__sj_close(&s->w, ']');
    }
}

static void put_stack(sarif_t *s, const hg_rsite_t *site) {
    hg__sj_open(&s->w, "stacks", '[');
    hg__sj_open(&s->w, NULL, '{');
    hg__sj_message(&s->w, "message", "allocation stack, innermost frame first");
    hg__sj_open(&s->w, "frames", '[');
    for (size_t i = 0; i < site->nframes; i++) {
        hg__sj_open(&s->w, NULL, '{');
        put_frame_location(s, "location", &site->frames[i]);
        if (site->frames[i].module) {
            hg__sj_str(&s->w, "module", site->frames[i].module);
        }
        hg__sj_close(&s->w, '}');
    }
    hg__sj_close(&s->w, ']');
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, ']');
}

static void put_fingerprint(sarif_t *s, const char *site_id, const char *suffix) {
    hg__sj_open(&s->w, "partialFingerprints", '{');
    hg_buf_reset(&s->b);
    hg_buf_printf(&s->b, "%s%s", site_id ? site_id : "no-stack", suffix);
    hg__sj_buf(&s->w, "heapgateSite/v1", &s->b);
    hg__sj_close(&s->w, '}');
}

/* ---- rules -------------------------------------------------------------------------------- */

static void put_rule(sarif_t *s, const char *id, const char *name, const char *text,
                     const char *level) {
    hg__sj_open(&s->w, NULL, '{');
    hg__sj_str(&s->w, "id", id);
    hg__sj_str(&s->w, "name", name);
    hg__sj_message(&s->w, "shortDescription", text);
    hg__sj_open(&s->w, "defaultConfiguration", '{');
    hg__sj_str(&s->w, "level", level);
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, '}');
}

static void put_rules(sarif_t *s) {
    char id[16];
    hg__sj_open(&s->w, "rules", '[');
    if (s->any_leak) {
        put_rule(s, "leak", "memory-leak",
                 "heap blocks allocated here were still live when their process ended", "error");
    }
    for (int k = 0; k < KINDS; k++) {
        const hg_ranomaly_t *a = s->first_of_kind[k];
        if (a) {
            snprintf(id, sizeof id, "A%d", k);
            put_rule(s, k ? id : "A?", a->name ? a->name : "unknown-anomaly",
                     a->description ? a->description : "heap-event anomaly",
                     level_of_severity(a->severity));
        }
    }
    hg__sj_close(&s->w, ']');
}

static void put_tool(sarif_t *s) {
    hg__sj_open(&s->w, "tool", '{');
    hg__sj_open(&s->w, "driver", '{');
    hg__sj_str(&s->w, "name", "heapgate");
    if (s->r->tool_version) {
        hg__sj_str(&s->w, "version", s->r->tool_version);
    }
    put_rules(s);
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, '}');
}

/* ---- leak results ------------------------------------------------------------------------- */

static void put_suppression(sarif_t *s, const hg_rsite_t *site) {
    hg__sj_open(&s->w, "suppressions", '[');
    hg__sj_open(&s->w, NULL, '{');
    hg__sj_str(&s->w, "kind", "external");
    hg_buf_reset(&s->b);
    hg_buf_printf(&s->b, "%s %s", site->runtime ? "built-in runtime rule" : "suppression",
                  site->suppressed_by);
    hg__sj_buf(&s->w, "justification", &s->b);
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, ']');
}

static void leak_message(sarif_t *s, const hg_rsite_t *site) {
    char size[32];
    hg_buf_reset(&s->b);
    hg_buf_printf(&s->b, "%s (%llu bytes) leaked in %llu block%s allocated at ",
                  hg_format_bytes(site->totals.leaked_bytes, size, sizeof size),
                  (unsigned long long)site->totals.leaked_bytes,
                  (unsigned long long)site->totals.leaked_blocks,
                  site->totals.leaked_blocks == 1 ? "" : "s");
    const hg_rframe_t *f = hg__report_source_frame(site);
    if (f || site->nframes) {
        hg_rframe_format(f ? f : &site->frames[0], &s->b);
    } else {
        hg_buf_puts(&s->b, "an unknown stack");
    }
    hg_buf_printf(&s->b, " (site %s, %llu allocations)", site->id ? site->id : "?",
                  (unsigned long long)site->allocs);
}

static void put_leak_properties(sarif_t *s, const hg_rsite_t *site) {
    hg__sj_open(&s->w, "properties", '{');
    hg__sj_str(&s->w, "siteId", site->id);
    hg__sj_u64(&s->w, "leakedBytes", site->totals.leaked_bytes);
    hg__sj_u64(&s->w, "leakedBlocks", site->totals.leaked_blocks);
    hg__sj_u64(&s->w, "allocations", site->allocs);
    hg__sj_u64(&s->w, "allocatedBytes", site->alloc_bytes);
    hg__sj_close(&s->w, '}');
}

static void put_leak(sarif_t *s, const hg_rsite_t *site) {
    hg__sj_open(&s->w, NULL, '{');
    hg__sj_str(&s->w, "ruleId", "leak");
    hg__sj_u64(&s->w, "ruleIndex", 0);
    hg__sj_str(&s->w, "level", hg__gate_index_failed(&s->failed, site) ? "error" : "warning");
    leak_message(s, site);
    hg__sj_open(&s->w, "message", '{');
    hg__sj_buf(&s->w, "text", &s->b);
    hg__sj_close(&s->w, '}');
    put_site_locations(s, "locations", site);
    put_fingerprint(s, site->id, "");
    if (site->nframes) {
        put_stack(s, site);
    }
    if (site->suppressed_by) {
        put_suppression(s, site);
    }
    put_leak_properties(s, site);
    hg__sj_close(&s->w, '}');
}

/* ---- anomaly results ---------------------------------------------------------------------- */

typedef struct kind_sum {
    uint64_t count;
    int severity;
    size_t sites;
} kind_sum_t;

static kind_sum_t sum_kind(const sarif_t *s, int k) {
    kind_sum_t t = {0, 0, 0};
    for (size_t i = 0; i < s->r->nanomalies; i++) {
        const hg_ranomaly_t *a = &s->r->anomalies[i];
        if (kind_slot(a->kind) == k) {
            t.count += a->count;
            t.severity = a->severity > t.severity ? a->severity : t.severity;
            t.sites++;
        }
    }
    return t;
}

/* Other sites where the kind occurred, as relatedLocations (at most 10). */
static void put_related(sarif_t *s, int k, const hg_ranomaly_t *first) {
    size_t n = 0;
    hg__sj_open(&s->w, "relatedLocations", '[');
    for (size_t i = 0; i < s->r->nanomalies && n < 10; i++) {
        const hg_ranomaly_t *a = &s->r->anomalies[i];
        const hg_rframe_t *f = a != first && kind_slot(a->kind) == k
                                   ? hg__report_source_frame(find_site(s, a->site))
                                   : NULL;
        if (f) {
            hg__sj_open(&s->w, NULL, '{');
            hg__sj_u64(&s->w, "id", n++);
            hg__sj_message(&s->w, "message", a->site);
            put_physical(s, f);
            hg__sj_close(&s->w, '}');
        }
    }
    hg__sj_close(&s->w, ']');
}

static void anomaly_message(sarif_t *s, const hg_ranomaly_t *a, kind_sum_t t) {
    hg_buf_reset(&s->b);
    hg_buf_printf(&s->b, "%s %s: %llu occurrence%s at %zu site%s", a->id ? a->id : "A?",
                  a->name ? a->name : "anomaly", (unsigned long long)t.count,
                  t.count == 1 ? "" : "s", t.sites, t.sites == 1 ? "" : "s");
    if (a->description) {
        hg_buf_printf(&s->b, "; %s", a->description);
    }
}

static void put_anomaly(sarif_t *s, int k) {
    const hg_ranomaly_t *a = s->first_of_kind[k];
    const hg_rsite_t *site = find_site(s, a->site);
    kind_sum_t t = sum_kind(s, k);
    char suffix[16];
    hg__sj_open(&s->w, NULL, '{');
    hg__sj_str(&s->w, "ruleId", a->id ? a->id : "A?");
    hg__sj_u64(&s->w, "ruleIndex", (uint64_t)s->rule_of_kind[k]);
    hg__sj_str(&s->w, "level", level_of_severity(t.severity));
    anomaly_message(s, a, t);
    hg__sj_open(&s->w, "message", '{');
    hg__sj_buf(&s->w, "text", &s->b);
    hg__sj_close(&s->w, '}');
    put_site_locations(s, "locations", site);
    put_related(s, k, a);
    snprintf(suffix, sizeof suffix, "/A%d", k);
    put_fingerprint(s, a->site, suffix);
    hg__sj_open(&s->w, "properties", '{');
    hg__sj_u64(&s->w, "count", t.count);
    hg__sj_u64(&s->w, "sites", t.sites);
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, '}');
}

/* ---- the log ------------------------------------------------------------------------------ */

static void index_rules(sarif_t *s) {
    int next = 0;
    for (size_t i = 0; i < s->r->nsites && !s->any_leak; i++) {
        s->any_leak = s->r->sites[i].totals.leaked_blocks || s->r->sites[i].totals.leaked_bytes;
    }
    next = s->any_leak ? 1 : 0;
    for (size_t i = 0; i < s->r->nanomalies; i++) {
        int k = kind_slot(s->r->anomalies[i].kind);
        if (!s->first_of_kind[k]) {
            s->first_of_kind[k] = &s->r->anomalies[i]; /* anomalies come sorted: the worst */
        }
    }
    for (int k = 0; k < KINDS; k++) {
        s->rule_of_kind[k] = s->first_of_kind[k] ? next++ : -1;
    }
}

static void put_results(sarif_t *s) {
    hg__sj_open(&s->w, "results", '[');
    for (size_t i = 0; i < s->r->nsites && !hg__report_out_failed(s->w.o); i++) {
        const hg_rsite_t *site = &s->r->sites[i];
        if (site->totals.leaked_blocks || site->totals.leaked_bytes) {
            put_leak(s, site);
        }
    }
    for (int k = 0; k < KINDS; k++) {
        if (s->first_of_kind[k]) {
            put_anomaly(s, k);
        }
    }
    hg__sj_close(&s->w, ']');
}

static void put_invocation(sarif_t *s) {
    const hg_rgate_t *g = &s->r->gate;
    hg__sj_open(&s->w, "invocations", '[');
    hg__sj_open(&s->w, NULL, '{');
    hg__sj_bool(&s->w, "executionSuccessful", true);
    hg__sj_open(&s->w, "properties", '{');
    hg__sj_str(&s->w, "verdict", !g->evaluated ? "not evaluated" : g->passed ? "pass" : "fail");
    hg__sj_u64(&s->w, "leakedBytes", s->r->totals.leaked_bytes);
    hg__sj_u64(&s->w, "leakedBlocks", s->r->totals.leaked_blocks);
    hg__sj_bool(&s->w, "incomplete", s->r->incomplete);
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, '}');
    hg__sj_close(&s->w, ']');
}

void hg_report_write_sarif(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    (void)opt;
    sarif_t s = {.w = {.o = o}, .r = r};
    hg_buf_init(&s.b);
    if (hg__gate_index_build(&s.failed, r) != 0 || index_sites(&s) != 0) {
        hg__report_out_fail(o, HG_ENOMEM);
        hg__gate_index_free(&s.failed);
        return;
    }
    index_rules(&s);
    hg__sj_open(&s.w, NULL, '{');
    hg__sj_str(&s.w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    hg__sj_str(&s.w, "version", "2.1.0");
    hg__sj_open(&s.w, "runs", '[');
    hg__sj_open(&s.w, NULL, '{');
    put_tool(&s);
    put_invocation(&s);
    put_results(&s);
    hg__sj_close(&s.w, '}');
    hg__sj_close(&s.w, ']');
    hg__sj_close(&s.w, '}');
    hg_out_write(o, "\n", 1);
    hg__gate_index_free(&s.failed);
    hg_free(s.by_id);
    hg_buf_free(&s.b);
}
