/* pprof_wire.c - protocol buffer wire format for the pprof writer, encoded by hand from the
 * published encoding rules (protobuf.dev "Encoding": a field is a key varint, field number << 3
 * | wire type, then its value; varints are little-endian base-128 with the high bit of each byte
 * saying "more"; wire type 2 is a varint length then that many bytes; proto3 packs repeated
 * scalars into one length-delimited field) - and the gzip framing pprof files use. */
#include "pprof_priv.h"

#include <zlib.h>

#define ZCHUNK 65536

static void put_varint(hg_buf_t *b, uint64_t v) {
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    hg_buf_append(b, tmp, n);
}

void hg__pb_uint(hg_buf_t *b, unsigned field, uint64_t v) {
    if (v) {
        put_varint(b, (uint64_t)field << 3);
        put_varint(b, v);
    }
}

void hg__pb_bytes(hg_buf_t *b, unsigned field, const void *data, size_t n) {
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    if (n) {
        hg_buf_append(b, data, n);
    }
}

void hg__pb_packed(hg_buf_t *b, unsigned field, const uint64_t *v, size_t n, hg_buf_t *scratch) {
    if (n == 0) {
        return;
    }
    hg_buf_reset(scratch);
    for (size_t i = 0; i < n; i++) {
        put_varint(scratch, v[i]);
    }
    hg__pb_bytes(b, field, scratch->data, scratch->len);
    b->failed |= scratch->failed;
}

/* ---- gzip ----------------------------------------------------------------------------------- */

/* Runs deflate until it has taken all input (and, with Z_FINISH, written the trailer). */
static int pump(z_stream *z, hg_out_t *o, unsigned char *chunk, int flush) {
    int rc;
    do {
        z->next_out = chunk;
        z->avail_out = ZCHUNK;
        rc = deflate(z, flush);
        if (rc == Z_STREAM_ERROR) {
            return HG_EIO;
        }
        hg_out_write(o, chunk, ZCHUNK - z->avail_out);
    } while (flush == Z_FINISH ? rc != Z_STREAM_END : z->avail_out == 0);
    return 0;
}

void hg__pb_gzip(hg_out_t *o, const void *data, size_t n) {
    z_stream z = {0};
    hg__report_zlib_alloc(&z);
    unsigned char *chunk = hg_malloc(ZCHUNK);
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's (zlib.h, deflateInit2);
     * level 1, as Go's runtime/pprof writes its profiles (gzip.BestSpeed) */
    if (!chunk ||
        deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        hg_free(chunk);
        hg__report_out_fail(o, HG_ENOMEM);
        return;
    }
    const unsigned char *p = data;
    int rc = 0;
    while (!rc && n > 0) {
        size_t take = n > ZCHUNK ? ZCHUNK : n;
        z.next_in = (Bytef *)p;
        z.avail_in = (uInt)take;
        rc = pump(&z, o, chunk, Z_NO_FLUSH);
        p += take;
        n -= take;
    }
    if (!rc) {
        rc = pump(&z, o, chunk, Z_FINISH);
    }
    if (rc) {
        hg__report_out_fail(o, rc);
    }
    deflateEnd(&z);
    hg_free(chunk);
}
