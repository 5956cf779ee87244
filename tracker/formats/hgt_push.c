/* hgt_push.c - the .hgt reader for streams that arrive in pieces (a socket from the Linux
 * agent, docs/agent-stream.md): the caller pushes whatever bytes it has and every chunk that
 * becomes whole is checked and decoded at once, so several live streams can be read side by
 * side from one poll loop without a thread each.
 *
 * It applies exactly the rules of the file reader (hgt_read.c, docs/hgt-format.md §4-§6) with
 * the same messages: the file header and each chunk header are checked as soon as their bytes
 * are present (a wrong signature or magic is damage even before the unit is whole), a payload
 * is decoded when its last byte arrives, and hg_hgt_push_end decides between "cut short" and
 * "complete" when the stream closes. Bytes are kept only until their chunk is decoded: memory
 * is bounded by the largest chunk, and grows only as bytes actually arrive. */
#include "formats.h"
#include "hgt_decode.h"

#include <string.h>

struct hg_hgt_push {
    char *name;
    hg__hgt_decoder_t dec;
    uint8_t *buf; /* received bytes; buf[pos..len) not consumed yet */
    size_t pos, len, cap;
    uint64_t off; /* stream offset of buf[pos] */
    uint32_t seq; /* number of the next chunk */
    bool header_done;
    int failed; /* the sticky error code after a failure */
    hg_error_t error;
    uint8_t *raw; /* inflated payloads */
    size_t raw_cap;
    z_stream zs;
    bool z_ready;
};

hg_hgt_push_t *hg_hgt_push_new(const char *name, hg_sink_t sink) {
    hg_hgt_push_t *p = hg_calloc(1, sizeof *p);
    if (!p || !(p->name = hg_strdup(name ? name : "(stream)"))) {
        hg_free(p);
        return NULL;
    }
    if (hg__hgt_decoder_init(&p->dec, sink) != 0) {
        hg_free(p->name);
        hg_free(p);
        return NULL;
    }
    return p;
}

void hg_hgt_push_free(hg_hgt_push_t *p) {
    if (!p) {
        return;
    }
    if (p->z_ready) {
        inflateEnd(&p->zs);
    }
    hg__hgt_decoder_free(&p->dec);
    hg_free(p->buf);
    hg_free(p->raw);
    hg_free(p->name);
    hg_free(p);
}

bool hg_hgt_push_ended(const hg_hgt_push_t *p) {
    return p->dec.ended;
}

uint64_t hg_hgt_push_offset(const hg_hgt_push_t *p) {
    return p->off;
}

/* ---- outcomes ----------------------------------------------------------------------------- */

/* Records the first failure; every later call returns it again. */
static int fail(hg_hgt_push_t *p, int code, hg_error_t *err) {
    p->failed = code;
    if (err) {
        *err = p->error;
    }
    return code;
}

static int damage(hg_hgt_push_t *p, uint64_t off, const char *what, hg_error_t *err) {
    hg_error_set(&p->error, HG_EFORMAT, "%s: offset %llu: %s", p->name, (unsigned long long)off,
                 what);
    return fail(p, HG_EFORMAT, err);
}

static int no_memory(hg_hgt_push_t *p, hg_error_t *err) {
    hg_error_set(&p->error, HG_ENOMEM, "%s: out of memory", p->name);
    return fail(p, HG_ENOMEM, err);
}

/* ---- buffering ---------------------------------------------------------------------------- */

static int grow(uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap : 65536;
    while (ncap < need) {
        ncap *= 2;
    }
    uint8_t *b = hg_realloc(*buf, ncap);
    if (!b) {
        return HG_ENOMEM;
    }
    *buf = b;
    *cap = ncap;
    return 0;
}

/* Appends data, first moving what is left to the front of the buffer. */
static int append(hg_hgt_push_t *p, const void *data, size_t n) {
    if (p->pos > 0) {
        memmove(p->buf, p->buf + p->pos, p->len - p->pos);
        p->len -= p->pos;
        p->pos = 0;
    }
    if (grow(&p->buf, &p->cap, p->len + n) != 0) {
        return HG_ENOMEM;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    return 0;
}

static size_t have(const hg_hgt_push_t *p) {
    return p->len - p->pos;
}

static void consume(hg_hgt_push_t *p, size_t n) {
    p->pos += n;
    p->off += n;
}

/* ---- units -------------------------------------------------------------------------------- */

/* 1 when the file header is not whole yet, 0 when checked and consumed, or an error. */
static int file_header(hg_hgt_push_t *p, hg_error_t *err) {
    const uint8_t *h = p->buf + p->pos;
    size_t n = have(p) < HGT_SIGNATURE_LEN ? have(p) : HGT_SIGNATURE_LEN;
    if (memcmp(h, hg__hgt_signature, n) != 0) {
        return damage(p, 0,
                      "not a heapgate trace (expected the .hgt signature 89 48 47 54 0d "
                      "0a 1a 0a)",
                      err);
    }
    if (have(p) < HGT_FILE_HEADER_LEN) {
        return 1;
    }
    uint16_t major = hg__hgt_get_u16(h + 8);
    if (major != HGT_VERSION_MAJOR) {
        char what[96];
        snprintf(what, sizeof what, "unsupported major version %u (this reader reads 1.x)", major);
        return damage(p, 8, what, err);
    }
    if (hg__hgt_crc32(h, 16) != hg__hgt_get_u32(h + 16)) {
        return damage(p, 16, "file header CRC mismatch", err);
    }
    p->header_done = true;
    consume(p, HGT_FILE_HEADER_LEN);
    return 0;
}

/* Checks the chunk header at the buffer's front (whole). */
static int chunk_header(hg_hgt_push_t *p, hg__hgt_chunk_header_t *h, hg_error_t *err) {
    const uint8_t *hdr = p->buf + p->pos;
    hg__hgt_get_chunk_header(hdr, h);
    const char *why = hg__hgt_check_chunk_header(hdr, h, p->seq);
    if (why) {
        char what[160];
        snprintf(what, sizeof what, "chunk %u: %s", p->seq, why);
        return damage(p, p->off, what, err);
    }
    return 0;
}

static int inflate_failed(hg_hgt_push_t *p, int zrc, const hg__hgt_chunk_header_t *h,
                          hg_error_t *err) {
    char what[200];
    if (zrc == Z_STREAM_END && p->zs.avail_out != 0) {
        snprintf(what, sizeof what,
                 "chunk %u inflates to fewer than the %u raw bytes its header declares", h->seq,
                 h->raw_len);
    } else if (zrc == Z_STREAM_END) {
        snprintf(what, sizeof what, "chunk %u has data after its zlib stream", h->seq);
    } else if (p->zs.avail_out == 0) {
        snprintf(what, sizeof what,
                 "chunk %u inflates to more than the %u raw bytes its header declares", h->seq,
                 h->raw_len);
    } else {
        snprintf(what, sizeof what, "chunk %u: inflate failed: %s", h->seq,
                 p->zs.msg ? p->zs.msg : "incomplete zlib stream");
    }
    return damage(p, p->off + HGT_CHUNK_HEADER_LEN, what, err);
}

static int inflate_payload(hg_hgt_push_t *p, const uint8_t *comp, const hg__hgt_chunk_header_t *h,
                           hg_error_t *err) {
    if (grow(&p->raw, &p->raw_cap, h->raw_len) != 0) {
        return no_memory(p, err);
    }
    if (!p->z_ready) {
        hg__hgt_zlib_alloc(&p->zs);
        if (inflateInit(&p->zs) != Z_OK) {
            return no_memory(p, err);
        }
        p->z_ready = true;
    }
    inflateReset(&p->zs);
    p->zs.next_in = (Bytef *)comp;
    p->zs.avail_in = h->comp_len;
    p->zs.next_out = p->raw;
    p->zs.avail_out = h->raw_len;
    int zrc = inflate(&p->zs, Z_FINISH);
    if (zrc != Z_STREAM_END || p->zs.avail_out != 0 || p->zs.avail_in != 0) {
        return inflate_failed(p, zrc, h, err);
    }
    return 0;
}

static int decode(hg_hgt_push_t *p, const uint8_t *raw, const hg__hgt_chunk_header_t *h,
                  hg_error_t *err) {
    int rc = hg__hgt_decode_chunk(&p->dec, raw, h->raw_len, h->records);
    if (rc == 0 || p->dec.sink_failed) {
        return rc; /* a sink's own code is passed back as it is, and is not sticky */
    }
    if (rc == HG_ENOMEM) {
        return no_memory(p, err);
    }
    char what[300];
    snprintf(what, sizeof what, "chunk %u, record %u (tag at payload byte %zu): %s", h->seq,
             p->dec.record, p->dec.where, p->dec.why);
    return damage(p, p->off, what, err);
}

/* Checks and decodes the whole chunk at the buffer's front, then consumes it. */
static int chunk_body(hg_hgt_push_t *p, const hg__hgt_chunk_header_t *h, hg_error_t *err) {
    const uint8_t *comp = p->buf + p->pos + HGT_CHUNK_HEADER_LEN;
    if (hg__hgt_crc32(comp, h->comp_len) != h->payload_crc) {
        char what[64];
        snprintf(what, sizeof what, "chunk %u payload CRC mismatch", h->seq);
        return damage(p, p->off + HGT_CHUNK_HEADER_LEN, what, err);
    }
    const uint8_t *raw = comp;
    if (h->method == HGT_METHOD_ZLIB) {
        int rc = inflate_payload(p, comp, h, err);
        if (rc != 0) {
            return rc;
        }
        raw = p->raw;
    }
    int rc = decode(p, raw, h, err);
    if (rc == 0) {
        consume(p, HGT_CHUNK_HEADER_LEN + (size_t)h->comp_len);
        p->seq++;
    }
    return rc;
}

/* 1 when the next chunk is not whole yet, 0 when one was decoded, or an error. */
static int next_chunk(hg_hgt_push_t *p, hg_error_t *err) {
    if (p->dec.ended) {
        return have(p) ? damage(p, p->off,
                                "data after the end record (expected the end of the file)", err)
                       : 1;
    }
    size_t n = have(p) < 4 ? have(p) : 4;
    if (memcmp(p->buf + p->pos, hg__hgt_chunk_magic, n) != 0) {
        return damage(p, p->off, "bad chunk magic (expected \"HGCK\")", err);
    }
    if (have(p) < HGT_CHUNK_HEADER_LEN) {
        return 1;
    }
    hg__hgt_chunk_header_t h;
    int rc = chunk_header(p, &h, err);
    if (rc != 0) {
        return rc;
    }
    return have(p) < HGT_CHUNK_HEADER_LEN + (size_t)h.comp_len ? 1 : chunk_body(p, &h, err);
}

int hg_hgt_push_feed(hg_hgt_push_t *p, const void *data, size_t n, hg_error_t *err) {
    if (p->failed) {
        return fail(p, p->failed, err);
    }
    if (n > 0 && append(p, data, n) != 0) {
        return no_memory(p, err);
    }
    int rc = p->header_done ? 0 : file_header(p, err);
    while (rc == 0) {
        rc = next_chunk(p, err);
    }
    return rc == 1 ? 0 : rc;
}

/* ---- the end of the stream ---------------------------------------------------------------- */

static void cut_short(hg_hgt_push_t *p, hg_read_result_t *res, uint64_t end, const char *unit) {
    res->truncated = true;
    snprintf(res->warning, sizeof res->warning,
             "%s: cut short at offset %llu (%s); read up to the last whole chunk", p->name,
             (unsigned long long)end, unit);
}

int hg_hgt_push_end(hg_hgt_push_t *p, hg_read_result_t *res, hg_error_t *err) {
    hg_read_result_t ignored;
    res = res ? res : &ignored;
    memset(res, 0, sizeof *res);
    res->format = HG_FMT_HGT;
    res->bytes_read = p->off + have(p);
    if (p->failed) {
        return fail(p, p->failed, err);
    }
    char unit[64];
    if (!p->header_done) {
        cut_short(p, res, have(p), "in the file header");
    } else if (have(p) > 0) {
        snprintf(unit, sizeof unit, "partial chunk %u", p->seq);
        cut_short(p, res, p->off + have(p), unit);
    } else if (!p->dec.ended) {
        snprintf(unit, sizeof unit, "after chunk %u, no end record", p->seq - 1);
        cut_short(p, res, p->off, p->seq ? unit : "no chunks");
    }
    return 0;
}
