/* test_etl_fixtures.c - the ETL reader on real files recorded on Windows (../shared/fixtures/etl,
 * see its SOURCES.md): every buffer and event is walked without error; the process and image
 * counts equal PerfView's COUNT lines; every process, image, ImageID and DbgID_RSDS event that
 * PerfView's baseline lists is decoded with the same field values (values PerfView cut to 20
 * characters compared on those 20) and a time within 0.01 ms; the trace headers agree with the
 * baselines' EventTrace lines. */
#include "etl_priv.h"
#include "fixtures.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading a file with an observer ------------------------------------------------------ */

typedef struct records {
    hg__etl_record_t *v;
    size_t n, cap;
} records_t;

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static void keep(void *ud, const hg__etl_record_t *rec) {
    records_t *rs = ud;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 1024;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    hg__etl_record_t *c = &rs->v[rs->n++];
    *c = *rec;
    c->name = dup_or_null(rec->name);
    c->cmdline = dup_or_null(rec->cmdline);
    c->path = dup_or_null(rec->path);
    c->pdb = dup_or_null(rec->pdb);
}

static void records_free(records_t *rs) {
    for (size_t i = 0; i < rs->n; i++) {
        free((void *)rs->v[i].name);
        free((void *)rs->v[i].cmdline);
        free((void *)rs->v[i].path);
        free((void *)rs->v[i].pdb);
    }
    free(rs->v);
    *rs = (records_t){0};
}

static int read_fixture(const char *path, records_t *rs, hg__etl_stats_t *st, hg_read_result_t *res,
                        hg_error_t *err) {
    static const hg_sink_ops_t none = {0};
    hg_sink_t sink = {&none, NULL};
    hg__etl_observer_t obs = {keep, rs};
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    int rc = hg__etl_read_observed(fp, path, 0, sink, NULL, res, err, &obs, st);
    fclose(fp);
    return rc;
}

static long file_size(const char *path) {
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fclose(fp);
    return n;
}

/* ---- every file walks cleanly --------------------------------------------------------------- */

typedef struct walk_case {
    char file[48];   /* inline: Criterion runs each test in a new process */
    uint64_t events; /* 0: not checked */
} walk_case_t;

ParameterizedTestParameters(etl_fixtures, walk) {
    static walk_case_t cases[] = {{"net.4.5.2.x64.etl", 179474},
                                  {"SelfDescribingSingleEvent.etl", 0},
                                  {"primitive-types.etl", 7},
                                  {"AMSITrace.etl", 0},
                                  {"lxcore_kernel.etl", 0}};
    return cr_make_param_array(walk_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(walk_case_t *c, etl_fixtures, walk) {
    char *path = etl_fixture(c->file);
    if (!path) {
        return;
    }
    records_t rs = {0};
    hg__etl_stats_t st;
    hg_read_result_t res;
    hg_error_t err = {0};
    int rc = read_fixture(path, &rs, &st, &res, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert(!res.truncated, "%s", res.warning);
    cr_assert_eq(res.bytes_read, (uint64_t)file_size(path), "every byte is in a whole buffer");
    cr_assert_eq(st.buffers, st.header.buffers_written, "buffers %llu, header says %u",
                 (unsigned long long)st.buffers, st.header.buffers_written);
    cr_assert_gt(st.events, 1);
    if (c->events) {
        cr_assert_eq(st.events, c->events, "events %llu", (unsigned long long)st.events);
    }
    records_free(&rs);
    free(path);
}

/* ---- PerfView's baseline -------------------------------------------------------------------- */

#define MAX_FIELDS 40

typedef struct bl_event {
    double ms;
    char name[128];
    int nfields;
    char key[MAX_FIELDS][40];
    char val[MAX_FIELDS][128];
} bl_event_t;

/* "EVENT 2,733.176: Windows Kernel/Process/Start PID=3676; TID=-1; ...; k=v; " */
static bool parse_event_line(const char *line, bl_event_t *e) {
    char num[64];
    const char *colon = strstr(line, ": ");
    size_t k = 0;
    for (const char *p = line + 6; p < colon && k + 1 < sizeof num; p++) {
        if (*p != ',') {
            num[k++] = *p;
        }
    }
    num[k] = '\0';
    e->ms = strtod(num, NULL);
    const char *name = colon + 2, *sp = strstr(name, " PID=");
    snprintf(e->name, sizeof e->name, "%.*s", (int)(sp - name), name);
    e->nfields = 0;
    for (const char *p = sp + 1; *p && *p != '\n' && e->nfields < MAX_FIELDS;) {
        const char *eq = strchr(p, '='), *end = strstr(p, "; ");
        if (!eq || !end) {
            break;
        }
        snprintf(e->key[e->nfields], 40, "%.*s", (int)(eq - p), p);
        snprintf(e->val[e->nfields], 128, "%.*s", (int)(end - eq - 1), eq + 1);
        e->nfields++;
        p = end + 2;
    }
    return true;
}

static const char *field(const bl_event_t *e, const char *key) {
    for (int i = 0; i < e->nfields; i++) {
        if (strcmp(e->key[i], key) == 0) {
            return e->val[i];
        }
    }
    cr_assert_fail("baseline event %s at %.3f has no field %s", e->name, e->ms, key);
    return "";
}

/* A baseline number: thousands separators, optional sign, or 0x hex. */
static int64_t number(const char *v) {
    if (strncmp(v, "0x", 2) == 0) {
        return (int64_t)strtoull(v + 2, NULL, 16);
    }
    char digits[64];
    size_t k = 0;
    for (; *v && k + 1 < sizeof digits; v++) {
        if (*v != ',') {
            digits[k++] = *v;
        }
    }
    digits[k] = '\0';
    return strtoll(digits, NULL, 10);
}

/* PerfView cuts values longer than 20 characters to 20 and "...". */
static bool same_text(const char *baseline, const char *ours) {
    size_t n = strlen(baseline);
    ours = ours ? ours : "";
    if (n == 23 && strcmp(baseline + 20, "...") == 0) {
        return strncmp(baseline, ours, 20) == 0;
    }
    return strcmp(baseline, ours) == 0;
}

static void guid_text(const uint8_t *g, char *out) {
    sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
            g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
            g[15]);
}

/* ---- matching records to baseline events ---------------------------------------------------- */

typedef struct kind_map {
    const char *name;
    int kind, opcode;
} kind_map_t;

static const kind_map_t kinds[] = {
    {"Windows Kernel/Process/Start", ETL_REC_PROCESS, 1},
    {"Windows Kernel/Process/Stop", ETL_REC_PROCESS, 2},
    {"Windows Kernel/Process/DCStart", ETL_REC_PROCESS, 3},
    {"Windows Kernel/Process/DCStop", ETL_REC_PROCESS, 4},
    {"Windows Kernel/Process/Defunct", ETL_REC_PROCESS, 39},
    {"Windows Kernel/Image/Load", ETL_REC_IMAGE, 10},
    {"Windows Kernel/Image/Unload", ETL_REC_IMAGE, 2},
    {"Windows Kernel/Image/DCStart", ETL_REC_IMAGE, 3},
    {"Windows Kernel/Image/DCStop", ETL_REC_IMAGE, 4},
    {"KernelTraceControl/ImageID", ETL_REC_IMAGE_ID, 0},
    {"KernelTraceControl/ImageID/DbgID_RSDS", ETL_REC_DBG_ID, 36},
    {"KernelTraceControl/ImageID/DbgID_ILRSDS", ETL_REC_OTHER_ID, 37},
    {"KernelTraceControl/ImageID/FileVersion", ETL_REC_OTHER_ID, 64},
    {"KernelTraceControl/ImageID/None", ETL_REC_OTHER_ID, 32},
};

static const kind_map_t *kind_of(const char *name) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kinds[i].name, name) == 0) {
            return &kinds[i];
        }
    }
    return NULL;
}

static int32_t as_i32(uint32_t v) {
    return (int32_t)v;
}

/* Field-by-field comparison; returns the first differing field's name, or NULL. */
static const char *diff_process(const bl_event_t *e, const hg__etl_record_t *r) {
    if (number(field(e, "ProcessID")) != r->pid) {
        return "ProcessID";
    }
    if (number(field(e, "ParentID")) != r->parent_pid) {
        return "ParentID";
    }
    if (!same_text(field(e, "ImageFileName"), r->name)) {
        return "ImageFileName";
    }
    if ((uint64_t)number(field(e, "PageDirectoryBase")) != r->dir_base) {
        return "PageDirectoryBase";
    }
    if (number(field(e, "SessionID")) != as_i32(r->session_id)) {
        return "SessionID";
    }
    if (number(field(e, "ExitStatus")) != r->exit_status) {
        return "ExitStatus";
    }
    if ((uint64_t)number(field(e, "UniqueProcessKey")) != r->unique_key) {
        return "UniqueProcessKey";
    }
    return same_text(field(e, "CommandLine"), r->cmdline) ? NULL : "CommandLine";
}

static const char *diff_image(const bl_event_t *e, const hg__etl_record_t *r) {
    if ((uint64_t)number(field(e, "ImageSize")) != r->size) {
        return "ImageSize";
    }
    if (number(field(e, "ImageChecksum")) != r->checksum) {
        return "ImageChecksum";
    }
    if (number(field(e, "TimeDateStamp")) != as_i32(r->time_date_stamp)) {
        return "TimeDateStamp";
    }
    if ((uint64_t)number(field(e, "DefaultBase")) != r->default_base) {
        return "DefaultBase";
    }
    return same_text(field(e, "FileName"), r->path) ? NULL : "FileName";
}

/* ImageID's ProcessID is not compared: PerfView shows 0 where the payload (and the event
 * header) say 4; it reads the field 4 bytes early, in the upper half of the 64-bit ImageSize. */
static const char *diff_image_id(const bl_event_t *e, const hg__etl_record_t *r) {
    if ((uint64_t)number(field(e, "ImageSize")) != r->size) {
        return "ImageSize";
    }
    if (number(field(e, "TimeDateStamp")) != as_i32(r->time_date_stamp)) {
        return "TimeDateStamp";
    }
    return same_text(field(e, "OriginalFileName"), r->path) ? NULL : "OriginalFileName";
}

static const char *diff_dbg_id(const bl_event_t *e, const hg__etl_record_t *r) {
    char g[40];
    guid_text(r->guid, g);
    if (!same_text(field(e, "GuidSig"), g)) {
        return "GuidSig";
    }
    if (number(field(e, "Age")) != r->age) {
        return "Age";
    }
    return same_text(field(e, "PDBFileName"), r->pdb) ? NULL : "PDBFileName";
}

static const char *diff(const bl_event_t *e, const hg__etl_record_t *r) {
    switch (r->kind) {
    case ETL_REC_PROCESS:
        return diff_process(e, r);
    case ETL_REC_IMAGE:
        return diff_image(e, r);
    case ETL_REC_IMAGE_ID:
        return diff_image_id(e, r);
    case ETL_REC_DBG_ID:
        return diff_dbg_id(e, r);
    default:
        return NULL;
    }
}

/* The record of e's kind at e's time (0.01 ms) with e's key (process id or image base). */
static const hg__etl_record_t *find(const records_t *rs, const bl_event_t *e, const kind_map_t *k) {
    bool by_pid = k->kind == ETL_REC_PROCESS;
    uint64_t key = (uint64_t)number(field(e, by_pid ? "ProcessID" : "ImageBase"));
    for (size_t i = 0; i < rs->n; i++) {
        const hg__etl_record_t *r = &rs->v[i];
        double dt = r->ts_ns / 1e6 - e->ms;
        if (r->kind == k->kind && r->opcode == k->opcode && dt < 0.01 && dt > -0.01 &&
            (by_pid ? r->pid : r->base) == key) {
            return r;
        }
    }
    return NULL;
}

static size_t count_of(const records_t *rs, const kind_map_t *k) {
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) {
        n += rs->v[i].kind == k->kind && rs->v[i].opcode == k->opcode;
    }
    return n;
}

static void check_event_line(const records_t *rs, const char *line, int *checked) {
    bl_event_t e;
    parse_event_line(line, &e);
    const kind_map_t *k = kind_of(e.name);
    if (!k || k->kind == ETL_REC_OTHER_ID) {
        return;
    }
    const hg__etl_record_t *r = find(rs, &e, k);
    cr_assert_not_null(r, "no decoded %s at %.3f ms (key %s)", e.name, e.ms,
                       field(&e, k->kind == ETL_REC_PROCESS ? "ProcessID" : "ImageBase"));
    const char *bad = diff(&e, r);
    cr_assert_null(bad, "%s at %.3f ms: %s differs (baseline %s)", e.name, e.ms, bad ? bad : "",
                   bad ? field(&e, bad) : "");
    /* PerfView shows process and image events under the process their payload names */
    bool payload_pid = k->kind == ETL_REC_PROCESS || k->kind == ETL_REC_IMAGE;
    cr_assert_eq(as_i32(payload_pid ? r->pid : r->hdr_pid), number(field(&e, "PID")),
                 "%s at %.3f: PID", e.name, e.ms);
    (*checked)++;
}

static void check_count_line(const records_t *rs, const char *line, int *checked) {
    char name[128];
    long want;
    const char *colon = strrchr(line, ':');
    snprintf(name, sizeof name, "%.*s", (int)(colon - line - 6), line + 6);
    want = strtol(colon + 1, NULL, 10);
    const kind_map_t *k = kind_of(name);
    if (k) {
        cr_assert_eq(count_of(rs, k), (size_t)want, "%s: %zu decoded, PerfView counts %ld", name,
                     count_of(rs, k), want);
        (*checked)++;
    }
}

Test(etl_fixtures, net_x64_matches_perfview_baseline) {
    char *path = etl_fixture("net.4.5.2.x64.etl"),
         *base = etl_fixture("net.4.5.2.x64.baseline.txt");
    if (!path || !base) {
        return;
    }
    records_t rs = {0};
    hg__etl_stats_t st;
    hg_read_result_t res;
    hg_error_t err = {0};
    cr_assert_eq(read_fixture(path, &rs, &st, &res, &err), 0, "%s", err.msg);
    FILE *fp = fopen(base, "r");
    char line[8192];
    int events = 0, counts = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "EVENT ", 6) == 0) {
            check_event_line(&rs, line, &events);
        } else if (strncmp(line, "COUNT ", 6) == 0) {
            check_count_line(&rs, line, &counts);
        }
    }
    fclose(fp);
    cr_assert_eq(counts, 14, "every process, image and ImageID count line was compared");
    cr_assert_eq(events, 44, "baseline events compared: %d", events);
    records_free(&rs);
    free(path);
    free(base);
}

/* ---- the trace header ------------------------------------------------------------------------ */

typedef struct header_case {
    char etl[48], baseline[48];
} header_case_t;

ParameterizedTestParameters(etl_fixtures, header_matches_baseline) {
    static header_case_t cases[] = {{"net.4.5.2.x64.etl", "net.4.5.2.x64.baseline.txt"},
                                    {"primitive-types.etl", "primitive-types.baseline.txt"}};
    return cr_make_param_array(header_case_t, cases, 2);
}

ParameterizedTest(header_case_t *c, etl_fixtures, header_matches_baseline) {
    char *path = etl_fixture(c->etl), *base = etl_fixture(c->baseline);
    if (!path || !base) {
        return;
    }
    records_t rs = {0};
    hg__etl_stats_t st;
    hg_read_result_t res;
    hg_error_t err = {0};
    cr_assert_eq(read_fixture(path, &rs, &st, &res, &err), 0, "%s", err.msg);
    FILE *fp = fopen(base, "r");
    char line[8192];
    bl_event_t e = {0};
    while (fgets(line, sizeof line, fp)) {
        if (strstr(line, ": Windows Kernel/EventTrace PID")) {
            parse_event_line(line, &e);
            break;
        }
    }
    fclose(fp);
    const hg__etl_header_t *h = &st.header;
    cr_assert_eq(number(field(&e, "BufferSize")), h->buffer_size);
    cr_assert_eq(number(field(&e, "ProviderVersion")), h->provider_version);
    cr_assert_eq(number(field(&e, "NumberOfProcessors")), h->processors);
    cr_assert_eq(number(field(&e, "LogFileMode")), h->log_file_mode);
    cr_assert_eq(number(field(&e, "BuffersWritten")), h->buffers_written);
    cr_assert_eq(number(field(&e, "PointerSize")), h->pointer_size);
    cr_assert_eq(number(field(&e, "EventsLost")), h->events_lost);
    cr_assert_eq(number(field(&e, "BuffersLost")), h->buffers_lost);
    cr_assert_eq(number(field(&e, "CPUSpeed")), h->cpu_mhz);
    cr_assert_eq(number(field(&e, "PerfFreq")), (int64_t)h->perf_freq);
    cr_assert_eq(number(field(&e, "ReservedFlags")), h->clock_type);
    records_free(&rs);
    free(path);
    free(base);
}
