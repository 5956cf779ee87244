/* xperf_read.c - hg_xperf_read: text dumps of `xperf -i trace.etl -a dumper` (docs/etw-format.md
 * §4.1; docs/etl-reader.md). Checked only against the layout documented there: no real dump of
 * heap events has been published.
 *
 * The dump starts with BeginHeader, one line per event type naming its columns
 * ("HeapAlloc, TimeStamp, Process Name ( PID), ThreadID, HeapHandle, ..."), and EndHeader; then
 * a line of trace facts ("Events Lost: 0, Buffers lost: 0, Trace Start: <FILETIME>, ...,
 * PointerSize: 8"), then data rows "<EventName>, <v1>, <v2>, ...", fields separated by commas
 * and padded with spaces. Columns are found by their header names through an alias table, never
 * by position. Lines are read in blocks into one buffer, so memory does not grow with the file. */
#include "xperf_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define MAX_LINE (1u << 20)

int hg__xperf_fail(hg__xperf_t *x, const char *fmt, ...) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hg_error_set(x->err, HG_EFORMAT, "%s:%llu: %s", x->name, (unsigned long long)x->line_no,
                        what);
}

/* ---- names -------------------------------------------------------------------------------- */

/* Lowercase letters and digits of s[0..n): "Process Name ( PID)" -> "processnamepid". */
static void normalize(const char *s, size_t n, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (isalnum((unsigned char)s[i])) {
            out[k++] = (char)tolower((unsigned char)s[i]);
        }
    }
    out[k] = '\0';
}

static const struct {
    const char *name;
    xperf_kind_t kind;
} kinds[] = {
    {"heapalloc", XK_HEAP_ALLOC},     {"heaprealloc", XK_HEAP_REALLOC},
    {"heapfree", XK_HEAP_FREE},       {"heapcreate", XK_HEAP_CREATE},
    {"heapdestroy", XK_HEAP_DESTROY}, {"stack", XK_STACK},
    {"pstart", XK_PROCESS_START},     {"pend", XK_PROCESS_END},
    {"pdcstart", XK_PROCESS_DCSTART}, {"pdcend", XK_PROCESS_DCEND},
    {"iload", XK_IMAGE_LOAD},         {"iunload", XK_IMAGE_UNLOAD},
    {"idcstart", XK_IMAGE_DCSTART},   {"idcend", XK_IMAGE_DCEND},
};

/* Column aliases (§4.1: heap column names are unverified, so every spelling seen in MOF,
 * PerfView and WPA is accepted). */
static const struct {
    const char *name;
    xperf_role_t role;
} aliases[] = {
    {"timestamp", XR_TS},
    {"processnamepid", XR_PROCESS},
    {"process", XR_PROCESS},
    {"pid", XR_PID},
    {"processid", XR_PID},
    {"threadid", XR_TID},
    {"tid", XR_TID},
    {"thread", XR_TID},
    {"heaphandle", XR_HEAP},
    {"handle", XR_HEAP},
    {"heap", XR_HEAP},
    {"allocsize", XR_SIZE},
    {"size", XR_SIZE},
    {"newsize", XR_SIZE},
    {"newallocsize", XR_SIZE},
    {"allocaddress", XR_ADDR},
    {"address", XR_ADDR},
    {"freeaddress", XR_ADDR},
    {"newaddress", XR_ADDR},
    {"newallocaddress", XR_ADDR},
    {"oldaddress", XR_OLD_ADDR},
    {"oldallocaddress", XR_OLD_ADDR},
    {"oldsize", XR_OLD_SIZE},
    {"oldallocsize", XR_OLD_SIZE},
    {"sourceid", XR_SOURCE},
    {"source", XR_SOURCE},
    {"no", XR_FRAME_NO},
    {"imagefunction", XR_FRAME},
    {"parentpid", XR_PARENT},
    {"parentid", XR_PARENT},
    {"commandline", XR_CMDLINE},
    {"baseaddress", XR_BASE},
    {"imagebase", XR_BASE},
    {"endaddress", XR_END},
    {"imagesize", XR_IMAGE_SIZE},
    {"filename", XR_FILE},
    {"imagename", XR_FILE},
    {"filepath", XR_FILE},
};

static xperf_kind_t kind_of(const char *norm) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kinds[i].name, norm) == 0) {
            return kinds[i].kind;
        }
    }
    return XK_OTHER;
}

static xperf_role_t role_of(const char *norm) {
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(aliases[i].name, norm) == 0) {
            return aliases[i].role;
        }
    }
    return XR_NONE;
}

/* ---- fields ------------------------------------------------------------------------------- */

static xperf_field_t trim(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        n--;
    }
    return (xperf_field_t){s, n};
}

static int split(const char *line, size_t len, xperf_field_t *f) {
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len && n < XPERF_MAX_FIELDS; i++) {
        if (i == len || line[i] == ',') {
            f[n++] = trim(line + start, i - start);
            start = i + 1;
        }
    }
    return n;
}

bool hg__xperf_number(const xperf_field_t *f, uint64_t *v) {
    char buf[32];
    if (f->n == 0 || f->n >= sizeof buf) {
        return false;
    }
    memcpy(buf, f->s, f->n);
    buf[f->n] = '\0';
    return hg_parse_u64(buf, v) == 0;
}

/* ---- the header block --------------------------------------------------------------------- */

static int header_line(hg__xperf_t *x, const xperf_field_t *f, int nf) {
    char norm[64];
    if (x->ntypes == XPERF_MAX_TYPES) {
        return 0; /* more types than any dump has: the rest are skipped */
    }
    xperf_type_t *t = &x->types[x->ntypes++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%.*s", (int)f[0].n, f[0].s);
    normalize(f[0].s, f[0].n, norm, sizeof norm);
    t->kind = kind_of(norm);
    t->nfields = nf;
    for (int i = nf - 1; i >= 1; i--) { /* the first column of a role wins */
        normalize(f[i].s, f[i].n, norm, sizeof norm);
        t->col[role_of(norm)] = i;
    }
    t->col[XR_NONE] = 0;
    return 0;
}

static const xperf_type_t *type_of(const hg__xperf_t *x, const xperf_field_t *name) {
    for (int i = 0; i < x->ntypes; i++) {
        if (strlen(x->types[i].name) == name->n &&
            memcmp(x->types[i].name, name->s, name->n) == 0) {
            return &x->types[i];
        }
    }
    return NULL;
}

/* "Events Lost: 0, Buffers lost: 0, Trace Start: 1326..., Trace Length: 2 sec, PointerSize: 8" */
static void info_field(hg__xperf_t *x, const xperf_field_t *f) {
    const char *colon = memchr(f->s, ':', f->n);
    char key[32];
    uint64_t v;
    if (!colon) {
        return;
    }
    normalize(f->s, (size_t)(colon - f->s), key, sizeof key);
    xperf_field_t val = trim(colon + 1, f->n - (size_t)(colon + 1 - f->s));
    xperf_field_t num = val;
    while (num.n && !isdigit((unsigned char)num.s[num.n - 1])) {
        num = trim(num.s, num.n - 1); /* "2 sec" -> "2" */
    }
    if (!hg__xperf_number(&num, &v)) {
        return;
    }
    if (strcmp(key, "eventslost") == 0) {
        x->lost_events = v;
    } else if (strcmp(key, "bufferslost") == 0) {
        x->lost_buffers = v;
    } else if (strcmp(key, "tracestart") == 0 && v > 116444736000000000ull) {
        x->trace.start_wall_ns = (v - 116444736000000000ull) * 100;
    } else if (strcmp(key, "tracelength") == 0) {
        x->trace.duration_hint_ns = v * 1000000000ull;
    } else if (strcmp(key, "pointersize") == 0 && (v == 4 || v == 8)) {
        x->trace.pointer_size = (uint8_t)v;
    }
}

/* ---- lines -------------------------------------------------------------------------------- */

enum { BEFORE_HEADER, IN_HEADER, AFTER_HEADER };

static int data_line(hg__xperf_t *x, const xperf_field_t *f, int nf) {
    const xperf_type_t *t = type_of(x, &f[0]);
    if (!t) {
        if (nf > 1 && f[0].n >= 2 && memchr(f[0].s, ':', f[0].n)) {
            for (int i = 0; i < nf; i++) {
                info_field(x, &f[i]); /* the trace facts line */
            }
        }
        return 0; /* FirstReliableEventTimeStamp and undeclared rows */
    }
    int rc = t->kind != XK_STACK && x->in_stack ? hg__xperf_end_stack(x) : 0;
    return rc ? rc : hg__xperf_row(x, t, f, nf);
}

static int line(hg__xperf_t *x, int *state, const char *s, size_t n) {
    xperf_field_t f[XPERF_MAX_FIELDS];
    xperf_field_t whole = trim(s, n);
    x->line_no++;
    if (whole.n == 0) {
        return 0;
    }
    if (*state != IN_HEADER && whole.n == 11 && memcmp(whole.s, "BeginHeader", 11) == 0) {
        *state = IN_HEADER;
        return 0;
    }
    if (*state == BEFORE_HEADER) {
        return hg__xperf_fail(x, "expected BeginHeader (an xperf -a dumper text dump)");
    }
    if (*state == IN_HEADER && whole.n == 9 && memcmp(whole.s, "EndHeader", 9) == 0) {
        *state = AFTER_HEADER;
        return 0;
    }
    int nf = split(whole.s, whole.n, f);
    return *state == IN_HEADER ? header_line(x, f, nf) : data_line(x, f, nf);
}

/* ---- the reader --------------------------------------------------------------------------- */

typedef struct lines {
    FILE *fp;
    char *buf;
    size_t cap, pos, len;
    bool eof;
    uint64_t consumed;
} lines_t;

/* The next line in *s, *n (without '\n'); 1, 0 at the end, or an error. */
static int next_line(hg__xperf_t *x, lines_t *l, const char **s, size_t *n) {
    for (;;) {
        char *nl = memchr(l->buf + l->pos, '\n', l->len - l->pos);
        if (nl || (l->eof && l->pos < l->len)) {
            *s = l->buf + l->pos;
            *n = nl ? (size_t)(nl - *s) : l->len - l->pos;
            l->pos += *n + (nl != NULL);
            l->consumed += *n + (nl != NULL);
            return 1;
        }
        if (l->eof) {
            return 0;
        }
        if (l->pos == 0 && l->len == l->cap) {
            return hg__xperf_fail(x, "line longer than %u bytes", MAX_LINE);
        }
        memmove(l->buf, l->buf + l->pos, l->len - l->pos);
        l->len -= l->pos;
        l->pos = 0;
        size_t got = fread(l->buf + l->len, 1, l->cap - l->len, l->fp);
        if (got == 0 && ferror(l->fp)) {
            return hg_error_set(x->err, HG_EIO, "%s: cannot read: %s", x->name, strerror(errno));
        }
        l->len += got;
        l->eof = got == 0;
    }
}

static int read_lines(hg__xperf_t *x, lines_t *l) {
    int state = BEFORE_HEADER, rc;
    const char *s = NULL;
    size_t n = 0;
    while ((rc = next_line(x, l, &s, &n)) > 0) {
        if ((rc = line(x, &state, s, n)) != 0) {
            return rc;
        }
    }
    if (rc == 0 && state != AFTER_HEADER) {
        rc = hg__xperf_fail(x, "end of input inside the header (expected EndHeader)");
    }
    if (rc == 0 && x->in_stack) {
        rc = hg__xperf_end_stack(x);
    }
    if (rc == 0) {
        rc = hg__xperf_send_trace(x);
    }
    return rc == 0 ? hg__pending_flush(&x->pending) : rc;
}

int hg__xperf_deliver(void *ud, hg__pend_item_t *it);

static int xperf_init(hg__xperf_t *x, lines_t *l, uint64_t size_bytes) {
    l->cap = size_bytes && size_bytes < MAX_LINE ? (size_t)size_bytes + 1 : MAX_LINE;
    l->cap = l->cap < 4096 ? 4096 : l->cap;
    l->buf = hg_malloc(l->cap);
    x->interner = hg_stack_interner_new();
    x->frames = hg_malloc(HG_MAX_FRAMES * sizeof *x->frames);
    x->trace.format = "xperf";
    x->trace.lost_counts_known = true;
    x->next_synthetic = UINT64_C(0x7ffe000000000000);
    /* xperf times are microseconds: items wait at most 0.5 s of trace time for their stacks */
    hg__pending_init(&x->pending, 65536, 500000, hg__xperf_deliver, x);
    return l->buf && x->interner && x->frames ? 0 : HG_ENOMEM;
}

int hg_xperf_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                  const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err) {
    hg_read_result_t ignored;
    res = res ? res : &ignored;
    memset(res, 0, sizeof *res);
    res->format = HG_FMT_XPERF;
    hg__xperf_t *x = hg_calloc(1, sizeof *x);
    lines_t l = {.fp = fp};
    name = name ? name : "(xperf)";
    if (x) {
        x->name = name;
        x->sink = sink;
        x->err = err;
        x->opt = opt;
    }
    int rc = x ? xperf_init(x, &l, size_bytes) : HG_ENOMEM;
    rc = rc == 0 ? read_lines(x, &l) : rc;
    if (rc == HG_ENOMEM) {
        hg_error_set(err, HG_ENOMEM, "%s: out of memory", name);
    }
    res->bytes_read = l.consumed;
    if (x) {
        hg__pending_free(&x->pending);
        hg_stack_interner_free(x->interner);
        hg__map_free(&x->named);
        hg__map_free(&x->synthetic);
        hg_free(x->frames);
    }
    hg_free(x);
    hg_free(l.buf);
    return rc;
}
