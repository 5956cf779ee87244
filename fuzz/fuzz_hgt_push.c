/* fuzz_hgt_push.c - libFuzzer target for the .hgt push reader (hgt_push.c, the reader of live
 * agent streams): the input is pushed in pieces whose sizes come from a little generator
 * seeded by the input's first byte (one byte at a time, odd sizes, whole), and the result is
 * compared with the file reader's on the same bytes: same records delivered in the same order
 * (a running checksum of every field), same status, same truncation. Any difference aborts, so
 * the fuzzer treats it as a crash. Seed and regression corpus: fuzz/corpus/hgt_push/. */
#include "formats.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct digest {
    uint64_t records;
    uint64_t sum;
} digest_t;

static void mix(digest_t *d, uint64_t v) {
    d->records++;
    d->sum = (d->sum ^ v) * 0x100000001b3ull + d->records;
}

static uint64_t str_sum(const char *s) {
    uint64_t h = 0;
    for (; s && *s; s++) {
        h = h * 31 + (uint8_t)*s;
    }
    return h;
}

static int on_trace(void *ctx, const hg_trace_info_t *t) {
    mix(ctx, str_sum(t->format) + t->start_wall_ns + t->duration_hint_ns + t->pointer_size +
                 t->lost_counts_known);
    return 0;
}

static int on_process(void *ctx, const hg_process_info_t *p) {
    mix(ctx, p->pid + p->parent_pid * 3u + str_sum(p->name) + str_sum(p->cmdline) +
                 p->pointer_size + p->allocator);
    return 0;
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    uint64_t h = m->pid + m->unload + m->base + m->size + m->ts_ns + str_sum(m->path) +
                 str_sum(m->pdb_name) + m->pdb_age + m->pe_timestamp;
    for (uint32_t i = 0; i < m->build_id_len; i++) {
        h = h * 7 + m->build_id[i];
    }
    mix(ctx, h);
    return 0;
}

static int on_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    uint64_t h = id;
    for (uint32_t i = 0; i < n; i++) {
        h = h * 5 + frames[i];
    }
    mix(ctx, h);
    return 0;
}

static int on_event(void *ctx, const hg_event_t *e) {
    mix(ctx, e->kind + e->source * 3u + e->flags * 5u + e->stack_id * 7u + e->pid + e->tid +
                 e->ts_ns + e->heap + e->addr * 11u + e->size + e->old_addr + e->old_size);
    return 0;
}

static int on_stats(void *ctx, const hg_alloc_stats_t *s) {
    mix(ctx, s->pid + s->ts_ns + s->arena_bytes + s->in_use_bytes + s->free_bytes +
                 s->mmapped_bytes + s->rss_bytes);
    return 0;
}

static const hg_sink_ops_t digest_ops = {on_trace, on_process, on_module,
                                         on_stack, on_event,   on_stats};

/* The file reader's verdict on data. */
static int read_whole(const uint8_t *data, size_t size, digest_t *d, hg_read_result_t *res) {
    if (size == 0) {
        memset(res, 0, sizeof *res);
        res->truncated = true; /* what the reader says of an empty file */
        return 0;
    }
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp) {
        abort();
    }
    hg_error_t err;
    int rc = hg_hgt_read(fp, "f", size, (hg_sink_t){&digest_ops, d}, NULL, res, &err);
    fclose(fp);
    return rc;
}

/* Piece sizes: 1, small odd sizes, or everything left, chosen by a xorshift generator. */
static size_t piece(uint32_t *state, size_t left) {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    size_t k = *state % 4 == 0   ? 1
               : *state % 4 == 1 ? 1 + *state % 37
               : *state % 4 == 2 ? 4093
                                 : left;
    return k < left ? k : left;
}

static int read_pushed(const uint8_t *data, size_t size, digest_t *d, hg_read_result_t *res) {
    hg_hgt_push_t *p = hg_hgt_push_new("f", (hg_sink_t){&digest_ops, d});
    if (!p) {
        abort();
    }
    uint32_t state = size ? 0x9e3779b9u ^ data[0] : 1u;
    int rc = 0;
    for (size_t at = 0; rc == 0 && at < size;) {
        size_t k = piece(&state, size - at);
        rc = hg_hgt_push_feed(p, data + at, k, NULL);
        at += k;
    }
    hg_error_t err;
    int end = hg_hgt_push_end(p, res, &err);
    hg_hgt_push_free(p);
    return rc ? rc : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    digest_t a = {0, 0}, b = {0, 0};
    hg_read_result_t ra, rb;
    int rca = read_whole(data, size, &a, &ra);
    int rcb = read_pushed(data, size, &b, &rb);
    if (rca != rcb || a.records != b.records || a.sum != b.sum) {
        fprintf(stderr, "push reader differs: rc %d/%d records %llu/%llu\n", rca, rcb,
                (unsigned long long)a.records, (unsigned long long)b.records);
        abort();
    }
    if (rca == 0 && ra.truncated != rb.truncated) {
        fprintf(stderr, "push reader differs on truncation: %d/%d\n", ra.truncated, rb.truncated);
        abort();
    }
    return 0;
}
