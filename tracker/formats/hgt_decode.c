/* hgt_decode.c - decodes the records of one inflated .hgt chunk (docs/hgt-format.md §5) and
 * calls the sink for each.
 *
 * The payload opens with a table of stream lengths (§5.1); each stream gets its own bounded
 * cursor and the tags stream drives the loop: every tag says which fields to take from which
 * stream. The event path is the hot one: a tag byte, an optional field-bits byte and a handful
 * of varints read through the inline cursors of hgt_codec.h, undoing the coding of §5.4 (deltas,
 * the recent-address ring, the size cache) against the chunk state. Cursor errors land in one
 * slot (d->why), checked once per record, so nothing reaches the sink from a record that failed.
 * Metadata records carry their body length: their fields are read through a cursor bounded by
 * the body, and bytes after the fields this version knows are skipped (room for later minor
 * versions, §8). At the end every stream must be used up exactly. */
#include "hgt_decode.h"

#include <stdio.h>
#include <string.h>

/* What running out of each stream means. */
static const char *const stream_end[HGT_STREAMS] = {
    [HGT_S_TAGS] = "the tags stream ends inside this record",
    [HGT_S_TIMES] = "the times stream ends before this event's timestamp",
    [HGT_S_CONTEXT] = "the context stream ends before this event's context fields",
    [HGT_S_ADDRS] = "the addresses stream ends before this event's addresses",
    [HGT_S_SIZES] = "the sizes stream ends before this event's sizes",
    [HGT_S_STACKS] = "the stacks stream ends before this event's stack id",
    [HGT_S_META] = "the meta stream ends before this record's body",
};
static const char *const stream_name[HGT_STREAMS] = {"tags",  "times",  "context", "addresses",
                                                     "sizes", "stacks", "meta"};

int hg__hgt_decoder_init(hg__hgt_decoder_t *d, hg_sink_t sink) {
    memset(d, 0, sizeof *d);
    d->sink = sink;
    d->frames = hg_malloc(HGT_MAX_FRAMES * sizeof *d->frames);
    if (!d->frames) {
        hg__hgt_decoder_free(d);
        return HG_ENOMEM;
    }
    return 0;
}

void hg__hgt_decoder_free(hg__hgt_decoder_t *d) {
    hg_free(d->strings);
    hg_free(d->frames);
    d->strings = NULL;
    d->frames = NULL;
}

static int bad(hg__hgt_decoder_t *d, const char *why) {
    d->why = why;
    return HG_EFORMAT;
}

static int sink_rc(hg__hgt_decoder_t *d, int rc) {
    d->sink_failed = rc != 0;
    return rc;
}

/* ---- events ------------------------------------------------------------------------------- */

static inline void decode_context(hg__hgt_cursor_t *c, hg__hgt_state_t *st, unsigned tag,
                                  unsigned extra) {
    if (extra & HGT_F_PID) {
        st->pid = hg__hgt_varint32(c);
    }
    if (tag & HGT_EV_TID) {
        st->tid = hg__hgt_varint32(c);
    }
    if (tag & HGT_EV_HEAP) {
        st->heap = hg__hgt_varint(c);
    }
    if (tag & HGT_EV_SRC) {
        st->source = (uint8_t)hg__hgt_varint_max(c, UINT8_MAX, "event source above 255");
        st->flags = (uint16_t)hg__hgt_varint_max(c, UINT16_MAX, "event flags above 0xffff");
    }
}

/* An address code (§5.4): odd = ring place * 2 + 1, even = zigzag delta * 2; literal: plain.
 * Every address but a hit on the newest ring entry is pushed to the ring. */
static inline uint64_t decode_addr(hg__hgt_cursor_t *c, hg__hgt_state_t *st, unsigned literal) {
    uint64_t v = hg__hgt_varint(c), a;
    if (literal) {
        a = v;
    } else if (v & 1) {
        if ((v >> 1) >= HGT_RING) {
            return hg__hgt_fail(c, "address ring place beyond 1023");
        }
        a = hg__hgt_ring_get(st, (uint32_t)(v >> 1));
    } else {
        a = st->addr + hg__hgt_unzigzag(v >> 1);
    }
    if (v != 1 || literal) {
        hg__hgt_ring_push(st, a);
    }
    st->addr = a;
    return a;
}

/* A size code (§5.4): for allocations 0 = the size in the stack's cache slot, else size + 1. */
static inline uint64_t decode_size(hg__hgt_cursor_t *c, hg__hgt_state_t *st, unsigned kind,
                                   uint32_t stack_id, unsigned literal) {
    uint64_t v = hg__hgt_varint(c);
    if (!hg__hgt_size_cached(kind)) {
        return v;
    }
    uint64_t *slot = &st->size_cache[stack_id % HGT_SIZE_CACHE];
    *slot = literal ? v : v == 0 ? *slot : v - 1;
    return *slot;
}

static inline void decode_fields(hg__hgt_cursor_t *c, hg__hgt_state_t *st, unsigned kind,
                                 unsigned fields, hg_event_t *ev) {
    unsigned literal = fields & HGT_F_LITERAL;
    ev->stack_id = (fields & HGT_F_STACK) ? hg__hgt_varint32(&c[HGT_S_STACKS]) : 0;
    uint64_t addr = (fields & HGT_F_ADDR) ? decode_addr(&c[HGT_S_ADDRS], st, literal) : 0;
    ev->addr = addr;
    ev->old_addr =
        (fields & HGT_F_OLD_ADDR) ? addr + hg__hgt_unzigzag(hg__hgt_varint(&c[HGT_S_ADDRS])) : 0;
    ev->size =
        (fields & HGT_F_SIZE) ? decode_size(&c[HGT_S_SIZES], st, kind, ev->stack_id, literal) : 0;
    ev->old_size = (fields & HGT_F_OLD_SIZE) ? hg__hgt_varint(&c[HGT_S_SIZES]) : 0;
}

static inline int decode_event(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c, hg__hgt_state_t *st,
                               unsigned tag) {
    unsigned kind = tag & 0x0f, extra = 0;
    if (tag & HGT_EV_EXTRA) {
        extra = hg__hgt_byte(&c[HGT_S_TAGS]);
    }
    uint64_t dt = hg__hgt_varint(&c[HGT_S_TIMES]);
    st->ts_ns = (extra & HGT_F_TS_BACK) ? st->ts_ns - dt : st->ts_ns + dt;
    decode_context(&c[HGT_S_CONTEXT], st, tag, extra);
    hg_event_t ev;
    decode_fields(c, st, kind, hg__hgt_primary_fields[kind] | extra, &ev);
    if (d->why) {
        return HG_EFORMAT;
    }
    ev.kind = (uint8_t)kind;
    ev.source = st->source;
    ev.flags = st->flags;
    ev.pid = st->pid;
    ev.tid = st->tid;
    ev.ts_ns = st->ts_ns;
    ev.heap = st->heap;
    return d->sink.ops->event ? sink_rc(d, d->sink.ops->event(d->sink.ctx, &ev)) : 0;
}

/* ---- metadata ----------------------------------------------------------------------------- */

/* A string field (§2.3) copied NUL-terminated into scratch slot i; NULL for a null string or
 * on failure (recorded in c). */
static const char *get_string(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c, int i) {
    uint64_t n = hg__hgt_varint_max(c, HGT_MAX_STRING + 1, "string longer than 65535 bytes");
    const uint8_t *p = n ? hg__hgt_bytes(c, n - 1) : NULL;
    if (!p) {
        return NULL;
    }
    if (memchr(p, 0, n - 1)) {
        hg__hgt_fail(c, "string contains a NUL byte");
        return NULL;
    }
    char *s = d->strings + (size_t)i * (HGT_MAX_STRING + 1);
    memcpy(s, p, n - 1);
    s[n - 1] = '\0';
    return s;
}

static int meta_trace(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c) {
    hg_trace_info_t t = {0};
    t.format = get_string(d, c, 0);
    t.start_wall_ns = hg__hgt_varint(c);
    t.duration_hint_ns = hg__hgt_varint(c);
    t.pointer_size = (uint8_t)hg__hgt_varint_max(c, UINT8_MAX, "pointer size above 255");
    t.lost_counts_known = (hg__hgt_varint(c) & HGT_TRACE_LOST_KNOWN) != 0;
    if (d->why) {
        return HG_EFORMAT;
    }
    return d->sink.ops->trace ? sink_rc(d, d->sink.ops->trace(d->sink.ctx, &t)) : 0;
}

static int meta_process(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c) {
    hg_process_info_t p = {0};
    p.pid = hg__hgt_varint32(c);
    p.parent_pid = hg__hgt_varint32(c);
    p.name = get_string(d, c, 0);
    p.cmdline = get_string(d, c, 1);
    p.pointer_size = (uint8_t)hg__hgt_varint_max(c, UINT8_MAX, "pointer size above 255");
    p.allocator = (uint8_t)hg__hgt_varint_max(c, UINT8_MAX, "allocator above 255");
    if (d->why) {
        return HG_EFORMAT;
    }
    return d->sink.ops->process ? sink_rc(d, d->sink.ops->process(d->sink.ctx, &p)) : 0;
}

static void module_identity(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c, hg_module_info_t *m) {
    m->build_id_len =
        (uint32_t)hg__hgt_varint_max(c, HGT_MAX_BUILD_ID, "build-id longer than 64 bytes");
    m->build_id = m->build_id_len ? hg__hgt_bytes(c, m->build_id_len) : NULL;
    m->build_id_len = m->build_id ? m->build_id_len : 0;
    m->pdb_name = get_string(d, c, 1);
    const uint8_t *guid = hg__hgt_bytes(c, sizeof m->pdb_guid);
    if (guid) {
        memcpy(m->pdb_guid, guid, sizeof m->pdb_guid);
    }
    m->pdb_age = hg__hgt_varint32(c);
    m->pe_timestamp = hg__hgt_varint32(c);
}

static int meta_module(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c) {
    hg_module_info_t m = {0};
    m.pid = hg__hgt_varint32(c);
    m.unload = (hg__hgt_varint(c) & HGT_MODULE_UNLOAD) != 0;
    m.base = hg__hgt_varint(c);
    m.size = hg__hgt_varint(c);
    m.ts_ns = hg__hgt_varint(c);
    m.path = get_string(d, c, 0);
    module_identity(d, c, &m);
    if (d->why) {
        return HG_EFORMAT;
    }
    return d->sink.ops->module ? sink_rc(d, d->sink.ops->module(d->sink.ctx, &m)) : 0;
}

static int meta_stack(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c) {
    uint32_t id = hg__hgt_varint32(c);
    if (id == 0 && !d->why) {
        hg__hgt_fail(c, "stack id 0 in a stack definition (0 means no stack)");
    }
    uint32_t n = (uint32_t)hg__hgt_varint_max(c, HGT_MAX_FRAMES, "stack of more than 256 frames");
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        prev += hg__hgt_unzigzag(hg__hgt_varint(c));
        d->frames[i] = prev;
    }
    if (d->why) {
        return HG_EFORMAT;
    }
    return d->sink.ops->stack ? sink_rc(d, d->sink.ops->stack(d->sink.ctx, id, d->frames, n)) : 0;
}

static int meta_stats(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c) {
    hg_alloc_stats_t s = {0};
    s.pid = hg__hgt_varint32(c);
    s.ts_ns = hg__hgt_varint(c);
    s.arena_bytes = hg__hgt_varint(c);
    s.in_use_bytes = hg__hgt_varint(c);
    s.free_bytes = hg__hgt_varint(c);
    s.mmapped_bytes = hg__hgt_varint(c);
    s.rss_bytes = hg__hgt_varint(c);
    if (d->why) {
        return HG_EFORMAT;
    }
    return d->sink.ops->stats ? sink_rc(d, d->sink.ops->stats(d->sink.ctx, &s)) : 0;
}

static int meta_end(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c) {
    uint64_t before = hg__hgt_varint(c);
    if (d->why) {
        return HG_EFORMAT;
    }
    if (before != d->records) {
        snprintf(d->why_buf, sizeof d->why_buf,
                 "end record counts %llu records before it, the file holds %llu",
                 (unsigned long long)before, (unsigned long long)d->records);
        return bad(d, d->why_buf);
    }
    d->ended = true;
    return 0;
}

static int unknown_tag(hg__hgt_decoder_t *d, unsigned tag) {
    snprintf(d->why_buf, sizeof d->why_buf,
             "unknown record tag 0x%02x (expected an event kind 1..9 or a record type)", tag);
    return bad(d, d->why_buf);
}

static int meta_body(hg__hgt_decoder_t *d, hg__hgt_cursor_t *body, unsigned tag) {
    switch (tag) {
    case HGT_TAG_TRACE:
        return meta_trace(d, body);
    case HGT_TAG_PROCESS:
        return meta_process(d, body);
    case HGT_TAG_MODULE:
        return meta_module(d, body);
    case HGT_TAG_STACK:
        return meta_stack(d, body);
    case HGT_TAG_STATS:
        return meta_stats(d, body);
    case HGT_TAG_END:
        return meta_end(d, body);
    case HGT_TAG_SKIP:
        return 0;
    default:
        return unknown_tag(d, tag);
    }
}

/* The string scratch, allocated for the first record that has strings. */
static int need_strings(hg__hgt_decoder_t *d, unsigned tag) {
    if (d->strings || (tag != HGT_TAG_TRACE && tag != HGT_TAG_PROCESS && tag != HGT_TAG_MODULE)) {
        return 0;
    }
    d->strings = hg_malloc(2 * (HGT_MAX_STRING + 1));
    return d->strings ? 0 : HG_ENOMEM;
}

/* A metadata record: its body length and body come from the meta stream, read through a
 * cursor of their own. */
static int decode_meta(hg__hgt_decoder_t *d, hg__hgt_cursor_t *meta, unsigned tag) {
    uint64_t len = hg__hgt_varint(meta);
    if (!d->why && len > (uint64_t)(meta->end - meta->p)) {
        hg__hgt_fail(meta, "record length runs past the end of the meta stream");
    }
    if (d->why) {
        return HG_EFORMAT;
    }
    hg__hgt_cursor_t body = {meta->p, meta->p + len, "record body shorter than its fields",
                             &d->why};
    meta->p += len;
    return need_strings(d, tag) != 0 ? HG_ENOMEM : meta_body(d, &body, tag);
}

/* ---- the chunk ---------------------------------------------------------------------------- */

/* Reads the stream table (§5.1) and points one cursor at each known stream. */
static int split_streams(hg__hgt_decoder_t *d, const uint8_t *raw, size_t len,
                         hg__hgt_cursor_t *c) {
    hg__hgt_cursor_t t = {raw, raw + len, "the stream table runs past the end of the chunk",
                          &d->why};
    uint64_t n = hg__hgt_varint_max(&t, HGT_MAX_STREAMS, "more than 64 streams");
    uint64_t lens[HGT_MAX_STREAMS], total = 0;
    if (!d->why && n < HGT_STREAMS) {
        return bad(d, "fewer than 7 streams");
    }
    for (uint64_t i = 0; i < n && !d->why; i++) {
        lens[i] = hg__hgt_varint(&t);
        total += lens[i] <= len ? lens[i] : len + 1; /* no overflow: n <= 64 */
    }
    if (!d->why && total != (uint64_t)(t.end - t.p)) {
        return bad(d, "stream lengths do not add up to the chunk's raw length");
    }
    for (int i = 0; i < HGT_STREAMS && !d->why; i++) {
        c[i] = (hg__hgt_cursor_t){t.p, t.p + lens[i], stream_end[i], &d->why};
        t.p += lens[i];
    }
    return d->why ? HG_EFORMAT : 0;
}

/* Every stream must be used up by the records the tags describe. */
static int check_leftovers(hg__hgt_decoder_t *d, const hg__hgt_cursor_t *c) {
    for (int i = 0; i < HGT_STREAMS; i++) {
        if (c[i].p != c[i].end) {
            snprintf(d->why_buf, sizeof d->why_buf, "the %s stream has %zu bytes no record uses",
                     stream_name[i], (size_t)(c[i].end - c[i].p));
            return bad(d, d->why_buf);
        }
    }
    return 0;
}

static int count_mismatch(hg__hgt_decoder_t *d, uint32_t declared, uint32_t found) {
    snprintf(d->why_buf, sizeof d->why_buf,
             "chunk header declares %u records, its payload holds %u", declared, found);
    return bad(d, d->why_buf);
}

static int decode_record(hg__hgt_decoder_t *d, hg__hgt_cursor_t *c, hg__hgt_state_t *st) {
    if (d->ended) {
        return bad(d, "record after the end record");
    }
    unsigned tag = *c[HGT_S_TAGS].p++;
    if ((tag & 0x0f) - 1u < HG_EV_KIND_MAX) {
        return decode_event(d, c, st, tag);
    }
    return (tag & 0x0f) == 0 ? decode_meta(d, &c[HGT_S_META], tag) : unknown_tag(d, tag);
}

int hg__hgt_decode_chunk(hg__hgt_decoder_t *d, const uint8_t *raw, size_t len, uint32_t records) {
    hg__hgt_cursor_t c[HGT_STREAMS];
    hg__hgt_state_t st;
    d->why = NULL;
    d->sink_failed = false;
    d->record = 0;
    d->where = 0;
    if (split_streams(d, raw, len, c) != 0) {
        return HG_EFORMAT;
    }
    memset(&st, 0, sizeof st);
    for (; c[HGT_S_TAGS].p < c[HGT_S_TAGS].end; d->record++) {
        d->where = (size_t)(c[HGT_S_TAGS].p - raw);
        int rc = decode_record(d, c, &st);
        if (rc != 0) {
            return rc;
        }
        d->records++;
    }
    d->where = len;
    if (check_leftovers(d, c) != 0) {
        return HG_EFORMAT;
    }
    return d->record == records ? 0 : count_mismatch(d, records, d->record);
}
