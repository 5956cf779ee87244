/* fuzz_hgt.c - libFuzzer target for the .hgt reader (docs/hgt-format.md): reads the input
 * through fmemopen and hg_hgt_read into a sink that touches every field of every callback (so
 * ASan sees any bad pointer the reader hands out) and counts; the result is ignored.
 *
 * Each input is read twice: as it is, which exercises the header and checksum checks, and with
 * every CRC recomputed, so that mutations get past the checksums into inflate and the record
 * decoder (a fuzzer almost never guesses a CRC-32). Seed and regression corpus:
 * fuzz/corpus/hgt/. */
#include "formats.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_crc(uint8_t *at, const uint8_t *data, size_t n) {
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)n);
    for (int i = 0; i < 4; i++) {
        at[i] = (uint8_t)(crc >> (8 * i));
    }
}

/* Rewrites the file header CRC and the payload and header CRCs of every chunk whose header is
 * whole (a payload cut short gets the CRC of what is there). Layout: docs/hgt-format.md §3-§4. */
static void fix_crcs(uint8_t *p, size_t n) {
    if (n < 20) {
        return;
    }
    put_crc(p + 16, p, 16);
    for (size_t off = 20; off + 32 <= n;) {
        size_t avail = n - off - 32, comp = get_u32(p + off + 12);
        size_t len = comp < avail ? comp : avail;
        put_crc(p + off + 24, p + off + 32, len);
        put_crc(p + off + 28, p + off, 28);
        off += 32 + len;
    }
}

static void read_once(const uint8_t *data, size_t size) {
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp) {
        return;
    }
    counts_t counts = {0, 0};
    uint64_t progress = 0;
    hg_read_options_t opt = {.progress = on_progress, .progress_ud = &progress};
    hg_read_result_t res;
    hg_error_t err;
    hg_hgt_read(fp, "fuzz.hgt", size, (hg_sink_t){&counting_ops, &counts}, &opt, &res, &err);
    fclose(fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0; /* fmemopen refuses an empty buffer */
    }
    read_once(data, size);
    uint8_t *fixed = malloc(size);
    if (fixed) {
        memcpy(fixed, data, size);
        fix_crcs(fixed, size);
        read_once(fixed, size);
        free(fixed);
    }
    return 0;
}
