/* hgt_encode.h - private to tracker/formats: turns sink calls into .hgt record bytes
 * (docs/hgt-format.md §5). No I/O: the writer (hgt_write.c) owns the chunk buffer, the
 * compression and the file. */
#ifndef HG_HGT_ENCODE_H
#define HG_HGT_ENCODE_H

#include "hgt_codec.h"

/* Write positions in the streams of the chunk being built. */
typedef struct hg__hgt_out {
    uint8_t *p[HGT_STREAMS];
} hg__hgt_out_t;

#define HGT_RING_INDEX 4096 /* hash slots that find addresses in the ring */

/* The writer's side of the coding state: the state the decoder mirrors, plus an index from an
 * address's hash to its latest ring position. The index may be stale or collide: a hit is
 * checked against the ring, a miss only costs a delta instead of a ring place. */
typedef struct hg__hgt_encoder {
    hg__hgt_state_t st;
    uint32_t ring_index[HGT_RING_INDEX];
} hg__hgt_encoder_t;

/* Resets the coding state for a new chunk (the index stays: it is checked on use). */
void hg__hgt_encoder_reset(hg__hgt_encoder_t *e);

/* Encodes ev (kind 1..9) into the streams at o, each with HGT_MAX_EVENT_BYTES of room, against
 * the chunk's coding state (updated); advances the positions. */
void hg__hgt_encode_event(hg__hgt_out_t *o, hg__hgt_encoder_t *e, const hg_event_t *ev);

/* Metadata record bodies (§5.3), appended to body (which the caller resets). Strings longer
 * than HGT_MAX_STRING are cut at a UTF-8 character boundary; stacks deeper than HGT_MAX_FRAMES
 * keep their innermost frames. The caller checks body->failed and the build-id length. */
void hg__hgt_encode_trace(hg_buf_t *body, const hg_trace_info_t *info);
void hg__hgt_encode_process(hg_buf_t *body, const hg_process_info_t *info);
void hg__hgt_encode_module(hg_buf_t *body, const hg_module_info_t *info);
void hg__hgt_encode_stack(hg_buf_t *body, uint32_t stack_id, const uint64_t *frames,
                          uint32_t nframes);
void hg__hgt_encode_stats(hg_buf_t *body, const hg_alloc_stats_t *stats);
void hg__hgt_encode_end(hg_buf_t *body, uint64_t records_before);

/* Appends a metadata record: its tag to the tags stream, body length and body to the meta one. */
void hg__hgt_frame_record(hg_buf_t *tags, hg_buf_t *meta, uint8_t tag, const hg_buf_t *body);

/* Appends to raw the payload layout of §5.1: the stream count, each stream's length, then the
 * streams themselves. */
void hg__hgt_join_streams(hg_buf_t *raw, const hg_buf_t streams[HGT_STREAMS]);

#endif
