/* hgt_codec.h - private to tracker/formats: the vocabulary the .hgt reader and writer share
 * (docs/hgt-format.md is the specification; section numbers below refer to it).
 *
 * It holds the byte layout constants, the limits, the record tags, field bits and streams, the
 * per-chunk coding state both sides keep (delta bases, the recent-address ring, the size cache),
 * the little-endian and LEB128/zigzag encoders, and the bounds-checked cursor the reader decodes
 * the streams of an inflated chunk with. The cursor's hot functions are inline: a varint read
 * with at least 10 bytes left costs no bounds check per byte; near the end of a stream a checked
 * slow path takes over. Cursor errors are sticky and shared: the first failure on any cursor of
 * a chunk records why in one slot and exhausts that cursor, later reads return 0, so the
 * decoder checks one pointer per record. */
#ifndef HG_HGT_CODEC_H
#define HG_HGT_CODEC_H

#include "tracker.h"

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* ---- file and chunk layout (§3, §4) ------------------------------------------------------- */

#define HGT_SIGNATURE_LEN    8
#define HGT_FILE_HEADER_LEN  20 /* signature + major + minor + flags + CRC */
#define HGT_CHUNK_HEADER_LEN 32
#define HGT_VERSION_MAJOR    1
#define HGT_VERSION_MINOR    0

extern const uint8_t hg__hgt_signature[HGT_SIGNATURE_LEN];
extern const uint8_t hg__hgt_chunk_magic[4];

enum { HGT_METHOD_STORED = 0, HGT_METHOD_ZLIB = 1 };

/* Limits (§4.3, §5). A reader treats a value beyond them as damage. */
#define HGT_MAX_RAW        (64u << 20) /* inflated bytes per chunk */
#define HGT_MAX_STRING     65535u      /* bytes per string */
#define HGT_MAX_BUILD_ID   64u
#define HGT_MAX_FRAMES     HG_MAX_FRAMES
#define HGT_ZLIB_MAX_RATIO 1032u /* deflate's best case, zlib.net/zlib_tech.html */

/* Writer chunk sizes (§7): the option is clamped to this range. */
#define HGT_MIN_CHUNK     64u
#define HGT_MAX_CHUNK     (16u << 20)
#define HGT_DEFAULT_CHUNK (1u << 20)

typedef struct hg__hgt_chunk_header {
    uint8_t method;
    uint8_t flags;
    uint32_t seq;
    uint32_t comp_len;
    uint32_t raw_len;
    uint32_t records;
    uint32_t payload_crc;
    uint32_t header_crc; /* as read; the writer computes it */
} hg__hgt_chunk_header_t;

/* Writes h as the 32 header bytes (computing its CRC). */
void hg__hgt_put_chunk_header(uint8_t out[HGT_CHUNK_HEADER_LEN], const hg__hgt_chunk_header_t *h);
/* Parses 32 header bytes without validating them. */
void hg__hgt_get_chunk_header(const uint8_t in[HGT_CHUNK_HEADER_LEN], hg__hgt_chunk_header_t *h);
/* NULL when h may be read as chunk number seq, else what is wrong (a static string). Checks
 * the CRC, the method, the sequence number and the lengths (§4.3), not the magic. */
const char *hg__hgt_check_chunk_header(const uint8_t in[HGT_CHUNK_HEADER_LEN],
                                       const hg__hgt_chunk_header_t *h, uint32_t seq);
/* Writes the 20-byte file header (signature, version 1.0, flags 0, CRC). */
void hg__hgt_put_file_header(uint8_t out[HGT_FILE_HEADER_LEN]);
/* zlib's crc32 over n bytes (CRC-32/ISO-HDLC), for any n. */
uint32_t hg__hgt_crc32(const void *data, size_t n);
/* Makes zs allocate through hg_malloc (counted, failable in tests); call before *Init. */
void hg__hgt_zlib_alloc(z_stream *zs);

/* ---- records (§5) ------------------------------------------------------------------------- */

/* A chunk payload is a set of streams (§5.1), one per kind of field, so that deflate sees
 * bytes of one distribution at a time. */
enum {
    HGT_S_TAGS,    /* tag byte of every record, field bits after an EXTRA tag */
    HGT_S_TIMES,   /* event timestamp deltas */
    HGT_S_CONTEXT, /* pid, tid, heap, source, flags when they change */
    HGT_S_ADDRS,   /* addr, old_addr */
    HGT_S_SIZES,   /* size, old_size */
    HGT_S_STACKS,  /* stack ids of events */
    HGT_S_META,    /* metadata record bodies (length-prefixed) */
    HGT_STREAMS,
};
#define HGT_MAX_STREAMS 64 /* a reader accepts (and skips) streams it does not know */

/* Tag bytes with a low nibble 1..9 are events of that kind; the high nibble says which context
 * fields follow. Tags with a low nibble 0 are metadata records. */
enum {
    HGT_EV_TID = 0x10,   /* varint tid follows */
    HGT_EV_HEAP = 0x20,  /* varint heap follows */
    HGT_EV_SRC = 0x40,   /* varint source, varint flags follow */
    HGT_EV_EXTRA = 0x80, /* a field-bits byte follows the tag */
};

/* Field bits: which optional fields an event carries (primary fields of its kind | EXTRA). */
enum {
    HGT_F_ADDR = 0x01,
    HGT_F_SIZE = 0x02,
    HGT_F_OLD_ADDR = 0x04,
    HGT_F_OLD_SIZE = 0x08,
    HGT_F_STACK = 0x10,
    HGT_F_PID = 0x20,
    HGT_F_LITERAL = 0x40, /* addr and size are plain varints, not ring/delta/cache codes */
    HGT_F_TS_BACK = 0x80, /* the timestamp delta is subtracted: time went backwards */
};

enum {
    HGT_TAG_TRACE = 0x10,
    HGT_TAG_PROCESS = 0x20,
    HGT_TAG_MODULE = 0x30,
    HGT_TAG_STACK = 0x40,
    HGT_TAG_STATS = 0x50,
    HGT_TAG_SKIP = 0xE0,
    HGT_TAG_END = 0xF0,
};

#define HGT_TRACE_LOST_KNOWN 0x01u /* TRACE flags */
#define HGT_MODULE_UNLOAD    0x01u /* MODULE flags */

/* The fields every event of a kind carries, whether zero or not (§5.3). */
extern const uint8_t hg__hgt_primary_fields[HG_EV_KIND_MAX + 1];

/* Kinds whose size goes through the size cache (§5.4): allocations. */
static inline int hg__hgt_size_cached(unsigned kind) {
    return kind == HG_EV_ALLOC || kind == HG_EV_REALLOC;
}

/* Most bytes one event adds to each stream. */
#define HGT_MAX_EVENT_BYTES 32

#define HGT_RING       1024 /* recent addresses (§5.4) */
#define HGT_SIZE_CACHE 256  /* last size per stack id slot (§5.4) */

/* The coding state; both sides reset it to zero at every chunk start (§5.4). */
typedef struct hg__hgt_state {
    uint64_t ts_ns;
    uint64_t addr;
    uint64_t heap;
    uint32_t pid;
    uint32_t tid;
    uint16_t flags;
    uint8_t source;
    uint32_t ring_head; /* the next ring slot to write */
    uint64_t ring[HGT_RING];
    uint64_t size_cache[HGT_SIZE_CACHE];
} hg__hgt_state_t;

/* The ring entry `back` places behind the newest (0 = newest). */
static inline uint64_t hg__hgt_ring_get(const hg__hgt_state_t *st, uint32_t back) {
    return st->ring[(st->ring_head - 1 - back) % HGT_RING];
}

static inline void hg__hgt_ring_push(hg__hgt_state_t *st, uint64_t addr) {
    st->ring[st->ring_head++ % HGT_RING] = addr;
}

/* ---- integer coding (§2) ------------------------------------------------------------------ */

static inline void hg__hgt_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void hg__hgt_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline uint16_t hg__hgt_get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t hg__hgt_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Zigzag maps signed to unsigned so small magnitudes stay small (§2.2). Arithmetic on the
 * unsigned values avoids implementation-defined shifts of negative numbers. */
static inline uint64_t hg__hgt_zigzag(uint64_t delta) {
    return (delta << 1) ^ (0 - (delta >> 63));
}

static inline uint64_t hg__hgt_unzigzag(uint64_t v) {
    return (v >> 1) ^ (0 - (v & 1));
}

/* Writes v as LEB128 (§2.1) at p, which has room for 10 bytes; returns the end. */
static inline uint8_t *hg__hgt_put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* ---- the decoding cursor ------------------------------------------------------------------ */

typedef struct hg__hgt_cursor {
    const uint8_t *p;
    const uint8_t *end;
    const char *eos;  /* what running out of this cursor's bytes means, for messages */
    const char **why; /* shared by the cursors of a chunk: first failure, NULL while well */
} hg__hgt_cursor_t;

/* Records the first failure of the chunk, exhausts c; returns 0 for the caller to pass on. */
uint64_t hg__hgt_fail(hg__hgt_cursor_t *c, const char *why);
/* The checked varint decoder for the last 10 bytes of a stream. */
uint64_t hg__hgt_varint_slow(hg__hgt_cursor_t *c);

static inline uint64_t hg__hgt_varint(hg__hgt_cursor_t *c) {
    const uint8_t *p = c->p;
    if (c->end - p < 10) {
        return hg__hgt_varint_slow(c);
    }
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        uint64_t b = p[i];
        v |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            if (i == 9 && b > 1) {
                break;
            }
            c->p = p + i + 1;
            return v;
        }
    }
    return hg__hgt_fail(c, "varint overflow (more than 64 bits)");
}

static inline uint32_t hg__hgt_varint32(hg__hgt_cursor_t *c) {
    uint64_t v = hg__hgt_varint(c);
    if (v > UINT32_MAX) {
        return (uint32_t)hg__hgt_fail(c, "value does not fit its 32-bit field");
    }
    return (uint32_t)v;
}

/* A varint that must be <= max (a narrow field). */
static inline uint64_t hg__hgt_varint_max(hg__hgt_cursor_t *c, uint64_t max, const char *why) {
    uint64_t v = hg__hgt_varint(c);
    return v <= max ? v : hg__hgt_fail(c, why);
}

static inline unsigned hg__hgt_byte(hg__hgt_cursor_t *c) {
    if (c->p >= c->end) {
        return (unsigned)hg__hgt_fail(c, c->eos);
    }
    return *c->p++;
}

/* n raw bytes, or NULL (failure recorded) when fewer remain. */
static inline const uint8_t *hg__hgt_bytes(hg__hgt_cursor_t *c, size_t n) {
    if ((size_t)(c->end - c->p) < n) {
        hg__hgt_fail(c, c->eos);
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

#endif
