/* hgt_encode.c - encodes records of the .hgt format (docs/hgt-format.md §5).
 *
 * A record's tag byte goes to the tags stream; its fields go to the stream of their kind
 * (times, context, addresses, sizes, stacks, meta), so deflate compresses alike bytes together.
 * An event's tag has the kind in its low nibble and, in its high bits, which context (tid, heap,
 * source+flags) changed since the chunk's previous event; a field-bits byte follows for fields
 * the kind does not usually carry. Values are LEB128 varints coded against the chunk state: the
 * timestamp as a delta; an address as its place in a ring of the 1024 latest addresses (freed
 * blocks come back, recent blocks get freed) or else a zigzag delta; an allocation's size as
 * "the same as the last size of this stack's cache slot" or the size itself. Ring hits are found
 * through a hash index rather than a scan, so encoding stays O(1) per field.
 * Metadata records are rare: their bodies are built in a scratch buffer and framed with a
 * length so later minor versions can append fields. */
#include "hgt_encode.h"

#include <string.h>

/* Fields that are nonzero, as HGT_F_ bits (pid excluded: it is context). */
static uint8_t nonzero_fields(const hg_event_t *ev) {
    return (uint8_t)((ev->addr ? HGT_F_ADDR : 0) | (ev->size ? HGT_F_SIZE : 0) |
                     (ev->old_addr ? HGT_F_OLD_ADDR : 0) | (ev->old_size ? HGT_F_OLD_SIZE : 0) |
                     (ev->stack_id ? HGT_F_STACK : 0));
}

void hg__hgt_encoder_reset(hg__hgt_encoder_t *e) {
    memset(&e->st, 0, sizeof e->st);
}

/* Fibonacci hashing (Knuth, TAOCP vol. 3, §6.4) of the address without its alignment bits. */
static uint32_t ring_slot(uint64_t addr) {
    return (uint32_t)(((addr >> 3) * 0x9E3779B97F4A7C15ull) >> 52) % HGT_RING_INDEX;
}

/* The ring place of addr (0 = newest), or -1 when the index does not know it there. */
static int ring_find(const hg__hgt_encoder_t *e, uint64_t addr) {
    uint32_t pos = e->ring_index[ring_slot(addr)];
    uint32_t back = e->st.ring_head - 1 - pos;
    return back < HGT_RING && e->st.ring[pos % HGT_RING] == addr ? (int)back : -1;
}

static void ring_push(hg__hgt_encoder_t *e, uint64_t addr) {
    e->ring_index[ring_slot(addr)] = e->st.ring_head;
    hg__hgt_ring_push(&e->st, addr);
}

/* True when neither the ring nor a 63-bit delta can code addr, or the size cache cannot code
 * size (it codes size + 1): the event then carries both plainly (§5.4). */
static bool needs_literal(const hg__hgt_encoder_t *e, const hg_event_t *ev, uint8_t fields) {
    if (hg__hgt_size_cached(ev->kind) && ev->size == UINT64_MAX) {
        return true;
    }
    return (fields & HGT_F_ADDR) && (hg__hgt_zigzag(ev->addr - e->st.addr) >> 63) != 0 &&
           ring_find(e, ev->addr) < 0;
}

static uint8_t event_tag(const hg__hgt_state_t *st, const hg_event_t *ev, uint8_t extra) {
    uint8_t tag = ev->kind;
    tag |= ev->tid != st->tid ? HGT_EV_TID : 0;
    tag |= ev->heap != st->heap ? HGT_EV_HEAP : 0;
    tag |= (ev->source != st->source || ev->flags != st->flags) ? HGT_EV_SRC : 0;
    tag |= extra ? HGT_EV_EXTRA : 0;
    return tag;
}

/* The context part: pid, tid, heap, source and flags, each only when it changed. */
static uint8_t *put_context(uint8_t *p, hg__hgt_state_t *st, const hg_event_t *ev, uint8_t tag,
                            uint8_t extra) {
    if (extra & HGT_F_PID) {
        p = hg__hgt_put_varint(p, ev->pid);
        st->pid = ev->pid;
    }
    if (tag & HGT_EV_TID) {
        p = hg__hgt_put_varint(p, ev->tid);
        st->tid = ev->tid;
    }
    if (tag & HGT_EV_HEAP) {
        p = hg__hgt_put_varint(p, ev->heap);
        st->heap = ev->heap;
    }
    if (tag & HGT_EV_SRC) {
        p = hg__hgt_put_varint(p, ev->source);
        p = hg__hgt_put_varint(p, ev->flags);
        st->source = ev->source;
        st->flags = ev->flags;
    }
    return p;
}

/* The address code: odd = ring place * 2 + 1, even = zigzag delta * 2; literal: plain. */
static uint64_t addr_code(hg__hgt_encoder_t *e, uint64_t addr, bool literal) {
    int back = literal ? -1 : ring_find(e, addr);
    uint64_t code = literal     ? addr
                    : back >= 0 ? 2 * (uint64_t)back + 1
                                : hg__hgt_zigzag(addr - e->st.addr) << 1;
    if (back != 0) {
        ring_push(e, addr);
    }
    e->st.addr = addr;
    return code;
}

static uint64_t size_code(hg__hgt_state_t *st, const hg_event_t *ev, bool literal) {
    if (!hg__hgt_size_cached(ev->kind)) {
        return ev->size;
    }
    uint64_t *slot = &st->size_cache[ev->stack_id % HGT_SIZE_CACHE];
    uint64_t code = literal ? ev->size : *slot == ev->size ? 0 : ev->size + 1;
    *slot = ev->size;
    return code;
}

static void put_fields(hg__hgt_out_t *o, hg__hgt_encoder_t *e, const hg_event_t *ev,
                       uint8_t fields) {
    bool literal = (fields & HGT_F_LITERAL) != 0;
    uint64_t addr = (fields & HGT_F_ADDR) ? ev->addr : 0;
    if (fields & HGT_F_STACK) {
        o->p[HGT_S_STACKS] = hg__hgt_put_varint(o->p[HGT_S_STACKS], ev->stack_id);
    }
    if (fields & HGT_F_ADDR) {
        o->p[HGT_S_ADDRS] = hg__hgt_put_varint(o->p[HGT_S_ADDRS], addr_code(e, addr, literal));
    }
    if (fields & HGT_F_OLD_ADDR) {
        o->p[HGT_S_ADDRS] =
            hg__hgt_put_varint(o->p[HGT_S_ADDRS], hg__hgt_zigzag(ev->old_addr - addr));
    }
    if (fields & HGT_F_SIZE) {
        o->p[HGT_S_SIZES] = hg__hgt_put_varint(o->p[HGT_S_SIZES], size_code(&e->st, ev, literal));
    }
    if (fields & HGT_F_OLD_SIZE) {
        o->p[HGT_S_SIZES] = hg__hgt_put_varint(o->p[HGT_S_SIZES], ev->old_size);
    }
}

static uint8_t field_bits(const hg__hgt_encoder_t *e, const hg_event_t *ev, uint8_t primary) {
    uint8_t extra = (uint8_t)(nonzero_fields(ev) & ~primary);
    extra |= ev->pid != e->st.pid ? HGT_F_PID : 0;
    extra |= ev->ts_ns < e->st.ts_ns ? HGT_F_TS_BACK : 0;
    extra |= needs_literal(e, ev, primary | extra) ? HGT_F_LITERAL : 0;
    return extra;
}

void hg__hgt_encode_event(hg__hgt_out_t *o, hg__hgt_encoder_t *e, const hg_event_t *ev) {
    uint8_t primary = hg__hgt_primary_fields[ev->kind];
    uint8_t extra = field_bits(e, ev, primary);
    uint8_t tag = event_tag(&e->st, ev, extra);
    *o->p[HGT_S_TAGS]++ = tag;
    if (extra) {
        *o->p[HGT_S_TAGS]++ = extra;
    }
    uint64_t dt = (extra & HGT_F_TS_BACK) ? e->st.ts_ns - ev->ts_ns : ev->ts_ns - e->st.ts_ns;
    o->p[HGT_S_TIMES] = hg__hgt_put_varint(o->p[HGT_S_TIMES], dt);
    e->st.ts_ns = ev->ts_ns;
    o->p[HGT_S_CONTEXT] = put_context(o->p[HGT_S_CONTEXT], &e->st, ev, tag, extra);
    put_fields(o, e, ev, (uint8_t)(primary | extra));
}

/* ---- metadata bodies ---------------------------------------------------------------------- */

static void put_varint(hg_buf_t *b, uint64_t v) {
    uint8_t tmp[10];
    hg_buf_append(b, tmp, (size_t)(hg__hgt_put_varint(tmp, v) - tmp));
}

/* The longest prefix of s no longer than HGT_MAX_STRING that does not split a UTF-8 sequence
 * (continuation bytes are 10xxxxxx, RFC 3629 §3). */
static size_t cut_string(const char *s) {
    size_t n = strlen(s);
    if (n <= HGT_MAX_STRING) {
        return n;
    }
    n = HGT_MAX_STRING;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
        n--;
    }
    return n;
}

/* A string is varint (length + 1) then its bytes; 0 stands for NULL (§2.3). */
static void put_string(hg_buf_t *b, const char *s) {
    if (!s) {
        put_varint(b, 0);
        return;
    }
    size_t n = cut_string(s);
    put_varint(b, (uint64_t)n + 1);
    hg_buf_append(b, s, n);
}

void hg__hgt_encode_trace(hg_buf_t *body, const hg_trace_info_t *info) {
    put_string(body, info->format);
    put_varint(body, info->start_wall_ns);
    put_varint(body, info->duration_hint_ns);
    put_varint(body, info->pointer_size);
    put_varint(body, info->lost_counts_known ? HGT_TRACE_LOST_KNOWN : 0);
}

void hg__hgt_encode_process(hg_buf_t *body, const hg_process_info_t *info) {
    put_varint(body, info->pid);
    put_varint(body, info->parent_pid);
    put_string(body, info->name);
    put_string(body, info->cmdline);
    put_varint(body, info->pointer_size);
    put_varint(body, info->allocator);
}

void hg__hgt_encode_module(hg_buf_t *body, const hg_module_info_t *info) {
    uint32_t id_len = info->build_id ? info->build_id_len : 0;
    put_varint(body, info->pid);
    put_varint(body, info->unload ? HGT_MODULE_UNLOAD : 0);
    put_varint(body, info->base);
    put_varint(body, info->size);
    put_varint(body, info->ts_ns);
    put_string(body, info->path);
    put_varint(body, id_len);
    hg_buf_append(body, info->build_id ? info->build_id : (const uint8_t *)"", id_len);
    put_string(body, info->pdb_name);
    hg_buf_append(body, info->pdb_guid, sizeof info->pdb_guid);
    put_varint(body, info->pdb_age);
    put_varint(body, info->pe_timestamp);
}

void hg__hgt_encode_stack(hg_buf_t *body, uint32_t stack_id, const uint64_t *frames,
                          uint32_t nframes) {
    uint32_t n = nframes > HGT_MAX_FRAMES ? HGT_MAX_FRAMES : nframes;
    uint64_t prev = 0;
    put_varint(body, stack_id);
    put_varint(body, n);
    for (uint32_t i = 0; i < n; i++) {
        put_varint(body, hg__hgt_zigzag(frames[i] - prev));
        prev = frames[i];
    }
}

void hg__hgt_encode_stats(hg_buf_t *body, const hg_alloc_stats_t *stats) {
    put_varint(body, stats->pid);
    put_varint(body, stats->ts_ns);
    put_varint(body, stats->arena_bytes);
    put_varint(body, stats->in_use_bytes);
    put_varint(body, stats->free_bytes);
    put_varint(body, stats->mmapped_bytes);
    put_varint(body, stats->rss_bytes);
}

void hg__hgt_encode_end(hg_buf_t *body, uint64_t records_before) {
    put_varint(body, records_before);
}

void hg__hgt_frame_record(hg_buf_t *tags, hg_buf_t *meta, uint8_t tag, const hg_buf_t *body) {
    hg_buf_append(tags, &tag, 1);
    put_varint(meta, body->len);
    hg_buf_append(meta, body->data ? body->data : "", body->len);
}

void hg__hgt_join_streams(hg_buf_t *raw, const hg_buf_t streams[HGT_STREAMS]) {
    put_varint(raw, HGT_STREAMS);
    for (int i = 0; i < HGT_STREAMS; i++) {
        put_varint(raw, streams[i].len);
    }
    for (int i = 0; i < HGT_STREAMS; i++) {
        hg_buf_append(raw, streams[i].data ? streams[i].data : "", streams[i].len);
    }
}
