/* hgt_codec.c - the non-inline half of the .hgt codec (hgt_codec.h): signatures, the file and
 * chunk headers (packing, parsing, validation against docs/hgt-format.md §3-§4), CRC-32, and
 * the cursor's slow path and failure recording. */
#include "hgt_codec.h"

#include <string.h>
#include <zlib.h>

/* Modelled on PNG's signature (PNG spec §5.2, w3.org/TR/png/#5PNG-file-signature): a high-bit
 * byte catches 7-bit transfers, CR LF and LF catch newline conversion, 0x1a stops DOS `type`. */
const uint8_t hg__hgt_signature[HGT_SIGNATURE_LEN] = {0x89, 'H', 'G', 'T', '\r', '\n', 0x1a, '\n'};
const uint8_t hg__hgt_chunk_magic[4] = {'H', 'G', 'C', 'K'};

const uint8_t hg__hgt_primary_fields[HG_EV_KIND_MAX + 1] = {
    [HG_EV_ALLOC] = HGT_F_ADDR | HGT_F_SIZE | HGT_F_STACK,
    [HG_EV_REALLOC] = HGT_F_ADDR | HGT_F_SIZE | HGT_F_OLD_ADDR | HGT_F_OLD_SIZE | HGT_F_STACK,
    [HG_EV_FREE] = HGT_F_ADDR,
    [HG_EV_LOST] = HGT_F_SIZE | HGT_F_OLD_SIZE,
    [HG_EV_MARKER] = HGT_F_ADDR,
};

uint32_t hg__hgt_crc32(const void *data, size_t n) {
    const uint8_t *p = data;
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) { /* crc32 takes a uInt length */
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = crc32(crc, p, step);
        p += step;
        n -= step;
    }
    return (uint32_t)crc;
}

static voidpf zalloc_hg(voidpf opaque, uInt items, uInt size) {
    (void)opaque;
    return hg_calloc(items, size);
}

static void zfree_hg(voidpf opaque, voidpf p) {
    (void)opaque;
    hg_free(p);
}

void hg__hgt_zlib_alloc(z_stream *zs) {
    zs->zalloc = zalloc_hg;
    zs->zfree = zfree_hg;
    zs->opaque = Z_NULL;
}

void hg__hgt_put_file_header(uint8_t out[HGT_FILE_HEADER_LEN]) {
    memcpy(out, hg__hgt_signature, HGT_SIGNATURE_LEN);
    hg__hgt_put_u16(out + 8, HGT_VERSION_MAJOR);
    hg__hgt_put_u16(out + 10, HGT_VERSION_MINOR);
    hg__hgt_put_u32(out + 12, 0);
    hg__hgt_put_u32(out + 16, hg__hgt_crc32(out, 16));
}

void hg__hgt_put_chunk_header(uint8_t out[HGT_CHUNK_HEADER_LEN], const hg__hgt_chunk_header_t *h) {
    memcpy(out, hg__hgt_chunk_magic, 4);
    out[4] = h->method;
    out[5] = h->flags;
    hg__hgt_put_u16(out + 6, 0);
    hg__hgt_put_u32(out + 8, h->seq);
    hg__hgt_put_u32(out + 12, h->comp_len);
    hg__hgt_put_u32(out + 16, h->raw_len);
    hg__hgt_put_u32(out + 20, h->records);
    hg__hgt_put_u32(out + 24, h->payload_crc);
    hg__hgt_put_u32(out + 28, hg__hgt_crc32(out, 28));
}

void hg__hgt_get_chunk_header(const uint8_t in[HGT_CHUNK_HEADER_LEN], hg__hgt_chunk_header_t *h) {
    h->method = in[4];
    h->flags = in[5];
    h->seq = hg__hgt_get_u32(in + 8);
    h->comp_len = hg__hgt_get_u32(in + 12);
    h->raw_len = hg__hgt_get_u32(in + 16);
    h->records = hg__hgt_get_u32(in + 20);
    h->payload_crc = hg__hgt_get_u32(in + 24);
    h->header_crc = hg__hgt_get_u32(in + 28);
}

/* The compressed length a zlib chunk may have: deflate's stored-block fallback adds 5 bytes per
 * 64 KiB block plus the 6-byte zlib wrapper (RFC 1950 §2.2, RFC 1951 §3.2.4), far below this. */
static uint64_t max_zlib_len(uint32_t raw_len) {
    return (uint64_t)raw_len + raw_len / 8 + 64;
}

static const char *check_lengths(const hg__hgt_chunk_header_t *h) {
    if (h->raw_len == 0 || h->raw_len > HGT_MAX_RAW) {
        return "raw length must be 1..64 MiB";
    }
    if (h->records == 0 || h->records > h->raw_len) {
        return "record count must be 1..raw length";
    }
    if (h->method == HGT_METHOD_STORED) {
        return h->comp_len == h->raw_len ? NULL : "stored chunk with compressed != raw length";
    }
    if (h->comp_len == 0 || h->comp_len > max_zlib_len(h->raw_len)) {
        return "compressed length impossible for its raw length";
    }
    if (h->raw_len > (uint64_t)h->comp_len * HGT_ZLIB_MAX_RATIO) {
        return "raw length beyond zlib's 1032:1 ratio for its compressed length";
    }
    return NULL;
}

const char *hg__hgt_check_chunk_header(const uint8_t in[HGT_CHUNK_HEADER_LEN],
                                       const hg__hgt_chunk_header_t *h, uint32_t seq) {
    if (hg__hgt_crc32(in, 28) != h->header_crc) {
        return "chunk header CRC mismatch";
    }
    if (h->method != HGT_METHOD_STORED && h->method != HGT_METHOD_ZLIB) {
        return "unknown compression method (expected 0 stored or 1 zlib)";
    }
    if (h->seq != seq) {
        return "chunk sequence number out of order";
    }
    return check_lengths(h);
}

/* ---- cursor ------------------------------------------------------------------------------- */

uint64_t hg__hgt_fail(hg__hgt_cursor_t *c, const char *why) {
    if (!*c->why) {
        *c->why = why;
    }
    c->p = c->end;
    return 0;
}

uint64_t hg__hgt_varint_slow(hg__hgt_cursor_t *c) {
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (c->p >= c->end) {
            return hg__hgt_fail(c, c->eos);
        }
        uint64_t b = *c->p++;
        v |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            return (i == 9 && b > 1) ? hg__hgt_fail(c, "varint overflow (more than 64 bits)") : v;
        }
    }
    return hg__hgt_fail(c, "varint overflow (more than 64 bits)");
}
