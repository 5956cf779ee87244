/* hgt_decode.h - private to tracker/formats: decodes the records of one inflated .hgt chunk and
 * delivers them to a sink (docs/hgt-format.md §5). No I/O and no inflate: hgt_read.c feeds it
 * whole, checked chunk payloads. */
#ifndef HG_HGT_DECODE_H
#define HG_HGT_DECODE_H

#include "hgt_codec.h"

typedef struct hg__hgt_decoder {
    hg_sink_t sink;
    char *strings;    /* scratch for two strings of up to HGT_MAX_STRING bytes; lazy */
    uint64_t *frames; /* scratch: HGT_MAX_FRAMES frames */
    uint64_t records; /* records decoded so far, all chunks */
    bool ended;       /* the END record was decoded */
    /* After a failure: */
    bool sink_failed; /* the code came from the sink (why is NULL) */
    const char *why;  /* what was wrong, for HG_EFORMAT */
    uint32_t record;  /* index in its chunk of the record that was wrong */
    size_t where;     /* payload offset of that record's tag */
    char why_buf[160];
} hg__hgt_decoder_t;

/* Prepares d to deliver to sink. Returns 0 or HG_ENOMEM (d then needs no free). */
int hg__hgt_decoder_init(hg__hgt_decoder_t *d, hg_sink_t sink);
void hg__hgt_decoder_free(hg__hgt_decoder_t *d);

/* Decodes raw[0..len), a whole chunk payload whose header declared `records` records, calling
 * the sink for each record in order. Returns 0; HG_EFORMAT with why, record and where set
 * (records before the bad one were delivered); HG_ENOMEM; or the nonzero value a sink callback
 * returned (sink_failed). */
int hg__hgt_decode_chunk(hg__hgt_decoder_t *d, const uint8_t *raw, size_t len, uint32_t records);

#endif
