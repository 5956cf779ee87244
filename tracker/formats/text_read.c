/* text_read.c - hg_text_read: reads a text trace (docs/text-format.md) line by line and hands
 * each line to the parser and the sink.
 *
 * The stream is read in blocks of up to 256 KiB into one buffer (smaller for small inputs, grown
 * when a line needs it); lines are found with memchr and parsed in place (the tokenizer writes
 * NUL terminators into the buffer), so memory stays bounded whatever the file's length. A line may
 * not exceed MAX_LINE_BYTES bytes. A line starts with an event time (a digit or '.') or a
 * directive word; the first meaningful line must be the header "hgtrace 1". A last line without a
 * newline is read like any other: a text trace cannot tell that it was cut short, so
 * hg_read_result_t.truncated is never set. */
#include "text_read.h"

#include <errno.h>
#include <string.h>

#define MAX_LINE_BYTES  65536        /* bytes, not counting the line end */
#define BLOCK_BYTES     (256 * 1024) /* must exceed MAX_LINE_BYTES + 2 */
#define MIN_BLOCK_BYTES 4096

typedef struct line_source {
    FILE *fp;
    char *buf;        /* cap + 1 bytes (a spare byte for the last line's terminator) */
    size_t cap;       /* MIN_BLOCK_BYTES .. BLOCK_BYTES */
    size_t pos, len;  /* unread bytes are buf[pos..len) */
    uint64_t buf_off; /* stream offset of buf[0] */
    bool eof;
    const hg_read_options_t *opt;
    uint64_t size_bytes;
} line_source_t;

static void report_progress(const line_source_t *ls) {
    if (ls->opt && ls->opt->progress) {
        ls->opt->progress(ls->opt->progress_ud, ls->buf_off + ls->pos, ls->size_bytes);
    }
}

/* A buffer of about the input's size (when known), at most BLOCK_BYTES: small traces, such as
 * tests and fuzz inputs, do not pay for a big block. */
static int alloc_buffer(line_source_t *ls) {
    ls->cap =
        ls->size_bytes && ls->size_bytes < BLOCK_BYTES ? (size_t)ls->size_bytes + 1 : BLOCK_BYTES;
    ls->cap = ls->cap < MIN_BLOCK_BYTES ? MIN_BLOCK_BYTES : ls->cap;
    ls->buf = hg_malloc(ls->cap + 1);
    return ls->buf ? 0 : HG_ENOMEM;
}

/* Called with a full buffer that holds no whole line (len <= MAX_LINE_BYTES + 1 < cap). */
static int grow(line_source_t *ls, hg__text_reader_t *r) {
    size_t cap = ls->cap * 4 < BLOCK_BYTES ? ls->cap * 4 : BLOCK_BYTES;
    char *buf = hg_realloc(ls->buf, cap + 1);
    if (!buf) {
        return hg_error_set(r->src.err, HG_ENOMEM, "%s:%llu: out of memory for a line", r->src.name,
                            (unsigned long long)r->src.line_no + 1);
    }
    ls->buf = buf;
    ls->cap = cap;
    return 0;
}

/* Moves the unread bytes to the front and reads more after them. */
static int fill(line_source_t *ls, hg__text_reader_t *r) {
    report_progress(ls);
    memmove(ls->buf, ls->buf + ls->pos, ls->len - ls->pos);
    ls->buf_off += ls->pos;
    ls->len -= ls->pos;
    ls->pos = 0;
    if (ls->len == ls->cap && grow(ls, r) < 0) {
        return HG_ENOMEM;
    }
    size_t n = fread(ls->buf + ls->len, 1, ls->cap - ls->len, ls->fp);
    ls->len += n;
    if (n == 0 && ferror(ls->fp)) {
        return hg_error_set(r->src.err, HG_EIO, "%s:%llu: cannot read: %s", r->src.name,
                            (unsigned long long)r->src.line_no + 1, strerror(errno));
    }
    ls->eof = n == 0;
    return 0;
}

static int fail_long(hg__text_reader_t *r, char *line) {
    r->src.line = line;
    return hg__text_fail(&r->src, line + MAX_LINE_BYTES, "line is longer than %d bytes",
                         MAX_LINE_BYTES);
}

/* The next line (without its '\n') in *line, *len. Returns 1, 0 at the end, or an error. */
static int next_line(line_source_t *ls, hg__text_reader_t *r, char **line, size_t *len) {
    for (;;) {
        char *start = ls->buf + ls->pos;
        size_t avail = ls->len - ls->pos;
        char *nl = memchr(start, '\n', avail);
        if (nl || (ls->eof && avail > 0)) {
            *line = start;
            *len = nl ? (size_t)(nl - start) : avail;
            ls->pos += *len + (nl != NULL);
            return 1;
        }
        if (avail > MAX_LINE_BYTES + 1) { /* + 1: room for a CR */
            r->src.line_no++;
            return fail_long(r, start);
        }
        if (ls->eof) {
            return 0;
        }
        int rc = fill(ls, r);
        if (rc < 0) {
            return rc;
        }
    }
}

/* ---- one line ---------------------------------------------------------------------------- */

static bool word_is(const hg__text_tok_t *tok, const char *word) {
    return !tok->val && strlen(word) == tok->len && memcmp(tok->text, word, tok->len) == 0;
}

/* "hgtrace 1" and nothing else. */
static int parse_header(hg__text_reader_t *r, hg__text_lex_t *lx, const hg__text_tok_t *first) {
    hg__text_tok_t v;
    int rc;
    if (!word_is(first, "hgtrace")) {
        return hg__text_fail(&r->src, first->text,
                             "expected the header 'hgtrace 1' first, got '%.*s'",
                             (int)(first->len < 40 ? first->len : 40), first->text);
    }
    if ((rc = hg__text_lex_next(lx, &r->src, &v)) <= 0 || v.val) {
        return rc < 0 ? rc
                      : hg__text_fail(&r->src, rc ? v.text : lx->end,
                                      "expected a version number after 'hgtrace'");
    }
    if (!word_is(&v, "1")) {
        return hg__text_fail(
            &r->src, v.text,
            "unsupported text trace version '%.*s' (this heapgate reads version 1)",
            (int)(v.len < 20 ? v.len : 20), v.text);
    }
    if ((rc = hg__text_lex_next(lx, &r->src, &v)) != 0) {
        return rc < 0 ? rc : hg__text_fail(&r->src, v.text, "unexpected text after 'hgtrace 1'");
    }
    r->header_seen = true;
    return 0;
}

#define EVENT_KINDS "alloc, realloc, free, heap-create, heap-destroy, start, end, lost, mark, stats"

static int fail_kind(hg__text_reader_t *r, const hg__text_tok_t *kind, const char *eol) {
    if (!kind) {
        return hg__text_fail(&r->src, eol, "expected an event kind after the time (%s)",
                             EVENT_KINDS);
    }
    return hg__text_fail(&r->src, kind->text, "unknown event kind '%.*s' (expected %s)",
                         (int)(kind->len < 40 ? kind->len : 40), kind->text, EVENT_KINDS);
}

static int parse_event(hg__text_reader_t *r, hg__text_lex_t *lx, const hg__text_tok_t *first) {
    uint64_t ts_ns;
    hg__text_tok_t kind;
    int rc = hg__text_parse_event_time(&r->src, first, &ts_ns);
    if (rc < 0 || (rc = hg__text_lex_next(lx, &r->src, &kind)) < 0) {
        return rc;
    }
    const hg__text_rec_t *rec =
        rc && !kind.val ? hg__text_rec_find(kind.text, kind.len, true) : NULL;
    if (!rec) {
        return fail_kind(r, rc ? &kind : NULL, lx->end);
    }
    rc = hg__text_parse_fields(lx, &r->src, rec, kind.text, &r->dflt, &r->f);
    return rc < 0 ? rc : hg__text_deliver_event(r, rec, ts_ns);
}

static int parse_directive(hg__text_reader_t *r, hg__text_lex_t *lx, const hg__text_tok_t *first) {
    const hg__text_rec_t *rec =
        first->val ? NULL : hg__text_rec_find(first->text, first->len, false);
    if (!rec) {
        return hg__text_fail(&r->src, first->text,
                             word_is(first, "hgtrace")
                                 ? "the 'hgtrace' header may appear only once"
                                 : "expected an event time or one of process, module, unload, "
                                   "stack, default, trace at the start of a line");
    }
    /* defaults fill in records, not the lines that set them or the trace header */
    bool takes_defaults = rec->id != HG__TR_DEFAULT && rec->id != HG__TR_TRACE;
    int rc = rec->id == HG__TR_STACK
                 ? hg__text_parse_stack(lx, &r->src, first->text, &r->f)
                 : hg__text_parse_fields(lx, &r->src, rec, first->text,
                                         takes_defaults ? &r->dflt : NULL, &r->f);
    return rc < 0 ? rc : hg__text_deliver_directive(r, rec, first->text);
}

static int parse_line(hg__text_reader_t *r, char *line, size_t len) {
    r->src.line_no++;
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    if (len > MAX_LINE_BYTES) {
        return fail_long(r, line);
    }
    if (r->src.line_no == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3; /* UTF-8 byte order mark */
        len -= 3;
    }
    r->src.line = line;
    hg__text_lex_t lx;
    hg__text_tok_t first;
    hg__text_lex_init(&lx, line, len);
    int rc = hg__text_lex_next(&lx, &r->src, &first);
    if (rc <= 0) {
        return rc; /* blank, comment, or an error */
    }
    if (!r->header_seen) {
        return parse_header(r, &lx, &first);
    }
    bool is_event = (first.text[0] >= '0' && first.text[0] <= '9') || first.text[0] == '.';
    return is_event ? parse_event(r, &lx, &first) : parse_directive(r, &lx, &first);
}

/* ---- the reader -------------------------------------------------------------------------- */

static int read_lines(line_source_t *ls, hg__text_reader_t *r) {
    char *line = NULL;
    size_t len = 0;
    int rc;
    while ((rc = next_line(ls, r, &line, &len)) > 0) {
        if ((rc = parse_line(r, line, len)) < 0) {
            return rc;
        }
    }
    if (rc == 0 && !r->header_seen) {
        return hg_error_set(r->src.err, HG_EFORMAT,
                            "%s:%llu:1: end of input before the header 'hgtrace 1'", r->src.name,
                            (unsigned long long)r->src.line_no + 1);
    }
    return rc < 0 ? rc : hg__text_send_trace(r);
}

static void reader_init(hg__text_reader_t *r, const char *name, hg_sink_t sink, hg_error_t *err) {
    memset(r, 0, offsetof(hg__text_reader_t, f));
    r->src.name = name ? name : "(text trace)";
    r->src.err = err;
    r->sink = sink;
    r->trace.format = "text";
    r->trace.lost_counts_known = true; /* a text trace lists its losses as "lost" lines */
    hg__text_stackset_init(&r->stacks);
}

int hg_text_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                 const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err) {
    hg__text_reader_t *r = hg_malloc(sizeof *r);
    line_source_t ls = {fp, NULL, 0, 0, 0, 0, false, opt, size_bytes};
    memset(res, 0, sizeof *res);
    res->format = HG_FMT_TEXT;
    if (!r || alloc_buffer(&ls) < 0) {
        hg_free(r);
        hg_free(ls.buf);
        return hg_error_set(err, HG_ENOMEM, "%s: out of memory", name ? name : "(text trace)");
    }
    reader_init(r, name, sink, err);
    int rc = read_lines(&ls, r);
    res->bytes_read = ls.buf_off + ls.pos;
    if (rc == 0) {
        report_progress(&ls);
    }
    hg__text_stackset_free(&r->stacks);
    hg_free(r);
    hg_free(ls.buf);
    return rc;
}
