/* fuzz_hgt.c - libFuzzer target for the .hgt reader (docs/hgt-format.md): reads the input
 * through fmemopen and hg_hgt_read into a sink that touches every field of every callback (so
 * ASan sees any bad pointer the reader hands out) and counts; the result is ignored. Seed and
 * regression corpus: fuzz/corpus/hgt/. */
#include "formats.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct counts {
    uint64_t records;
    uint64_t checksum; /* keeps the reads below from being optimised away */
} counts_t;

static uint64_t mix(uint64_t h, uint64_t v) {
    return (h ^ v) * 0x100000001b3ull;
}

static uint64_t str_sum(const char *s) {
    return s ? strlen(s) : 0;
}

static int on_trace(void *ctx, const hg_trace_info_t *t) {
    counts_t *c = ctx;
    c->records++;
    c->checksum = mix(c->checksum, str_sum(t->format) + t->start_wall_ns + t->duration_hint_ns +
                                       t->pointer_size + t->lost_counts_known);
    return 0;
}

static int on_process(void *ctx, const hg_process_info_t *p) {
    counts_t *c = ctx;
    c->records++;
    c->checksum = mix(c->checksum, p->pid + p->parent_pid + str_sum(p->name) + str_sum(p->cmdline) +
                                       p->pointer_size + p->allocator);
    return 0;
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    counts_t *c = ctx;
    uint64_t h = m->pid + m->unload + m->base + m->size + m->ts_ns + str_sum(m->path) +
                 str_sum(m->pdb_name) + m->pdb_age + m->pe_timestamp;
    for (uint32_t i = 0; i < m->build_id_len; i++) {
        h += m->build_id[i];
    }
    for (size_t i = 0; i < sizeof m->pdb_guid; i++) {
        h += m->pdb_guid[i];
    }
    c->records++;
    c->checksum = mix(c->checksum, h);
    return 0;
}

static int on_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    counts_t *c = ctx;
    uint64_t h = id;
    for (uint32_t i = 0; i < n; i++) {
        h += frames[i];
    }
    c->records++;
    c->checksum = mix(c->checksum, h);
    return 0;
}

static int on_event(void *ctx, const hg_event_t *e) {
    counts_t *c = ctx;
    c->records++;
    c->checksum =
        mix(c->checksum, e->kind + e->source + e->flags + e->stack_id + e->pid + e->tid + e->ts_ns +
                             e->heap + e->addr + e->size + e->old_addr + e->old_size);
    return 0;
}

static int on_stats(void *ctx, const hg_alloc_stats_t *s) {
    counts_t *c = ctx;
    c->records++;
    c->checksum = mix(c->checksum, s->pid + s->ts_ns + s->arena_bytes + s->in_use_bytes +
                                       s->free_bytes + s->mmapped_bytes + s->rss_bytes);
    return 0;
}

static const hg_sink_ops_t counting_ops = {on_trace, on_process, on_module,
                                           on_stack, on_event,   on_stats};

static void on_progress(void *ud, uint64_t done, uint64_t total) {
    *(uint64_t *)ud += done + total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0; /* fmemopen refuses an empty buffer */
    }
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp) {
        return 0;
    }
    counts_t counts = {0, 0};
    uint64_t progress = 0;
    hg_read_options_t opt = {.progress = on_progress, .progress_ud = &progress};
    hg_read_result_t res;
    hg_error_t err;
    hg_hgt_read(fp, "fuzz.hgt", size, (hg_sink_t){&counting_ops, &counts}, &opt, &res, &err);
    fclose(fp);
    return 0;
}
