/* text_read.h - private to the text trace reader: its state, shared between the line loop
 * (text_read.c) and the code that turns a parsed line into sink calls (text_deliver.c). */
#ifndef HG_TEXT_READ_H
#define HG_TEXT_READ_H

#include "formats.h"
#include "text_fields.h"
#include "text_stackset.h"

typedef struct hg__text_reader {
    hg__text_src_t src;
    hg_sink_t sink;
    bool header_seen;    /* "hgtrace 1" was read */
    bool trace_sent;     /* sink->trace was called: "trace" lines are over */
    uint64_t trace_seen; /* trace keys given so far (each at most once) */
    hg_trace_info_t trace;
    hg__text_defaults_t dflt;
    hg__text_stackset_t stacks;
    hg__text_fields_t f; /* the current line's values */
} hg__text_reader_t;

/* Calls sink->trace unless done already. Returns 0 or the sink's error. */
int hg__text_send_trace(hg__text_reader_t *r);

/* Deliver the current line (r->f) as parsed for rec; ts_ns is an event line's time. Each
 * returns 0, HG_EFORMAT / HG_ENOMEM (message in r->src.err) or the sink's error. */
int hg__text_deliver_event(hg__text_reader_t *r, const hg__text_rec_t *rec, uint64_t ts_ns);
int hg__text_deliver_directive(hg__text_reader_t *r, const hg__text_rec_t *rec, const char *rec_at);

#endif
