/* fuzz_text.c - libFuzzer target for the text trace reader (hg_text_read).
 *
 * Each input is read three times through fmemopen into a counting sink that touches every
 * value it receives and checks the reader's promises (trace first and exactly once, strings
 * terminated, frames within HG_MAX_FRAMES, an error message naming the file and line):
 * once normally, once with the sink stopping half-way (the stop code must come back unchanged),
 * and once with the reader's own allocations failing (HG_ENOMEM must be clean). */
#include "formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct counts {
    long calls, traces, stop_at;
    uint64_t checksum;
} counts_t;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_text: check failed: %s\n", #c);                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Counts a callback; returns HG_ESTOP at the stop_at-th one. */
static int count(counts_t *c, bool is_trace) {
    CHECK(is_trace == (c->calls == 0)); /* trace comes first, and only first */
    c->traces += is_trace;
    c->calls++;
    return c->stop_at && c->calls == c->stop_at ? HG_ESTOP : 0;
}

static void touch(counts_t *c, const char *s) {
    c->checksum += s ? strlen(s) : 0;
}

static int on_trace(void *ctx, const hg_trace_info_t *t) {
    counts_t *c = ctx;
    CHECK(t->format && strcmp(t->format, "text") == 0);
    CHECK(t->pointer_size == 0 || t->pointer_size == 4 || t->pointer_size == 8);
    c->checksum += t->start_wall_ns + t->duration_hint_ns;
    return count(c, true);
}

static int on_process(void *ctx, const hg_process_info_t *p) {
    counts_t *c = ctx;
    touch(c, p->name);
    touch(c, p->cmdline);
    CHECK(p->allocator <= HG_ALLOCATOR_GLIBC);
    return count(c, false);
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    counts_t *c = ctx;
    touch(c, m->path);
    touch(c, m->pdb_name);
    CHECK(m->unload || m->path);
    CHECK(m->build_id_len <= 64 && (m->build_id != NULL) == (m->build_id_len > 0));
    for (uint32_t i = 0; i < m->build_id_len; i++) {
        c->checksum += m->build_id[i];
    }
    return count(c, false);
}

static int on_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    counts_t *c = ctx;
    CHECK(id != 0 && n >= 1 && n <= HG_MAX_FRAMES);
    for (uint32_t i = 0; i < n; i++) {
        c->checksum += frames[i];
    }
    return count(c, false);
}

static int on_event(void *ctx, const hg_event_t *ev) {
    counts_t *c = ctx;
    CHECK(ev->kind >= HG_EV_ALLOC && ev->kind <= HG_EV_KIND_MAX);
    c->checksum += ev->addr + ev->size + ev->ts_ns;
    return count(c, false);
}

static int on_stats(void *ctx, const hg_alloc_stats_t *s) {
    counts_t *c = ctx;
    c->checksum += s->arena_bytes + s->rss_bytes;
    return count(c, false);
}

static const hg_sink_ops_t ops = {on_trace, on_process, on_module, on_stack, on_event, on_stats};

static int read_once(const uint8_t *data, size_t size, counts_t *c, hg_error_t *err) {
    static char empty[1];
    FILE *fp = fmemopen(size ? (void *)data : empty, size, "rb"); /* glibc allows size 0 */
    CHECK(fp != NULL);
    hg_read_result_t res;
    hg_error_clear(err);
    int rc = hg_text_read(fp, "fuzz.txt", size, (hg_sink_t){&ops, c}, NULL, &res, err);
    fclose(fp);
    CHECK(!res.truncated && res.format == HG_FMT_TEXT);
    CHECK(rc == 0 || (err->code == rc && strncmp(err->msg, "fuzz.txt:", 9) == 0));
    CHECK(rc != 0 || c->traces == 1);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hg_error_t err;
    counts_t all = {0}, half = {0}, oom = {0};
    int rc = read_once(data, size, &all, &err);
    CHECK(rc == 0 || rc == HG_EFORMAT);
    if (all.calls >= 2) {
        half.stop_at = all.calls / 2 + 1;
        CHECK(read_once(data, size, &half, &err) == HG_ESTOP);
        CHECK(half.calls == half.stop_at);
    }
    hg_mem_fail_after((long)(size % 3)); /* the buffer, the state, a stack-id table */
    rc = read_once(data, size, &oom, &err);
    hg_mem_fail_after(-1);
    CHECK(rc == 0 || rc == HG_EFORMAT || rc == HG_ENOMEM);
    return 0;
}
