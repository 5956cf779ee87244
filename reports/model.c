/* model.c - building, ordering and freeing the report model. Arrays grow by doubling; every
 * string is owned by the model. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

/* Capacity is implicit: 8 while the length is below 8, then the next power of two, so the
 * public structs need no capacity fields. */
static bool at_capacity(size_t n) {
    return n == 0 || (n >= 8 && (n & (n - 1)) == 0);
}

/* Appends one zeroed element of elem_size to *array (length *len); NULL when out of memory
 * (the array is unchanged then). */
static void *grow(void **array, size_t *len, size_t elem_size) {
    size_t n = *len;
    if (at_capacity(n)) {
        size_t cap = n == 0 ? 8 : n * 2;
        void *p = hg_realloc(*array, cap * elem_size);
        if (!p) {
            return NULL;
        }
        *array = p;
    }
    char *elem = (char *)*array + n * elem_size;
    memset(elem, 0, elem_size);
    *len = n + 1;
    return elem;
}

#define ADDER(fn, type, field, count)                                                              \
    type *fn(hg_report_t *r) {                                                                     \
        return grow((void **)&r->field, &r->count, sizeof(type));                                  \
    }

ADDER(hg_report_add_site, hg_rsite_t, sites, nsites)
ADDER(hg_report_add_anomaly, hg_ranomaly_t, anomalies, nanomalies)
ADDER(hg_report_add_process, hg_rprocess_t, processes, nprocesses)
ADDER(hg_report_add_heap, hg_rheap_t, heaps, nheaps)
ADDER(hg_report_add_sample, hg_rsample_t, timeline, ntimeline)
ADDER(hg_report_add_stats, hg_rstats_t, allocator_stats, nallocator_stats)
ADDER(hg_report_add_check, hg_rcheck_t, gate.checks, gate.nchecks)
ADDER(hg_report_add_suppression, hg_rsuppression_t, suppressions, nsuppressions)

static int add_string(char ***array, size_t *len, const char *s) {
    char *copy = hg_strdup(s);
    char **slot = copy ? grow((void **)array, len, sizeof(char *)) : NULL;
    if (!slot) {
        hg_free(copy);
        return HG_ENOMEM;
    }
    *slot = copy;
    return 0;
}

int hg_report_add_input(hg_report_t *r, const char *path, const char *format) {
    size_t n = r->ninputs;
    if (add_string(&r->inputs, &r->ninputs, path) != 0) {
        return HG_ENOMEM;
    }
    size_t m = n;
    if (add_string(&r->input_formats, &m, format) != 0) {
        hg_free(r->inputs[--r->ninputs]);
        return HG_ENOMEM;
    }
    return 0;
}

int hg_report_add_warning(hg_report_t *r, const char *msg) {
    return add_string(&r->warnings, &r->nwarnings, msg);
}

hg_report_t *hg_report_new(void) {
    hg_report_t *r = hg_calloc(1, sizeof *r);
    if (r) {
        r->schema_version = HG_REPORT_SCHEMA_VERSION;
    }
    return r;
}

void hg_rsite_clear(hg_rsite_t *s) {
    for (size_t i = 0; i < s->nframes; i++) {
        hg_free(s->frames[i].module);
        hg_free(s->frames[i].function);
        hg_free(s->frames[i].file);
    }
    hg_free(s->frames);
    hg_free(s->id);
    hg_free(s->pids);
    hg_free(s->suppressed_by);
    memset(s, 0, sizeof *s);
}

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        hg_free(v[i]);
    }
    hg_free(v);
}

static void free_gate(hg_rgate_t *g) {
    for (size_t i = 0; i < g->nchecks; i++) {
        hg_rcheck_t *c = &g->checks[i];
        hg_free(c->name);
        hg_free(c->measured);
        hg_free(c->limit);
        hg_free(c->detail);
        hg_free(c->site);
    }
    hg_free(g->checks);
}

void hg_report_free(hg_report_t *r) {
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->nsites; i++) {
        hg_rsite_clear(&r->sites[i]);
    }
    for (size_t i = 0; i < r->nanomalies; i++) {
        hg_ranomaly_t *a = &r->anomalies[i];
        hg_free(a->id);
        hg_free(a->name);
        hg_free(a->description);
        hg_free(a->site);
    }
    for (size_t i = 0; i < r->nprocesses; i++) {
        hg_free(r->processes[i].name);
        hg_free(r->processes[i].cmdline);
        hg_free(r->processes[i].allocator);
        hg_free(r->processes[i].input);
    }
    for (size_t i = 0; i < r->nheaps; i++) {
        hg_free(r->heaps[i].growth_signal);
    }
    for (size_t i = 0; i < r->nsuppressions; i++) {
        hg_free(r->suppressions[i].pattern);
    }
    free_gate(&r->gate);
    free_strings(r->inputs, r->ninputs);
    free_strings(r->input_formats, r->ninputs);
    free_strings(r->warnings, r->nwarnings);
    hg_free(r->sites);
    hg_free(r->anomalies);
    hg_free(r->processes);
    hg_free(r->heaps);
    hg_free(r->timeline);
    hg_free(r->allocator_stats);
    hg_free(r->suppressions);
    hg_free(r->tool_version);
    hg_free(r);
}

static int cmp_u64_desc(uint64_t a, uint64_t b) {
    return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_site(const void *pa, const void *pb) {
    const hg_rsite_t *a = pa, *b = pb;
    int c = cmp_u64_desc(a->totals.leaked_bytes, b->totals.leaked_bytes);
    if (!c) {
        c = cmp_u64_desc(a->totals.outstanding_bytes, b->totals.outstanding_bytes);
    }
    if (!c) {
        c = cmp_u64_desc(a->alloc_bytes, b->alloc_bytes);
    }
    return c ? c : strcmp(a->id ? a->id : "", b->id ? b->id : "");
}

static int cmp_anomaly(const void *pa, const void *pb) {
    const hg_ranomaly_t *a = pa, *b = pb;
    int c = b->severity - a->severity;
    if (!c) {
        c = cmp_u64_desc(a->count, b->count);
    }
    if (!c) {
        c = a->kind - b->kind;
    }
    return c ? c : strcmp(a->site ? a->site : "", b->site ? b->site : "");
}

void hg_report_sort(hg_report_t *r) {
    if (r->nsites) {
        qsort(r->sites, r->nsites, sizeof r->sites[0], cmp_site);
    }
    if (r->nanomalies) {
        qsort(r->anomalies, r->nanomalies, sizeof r->anomalies[0], cmp_anomaly);
    }
}

const hg_rsite_t *hg_report_find_site(const hg_report_t *r, const char *id) {
    for (size_t i = 0; i < r->nsites; i++) {
        if (r->sites[i].id && strcmp(r->sites[i].id, id) == 0) {
            return &r->sites[i];
        }
    }
    return NULL;
}
