/* sarif_emit.c - the SARIF writer's JSON emitter (see sarif_priv.h). Like json.c's, it writes
 * straight to the output with no tree, so its cost is one pass over what it writes. */
#include "sarif_priv.h"

#include <string.h>

/* The separator, newline, indentation and key of a member or element. */
static void item(hg__sj_t *w, const char *key) {
    if (w->depth > 0) {
        hg_out_write(w->o, w->first[w->depth] ? "\n" : ",\n", w->first[w->depth] ? 1 : 2);
        w->first[w->depth] = false;
        for (unsigned i = 0; i < w->depth; i++) {
            hg_out_write(w->o, "  ", 2);
        }
    }
    if (key) {
        hg__report_json_string(w->o, key);
        hg_out_write(w->o, ": ", 2);
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
    bool empty = w->first[w->depth];
    w->depth--;
    if (!empty) {
        hg_out_write(w->o, "\n", 1);
        for (unsigned i = 0; i < w->depth; i++) {
            hg_out_write(w->o, "  ", 2);
        }
    }
    hg_out_write(w->o, &bracket, 1);
}

void hg__sj_str(hg__sj_t *w, const char *key, const char *s) {
    item(w, key);
    hg__report_json_string(w->o, s);
}

void hg__sj_u64(hg__sj_t *w, const char *key, uint64_t v) {
    item(w, key);
    hg_out_printf(w->o, "%llu", (unsigned long long)v);
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
