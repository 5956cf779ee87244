/* hgt_read.c - the .hgt reader: checks the file header, then streams the file chunk by chunk
 * (docs/hgt-format.md §4, §6): read a chunk header, validate it, read its payload, check the
 * payload CRC, inflate into a buffer reused across chunks, and hand the records to the decoder
 * (hgt_decode.c), which calls the sink. Memory is bounded by the largest chunk, never the
 * file: a payload buffer grows only as its bytes actually arrive, so a header declaring a huge
 * payload in a short file costs nothing.
 *
 * Truncation and damage follow one rule (§6): input that ends before a unit (file header,
 * chunk header, payload) is whole, or a file whose last whole chunk has no END record, was cut
 * short: everything up to the last whole chunk is delivered and the result says truncated.
 * Anything wrong in bytes that are present is damage: HG_EFORMAT naming the file, the offset
 * and what was expected. */
#include "formats.h"
#include "hgt_decode.h"

#include <errno.h>
#include <string.h>

typedef struct reader {
    FILE *fp;
    const char *name;
    uint64_t size_bytes;
    const hg_read_options_t *opt;
    hg_read_result_t *res;
    hg_error_t *err;
    uint64_t off;  /* bytes consumed: the start of the next unit */
    uint32_t seq;  /* number of the next chunk */
    bool done;     /* END seen and the file ends after it */
    uint8_t *comp; /* the payload as stored */
    size_t comp_cap;
    uint8_t *raw; /* the inflated payload */
    size_t raw_cap;
    z_stream zs;
    bool z_ready;
    hg__hgt_decoder_t dec;
} reader_t;

/* ---- outcomes ----------------------------------------------------------------------------- */

/* Damage at a file offset. */
static int damage(reader_t *r, uint64_t off, const char *what) {
    return hg_error_set(r->err, HG_EFORMAT, "%s: offset %llu: %s", r->name, (unsigned long long)off,
                        what);
}

/* The input stops at offset end inside (or before) unit; not an error. */
static int cut_short(reader_t *r, uint64_t end, const char *unit) {
    r->res->truncated = true;
    r->off = end;
    snprintf(r->res->warning, sizeof r->res->warning,
             "%s: cut short at offset %llu (%s); read up to the last whole chunk", r->name,
             (unsigned long long)end, unit);
    r->done = true;
    return 0;
}

static int cut_in_chunk(reader_t *r, uint64_t end) {
    char unit[64];
    snprintf(unit, sizeof unit, "partial chunk %u", r->seq);
    return cut_short(r, end, unit);
}

static int io_error(reader_t *r) {
    return hg_error_set(r->err, HG_EIO, "%s: offset %llu: cannot read: %s", r->name,
                        (unsigned long long)r->off, strerror(errno));
}

static void progress(reader_t *r) {
    if (r->opt && r->opt->progress) {
        r->opt->progress(r->opt->progress_ud, r->off, r->size_bytes);
    }
}

/* Reads up to n bytes; a short count means EOF, unless the stream reports an error. */
static int read_bytes(reader_t *r, void *buf, size_t n, size_t *got) {
    *got = fread(buf, 1, n, r->fp);
    return (*got < n && ferror(r->fp)) ? io_error(r) : 0;
}

/* ---- the file header (§3) ----------------------------------------------------------------- */

static int check_file_header(reader_t *r, const uint8_t *h) {
    uint16_t major = hg__hgt_get_u16(h + 8);
    if (major != HGT_VERSION_MAJOR) {
        char what[96];
        snprintf(what, sizeof what, "unsupported major version %u (this reader reads 1.x)", major);
        return damage(r, 8, what);
    }
    if (hg__hgt_crc32(h, 16) != hg__hgt_get_u32(h + 16)) {
        return damage(r, 16, "file header CRC mismatch");
    }
    return 0;
}

static int read_file_header(reader_t *r) {
    uint8_t h[HGT_FILE_HEADER_LEN];
    size_t got;
    int rc = read_bytes(r, h, sizeof h, &got);
    size_t sig = got < HGT_SIGNATURE_LEN ? got : HGT_SIGNATURE_LEN;
    if (rc != 0) {
        return rc;
    }
    if (memcmp(h, hg__hgt_signature, sig) != 0) {
        return damage(r, 0,
                      "not a heapgate trace (expected the .hgt signature 89 48 47 54 0d "
                      "0a 1a 0a)");
    }
    if (got < sizeof h) {
        return cut_short(r, got, "in the file header");
    }
    r->off = sizeof h;
    return check_file_header(r, h);
}

/* ---- chunk payloads ----------------------------------------------------------------------- */

static int grow(reader_t *r, uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap) {
        return 0;
    }
    uint8_t *p = hg_realloc(*buf, need);
    if (!p) {
        return hg_error_set(r->err, HG_ENOMEM, "%s: out of memory for a chunk of %zu bytes",
                            r->name, need);
    }
    *buf = p;
    *cap = need;
    return 0;
}

/* Reads len payload bytes into r->comp, growing it as data arrives (at most doubling what is
 * present), so a declared length past EOF allocates no more than the file holds. *have is
 * less than len when EOF came first. */
static int read_payload(reader_t *r, size_t len, size_t *have_out) {
    size_t have = 0;
    while (have < len) {
        size_t want = have < 65536 ? 65536 : have * 2;
        want = want < len ? want : len;
        size_t got;
        int rc = grow(r, &r->comp, &r->comp_cap, want);
        if (rc == 0) {
            rc = read_bytes(r, r->comp + have, want - have, &got);
        }
        if (rc != 0) {
            return rc;
        }
        have += got;
        if (have < want) {
            break;
        }
    }
    *have_out = have;
    return 0;
}

static int inflate_failed(reader_t *r, uint64_t at, int zrc, const hg__hgt_chunk_header_t *h) {
    char what[200];
    if (zrc == Z_STREAM_END && r->zs.avail_out != 0) {
        snprintf(what, sizeof what,
                 "chunk %u inflates to fewer than the %u raw bytes its "
                 "header declares",
                 h->seq, h->raw_len);
    } else if (zrc == Z_STREAM_END) {
        snprintf(what, sizeof what, "chunk %u has data after its zlib stream", h->seq);
    } else if (r->zs.avail_out == 0) {
        snprintf(what, sizeof what,
                 "chunk %u inflates to more than the %u raw bytes its "
                 "header declares",
                 h->seq, h->raw_len);
    } else {
        snprintf(what, sizeof what, "chunk %u: inflate failed: %s", h->seq,
                 r->zs.msg ? r->zs.msg : "incomplete zlib stream");
    }
    return damage(r, at, what);
}

/* Inflates r->comp into r->raw; the result must be exactly raw_len bytes, all input used. */
static int inflate_payload(reader_t *r, uint64_t at, const hg__hgt_chunk_header_t *h) {
    if (!r->z_ready) {
        hg__hgt_zlib_alloc(&r->zs);
        if (inflateInit(&r->zs) != Z_OK) {
            return hg_error_set(r->err, HG_ENOMEM, "%s: out of memory (zlib)", r->name);
        }
        r->z_ready = true;
    }
    inflateReset(&r->zs);
    r->zs.next_in = r->comp;
    r->zs.avail_in = h->comp_len;
    r->zs.next_out = r->raw;
    r->zs.avail_out = h->raw_len;
    int zrc = inflate(&r->zs, Z_FINISH);
    if (zrc != Z_STREAM_END || r->zs.avail_out != 0 || r->zs.avail_in != 0) {
        return inflate_failed(r, at, zrc, h);
    }
    return 0;
}

/* The raw payload of a chunk whose payload bytes are in r->comp; *raw points at it. */
static int unpack(reader_t *r, uint64_t at, const hg__hgt_chunk_header_t *h, const uint8_t **raw) {
    if (hg__hgt_crc32(r->comp, h->comp_len) != h->payload_crc) {
        char what[64];
        snprintf(what, sizeof what, "chunk %u payload CRC mismatch", h->seq);
        return damage(r, at + HGT_CHUNK_HEADER_LEN, what);
    }
    if (h->method == HGT_METHOD_STORED) {
        *raw = r->comp;
        return 0;
    }
    int rc = grow(r, &r->raw, &r->raw_cap, h->raw_len);
    *raw = r->raw;
    return rc != 0 ? rc : inflate_payload(r, at + HGT_CHUNK_HEADER_LEN, h);
}

static int decode(reader_t *r, uint64_t at, const hg__hgt_chunk_header_t *h, const uint8_t *raw) {
    int rc = hg__hgt_decode_chunk(&r->dec, raw, h->raw_len, h->records);
    if (rc == 0 || r->dec.sink_failed) {
        return rc;
    }
    if (rc == HG_ENOMEM) {
        return hg_error_set(r->err, HG_ENOMEM, "%s: out of memory", r->name);
    }
    char what[300];
    snprintf(what, sizeof what, "chunk %u, record %u (tag at payload byte %zu): %s", h->seq,
             r->dec.record, r->dec.where, r->dec.why);
    return damage(r, at, what);
}

/* ---- chunks (§4) -------------------------------------------------------------------------- */

/* Bytes where a chunk would start after the END record: there must be none. */
static int after_end(reader_t *r, size_t got) {
    if (got > 0) {
        return damage(r, r->off, "data after the end record (expected the end of the file)");
    }
    r->done = true;
    return 0;
}

/* Nothing (got == 0) or part of a chunk header where the next chunk would start. */
static int short_header(reader_t *r, const uint8_t *hdr, size_t got) {
    if (memcmp(hdr, hg__hgt_chunk_magic, got < 4 ? got : 4) != 0) {
        return damage(r, r->off, "bad chunk magic (expected \"HGCK\")");
    }
    if (got > 0) {
        return cut_in_chunk(r, r->off + got);
    }
    char unit[64];
    snprintf(unit, sizeof unit, "after chunk %u, no end record", r->seq - 1);
    return cut_short(r, r->off, r->seq ? unit : "no chunks");
}

static int check_header(reader_t *r, const uint8_t *hdr, hg__hgt_chunk_header_t *h) {
    if (memcmp(hdr, hg__hgt_chunk_magic, 4) != 0) {
        return damage(r, r->off, "bad chunk magic (expected \"HGCK\")");
    }
    hg__hgt_get_chunk_header(hdr, h);
    const char *why = hg__hgt_check_chunk_header(hdr, h, r->seq);
    if (why) {
        char what[160];
        snprintf(what, sizeof what, "chunk %u: %s", r->seq, why);
        return damage(r, r->off, what);
    }
    return 0;
}

static int read_chunk(reader_t *r) {
    uint8_t hdr[HGT_CHUNK_HEADER_LEN];
    hg__hgt_chunk_header_t h;
    size_t got;
    int rc = read_bytes(r, hdr, sizeof hdr, &got);
    if (rc != 0 || r->dec.ended || got < sizeof hdr) {
        return rc != 0 ? rc : r->dec.ended ? after_end(r, got) : short_header(r, hdr, got);
    }
    if ((rc = check_header(r, hdr, &h)) != 0 || (rc = read_payload(r, h.comp_len, &got)) != 0) {
        return rc;
    }
    if (got < h.comp_len) {
        return cut_in_chunk(r, r->off + sizeof hdr + got);
    }
    const uint8_t *raw = NULL;
    if ((rc = unpack(r, r->off, &h, &raw)) != 0 || (rc = decode(r, r->off, &h, raw)) != 0) {
        return rc;
    }
    r->off += sizeof hdr + h.comp_len;
    r->seq++;
    progress(r);
    return 0;
}

/* ---- the reader --------------------------------------------------------------------------- */

static int read_all(reader_t *r) {
    int rc = read_file_header(r);
    while (rc == 0 && !r->done) {
        rc = read_chunk(r);
    }
    return rc;
}

int hg_hgt_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err) {
    hg_read_result_t ignored;
    res = res ? res : &ignored;
    memset(res, 0, sizeof *res);
    res->format = HG_FMT_HGT;
    reader_t r = {.fp = fp,
                  .name = name ? name : "(stream)",
                  .size_bytes = size_bytes,
                  .opt = opt,
                  .res = res,
                  .err = err};
    if (hg__hgt_decoder_init(&r.dec, sink) != 0) {
        return hg_error_set(err, HG_ENOMEM, "%s: out of memory", r.name);
    }
    int rc = read_all(&r);
    res->bytes_read = r.off;
    if (r.z_ready) {
        inflateEnd(&r.zs);
    }
    hg__hgt_decoder_free(&r.dec);
    hg_free(r.comp);
    hg_free(r.raw);
    return rc;
}
