/* sarif_emit.c - the SARIF writer's JSON emitter (see sarif_priv.h). Like json.c's, it writes
 * straight to the output with no tree, so its cost is one pass over what it writes. */
#include "sarif_priv.h"

#include <string.h>

static const char SPACES[] = "                                                ";

/* A newline and the indentation of the current depth, in one write. */
static void newline(hg__sj_t *w) {
    size_t n = 2 * (size_t)w->depth;
    hg_out_write(w->o, "\n", 1);
    hg_out_write(w->o, SPACES, n < sizeof SPACES - 1 ? n : sizeof SPACES - 1);
}

/* The separator, newline, indentation and key of a member or element. Keys are ASCII
 * literals of this writer: written as they are, with no escaping pass. Levels deeper than
 * HG_SJ_PRETTY_DEPTH are written compactly: each result member stays on one line, which
 * keeps a 100,000-site log at a third of its pretty-printed size. */
static void item(hg__sj_t *w, const char *key) {
    bool pretty = w->depth <= HG_SJ_PRETTY_DEPTH;
    if (w->depth > 0) {
        if (!w->first[w->depth]) {
            hg_out_write(w->o, ",", 1);
        }
        w->first[w->depth] = false;
        if (pretty) {
            newline(w);
        }
    }
    if (key) {
        hg_out_write(w->o, "\"", 1);
        hg_out_puts(w->o, key);
        hg_out_write(w->o, pretty ? "\": " : "\":", pretty ? 3 : 2);
    }
}

void hg__sj_open(hg__sj_t *w, const char *key, char bracket) {
    item(w, key);
    hg_out_write(w->o, &bracket, 1);
    if (w->depth + 1 < HG_SJ_MAX_DEPTH) {
        w->depth++;
    }
    w->first[w->depth] = true;
}

void hg__sj_close(hg__sj_t *w, char bracket) {
    bool empty = w->first[w->depth], pretty = w->depth <= HG_SJ_PRETTY_DEPTH;
    w->depth--;
    if (!empty && pretty) {
        newline(w);
    }
    hg_out_write(w->o, &bracket, 1);
}

void hg__sj_str(hg__sj_t *w, const char *key, const char *s) {
    item(w, key);
    hg__report_json_string(w->o, s);
}

void hg__sj_u64(hg__sj_t *w, const char *key, uint64_t v) {
    char b[20], *p = b + sizeof b;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    item(w, key);
    hg_out_write(w->o, p, (size_t)(b + sizeof b - p));
}

void hg__sj_bool(hg__sj_t *w, const char *key, bool v) {
    item(w, key);
    hg_out_puts(w->o, v ? "true" : "false");
}

void hg__sj_buf(hg__sj_t *w, const char *key, const hg_buf_t *b) {
    if (b->failed) {
        hg__report_out_fail(w->o, HG_ENOMEM);
    }
    hg__sj_str(w, key, b->data ? b->data : "");
}

void hg__sj_message(hg__sj_t *w, const char *key, const char *text) {
    hg__sj_open(w, key, '{');
    hg__sj_str(w, "text", text);
    hg__sj_close(w, '}');
}
