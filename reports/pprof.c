/* pprof.c - the report as a pprof profile (profile.proto, gzip-compressed), for `go tool pprof`,
 * speedscope and Grafana Pyroscope.
 *
 * Message and field numbers are those of the public profile.proto (github.com/google/pprof,
 * proto/profile.proto): Profile { sample_type 1, sample 2, mapping 3, location 4, function 5,
 * string_table 6, time_nanos 9, duration_nanos 10, period_type 11, period 12, comment 13,
 * default_sample_type 14 }; ValueType { type 1, unit 2 }; Sample { location_id 1, value 2,
 * label 3 }; Label { key 1, str 2, num 3, num_unit 4 }; Mapping { id 1, memory_start 2,
 * memory_limit 3, file_offset 4, filename 5, build_id 6, has_functions 7, has_filenames 8,
 * has_line_numbers 9, has_inline_frames 10 }; Location { id 1, mapping_id 2, address 3,
 * line 4 }; Line { function_id 1, line 2, column 3 }; Function { id 1, name 2, system_name 3,
 * filename 4, start_line 5 }. Strings are indices into string_table, whose entry 0 is "";
 * ids start at 1; a sample's first location is the leaf; a location's lines run from the
 * innermost inlined function to the caller that holds them (the last line).
 *
 * Mapping from the report: one sample per site, values [inuse_space bytes, inuse_objects count,
 * alloc_space bytes, alloc_objects count] = [leaked + outstanding bytes, leaked + outstanding
 * blocks, allocated bytes, allocations], labels site (the id), leaked_bytes (num, bytes) and
 * suppressed_by when a suppression matched (suppressed sites are kept: filter them with
 * pprof's -tagignore). Frames: a run of inline frames and the frame holding them is one
 * location; each distinct function name + file is one function (unresolved frames are named
 * module+0xoffset or by address, so every viewer shows something); each module at one base is
 * one mapping. The profile is built in memory, then compressed as one gzip member. */
#include "pprof_priv.h"

#include <string.h>

typedef struct mapping {
    uint64_t start, limit;
    size_t filename;
    bool functions, filenames, lines, inlines;
} mapping_t;

typedef struct pp {
    const hg_report_t *r;
    hg__intern_t strings, functions, locations, mappings;
    mapping_t *maps;
    size_t nmaps_cap;
    hg_buf_t prof, msg, sub, fmsg, key, name, packed,
        clean; /* fmsg: functions, emitted mid-location */
    uint64_t *loc_ids;
    size_t loc_cap;
    bool nomem;
} pp_t;

/* ---- strings, functions, mappings ------------------------------------------------------------ */

/* s itself when it is valid UTF-8 (proto3 strings must be), else a copy in p->clean with each
 * byte that is not valid UTF-8 replaced by U+FFFD. */
static const char *valid_utf8(pp_t *p, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    size_t n = 0;
    while (u[n] && (u[n] < 0x80 || hg__report_utf8_decode(u + n, &cp))) {
        n += u[n] < 0x80 ? 1 : hg__report_utf8_decode(u + n, &cp);
    }
    if (!u[n]) {
        return s;
    }
    hg_buf_reset(&p->clean);
    for (size_t i = 0; u[i];) {
        size_t k = u[i] < 0x80 ? 1 : hg__report_utf8_decode(u + i, &cp);
        hg_buf_append(&p->clean, k ? (const char *)u + i : "\xef\xbf\xbd", k ? k : 3);
        i += k ? k : 1;
    }
    return p->clean.data ? p->clean.data : "";
}

static uint64_t str_id(pp_t *p, const char *s) {
    bool added;
    s = valid_utf8(p, s ? s : "");
    size_t i = hg__intern(&p->strings, s, strlen(s), &added);
    p->nomem |= i == SIZE_MAX;
    return i == SIZE_MAX ? 0 : i;
}

/* The function's display name: function, module+0xoffset or the address. */
static void function_name(hg_buf_t *b, const hg_rframe_t *f) {
    hg_buf_reset(b);
    hg_rframe_name(f, b);
}

/* Appends p->name and its NUL (a separator inside keys); notes a failed name. */
static void append_name(pp_t *p) {
    if (p->name.failed || !p->name.data) {
        p->nomem = true;
        return;
    }
    hg_buf_append(&p->key, p->name.data, p->name.len + 1);
}

static void emit_function(pp_t *p, uint64_t id, uint64_t name, uint64_t file) {
    hg_buf_reset(&p->fmsg);
    hg__pb_uint(&p->fmsg, 1, id);
    hg__pb_uint(&p->fmsg, 2, name);
    hg__pb_uint(&p->fmsg, 3, name);
    hg__pb_uint(&p->fmsg, 4, file);
    hg__pb_bytes(&p->prof, 5, p->fmsg.data, p->fmsg.len);
}

static uint64_t function_id(pp_t *p, const hg_rframe_t *f) {
    function_name(&p->name, f);
    hg_buf_reset(&p->key);
    append_name(p);
    hg_buf_puts(&p->key, f->file ? f->file : "");
    bool added;
    size_t i = p->nomem || p->key.failed
                   ? SIZE_MAX
                   : hg__intern(&p->functions, p->key.data, p->key.len, &added);
    if (i == SIZE_MAX) {
        p->nomem = true;
        return 0;
    }
    if (added) {
        emit_function(p, i + 1, str_id(p, p->name.data), str_id(p, f->file));
    }
    return i + 1;
}

static int grow_maps(pp_t *p, size_t n) {
    if (n < p->nmaps_cap) {
        return 0;
    }
    size_t cap = p->nmaps_cap ? p->nmaps_cap * 2 : 16;
    mapping_t *m = hg_realloc(p->maps, cap * sizeof *m);
    if (!m) {
        return HG_ENOMEM;
    }
    p->maps = m;
    p->nmaps_cap = cap;
    return 0;
}

/* The mapping of the module frame f lies in (module name + base), 0 without a module. */
static uint64_t mapping_id(pp_t *p, const hg_rframe_t *f) {
    if (!f->module) {
        return 0;
    }
    uint64_t base = f->addr - f->offset;
    hg_buf_reset(&p->key);
    hg_buf_append(&p->key, &base, sizeof base);
    hg_buf_puts(&p->key, f->module);
    bool added;
    size_t i = p->key.failed ? SIZE_MAX : hg__intern(&p->mappings, p->key.data, p->key.len, &added);
    if (i == SIZE_MAX || grow_maps(p, i) != 0) {
        p->nomem = true;
        return 0;
    }
    if (added) {
        p->maps[i] = (mapping_t){.start = base, .limit = base, .filename = str_id(p, f->module)};
    }
    mapping_t *m = &p->maps[i];
    m->limit = f->addr >= m->limit ? f->addr + 1 : m->limit;
    m->functions |= f->function != NULL;
    m->filenames |= f->file != NULL;
    m->lines |= f->line != 0;
    m->inlines |= f->inlined;
    return i + 1;
}

/* ---- locations and samples ------------------------------------------------------------------- */

/* The frames [first, end) of one location: inline frames and the frame that holds them. */
static size_t group_end(const hg_rsite_t *s, size_t first) {
    size_t i = first;
    while (i + 1 < s->nframes && s->frames[i].inlined) {
        i++;
    }
    return i + 1;
}

static void emit_location(pp_t *p, uint64_t id, uint64_t map, const hg_rframe_t *f, size_t n) {
    hg_buf_reset(&p->msg);
    hg__pb_uint(&p->msg, 1, id);
    hg__pb_uint(&p->msg, 2, map);
    hg__pb_uint(&p->msg, 3, f[0].addr);
    for (size_t i = 0; i < n; i++) {
        hg_buf_reset(&p->sub);
        hg__pb_uint(&p->sub, 1, function_id(p, &f[i]));
        hg__pb_uint(&p->sub, 2, f[i].line);
        hg__pb_uint(&p->sub, 3, f[i].column);
        hg__pb_bytes(&p->msg, 4, p->sub.data, p->sub.len);
    }
    hg__pb_bytes(&p->prof, 4, p->msg.data, p->msg.len);
}

/* The location of frames f[0..n): mapping, address and each frame's function, file, line. */
static uint64_t location_id(pp_t *p, const hg_rframe_t *f, size_t n) {
    uint64_t map = mapping_id(p, &f[n - 1]);
    hg_buf_reset(&p->key);
    hg_buf_append(&p->key, &map, sizeof map);
    hg_buf_append(&p->key, &f[0].addr, sizeof f[0].addr);
    for (size_t i = 0; i < n; i++) {
        function_name(&p->name, &f[i]);
        append_name(p);
        hg_buf_printf(&p->key, "%s:%u:%u;", f[i].file ? f[i].file : "", (unsigned)f[i].line,
                      (unsigned)f[i].column);
    }
    bool added;
    size_t i = p->nomem || p->key.failed
                   ? SIZE_MAX
                   : hg__intern(&p->locations, p->key.data, p->key.len, &added);
    if (i == SIZE_MAX) {
        p->nomem = true;
        return 0;
    }
    if (added) {
        emit_location(p, i + 1, map, f, n);
    }
    return i + 1;
}

static size_t site_locations(pp_t *p, const hg_rsite_t *s) {
    static const hg_rframe_t no_stack = {.function = "(no stack)"};
    if (p->loc_cap < s->nframes + 1) {
        uint64_t *v = hg_realloc(p->loc_ids, (s->nframes + 1) * sizeof *v);
        if (!v) {
            p->nomem = true;
            return 0;
        }
        p->loc_ids = v;
        p->loc_cap = s->nframes + 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->nframes; i = group_end(s, i)) {
        p->loc_ids[n++] = location_id(p, &s->frames[i], group_end(s, i) - i);
    }
    if (s->nframes == 0) {
        p->loc_ids[n++] = location_id(p, &no_stack, 1);
    }
    return n;
}

static void put_label(pp_t *p, const char *key, const char *str, uint64_t num, const char *unit) {
    hg_buf_reset(&p->sub);
    hg__pb_uint(&p->sub, 1, str_id(p, key));
    hg__pb_uint(&p->sub, 2, str ? str_id(p, str) : 0);
    hg__pb_uint(&p->sub, 3, num);
    hg__pb_uint(&p->sub, 4, unit ? str_id(p, unit) : 0);
    hg__pb_bytes(&p->msg, 3, p->sub.data, p->sub.len);
}

static void put_sample(pp_t *p, const hg_rsite_t *s) {
    const hg_rtotals_t *t = &s->totals;
    uint64_t values[4] = {t->leaked_bytes + t->outstanding_bytes,
                          t->leaked_blocks + t->outstanding_blocks, s->alloc_bytes, s->allocs};
    size_t n = site_locations(p, s);
    hg_buf_reset(&p->msg);
    hg__pb_packed(&p->msg, 1, p->loc_ids, n, &p->packed);
    hg__pb_packed(&p->msg, 2, values, 4, &p->packed);
    put_label(p, "site", s->id ? s->id : "", 0, NULL);
    put_label(p, "leaked_bytes", NULL, t->leaked_bytes, "bytes");
    if (s->suppressed_by) {
        put_label(p, "suppressed_by", s->suppressed_by, 0, NULL);
    }
    hg__pb_bytes(&p->prof, 2, p->msg.data, p->msg.len);
}

/* ---- the profile ----------------------------------------------------------------------------- */

static void put_value_type(pp_t *p, unsigned field, const char *type, const char *unit) {
    hg_buf_reset(&p->msg);
    hg__pb_uint(&p->msg, 1, str_id(p, type));
    hg__pb_uint(&p->msg, 2, str_id(p, unit));
    hg__pb_bytes(&p->prof, field, p->msg.data, p->msg.len);
}

static void put_header(pp_t *p) {
    str_id(p, ""); /* string_table[0] must be "" */
    put_value_type(p, 1, "inuse_space", "bytes");
    put_value_type(p, 1, "inuse_objects", "count");
    put_value_type(p, 1, "alloc_space", "bytes");
    put_value_type(p, 1, "alloc_objects", "count");
}

static void put_mappings(pp_t *p) {
    for (size_t i = 0; i < p->mappings.n; i++) {
        const mapping_t *m = &p->maps[i];
        hg_buf_reset(&p->msg);
        hg__pb_uint(&p->msg, 1, i + 1);
        hg__pb_uint(&p->msg, 2, m->start);
        hg__pb_uint(&p->msg, 3, m->limit);
        hg__pb_uint(&p->msg, 5, m->filename);
        hg__pb_uint(&p->msg, 7, m->functions);
        hg__pb_uint(&p->msg, 8, m->filenames);
        hg__pb_uint(&p->msg, 9, m->lines);
        hg__pb_uint(&p->msg, 10, m->inlines);
        hg__pb_bytes(&p->prof, 3, p->msg.data, p->msg.len);
    }
}

static void put_comments(pp_t *p) {
    const hg_report_t *r = p->r;
    const hg_rgate_t *g = &r->gate;
    hg_buf_reset(&p->name);
    hg_buf_printf(&p->name, "heapgate %s", r->tool_version ? r->tool_version : "");
    hg__pb_uint(&p->prof, 13, str_id(p, p->name.data));
    hg_buf_reset(&p->name);
    hg_buf_printf(&p->name, "verdict: %s",
                  !g->evaluated ? "not evaluated"
                  : g->passed   ? "pass"
                                : "fail");
    hg__pb_uint(&p->prof, 13, str_id(p, p->name.data));
    for (size_t i = 0; i < r->ninputs; i++) {
        hg_buf_reset(&p->name);
        hg_buf_printf(&p->name, "input: %s", r->inputs[i] ? r->inputs[i] : "");
        hg__pb_uint(&p->prof, 13, str_id(p, p->name.data));
    }
}

static void put_trailer(pp_t *p) {
    const hg_rtrace_t *t = &p->r->trace;
    put_mappings(p);
    hg__pb_uint(&p->prof, 9, t->start_wall_ns);
    hg__pb_uint(&p->prof, 10, t->last_ts_ns > t->first_ts_ns ? t->last_ts_ns - t->first_ts_ns : 0);
    put_value_type(p, 11, "space", "bytes");
    hg__pb_uint(&p->prof, 12, 1);
    put_comments(p);
    hg__pb_uint(&p->prof, 14, str_id(p, "inuse_space"));
    for (size_t i = 0; i < p->strings.n; i++) { /* last: every string is known now */
        size_t len;
        const char *s = hg__intern_key(&p->strings, i, &len);
        hg__pb_bytes(&p->prof, 6, s, len);
    }
}

static void pp_free(pp_t *p) {
    hg__intern_free(&p->strings);
    hg__intern_free(&p->functions);
    hg__intern_free(&p->locations);
    hg__intern_free(&p->mappings);
    hg_free(p->maps);
    hg_free(p->loc_ids);
    hg_buf_free(&p->prof);
    hg_buf_free(&p->msg);
    hg_buf_free(&p->sub);
    hg_buf_free(&p->fmsg);
    hg_buf_free(&p->key);
    hg_buf_free(&p->name);
    hg_buf_free(&p->packed);
    hg_buf_free(&p->clean);
}

static bool pp_failed(const pp_t *p) {
    return p->nomem || p->prof.failed || p->msg.failed || p->sub.failed || p->fmsg.failed ||
           p->key.failed || p->name.failed || p->packed.failed || p->clean.failed;
}

void hg_report_write_pprof(const hg_report_t *r, const hg_write_options_t *opt, hg_out_t *o) {
    (void)opt;
    pp_t p;
    memset(&p, 0, sizeof p);
    p.r = r;
    hg__intern_init(&p.strings);
    hg__intern_init(&p.functions);
    hg__intern_init(&p.locations);
    hg__intern_init(&p.mappings);
    put_header(&p);
    for (size_t i = 0; i < r->nsites && !pp_failed(&p); i++) {
        put_sample(&p, &r->sites[i]);
    }
    if (!pp_failed(&p)) {
        put_trailer(&p);
    }
    if (pp_failed(&p)) {
        hg__report_out_fail(o, HG_ENOMEM);
    } else {
        hg__pb_gzip(o, p.prof.data, p.prof.len);
    }
    pp_free(&p);
}
