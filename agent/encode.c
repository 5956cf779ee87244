/* encode.c - the agent's .hgt encoder: records are coded into the seven streams of a chunk
 * (docs/hgt-format.md §5) held in static buffers, and a chunk is handed out as an iovec list
 * (chunk header, stream table, streams) that conn.c sends with one system call. Chunks are
 * stored (method 0): on a live stream CPU time matters more than bytes (docs/agent-stream.md).
 *
 * The coding is a valid subset of the format's: timestamps as deltas (the lock makes them
 * monotonic within a process), context fields when they change, addresses as zigzag deltas
 * from the previous address (the format's ring places are not used), sizes through the
 * per-stack size cache (§5.4), stack ids plainly. All coding state restarts with each chunk,
 * as the format requires. Two chunk builders exist: the main one for everything a process
 * records, and a small one for the preamble a new connection starts with (life.c). */
#include "encode.h"

#include <string.h>
#include <sys/uio.h>

/* Field bits and tags of docs/hgt-format.md §5.2-§5.3. */
enum { F_ADDR = 0x01, F_SIZE = 0x02, F_OLD_ADDR = 0x04, F_OLD_SIZE = 0x08, F_STACK = 0x10 };
enum { F_PID = 0x20, F_LITERAL = 0x40 };
enum { T_TID = 0x10, T_HEAP = 0x20, T_SRC = 0x40, T_EXTRA = 0x80 };
enum { TAG_TRACE = 0x10, TAG_PROCESS = 0x20, TAG_MODULE = 0x30, TAG_STACK = 0x40 };
enum { TAG_STATS = 0x50, TAG_END = 0xF0 };

static const uint8_t primary[9] = {
    [HG_AG_ALLOC] = F_ADDR | F_SIZE | F_STACK,
    [HG_AG_REALLOC] = F_ADDR | F_SIZE | F_OLD_ADDR | F_OLD_SIZE | F_STACK,
    [HG_AG_FREE] = F_ADDR,
    [HG_AG_LOST] = F_SIZE | F_OLD_SIZE,
};

/* The stream the records' sequence numbers and END count belong to (one per connection). */
static uint32_t stream_seq;
static uint64_t stream_records;

static uint8_t main_bufs[HG__STREAMS][HG__MAIN_STREAM_BYTES];
static uint8_t pre_bufs[HG__STREAMS][HG__PRE_STREAM_BYTES];
hg__chunk_t hg__main_chunk, hg__pre_chunk;

void hg__chunks_init(void) {
    for (int i = 0; i < HG__STREAMS; i++) {
        hg__main_chunk.s[i] = main_bufs[i];
        hg__main_chunk.cap[i] = HG__MAIN_STREAM_BYTES;
        hg__pre_chunk.s[i] = pre_bufs[i];
        hg__pre_chunk.cap[i] = HG__PRE_STREAM_BYTES;
    }
    hg__main_chunk.cap[HG__S_META] = HG__MAIN_STREAM_BYTES;
    hg__chunk_clear(&hg__main_chunk);
    hg__chunk_clear(&hg__pre_chunk);
}

void hg__stream_reset(void) {
    stream_seq = 0;
    stream_records = 0;
}

void hg__chunk_clear(hg__chunk_t *c) {
    memset(c->len, 0, sizeof c->len);
    c->records = 0;
    c->ts = c->addr = c->heap = 0;
    c->pid = c->tid = 0;
    c->flags = 0;
    memset(c->size_cache, 0, sizeof c->size_cache);
}

bool hg__chunk_empty(const hg__chunk_t *c) {
    return c->records == 0;
}

bool hg__chunk_room(const hg__chunk_t *c, size_t meta_bytes) {
    for (int i = 0; i < HG__S_META; i++) {
        if (c->len[i] + HG__EVENT_MAX > c->cap[i]) {
            return false;
        }
    }
    return c->len[HG__S_META] + meta_bytes + 16 <= c->cap[HG__S_META];
}

/* ---- primitives --------------------------------------------------------------------------- */

static inline void put_byte(hg__chunk_t *c, int s, uint8_t b) {
    c->s[s][c->len[s]++] = b;
}

static inline void put_varint(hg__chunk_t *c, int s, uint64_t v) {
    uint8_t *p = c->s[s] + c->len[s];
    uint8_t *start = p;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    c->len[s] += (uint32_t)(p - start);
}

static inline uint64_t zigzag(uint64_t d) {
    return (d << 1) ^ (0 - (d >> 63));
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* ---- events (§5.3, §5.4) ------------------------------------------------------------------ */

static uint8_t event_tag(const hg__chunk_t *c, const hg__ev_t *ev, uint8_t extra) {
    uint8_t tag = ev->kind;
    tag |= ev->tid != c->tid ? T_TID : 0;
    tag |= ev->heap != c->heap ? T_HEAP : 0;
    tag |= ev->flags != c->flags ? T_SRC : 0;
    return extra ? (uint8_t)(tag | T_EXTRA) : tag;
}

static void put_context(hg__chunk_t *c, const hg__ev_t *ev, uint8_t tag, uint8_t extra) {
    if (extra & F_PID) {
        put_varint(c, HG__S_CONTEXT, ev->pid);
        c->pid = ev->pid;
    }
    if (tag & T_TID) {
        put_varint(c, HG__S_CONTEXT, ev->tid);
        c->tid = ev->tid;
    }
    if (tag & T_HEAP) {
        put_varint(c, HG__S_CONTEXT, ev->heap);
        c->heap = ev->heap;
    }
    if (tag & T_SRC) {
        put_varint(c, HG__S_CONTEXT, 0); /* source: not applicable (tracker.h HG_SOURCE_NA) */
        put_varint(c, HG__S_CONTEXT, ev->flags);
        c->flags = ev->flags;
    }
}

/* The size cache slot holds the last size of its stack (§5.4): 0 means "the same again". */
static uint64_t size_code(hg__chunk_t *c, const hg__ev_t *ev) {
    uint64_t *slot = &c->size_cache[ev->stack_id % HG__SIZE_CACHE];
    uint64_t code = *slot == ev->size ? 0 : ev->size + 1;
    *slot = ev->size;
    return code;
}

static void put_fields(hg__chunk_t *c, const hg__ev_t *ev, uint8_t fields) {
    if (fields & F_STACK) {
        put_varint(c, HG__S_STACKS, ev->stack_id);
    }
    if (fields & F_ADDR) {
        put_varint(c, HG__S_ADDRS, zigzag(ev->addr - c->addr) << 1);
        c->addr = ev->addr;
    }
    if (fields & F_OLD_ADDR) {
        put_varint(c, HG__S_ADDRS, zigzag(ev->old_addr - ev->addr));
    }
    if (fields & F_SIZE) {
        bool cached = ev->kind == HG_AG_ALLOC || ev->kind == HG_AG_REALLOC;
        put_varint(c, HG__S_SIZES, cached ? size_code(c, ev) : ev->size);
    }
    if (fields & F_OLD_SIZE) {
        put_varint(c, HG__S_SIZES, ev->old_size);
    }
}

/* Fields beyond the kind's primary ones: only the pid (when it changes) and LITERAL for an
 * address delta too wide for the doubled zigzag code (never for user-space addresses) or a
 * size of 2^64 - 1. */
static uint8_t extra_bits(const hg__chunk_t *c, const hg__ev_t *ev, uint8_t prim) {
    uint8_t extra = ev->pid != c->pid ? F_PID : 0;
    bool wide = (prim & F_ADDR) && zigzag(ev->addr - c->addr) >= (UINT64_C(1) << 63);
    bool huge = (prim & F_SIZE) && ev->size == UINT64_MAX;
    return (wide || huge) ? (uint8_t)(extra | F_LITERAL) : extra;
}

static void put_literal_fields(hg__chunk_t *c, const hg__ev_t *ev, uint8_t fields) {
    if (fields & F_STACK) {
        put_varint(c, HG__S_STACKS, ev->stack_id);
    }
    if (fields & F_ADDR) {
        put_varint(c, HG__S_ADDRS, ev->addr);
        c->addr = ev->addr;
    }
    if (fields & F_OLD_ADDR) {
        put_varint(c, HG__S_ADDRS, zigzag(ev->old_addr - ev->addr));
    }
    if (fields & F_SIZE) {
        put_varint(c, HG__S_SIZES, ev->size);
        c->size_cache[ev->stack_id % HG__SIZE_CACHE] = ev->size;
    }
    if (fields & F_OLD_SIZE) {
        put_varint(c, HG__S_SIZES, ev->old_size);
    }
}

void hg__chunk_event(hg__chunk_t *c, const hg__ev_t *ev) {
    uint8_t prim = primary[ev->kind];
    uint8_t extra = extra_bits(c, ev, prim);
    uint8_t tag = event_tag(c, ev, extra);
    put_byte(c, HG__S_TAGS, tag);
    if (extra) {
        put_byte(c, HG__S_TAGS, extra);
    }
    put_varint(c, HG__S_TIMES, ev->ts_ns >= c->ts ? ev->ts_ns - c->ts : 0);
    c->ts = ev->ts_ns >= c->ts ? ev->ts_ns : c->ts;
    put_context(c, ev, tag, extra);
    if (extra & F_LITERAL) {
        put_literal_fields(c, ev, prim);
    } else {
        put_fields(c, ev, prim);
    }
    c->records++;
}

/* ---- metadata (§5.5) ---------------------------------------------------------------------- */

/* A metadata record: its tag, then varint body length and body in the meta stream. The body is
 * written first at a reserved place and moved when its length takes more than 3 bytes. */
static uint32_t meta_begin(hg__chunk_t *c, uint8_t tag) {
    put_byte(c, HG__S_TAGS, tag);
    c->len[HG__S_META] += 3;
    return c->len[HG__S_META];
}

static void meta_end(hg__chunk_t *c, uint32_t body_at) {
    uint8_t *meta = c->s[HG__S_META];
    uint64_t n = c->len[HG__S_META] - body_at;
    size_t k = varint_len(n);
    memmove(meta + body_at - 3 + k, meta + body_at, (size_t)n);
    uint8_t *p = meta + body_at - 3;
    for (size_t i = 0; i < k; i++, n >>= 7) {
        p[i] = (uint8_t)((n & 0x7f) | (i + 1 < k ? 0x80 : 0));
    }
    c->len[HG__S_META] = (uint32_t)(body_at - 3 + k + (c->len[HG__S_META] - body_at));
    c->records++;
}

static void meta_varint(hg__chunk_t *c, uint64_t v) {
    put_varint(c, HG__S_META, v);
}

/* A string: varint length + 1, then the bytes (§2.3); cut at HG__MAX_STRING bytes. */
static void meta_string(hg__chunk_t *c, const char *s) {
    if (!s) {
        meta_varint(c, 0);
        return;
    }
    size_t len = strlen(s);
    size_t n = len > HG__MAX_STRING ? HG__MAX_STRING : len;
    while (n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80) {
        n--; /* never between a UTF-8 lead byte and its continuation bytes (RFC 3629 §3) */
    }
    meta_varint(c, (uint64_t)n + 1);
    memcpy(c->s[HG__S_META] + c->len[HG__S_META], s, n);
    c->len[HG__S_META] += (uint32_t)n;
}

void hg__chunk_trace(hg__chunk_t *c, uint64_t wall0_ns) {
    uint32_t at = meta_begin(c, TAG_TRACE);
    meta_string(c, "agent");
    meta_varint(c, wall0_ns);
    meta_varint(c, 0); /* duration: unknown */
    meta_varint(c, 8); /* pointer size */
    meta_varint(c, 1); /* lost counts known: the agent reports what it drops */
    meta_end(c, at);
}

void hg__chunk_process(hg__chunk_t *c, const hg__proc_t *p) {
    uint32_t at = meta_begin(c, TAG_PROCESS);
    meta_varint(c, p->pid);
    meta_varint(c, p->ppid);
    meta_string(c, p->name);
    meta_string(c, p->cmdline);
    meta_varint(c, 8);
    meta_varint(c, p->glibc ? 2 : 0); /* hg_allocator_t: GLIBC, else UNKNOWN */
    meta_end(c, at);
}

void hg__chunk_module(hg__chunk_t *c, const hg__mod_rec_t *m) {
    static const uint8_t no_guid[16];
    uint32_t at = meta_begin(c, TAG_MODULE);
    meta_varint(c, m->pid);
    meta_varint(c, m->unload ? 1 : 0);
    meta_varint(c, m->base);
    meta_varint(c, m->size);
    meta_varint(c, m->ts_ns);
    meta_string(c, m->path);
    meta_varint(c, m->build_id_len);
    memcpy(c->s[HG__S_META] + c->len[HG__S_META], m->build_id, m->build_id_len);
    c->len[HG__S_META] += m->build_id_len;
    meta_string(c, NULL); /* no PDB */
    memcpy(c->s[HG__S_META] + c->len[HG__S_META], no_guid, sizeof no_guid);
    c->len[HG__S_META] += sizeof no_guid;
    meta_varint(c, 0);
    meta_varint(c, 0);
    meta_end(c, at);
}

void hg__chunk_stack(hg__chunk_t *c, uint32_t id, const uint64_t *frames, uint32_t n) {
    uint32_t at = meta_begin(c, TAG_STACK);
    meta_varint(c, id);
    meta_varint(c, n);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        meta_varint(c, zigzag(frames[i] - prev));
        prev = frames[i];
    }
    meta_end(c, at);
}

void hg__chunk_stats(hg__chunk_t *c, uint32_t pid, uint64_t ts_ns, const uint64_t v[5]) {
    uint32_t at = meta_begin(c, TAG_STATS);
    meta_varint(c, pid);
    meta_varint(c, ts_ns);
    for (int i = 0; i < 5; i++) {
        meta_varint(c, v[i]);
    }
    meta_end(c, at);
}

void hg__chunk_end(hg__chunk_t *c) {
    uint32_t at = meta_begin(c, TAG_END);
    meta_varint(c, stream_records + c->records);
    meta_end(c, at);
}

/* ---- headers and hand-out ----------------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void hg__stream_file_header(uint8_t out[20]) {
    static const uint8_t sig[8] = {0x89, 'H', 'G', 'T', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, sizeof sig);
    put_u32(out + 8, 1); /* major 1, minor 0 (two u16) */
    put_u32(out + 12, 0);
    put_u32(out + 16, hg__crc32(0, out, 16));
}

/* The stream table (§5.1): 7, then the length of each stream. */
static uint32_t put_table(const hg__chunk_t *c, uint8_t *p) {
    uint8_t *start = p;
    *p++ = HG__STREAMS;
    for (int i = 0; i < HG__STREAMS; i++) {
        uint64_t v = c->len[i];
        while (v >= 0x80) {
            *p++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *p++ = (uint8_t)v;
    }
    return (uint32_t)(p - start);
}

static void put_header(hg__chunk_t *c, uint32_t raw_len, uint32_t crc) {
    uint8_t *h = c->header;
    memcpy(h, "HGCK", 4);
    h[4] = 0; /* stored */
    h[5] = h[6] = h[7] = 0;
    put_u32(h + 8, stream_seq);
    put_u32(h + 12, raw_len);
    put_u32(h + 16, raw_len);
    put_u32(h + 20, c->records);
    put_u32(h + 24, crc);
    put_u32(h + 28, hg__crc32(0, h, 28));
}

int hg__chunk_iov(hg__chunk_t *c, struct iovec *iov) {
    if (c->records == 0) {
        return 0;
    }
    uint32_t table_len = put_table(c, c->table);
    uint32_t crc = hg__crc32(0, c->table, table_len);
    uint32_t raw = table_len;
    int n = 0;
    iov[n++] = (struct iovec){c->header, sizeof c->header};
    iov[n++] = (struct iovec){c->table, table_len};
    for (int i = 0; i < HG__STREAMS; i++) {
        crc = hg__crc32(crc, c->s[i], c->len[i]);
        raw += c->len[i];
        if (c->len[i]) {
            iov[n++] = (struct iovec){c->s[i], c->len[i]};
        }
    }
    put_header(c, raw, crc);
    return n;
}

void hg__chunk_sent(hg__chunk_t *c) {
    stream_seq++;
    stream_records += c->records;
    hg__chunk_clear(c);
}
