/* hgt_write.c - the .hgt writer: a sink (tracker.h) whose callbacks encode records into the
 * current chunk buffer (hgt_encode.c), and the chunk and file handling around it.
 *
 * Records are encoded straight into the chunk's streams (one growable buffer each). A chunk is
 * written when its streams reach the chunk size (records are never split, so a chunk may exceed
 * it by one record), on hg_hgt_writer_flush, and at close, which appends the END record first.
 * Writing joins the streams into one payload (§5.1), deflates it on its own (or stores it) and
 * puts the chunk header before it (docs/hgt-format.md §4); the coding state restarts with every
 * chunk. File writers write to
 * `<path>.tmp.XXXXXX` beside the target and rename it over the target at close, so a reader
 * never sees a half-written file under the final name; a target that exists and is not a
 * regular file (/dev/null, a FIFO) or is "-" (stdout) is written directly. The first error is
 * kept: every later callback returns it and close removes the temporary file. */
#include "formats.h"
#include "hgt_encode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hg_hgt_writer {
    FILE *fp;
    bool own_fp;    /* fclose at the end */
    char *name;     /* target path or stream name, for messages */
    char *tmp_path; /* temporary file renamed over name at close; NULL when direct */
    int level;      /* zlib level, or -1 for stored chunks */
    uint32_t chunk_bytes;
    hg_buf_t streams[HGT_STREAMS]; /* records of the chunk being built */
    hg_buf_t raw;                  /* the joined payload */
    hg_buf_t body;                 /* scratch for a metadata record's body */
    uint8_t *zbuf;
    size_t zcap;
    z_stream zs;
    bool z_ready;
    hg__hgt_encoder_t enc;
    uint32_t seq;           /* number of the chunk being built */
    uint32_t chunk_records; /* records in it */
    uint64_t records;       /* records in the file so far, this chunk's included */
    hg_error_t err;
};

void hg_hgt_write_options_init(hg_hgt_write_options_t *opt) {
    opt->compression_level = -1;
    opt->chunk_bytes = HGT_DEFAULT_CHUNK;
    opt->stored = false;
}

const hg_error_t *hg_hgt_writer_error(const hg_hgt_writer_t *w) {
    return &w->err;
}

/* ---- failures ----------------------------------------------------------------------------- */

static int fail_io(hg_hgt_writer_t *w, const char *what) {
    return hg_error_set(&w->err, HG_EIO, "%s: %s: %s", w->name, what, strerror(errno));
}

static int fail_nomem(hg_hgt_writer_t *w) {
    return hg_error_set(&w->err, HG_ENOMEM, "%s: out of memory while writing", w->name);
}

static int copy_error(const hg_hgt_writer_t *w, hg_error_t *err) {
    if (err) {
        *err = w->err;
    }
    return w->err.code;
}

/* ---- chunks ------------------------------------------------------------------------------- */

/* Deflate strategy per stream: Huffman coding alone compresses the near-random columns
 * (timestamps, addresses, stack ids, tags) better and faster than LZ77 matching; sizes, context
 * and metadata repeat themselves, so they keep it. Measured on the synthetic stream of
 * tests/formats: 3.80 instead of 3.93 bytes per event. */
static const int stream_strategy[HGT_STREAMS] = {
    [HGT_S_TAGS] = Z_HUFFMAN_ONLY,        [HGT_S_TIMES] = Z_HUFFMAN_ONLY,
    [HGT_S_CONTEXT] = Z_DEFAULT_STRATEGY, [HGT_S_ADDRS] = Z_HUFFMAN_ONLY,
    [HGT_S_SIZES] = Z_DEFAULT_STRATEGY,   [HGT_S_STACKS] = Z_HUFFMAN_ONLY,
    [HGT_S_META] = Z_DEFAULT_STRATEGY,
};

/* Deflates n bytes at p with this strategy, ending the deflate block there so the next part
 * gets Huffman tables of its own. */
static int deflate_part(hg_hgt_writer_t *w, const char *p, size_t n, int strategy) {
    if (n == 0) {
        return 0;
    }
    if (deflateParams(&w->zs, w->level, strategy) != Z_OK) {
        return hg_error_set(&w->err, HG_ENOMEM, "%s: deflate failed", w->name);
    }
    w->zs.next_in = (Bytef *)p;
    w->zs.avail_in = (uInt)n;
    if (deflate(&w->zs, Z_BLOCK) != Z_OK || w->zs.avail_in != 0) {
        return hg_error_set(&w->err, HG_ENOMEM, "%s: deflate failed", w->name);
    }
    return 0;
}

static int reserve_zbuf(hg_hgt_writer_t *w, uint32_t raw_len) {
    size_t need = deflateBound(&w->zs, raw_len) + 64 * (HGT_STREAMS + 1); /* block ends */
    if (need > w->zcap) {
        uint8_t *z = hg_realloc(w->zbuf, need);
        if (!z) {
            return fail_nomem(w);
        }
        w->zbuf = z;
        w->zcap = need;
    }
    return 0;
}

/* Deflates w->raw: the stream table, then each stream with its strategy. */
static int deflate_chunk(hg_hgt_writer_t *w, uint32_t raw_len) {
    if (reserve_zbuf(w, raw_len) != 0) {
        return w->err.code;
    }
    deflateReset(&w->zs);
    w->zs.next_out = w->zbuf;
    w->zs.avail_out = (uInt)w->zcap;
    size_t off = raw_len;
    for (int i = 0; i < HGT_STREAMS; i++) {
        off -= w->streams[i].len;
    }
    int rc = deflate_part(w, w->raw.data, off, Z_DEFAULT_STRATEGY);
    for (int i = 0; i < HGT_STREAMS && rc == 0; i++) {
        rc = deflate_part(w, w->raw.data + off, w->streams[i].len, stream_strategy[i]);
        off += w->streams[i].len;
    }
    if (rc == 0 && deflate(&w->zs, Z_FINISH) != Z_STREAM_END) {
        rc = hg_error_set(&w->err, HG_ENOMEM, "%s: deflate failed", w->name);
    }
    return rc;
}

static void reset_chunk(hg_hgt_writer_t *w) {
    for (int i = 0; i < HGT_STREAMS; i++) {
        hg_buf_reset(&w->streams[i]);
    }
    hg__hgt_encoder_reset(&w->enc);
    w->chunk_records = 0;
    w->seq++;
}

/* Joins the streams into w->raw and packs it (deflated or stored) into *payload. */
static int pack_chunk(hg_hgt_writer_t *w, hg__hgt_chunk_header_t *h, const uint8_t **payload) {
    hg_buf_reset(&w->raw);
    hg__hgt_join_streams(&w->raw, w->streams);
    if (w->raw.failed) {
        return fail_nomem(w);
    }
    h->raw_len = h->comp_len = (uint32_t)w->raw.len;
    *payload = (const uint8_t *)w->raw.data;
    if (w->level < 0) {
        return 0;
    }
    if (deflate_chunk(w, h->raw_len) != 0) {
        return w->err.code;
    }
    h->method = HGT_METHOD_ZLIB;
    h->comp_len = (uint32_t)w->zs.total_out;
    *payload = w->zbuf;
    return 0;
}

/* Writes the records buffered so far as one chunk and starts the next; nothing when empty. */
static int write_chunk(hg_hgt_writer_t *w) {
    if (w->chunk_records == 0) {
        return 0;
    }
    hg__hgt_chunk_header_t h = {.seq = w->seq, .records = w->chunk_records};
    const uint8_t *payload = NULL;
    if (pack_chunk(w, &h, &payload) != 0) {
        return w->err.code;
    }
    h.payload_crc = hg__hgt_crc32(payload, h.comp_len);
    uint8_t hdr[HGT_CHUNK_HEADER_LEN];
    hg__hgt_put_chunk_header(hdr, &h);
    if (fwrite(hdr, 1, sizeof hdr, w->fp) != sizeof hdr ||
        fwrite(payload, 1, h.comp_len, w->fp) != h.comp_len) {
        return fail_io(w, "cannot write");
    }
    reset_chunk(w);
    return 0;
}

static int after_record(hg_hgt_writer_t *w) {
    size_t len = 0;
    bool failed = false;
    for (int i = 0; i < HGT_STREAMS; i++) {
        len += w->streams[i].len;
        failed |= w->streams[i].failed;
    }
    if (failed) {
        return fail_nomem(w);
    }
    w->chunk_records++;
    w->records++;
    return len >= w->chunk_bytes ? write_chunk(w) : 0;
}

/* Frames the body built in w->body as a record of this tag. */
static int add_meta(hg_hgt_writer_t *w, uint8_t tag) {
    if (w->body.failed) {
        return fail_nomem(w);
    }
    hg__hgt_frame_record(&w->streams[HGT_S_TAGS], &w->streams[HGT_S_META], tag, &w->body);
    return after_record(w);
}

/* ---- the sink ----------------------------------------------------------------------------- */

static hg_buf_t *start_body(hg_hgt_writer_t *w) {
    hg_buf_reset(&w->body);
    return &w->body;
}

static int w_trace(void *ctx, const hg_trace_info_t *info) {
    hg_hgt_writer_t *w = ctx;
    if (w->err.code) {
        return w->err.code;
    }
    hg__hgt_encode_trace(start_body(w), info);
    return add_meta(w, HGT_TAG_TRACE);
}

static int w_process(void *ctx, const hg_process_info_t *info) {
    hg_hgt_writer_t *w = ctx;
    if (w->err.code) {
        return w->err.code;
    }
    hg__hgt_encode_process(start_body(w), info);
    return add_meta(w, HGT_TAG_PROCESS);
}

static int w_module(void *ctx, const hg_module_info_t *info) {
    hg_hgt_writer_t *w = ctx;
    if (w->err.code) {
        return w->err.code;
    }
    if (info->build_id && info->build_id_len > HGT_MAX_BUILD_ID) {
        return hg_error_set(&w->err, HG_ELIMIT, "%s: module %s: build-id of %u bytes (max %u)",
                            w->name, info->path ? info->path : "?", info->build_id_len,
                            HGT_MAX_BUILD_ID);
    }
    hg__hgt_encode_module(start_body(w), info);
    return add_meta(w, HGT_TAG_MODULE);
}

static int w_stack(void *ctx, uint32_t stack_id, const uint64_t *frames, uint32_t nframes) {
    hg_hgt_writer_t *w = ctx;
    if (w->err.code) {
        return w->err.code;
    }
    if (stack_id == 0 || (nframes > 0 && !frames)) {
        return hg_error_set(&w->err, HG_EUSAGE, "%s: stack id 0 or missing frames", w->name);
    }
    hg__hgt_encode_stack(start_body(w), stack_id, frames, nframes);
    return add_meta(w, HGT_TAG_STACK);
}

static int w_stats(void *ctx, const hg_alloc_stats_t *stats) {
    hg_hgt_writer_t *w = ctx;
    if (w->err.code) {
        return w->err.code;
    }
    hg__hgt_encode_stats(start_body(w), stats);
    return add_meta(w, HGT_TAG_STATS);
}

static int w_event(void *ctx, const hg_event_t *ev) {
    hg_hgt_writer_t *w = ctx;
    if (w->err.code) {
        return w->err.code;
    }
    if (ev->kind < 1 || ev->kind > HG_EV_KIND_MAX) {
        return hg_error_set(&w->err, HG_EUSAGE, "%s: event kind %u is not 1..%d", w->name, ev->kind,
                            HG_EV_KIND_MAX);
    }
    hg__hgt_out_t o;
    for (int i = 0; i < HGT_STREAMS; i++) {
        if (!hg_buf_reserve(&w->streams[i], HGT_MAX_EVENT_BYTES)) {
            return fail_nomem(w);
        }
        o.p[i] = (uint8_t *)w->streams[i].data + w->streams[i].len;
    }
    hg__hgt_encode_event(&o, &w->enc, ev);
    for (int i = 0; i < HGT_STREAMS; i++) {
        w->streams[i].len = (size_t)(o.p[i] - (uint8_t *)w->streams[i].data);
    }
    return after_record(w);
}

static const hg_sink_ops_t writer_ops = {
    .trace = w_trace,
    .process = w_process,
    .module = w_module,
    .stack = w_stack,
    .event = w_event,
    .stats = w_stats,
};

hg_sink_t hg_hgt_writer_sink(hg_hgt_writer_t *w) {
    return (hg_sink_t){.ops = &writer_ops, .ctx = w};
}

/* ---- opening ------------------------------------------------------------------------------ */

static int apply_options(hg_hgt_writer_t *w, const hg_hgt_write_options_t *opt) {
    hg_hgt_write_options_t def;
    hg_hgt_write_options_init(&def);
    opt = opt ? opt : &def;
    if (opt->compression_level < -1 || opt->compression_level > 9) {
        return hg_error_set(&w->err, HG_EUSAGE, "%s: compression level %d is not -1..9", w->name,
                            opt->compression_level);
    }
    w->level = opt->stored ? -1 : opt->compression_level < 0 ? 1 : opt->compression_level;
    uint32_t c = opt->chunk_bytes ? opt->chunk_bytes : HGT_DEFAULT_CHUNK;
    w->chunk_bytes = c < HGT_MIN_CHUNK ? HGT_MIN_CHUNK : c > HGT_MAX_CHUNK ? HGT_MAX_CHUNK : c;
    return 0;
}

static int init_zlib(hg_hgt_writer_t *w) {
    if (w->level < 0) {
        return 0;
    }
    hg__hgt_zlib_alloc(&w->zs);
    if (deflateInit(&w->zs, w->level) != Z_OK) {
        return fail_nomem(w);
    }
    w->z_ready = true;
    return 0;
}

/* A writer with its options applied, no file yet; NULL (err set) on failure. */
static hg_hgt_writer_t *writer_new(const char *name, const hg_hgt_write_options_t *opt,
                                   hg_error_t *err) {
    hg_hgt_writer_t *w = hg_calloc(1, sizeof *w);
    if (!w || !(w->name = hg_strdup(name ? name : "(stream)"))) {
        hg_free(w);
        hg_error_set(err, HG_ENOMEM, "%s: out of memory", name ? name : "(stream)");
        return NULL;
    }
    for (int i = 0; i < HGT_STREAMS; i++) {
        hg_buf_init(&w->streams[i]);
    }
    hg_buf_init(&w->raw);
    hg_buf_init(&w->body);
    if (apply_options(w, opt) != 0 || init_zlib(w) != 0) {
        copy_error(w, err);
        hg_hgt_writer_abort(w);
        return NULL;
    }
    return w;
}

/* Creates `<path>.tmp.XXXXXX` with the mode a plain fopen would give (mkstemp uses 0600). */
static int open_temp(hg_hgt_writer_t *w) {
    size_t n = strlen(w->name) + sizeof ".tmp.XXXXXX";
    if (!(w->tmp_path = hg_malloc(n))) {
        return fail_nomem(w);
    }
    snprintf(w->tmp_path, n, "%s.tmp.XXXXXX", w->name);
    int fd = mkstemp(w->tmp_path);
    if (fd < 0) {
        hg_free(w->tmp_path);
        w->tmp_path = NULL;
        return fail_io(w, "cannot create a temporary file beside it");
    }
    mode_t mask = umask(0); /* single-threaded tool: reading the umask this way is safe */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    if (!(w->fp = fdopen(fd, "wb"))) {
        close(fd);
        return fail_io(w, "cannot open the temporary file");
    }
    return 0;
}

static int open_target(hg_hgt_writer_t *w) {
    struct stat st;
    w->own_fp = true;
    if (strcmp(w->name, "-") == 0) {
        w->fp = stdout;
        w->own_fp = false;
        return 0;
    }
    if (stat(w->name, &st) == 0 && !S_ISREG(st.st_mode)) {
        w->fp = fopen(w->name, "wb");
        return w->fp ? 0 : fail_io(w, "cannot open");
    }
    return open_temp(w);
}

static int write_file_header(hg_hgt_writer_t *w) {
    uint8_t hdr[HGT_FILE_HEADER_LEN];
    hg__hgt_put_file_header(hdr);
    return fwrite(hdr, 1, sizeof hdr, w->fp) == sizeof hdr ? 0 : fail_io(w, "cannot write");
}

hg_hgt_writer_t *hg_hgt_writer_open(const char *path, const hg_hgt_write_options_t *opt,
                                    hg_error_t *err) {
    hg_hgt_writer_t *w = writer_new(path, opt, err);
    if (w && (open_target(w) != 0 || write_file_header(w) != 0)) {
        copy_error(w, err);
        hg_hgt_writer_abort(w);
        return NULL;
    }
    return w;
}

hg_hgt_writer_t *hg_hgt_writer_open_stream(FILE *fp, const char *name,
                                           const hg_hgt_write_options_t *opt, hg_error_t *err) {
    hg_hgt_writer_t *w = writer_new(name, opt, err);
    if (!w) {
        return NULL;
    }
    w->fp = fp;
    if (write_file_header(w) != 0) {
        copy_error(w, err);
        hg_hgt_writer_abort(w);
        return NULL;
    }
    return w;
}

/* ---- flushing, closing -------------------------------------------------------------------- */

int hg_hgt_writer_flush(hg_hgt_writer_t *w, hg_error_t *err) {
    if (!w->err.code && write_chunk(w) == 0 && fflush(w->fp) != 0) {
        fail_io(w, "cannot write");
    }
    return copy_error(w, err);
}

static int write_end(hg_hgt_writer_t *w) {
    hg__hgt_encode_end(start_body(w), w->records);
    if (add_meta(w, HGT_TAG_END) != 0) {
        return w->err.code;
    }
    return write_chunk(w);
}

/* Pushes the file to disk and closes it (file writers), or flushes the caller's stream. */
static int finish_file(hg_hgt_writer_t *w) {
    if (fflush(w->fp) != 0) {
        return fail_io(w, "cannot write");
    }
    if (!w->own_fp) {
        return 0;
    }
    bool synced = !w->tmp_path || fsync(fileno(w->fp)) == 0;
    int rc = fclose(w->fp);
    w->fp = NULL;
    if (!synced || rc != 0) {
        return fail_io(w, "cannot write");
    }
    if (w->tmp_path && rename(w->tmp_path, w->name) != 0) {
        return fail_io(w, "cannot rename the temporary file over it");
    }
    hg_free(w->tmp_path);
    w->tmp_path = NULL;
    return 0;
}

int hg_hgt_writer_close(hg_hgt_writer_t *w, hg_error_t *err) {
    if (!w->err.code && write_end(w) == 0) {
        finish_file(w);
    }
    int rc = copy_error(w, err);
    hg_hgt_writer_abort(w);
    return rc;
}

void hg_hgt_writer_abort(hg_hgt_writer_t *w) {
    if (!w) {
        return;
    }
    if (w->fp && w->own_fp) {
        fclose(w->fp);
    }
    if (w->tmp_path) {
        unlink(w->tmp_path);
        hg_free(w->tmp_path);
    }
    if (w->z_ready) {
        deflateEnd(&w->zs);
    }
    for (int i = 0; i < HGT_STREAMS; i++) {
        hg_buf_free(&w->streams[i]);
    }
    hg_buf_free(&w->raw);
    hg_buf_free(&w->body);
    hg_free(w->zbuf);
    hg_free(w->name);
    hg_free(w);
}
