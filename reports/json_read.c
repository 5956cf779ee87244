/* json_read.c - reads a JSON report (docs/report-json.md) back into the report model, for
 * `heapgate diff`, `merge` and `--baseline`. The input is untrusted: a file from another run,
 * another machine or another version.
 *
 * jansson parses the whole document (duplicate keys rejected, strings required to be UTF-8
 * without NUL, integers beyond int64 rejected); the tree is then walked key by key, building
 * the model with hg_malloc: a missing key or null takes the model's
 * default, a key of the wrong type or out of range is an error naming the file and the key's
 * path ("old.json: sites[3].frames[0].line: expected an integer from 0 to 4294967295"), keys
 * this reader does not know are ignored (docs/report-json.md: adding keys does not bump the
 * schema version). schema_version must be present and 1. Files may be gzip-compressed (zlib's
 * gzread reads plain files as they are). On any error no report is returned. */
#include "json_read_priv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_REPORT_BYTES (1ull << 32) /* 4 GiB of JSON is far beyond any report */

/* ---- errors and getters ------------------------------------------------------------------- */

bool hg__rd_fail(hg__rd_t *rd, const char *where, const char *key, const char *want) {
    if (!rd->rc) {
        rd->rc = hg_error_set(rd->err, HG_EFORMAT, "%s: %s%s%s: expected %s", rd->name, where,
                              *where && key ? "." : "", key ? key : "", want);
    }
    return false;
}

bool hg__rd_nomem(hg__rd_t *rd) {
    if (!rd->rc) {
        rd->rc = hg_error_set(rd->err, HG_ENOMEM, "%s: out of memory", rd->name);
    }
    return false;
}

/* The member, or NULL when it is missing or null (then the default stays). */
static json_t *member(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_null(v) ? NULL : v;
}

bool hg__rd_u64(hg__rd_t *rd, const json_t *o, const char *where, const char *key, uint64_t *v) {
    json_t *j = member(o, key);
    if (rd->rc || !j) {
        return !rd->rc;
    }
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return hg__rd_fail(rd, where, key, "a non-negative integer");
    }
    *v = (uint64_t)json_integer_value(j);
    return true;
}

bool hg__rd_u32(hg__rd_t *rd, const json_t *o, const char *where, const char *key, uint32_t *v) {
    uint64_t x = *v;
    if (!hg__rd_u64(rd, o, where, key, &x)) {
        return false;
    }
    if (x > UINT32_MAX) {
        return hg__rd_fail(rd, where, key, "an integer from 0 to 4294967295");
    }
    *v = (uint32_t)x;
    return true;
}

bool hg__rd_i64(hg__rd_t *rd, const json_t *o, const char *where, const char *key, int64_t *v) {
    json_t *j = member(o, key);
    if (rd->rc || !j) {
        return !rd->rc;
    }
    if (!json_is_integer(j)) {
        return hg__rd_fail(rd, where, key, "an integer");
    }
    *v = (int64_t)json_integer_value(j);
    return true;
}

/* "0x1a2b": 0x and 1 to 16 hex digits. */
bool hg__rd_hex(hg__rd_t *rd, const json_t *o, const char *where, const char *key, uint64_t *v) {
    json_t *j = member(o, key);
    if (rd->rc || !j) {
        return !rd->rc;
    }
    const char *s = json_string_value(j);
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
        strspn(s + 2, "0123456789abcdefABCDEF") != n - 2) {
        return hg__rd_fail(rd, where, key, "a hex string such as \"0x7ff612340000\"");
    }
    *v = strtoull(s + 2, NULL, 16);
    return true;
}

bool hg__rd_bool(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *v) {
    json_t *j = member(o, key);
    if (rd->rc || !j) {
        return !rd->rc;
    }
    if (!json_is_boolean(j)) {
        return hg__rd_fail(rd, where, key, "true or false");
    }
    *v = json_is_true(j);
    return true;
}

bool hg__rd_double(hg__rd_t *rd, const json_t *o, const char *where, const char *key, double *v) {
    json_t *j = json_object_get(o, key);
    if (rd->rc || !j) {
        return !rd->rc;
    }
    if (json_is_null(j)) {
        *v = NAN; /* the writer's form of a value that is not finite */
        return true;
    }
    if (!json_is_number(j)) {
        return hg__rd_fail(rd, where, key, "a number or null");
    }
    *v = json_number_value(j);
    return true;
}

bool hg__rd_str(hg__rd_t *rd, const json_t *o, const char *where, const char *key, char **v) {
    json_t *j = member(o, key);
    if (rd->rc || !j) {
        return !rd->rc;
    }
    if (!json_is_string(j)) {
        return hg__rd_fail(rd, where, key, "a string or null");
    }
    hg_free(*v);
    *v = hg_strdup(json_string_value(j));
    return *v ? true : hg__rd_nomem(rd);
}

static json_t *typed(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *ok,
                     bool array) {
    json_t *j = member(o, key);
    *ok = !rd->rc;
    if (*ok && j && (array ? !json_is_array(j) : !json_is_object(j))) {
        *ok = hg__rd_fail(rd, where, key, array ? "an array" : "an object");
    }
    return *ok ? j : NULL;
}

json_t *hg__rd_object(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *ok) {
    return typed(rd, o, where, key, ok, false);
}

json_t *hg__rd_array(hg__rd_t *rd, const json_t *o, const char *where, const char *key, bool *ok) {
    return typed(rd, o, where, key, ok, true);
}

bool hg__rd_totals(hg__rd_t *rd, const json_t *o, const char *where, hg_rtotals_t *t) {
    return hg__rd_u64(rd, o, where, "leaked_bytes", &t->leaked_bytes) &&
           hg__rd_u64(rd, o, where, "leaked_blocks", &t->leaked_blocks) &&
           hg__rd_u64(rd, o, where, "outstanding_bytes", &t->outstanding_bytes) &&
           hg__rd_u64(rd, o, where, "outstanding_blocks", &t->outstanding_blocks) &&
           hg__rd_u64(rd, o, where, "released_by_destroy_bytes", &t->released_by_destroy_bytes) &&
           hg__rd_u64(rd, o, where, "released_by_destroy_blocks", &t->released_by_destroy_blocks);
}

bool hg__rd_lifetime(hg__rd_t *rd, const json_t *o, const char *where, hg_rlifetime_t *l) {
    bool ok;
    json_t *j = hg__rd_object(rd, o, where, "lifetime", &ok);
    if (!j) {
        return ok;
    }
    return hg__rd_bool(rd, j, where, "enabled", &l->enabled) &&
           hg__rd_u64(rd, j, where, "t0_ns", &l->t0_ns) &&
           hg__rd_u64(rd, j, where, "t1_ns", &l->t1_ns) &&
           hg__rd_u64(rd, j, where, "aifi_blocks", &l->aifi_blocks) &&
           hg__rd_u64(rd, j, where, "aifi_bytes", &l->aifi_bytes) &&
           hg__rd_u64(rd, j, where, "aifo_blocks", &l->aifo_blocks) &&
           hg__rd_u64(rd, j, where, "aifo_bytes", &l->aifo_bytes) &&
           hg__rd_u64(rd, j, where, "aofi_blocks", &l->aofi_blocks) &&
           hg__rd_u64(rd, j, where, "aofi_bytes", &l->aofi_bytes) &&
           hg__rd_u64(rd, j, where, "aofo_blocks", &l->aofo_blocks) &&
           hg__rd_u64(rd, j, where, "aofo_bytes", &l->aofo_bytes) &&
           hg__rd_i64(rd, j, where, "impacting_bytes", &l->impacting_bytes);
}

/* ---- header ------------------------------------------------------------------------------- */

static bool read_input(hg__rd_t *rd, const json_t *in, const char *where, hg_report_t *r) {
    char *path = NULL, *format = NULL;
    bool ok = json_is_object(in) ? hg__rd_str(rd, in, where, "path", &path) &&
                                       hg__rd_str(rd, in, where, "format", &format)
                                 : hg__rd_fail(rd, where, NULL, "an object");
    if (ok && hg_report_add_input(r, path ? path : "", format ? format : "unknown") != 0) {
        ok = hg__rd_nomem(rd);
    }
    hg_free(path);
    hg_free(format);
    return ok;
}

static bool read_warning(hg__rd_t *rd, const json_t *w, const char *where, hg_report_t *r) {
    if (!json_is_string(w)) {
        return hg__rd_fail(rd, where, NULL, "a string");
    }
    return hg_report_add_warning(r, json_string_value(w)) == 0 || hg__rd_nomem(rd);
}

static bool read_schema(hg__rd_t *rd, const json_t *doc) {
    json_t *v = json_object_get(doc, "schema_version");
    if (!json_is_integer(v)) {
        return hg__rd_fail(rd, "", "schema_version", "an integer (is this a heapgate report?)");
    }
    if (json_integer_value(v) != HG_REPORT_SCHEMA_VERSION) {
        char want[96];
        snprintf(want, sizeof want, "version %d (this heapgate reads only that one), got %lld",
                 HG_REPORT_SCHEMA_VERSION, (long long)json_integer_value(v));
        return hg__rd_fail(rd, "", "schema_version", want);
    }
    return true;
}

typedef bool (*elem_fn)(hg__rd_t *, const json_t *, const char *, hg_report_t *);

/* Calls fn on every element of the array doc[key], with "key[i]" as its path. */
static bool each(hg__rd_t *rd, const json_t *doc, const char *key, elem_fn fn, hg_report_t *r) {
    bool ok;
    json_t *a = hg__rd_array(rd, doc, "", key, &ok), *e;
    size_t i;
    char where[64];
    json_array_foreach(a, i, e) {
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        if (!ok || !(ok = fn(rd, e, where, r))) {
            break;
        }
    }
    return ok;
}

static bool read_header(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    return read_schema(rd, doc) && hg__rd_str(rd, doc, "", "tool_version", &r->tool_version) &&
           each(rd, doc, "inputs", read_input, r) && hg__rd_totals(rd, doc, "", &r->totals) &&
           hg__rd_bool(rd, doc, "", "incomplete", &r->incomplete) &&
           each(rd, doc, "warnings", read_warning, r) && hg__rd_lifetime(rd, doc, "", &r->lifetime);
}

/* ---- processes ---------------------------------------------------------------------------- */

static bool read_process(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rprocess_t *p = hg_report_add_process(r);
    if (!p) {
        return hg__rd_nomem(rd);
    }
    uint64_t ptr = 0;
    bool ok = json_is_object(o) || hg__rd_fail(rd, w, NULL, "an object");
    ok = ok && hg__rd_u32(rd, o, w, "pid", &p->pid) && hg__rd_str(rd, o, w, "name", &p->name) &&
         hg__rd_bool(rd, o, w, "ended", &p->ended) &&
         hg__rd_bool(rd, o, w, "traced_from_start", &p->traced_from_start) &&
         hg__rd_totals(rd, o, w, &p->totals) &&
         hg__rd_u32(rd, o, w, "parent_pid", &p->parent_pid) &&
         hg__rd_u32(rd, o, w, "instance", &p->instance) &&
         hg__rd_str(rd, o, w, "cmdline", &p->cmdline) &&
         hg__rd_u64(rd, o, w, "pointer_size", &ptr) &&
         hg__rd_str(rd, o, w, "allocator", &p->allocator) &&
         hg__rd_u64(rd, o, w, "start_ts_ns", &p->start_ts_ns) &&
         hg__rd_u64(rd, o, w, "end_ts_ns", &p->end_ts_ns) &&
         hg__rd_u64(rd, o, w, "allocs", &p->allocs) &&
         hg__rd_u64(rd, o, w, "reallocs", &p->reallocs) &&
         hg__rd_u64(rd, o, w, "frees", &p->frees) &&
         hg__rd_u64(rd, o, w, "alloc_bytes", &p->alloc_bytes) &&
         hg__rd_u64(rd, o, w, "peak_live_bytes", &p->peak_live_bytes) &&
         hg__rd_u64(rd, o, w, "peak_live_ts_ns", &p->peak_live_ts_ns) &&
         hg__rd_lifetime(rd, o, w, &p->lifetime) && hg__rd_str(rd, o, w, "input", &p->input);
    if (ok && ptr > 255) {
        ok = hg__rd_fail(rd, w, "pointer_size", "4 or 8");
    }
    p->pointer_size = (uint8_t)ptr;
    return ok;
}

/* ---- sites -------------------------------------------------------------------------------- */

static bool read_frame(hg__rd_t *rd, const json_t *o, const char *w, hg_rframe_t *f) {
    if (!json_is_object(o)) {
        return hg__rd_fail(rd, w, NULL, "an object");
    }
    return hg__rd_hex(rd, o, w, "addr", &f->addr) && hg__rd_str(rd, o, w, "module", &f->module) &&
           hg__rd_hex(rd, o, w, "offset", &f->offset) &&
           hg__rd_str(rd, o, w, "function", &f->function) &&
           hg__rd_str(rd, o, w, "file", &f->file) && hg__rd_u32(rd, o, w, "line", &f->line) &&
           hg__rd_u32(rd, o, w, "column", &f->column) &&
           hg__rd_bool(rd, o, w, "inlined", &f->inlined);
}

static bool read_frames(hg__rd_t *rd, const json_t *o, const char *w, hg_rsite_t *s) {
    bool ok;
    json_t *a = hg__rd_array(rd, o, w, "frames", &ok), *e;
    size_t n = a ? json_array_size(a) : 0, i;
    char where[96];
    s->frames = ok && n ? hg_calloc(n, sizeof *s->frames) : NULL;
    if (ok && n && !s->frames) {
        return hg__rd_nomem(rd);
    }
    json_array_foreach(a, i, e) {
        snprintf(where, sizeof where, "%s.frames[%zu]", w, i);
        s->nframes = i + 1;
        if (!read_frame(rd, e, where, &s->frames[i])) {
            return false;
        }
    }
    return ok;
}

static bool read_pids(hg__rd_t *rd, const json_t *o, const char *w, hg_rsite_t *s) {
    bool ok;
    json_t *a = hg__rd_array(rd, o, w, "pids", &ok), *e;
    size_t n = a ? json_array_size(a) : 0, i;
    s->pids = ok && n ? hg_calloc(n, sizeof *s->pids) : NULL;
    if (ok && n && !s->pids) {
        return hg__rd_nomem(rd);
    }
    json_array_foreach(a, i, e) {
        json_int_t v = json_is_integer(e) ? json_integer_value(e) : -1;
        if (v < 0 || v > (json_int_t)UINT32_MAX) {
            return hg__rd_fail(rd, w, "pids", "process ids (integers from 0 to 4294967295)");
        }
        s->pids[s->npids++] = (uint32_t)v;
    }
    return ok;
}

static bool read_site(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_rsite_t *s = hg_report_add_site(r);
    if (!s) {
        return hg__rd_nomem(rd);
    }
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "id"))) {
        return hg__rd_fail(rd, w, "id", "a site with a string id");
    }
    return hg__rd_str(rd, o, w, "id", &s->id) && read_frames(rd, o, w, s) &&
           hg__rd_totals(rd, o, w, &s->totals) && hg__rd_u64(rd, o, w, "allocs", &s->allocs) &&
           hg__rd_u64(rd, o, w, "alloc_bytes", &s->alloc_bytes) &&
           hg__rd_u64(rd, o, w, "peak_live_bytes", &s->peak_live_bytes) &&
           hg__rd_u64(rd, o, w, "first_ts_ns", &s->first_ts_ns) &&
           hg__rd_u64(rd, o, w, "last_ts_ns", &s->last_ts_ns) &&
           hg__rd_u64(rd, o, w, "aifo_blocks", &s->aifo_blocks) &&
           hg__rd_u64(rd, o, w, "aifo_bytes", &s->aifo_bytes) && read_pids(rd, o, w, s) &&
           hg__rd_str(rd, o, w, "suppressed_by", &s->suppressed_by) &&
           hg__rd_bool(rd, o, w, "runtime", &s->runtime);
}

/* ---- anomalies ---------------------------------------------------------------------------- */

static bool read_kind(hg__rd_t *rd, const json_t *o, const char *w, hg_ranomaly_t *a) {
    const char *id = json_string_value(json_object_get(o, "id"));
    char *end = NULL;
    long k = id && id[0] == 'A' ? strtol(id + 1, &end, 10) : 0;
    if (k < 1 || k > 13 || !end || *end) {
        return hg__rd_fail(rd, w, "id", "an anomaly id from \"A1\" to \"A13\"");
    }
    a->kind = (int)k;
    return hg__rd_str(rd, o, w, "id", &a->id);
}

static bool read_severity(hg__rd_t *rd, const json_t *o, const char *w, hg_ranomaly_t *a) {
    static const char *const names[] = {"info", "warning", "error"};
    const char *s = json_string_value(json_object_get(o, "severity"));
    for (int i = 0; s && i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            a->severity = i + 1;
            return true;
        }
    }
    return hg__rd_fail(rd, w, "severity", "\"info\", \"warning\" or \"error\"");
}

static bool read_example(hg__rd_t *rd, const json_t *o, const char *w, hg_ranomaly_t *a) {
    bool ok;
    json_t *e = hg__rd_object(rd, o, w, "example", &ok);
    hg_rexample_t *x = &a->example;
    if (!e) {
        return ok;
    }
    bool other_hex = json_is_string(json_object_get(e, "other"));
    return hg__rd_u64(rd, e, w, "ts_ns", &x->ts_ns) && hg__rd_u32(rd, e, w, "pid", &x->pid) &&
           hg__rd_u32(rd, e, w, "tid", &x->tid) && hg__rd_hex(rd, e, w, "heap", &x->heap) &&
           hg__rd_hex(rd, e, w, "addr", &x->addr) && hg__rd_u64(rd, e, w, "size", &x->size) &&
           (other_hex ? hg__rd_hex(rd, e, w, "other", &x->other)
                      : hg__rd_u64(rd, e, w, "other", &x->other));
}

static bool read_anomaly(hg__rd_t *rd, const json_t *o, const char *w, hg_report_t *r) {
    hg_ranomaly_t *a = hg_report_add_anomaly(r);
    if (!a) {
        return hg__rd_nomem(rd);
    }
    if (!json_is_object(o)) {
        return hg__rd_fail(rd, w, NULL, "an object");
    }
    return read_kind(rd, o, w, a) && hg__rd_str(rd, o, w, "name", &a->name) &&
           read_severity(rd, o, w, a) && hg__rd_u64(rd, o, w, "count", &a->count) &&
           hg__rd_str(rd, o, w, "site", &a->site) &&
           hg__rd_str(rd, o, w, "description", &a->description) && read_example(rd, o, w, a);
}

/* ---- the document ------------------------------------------------------------------------- */

static bool read_document(hg__rd_t *rd, const json_t *doc, hg_report_t *r) {
    if (!json_is_object(doc)) {
        return hg__rd_fail(rd, "", NULL, "a JSON object (a heapgate report)");
    }
    return read_header(rd, doc, r) && each(rd, doc, "processes", read_process, r) &&
           each(rd, doc, "sites", read_site, r) && each(rd, doc, "anomalies", read_anomaly, r) &&
           hg__rd_fragmentation(rd, doc, r) && hg__rd_series(rd, doc, r) &&
           hg__rd_trace(rd, doc, r) && hg__rd_suppressions(rd, doc, r) && hg__rd_gate(rd, doc, r);
}

/* jansson keeps its own allocator (malloc): routing it through hg_malloc would let the tests'
 * injected failures reach it, and jansson 2.14 aborts on an assertion (load.c,
 * lex_unget_unsave) when an allocation fails inside its lexer - found by fuzz_json_report. */
static json_t *parse(hg__rd_t *rd, const void *data, size_t len) {
    json_error_t e;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
    if (!doc) {
        bool nomem = json_error_code(&e) == json_error_out_of_memory;
        rd->rc = hg_error_set(rd->err, nomem ? HG_ENOMEM : HG_EFORMAT, "%s:%d:%d: %s", rd->name,
                              e.line, e.column, nomem ? "out of memory" : e.text);
    }
    return doc;
}

hg_report_t *hg_report_parse_json(const void *data, size_t len, const char *name, hg_error_t *err) {
    hg__rd_t rd = {.name = name ? name : "<report>", .err = err};
    hg_report_t *r = hg_report_new();
    json_t *doc = r ? parse(&rd, data, len) : NULL;
    if (!r) {
        hg__rd_nomem(&rd);
    }
    bool ok = doc && read_document(&rd, doc, r);
    json_decref(doc);
    if (!ok) {
        hg_report_free(r);
        return NULL;
    }
    hg_report_sort(r);
    return r;
}

/* ---- files -------------------------------------------------------------------------------- */

static int slurp(gzFile g, const char *path, hg_buf_t *b, hg_error_t *err) {
    char chunk[65536];
    int n;
    while ((n = gzread(g, chunk, sizeof chunk)) > 0 && b->len < MAX_REPORT_BYTES) {
        hg_buf_append(b, chunk, (size_t)n);
    }
    int zerr = Z_OK;
    const char *msg = n < 0 ? gzerror(g, &zerr) : NULL;
    if (b->failed) {
        return hg_error_set(err, HG_ENOMEM, "%s: out of memory", path);
    }
    if (n < 0) {
        return hg_error_set(err, zerr == Z_ERRNO ? HG_EIO : HG_EFORMAT, "%s: %s", path,
                            zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    return b->len >= MAX_REPORT_BYTES ? hg_error_set(err, HG_ELIMIT, "%s: larger than 4 GiB", path)
                                      : 0;
}

hg_report_t *hg_report_read_json(const char *path, hg_error_t *err) {
    gzFile g = gzopen(path, "rb");
    if (!g) {
        hg_error_set(err, HG_EIO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
        return NULL;
    }
    hg_buf_t b;
    hg_buf_init(&b);
    int rc = slurp(g, path, &b, err);
    gzclose(g);
    hg_report_t *r = rc ? NULL : hg_report_parse_json(b.data ? b.data : "", b.len, path, err);
    hg_buf_free(&b);
    return r;
}
