/* hgt_testlib.h - helpers for the .hgt tests (test_hgt.c) and the corpus generator:
 *
 * - a recording sink that logs every callback with all its fields, one line each, so two
 *   streams compare as two strings, and that can fail at its N-th callback;
 * - a crafter that builds .hgt bytes from docs/hgt-format.md alone (its own varints, headers
 *   and CRCs, not the implementation's), for hostile and hand-made inputs;
 * - a synthetic allocation stream from a simulated size-class allocator with LIFO free lists,
 *   the "typical alloc/free/realloc stream" the size bound is stated for. */
#ifndef HG_TEST_HGT_TESTLIB_H
#define HG_TEST_HGT_TESTLIB_H

#include "formats.h"

#include <stdint.h>
#include <stdio.h>

/* ---- recording sink ----------------------------------------------------------------------- */

typedef struct hgt_rec {
    hg_buf_t log;
    uint64_t records; /* callbacks received */
    uint64_t events;  /* of which events */
    uint64_t fail_at; /* fail the callback with this 1-based number (0: never) */
    int fail_rc;      /* ...returning this */
} hgt_rec_t;

void hgt_rec_init(hgt_rec_t *r);
void hgt_rec_free(hgt_rec_t *r);
hg_sink_t hgt_rec_sink(hgt_rec_t *r);

/* ---- reading helpers ---------------------------------------------------------------------- */

typedef struct hgt_outcome {
    int rc;
    hg_read_result_t res;
    hg_error_t err;
} hgt_outcome_t;

/* Reads data[0..n) through fmemopen (a temporary file when n is 0) as "mem.hgt" into sink. */
hgt_outcome_t hgt_read_mem(const void *data, size_t n, hg_sink_t sink);
/* Reads a whole file into *out (malloc'd; caller frees); returns its size or (size_t)-1. */
size_t hgt_slurp(const char *path, uint8_t **out);

/* ---- crafting files by the specification -------------------------------------------------- */

void hgt_craft_varint(hg_buf_t *b, uint64_t v);
void hgt_craft_u32(hg_buf_t *b, uint32_t v);
/* Signature and a 1.0 file header with the given major version and a correct CRC. */
void hgt_craft_file_header(hg_buf_t *b, uint16_t major);
/* A chunk around raw[0..raw_len): method 0 stored or 1 zlib; header fields and both CRCs as
 * given by the arguments (CRCs computed correctly). */
void hgt_craft_chunk(hg_buf_t *b, uint8_t method, uint32_t seq, const void *raw, size_t raw_len,
                     uint32_t records);
/* A chunk header with arbitrary fields and a correct header CRC, followed by payload. */
void hgt_craft_chunk_raw(hg_buf_t *b, uint8_t method, uint32_t seq, uint32_t comp_len,
                         uint32_t raw_len, uint32_t records, const void *payload,
                         size_t payload_len);
/* Appends hex pairs ("01 ff") as bytes. */
void hgt_craft_hex(hg_buf_t *b, const char *hex);
/* A chunk payload (§5.1) from the hex of its streams: tags, times, context, addresses, sizes,
 * stacks, meta (NULL = empty), then `extra` further streams of hex (a later minor version). */
void hgt_craft_payload(hg_buf_t *raw, const char *const streams[7], const char *const *extra,
                       int nextra);

typedef struct hgt_chunk_pos {
    size_t offset; /* of its header */
    size_t end;    /* of its payload */
    uint32_t records;
    uint8_t method;
} hgt_chunk_pos_t;

/* The chunks of a well-formed file, in order; returns how many (at most max). */
size_t hgt_chunks(const uint8_t *file, size_t n, hgt_chunk_pos_t *out, size_t max);

/* ---- synthetic allocation stream ---------------------------------------------------------- */

/* Delivers trace info, a process, modules, `events` heap events from a simulated allocator
 * (4 threads, 256 call sites) and the stack definitions after their use. Deterministic for
 * a seed. Returns 0 or the first sink error. */
int hgt_synth(hg_sink_t sink, uint32_t events, uint64_t seed);
/* The same with timestamps rounded down to a timer resolution of tick_ns (100: ETW's QPC). */
int hgt_synth_ticks(hg_sink_t sink, uint32_t events, uint64_t seed, uint64_t tick_ns);

/* Every record type with every field set, edge values included (stacks defined after use,
 * NULL and empty strings, 256-frame stacks, times going backwards, all event kinds). */
int hgt_everything(hg_sink_t sink);

#endif
