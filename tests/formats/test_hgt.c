/* test_hgt.c - tests of the .hgt native trace format (docs/hgt-format.md): round trips of every
 * record and field through the writer and reader, a cut at every offset, a damaged byte at
 * every offset, hand-crafted hostile files, the writer's temporary-file handling and errors,
 * allocation failures, the size bound on a synthetic allocation stream, and the fuzz corpus.
 *
 * Streams are compared through a recording sink that logs every callback with all its fields
 * (hgt_testlib.c); hostile files are assembled by the crafter there, which follows the
 * specification rather than the implementation. */
#include "hgt_testlib.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Bytes per event the synthetic streams must stay under (docs/hgt-format.md §9): timestamps
 * from a nanosecond clock, and from ETW's 100 ns clock. */
#define HGT_BOUND_NS_CLOCK  4.0
#define HGT_BOUND_100NS_QPC 3.5

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct mem {
    char *data;
    size_t len;
} mem_t;

typedef int (*emit_fn)(hg_sink_t sink, uint32_t n);

static int emit_everything(hg_sink_t sink, uint32_t n) {
    (void)n;
    return hgt_everything(sink);
}

static int emit_synth(hg_sink_t sink, uint32_t n) {
    return hgt_synth(sink, n, 12345);
}

static int emit_both(hg_sink_t sink, uint32_t n) {
    int rc = hgt_everything(sink);
    return rc ? rc : hgt_synth(sink, n, 777);
}

/* Writes what emit produces into memory through a stream writer. */
static mem_t write_mem(const hg_hgt_write_options_t *opt, emit_fn emit, uint32_t n) {
    mem_t m = {0};
    hg_error_t err = {0};
    FILE *fp = open_memstream(&m.data, &m.len);
    hg_hgt_writer_t *w = hg_hgt_writer_open_stream(fp, "mem.hgt", opt, &err);
    cr_assert_not_null(w, "%s", err.msg);
    cr_assert_eq(emit(hg_hgt_writer_sink(w), n), 0);
    cr_assert_eq(hg_hgt_writer_close(w, &err), 0, "%s", err.msg);
    fclose(fp);
    return m;
}

/* The log emit produces when fed straight to the recorder. */
static void expected_log(hgt_rec_t *rec, emit_fn emit, uint32_t n) {
    hgt_rec_init(rec);
    cr_assert_eq(emit(hgt_rec_sink(rec), n), 0);
}

static hg_hgt_write_options_t options(bool stored, int level, uint32_t chunk) {
    hg_hgt_write_options_t o;
    hg_hgt_write_options_init(&o);
    o.stored = stored;
    o.compression_level = level;
    o.chunk_bytes = chunk;
    return o;
}

static void assert_round_trip(const hg_hgt_write_options_t *opt, emit_fn emit, uint32_t n) {
    hgt_rec_t want, got;
    expected_log(&want, emit, n);
    mem_t m = write_mem(opt, emit, n);
    hgt_rec_init(&got);
    hgt_outcome_t o = hgt_read_mem(m.data, m.len, hgt_rec_sink(&got));
    cr_assert_eq(o.rc, 0, "%s", o.err.msg);
    cr_assert(!o.res.truncated, "%s", o.res.warning);
    cr_assert_eq(o.res.format, HG_FMT_HGT);
    cr_assert_eq(o.res.bytes_read, m.len);
    cr_assert_eq(got.log.len, want.log.len);
    cr_assert(memcmp(got.log.data, want.log.data, want.log.len) == 0);
    hgt_rec_free(&want);
    hgt_rec_free(&got);
    free(m.data);
}

/* The length of the first `lines` lines of a log. */
static size_t log_prefix(const hg_buf_t *log, uint64_t lines) {
    size_t i = 0;
    for (uint64_t n = 0; n < lines && i < log->len; i++) {
        n += log->data[i] == '\n';
    }
    return i;
}

static hgt_outcome_t read_rec(const void *data, size_t n, hgt_rec_t *rec) {
    hgt_rec_init(rec);
    return hgt_read_mem(data, n, hgt_rec_sink(rec));
}

static void expect_damage(const hg_buf_t *file, const char *what) {
    hgt_rec_t rec;
    hgt_outcome_t o = read_rec(file->data, file->len, &rec);
    cr_expect_eq(o.rc, HG_EFORMAT, "rc %d for \"%s\" (warning: %s)", o.rc, what, o.res.warning);
    cr_expect(strstr(o.err.msg, what) != NULL, "message \"%s\" lacks \"%s\"", o.err.msg, what);
    cr_expect(strncmp(o.err.msg, "mem.hgt: offset ", 16) == 0, "%s", o.err.msg);
    hgt_rec_free(&rec);
}

/* ---- round trips -------------------------------------------------------------------------- */

Test(hgt_roundtrip, every_record_and_field_zlib) {
    hg_hgt_write_options_t o = options(false, -1, 0);
    assert_round_trip(&o, emit_everything, 0);
}

Test(hgt_roundtrip, every_record_and_field_stored) {
    hg_hgt_write_options_t o = options(true, -1, 0);
    assert_round_trip(&o, emit_everything, 0);
}

Test(hgt_roundtrip, zlib_levels_0_and_9) {
    hg_hgt_write_options_t o0 = options(false, 0, 0), o9 = options(false, 9, 0);
    assert_round_trip(&o0, emit_both, 2000);
    assert_round_trip(&o9, emit_both, 2000);
}

Test(hgt_roundtrip, many_small_chunks_zlib_and_stored) {
    hg_hgt_write_options_t z = options(false, -1, 64), s = options(true, -1, 512);
    assert_round_trip(&z, emit_both, 20000);
    assert_round_trip(&s, emit_both, 20000);
    mem_t m = write_mem(&z, emit_both, 20000);
    hgt_chunk_pos_t pos[4096];
    cr_assert_gt(hgt_chunks((uint8_t *)m.data, m.len, pos, 4096), 1000);
    free(m.data);
}

Test(hgt_roundtrip, empty_trace_is_complete) {
    hg_hgt_write_options_t o = options(true, -1, 0);
    hg_error_t err;
    mem_t m = {0};
    FILE *fp = open_memstream(&m.data, &m.len);
    hg_hgt_writer_close(hg_hgt_writer_open_stream(fp, "e", &o, &err), &err);
    fclose(fp);
    hgt_rec_t rec;
    hgt_outcome_t r = read_rec(m.data, m.len, &rec);
    cr_assert_eq(r.rc, 0, "%s", r.err.msg);
    cr_assert(!r.res.truncated);
    cr_assert_eq(rec.records, 0);
    cr_assert_eq(m.len, 20 + 32 + 11); /* header, chunk header, stream table (8), END (3) */
    hgt_rec_free(&rec);
    free(m.data);
}

static int emit_oversized(hg_sink_t k, uint32_t n) {
    (void)n;
    static uint64_t frames[300];
    static char s[70001];
    for (int i = 0; i < 300; i++) {
        frames[i] = 0x1000u + (uint64_t)i;
    }
    for (int i = 0; i < 70000; i += 2) {
        memcpy(s + i, "\xc3\xa9", 2); /* 'é': a cut must not split it */
    }
    hg_process_info_t p = {.pid = 1, .name = s, .cmdline = "x"};
    int rc = k.ops->process(k.ctx, &p);
    return rc ? rc : k.ops->stack(k.ctx, 9, frames, 300);
}

Test(hgt_roundtrip, long_strings_and_deep_stacks_are_cut) {
    mem_t m = write_mem(NULL, emit_oversized, 0);
    hgt_rec_t rec;
    hgt_outcome_t o = read_rec(m.data, m.len, &rec);
    cr_assert_eq(o.rc, 0, "%s", o.err.msg);
    char *name = strstr(rec.log.data, "\""), *end = strchr(name + 1, '"');
    cr_assert_eq(end - name - 1, 65534, "cut to the last whole character");
    char *stack = strstr(rec.log.data, "S 9 256 1000 1001");
    cr_assert_not_null(stack);
    cr_assert_not_null(strstr(stack, " 10ff\n"), "innermost 256 frames kept");
    hgt_rec_free(&rec);
    free(m.data);
}

static int progress_calls;
static uint64_t progress_last;

static void on_progress(void *ud, uint64_t done, uint64_t total) {
    cr_assert_geq(done, progress_last);
    cr_assert_eq(total, *(uint64_t *)ud);
    progress_last = done;
    progress_calls++;
}

Test(hgt_roundtrip, file_writer_and_progress) {
    char dir[] = "/tmp/hgt-test-XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/trace.hgt", dir);
    hg_hgt_write_options_t opt = options(false, -1, 4096);
    hg_error_t err;
    hg_hgt_writer_t *w = hg_hgt_writer_open(path, &opt, &err);
    cr_assert_not_null(w, "%s", err.msg);
    cr_assert_eq(hgt_synth(hg_hgt_writer_sink(w), 20000, 1), 0);
    cr_assert_eq(hg_hgt_writer_close(w, &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    uint64_t size = (uint64_t)st.st_size;
    hg_read_options_t ro = {.progress = on_progress, .progress_ud = &size};
    hgt_rec_t rec;
    hgt_rec_init(&rec);
    hg_read_result_t res;
    FILE *fp = fopen(path, "rb");
    cr_assert_eq(hg_hgt_read(fp, path, size, hgt_rec_sink(&rec), &ro, &res, &err), 0);
    fclose(fp);
    cr_assert_gt(progress_calls, 10);
    cr_assert_eq(progress_last, size);
    cr_assert_eq(rec.events, 20000);
    hgt_rec_free(&rec);
    unlink(path);
    rmdir(dir);
}

/* ---- truncation --------------------------------------------------------------------------- */

/* Records in the chunks that end at or before offset cut. */
static uint64_t records_before(const hgt_chunk_pos_t *pos, size_t n, size_t cut) {
    uint64_t r = 0;
    for (size_t i = 0; i < n && pos[i].end <= cut; i++) {
        r += pos[i].records;
    }
    return r;
}

Test(hgt_truncation, every_prefix_is_read_up_to_the_last_whole_chunk) {
    hg_hgt_write_options_t o = options(false, -1, 200);
    mem_t m = write_mem(&o, emit_both, 300);
    hgt_rec_t full;
    hgt_outcome_t whole = read_rec(m.data, m.len, &full);
    cr_assert_eq(whole.rc, 0);
    hgt_chunk_pos_t pos[256];
    size_t nchunks = hgt_chunks((uint8_t *)m.data, m.len, pos, 256);
    cr_assert_gt(nchunks, 5);
    for (size_t cut = 0; cut < m.len; cut++) {
        hgt_rec_t rec;
        hgt_outcome_t r = read_rec(m.data, cut, &rec);
        char want[80];
        snprintf(want, sizeof want, "mem.hgt: cut short at offset %zu (", cut);
        cr_assert_eq(r.rc, 0, "cut at %zu: %s", cut, r.err.msg);
        cr_assert(r.res.truncated, "cut at %zu", cut);
        cr_assert(strncmp(r.res.warning, want, strlen(want)) == 0, "%s", r.res.warning);
        uint64_t n = records_before(pos, nchunks, cut);
        cr_assert_eq(rec.records, n, "cut at %zu", cut);
        size_t len = log_prefix(&full.log, n);
        cr_assert_eq(rec.log.len, len, "cut at %zu", cut);
        cr_assert(len == 0 || memcmp(rec.log.data, full.log.data, len) == 0);
        hgt_rec_free(&rec);
    }
    hgt_rec_free(&full);
    free(m.data);
}

Test(hgt_truncation, cut_inside_the_last_chunk) {
    hg_hgt_write_options_t o = options(false, -1, 4096);
    mem_t m = write_mem(&o, emit_synth, 5000);
    hgt_chunk_pos_t pos[256];
    size_t n = hgt_chunks((uint8_t *)m.data, m.len, pos, 256);
    cr_assert_gt(n, 3);
    size_t cut = pos[n - 1].offset + 40;
    hgt_rec_t rec;
    hgt_outcome_t r = read_rec(m.data, cut, &rec);
    char want[160];
    snprintf(want, sizeof want,
             "mem.hgt: cut short at offset %zu (partial chunk %zu); read up to the last whole "
             "chunk",
             cut, n - 1);
    cr_assert_eq(r.rc, 0);
    cr_assert(r.res.truncated);
    cr_assert_str_eq(r.res.warning, want);
    cr_assert_eq(rec.records, records_before(pos, n, cut));
    hgt_rec_free(&rec);
    free(m.data);
}

Test(hgt_truncation, clean_cut_at_a_chunk_boundary_without_end) {
    hg_hgt_write_options_t o = options(false, -1, 1024);
    mem_t m = write_mem(&o, emit_synth, 3000);
    hgt_chunk_pos_t pos[256];
    size_t n = hgt_chunks((uint8_t *)m.data, m.len, pos, 256);
    hgt_rec_t rec;
    hgt_outcome_t r = read_rec(m.data, pos[n - 2].end, &rec);
    cr_assert_eq(r.rc, 0);
    cr_assert(r.res.truncated);
    cr_assert(strstr(r.res.warning, "no end record") != NULL, "%s", r.res.warning);
    cr_assert_eq(rec.records, records_before(pos, n, pos[n - 2].end));
    hgt_rec_free(&rec);
    free(m.data);
}

Test(hgt_truncation, huge_declared_payload_in_a_short_file_allocates_little) {
    hg_buf_t f;
    hg_buf_init(&f);
    hgt_craft_file_header(&f, 1);
    char junk[100] = {0};
    hgt_craft_chunk_raw(&f, 0, 0, 60u << 20, 60u << 20, 5, junk, sizeof junk);
    hgt_rec_t rec;
    hgt_outcome_t r = read_rec(f.data, f.len, &rec);
    cr_assert_eq(r.rc, 0, "%s", r.err.msg);
    cr_assert(r.res.truncated);
    cr_assert_lt(hg_mem_stats().peak_bytes, 1u << 20, "peak %llu",
                 (unsigned long long)hg_mem_stats().peak_bytes);
    hgt_rec_free(&rec);
    hg_buf_free(&f);
}

/* ---- damage ------------------------------------------------------------------------------- */

/* What a damaged byte at offset i must be reported as: "offset N: ..." with N the unit. */
static void expected_damage(const hgt_chunk_pos_t *pos, size_t n, size_t i, char *out, size_t cap) {
    if (i < 8) {
        snprintf(out, cap, "mem.hgt: offset 0: not a heapgate trace");
    } else if (i < 10) {
        snprintf(out, cap, "mem.hgt: offset 8: unsupported major version");
    } else if (i < 20) {
        snprintf(out, cap, "mem.hgt: offset 16: file header CRC mismatch");
    }
    for (size_t c = 0; c < n; c++) {
        if (i >= pos[c].offset + 32 && i < pos[c].end) {
            snprintf(out, cap, "mem.hgt: offset %zu: chunk %zu payload CRC mismatch",
                     pos[c].offset + 32, c);
        } else if (i >= pos[c].offset && i < pos[c].offset + 32) {
            snprintf(out, cap, "mem.hgt: offset %zu: ", pos[c].offset);
        }
    }
}

Test(hgt_damage, every_flipped_byte_is_reported_with_its_offset) {
    hg_hgt_write_options_t o = options(false, -1, 300);
    mem_t m = write_mem(&o, emit_both, 200);
    hgt_chunk_pos_t pos[256];
    size_t n = hgt_chunks((uint8_t *)m.data, m.len, pos, 256);
    for (size_t i = 0; i < m.len; i++) {
        m.data[i] ^= 0x55;
        hgt_rec_t rec;
        hgt_outcome_t r = read_rec(m.data, m.len, &rec);
        char want[128];
        expected_damage(pos, n, i, want, sizeof want);
        cr_assert_eq(r.rc, HG_EFORMAT, "byte %zu: rc %d %s", i, r.rc, r.res.warning);
        cr_assert(strncmp(r.err.msg, want, strlen(want)) == 0, "byte %zu: %s", i, r.err.msg);
        m.data[i] ^= 0x55;
        hgt_rec_free(&rec);
    }
    free(m.data);
}

Test(hgt_damage, data_after_the_end) {
    mem_t m = write_mem(NULL, emit_everything, 0);
    char *more = malloc(m.len + 1);
    memcpy(more, m.data, m.len);
    more[m.len] = 'x';
    hg_buf_t f = {more, m.len + 1, m.len + 1, false};
    expect_damage(&f, "data after the end record");
    free(more);
    free(m.data);
}

/* A file of one stored chunk with a payload built from the hex of its seven streams. */
static void streams_file(hg_buf_t *f, const char *const streams[7], uint32_t records) {
    hg_buf_t raw;
    hg_buf_init(&raw);
    hgt_craft_payload(&raw, streams, NULL, 0);
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 0, 0, raw.data, raw.len, records);
    hg_buf_free(&raw);
}

/* A file of one stored chunk whose whole payload is given in hex. */
static void payload_file(hg_buf_t *f, const char *hex) {
    hg_buf_t raw;
    hg_buf_init(&raw);
    hgt_craft_hex(&raw, hex);
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 0, 0, raw.data, raw.len, 1);
    hg_buf_free(&raw);
}

typedef struct hostile {
    const char *name;
    void (*build)(hg_buf_t *f); /* or NULL: */
    const char *payload;        /* the whole payload of one stored chunk in hex, or NULL: */
    const char *s[7];           /* its streams: tags, times, context, addrs, sizes, stacks, meta */
    const char *what;           /* expected in the HG_EFORMAT message */
} hostile_t;

static void b_signature(hg_buf_t *f) {
    hg_buf_append(f, "GIF89a\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
}

static void b_major2(hg_buf_t *f) {
    hgt_craft_file_header(f, 2);
}

static void b_header_crc(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    f->data[12] = 1;
}

static void b_chunk_magic(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 0, 0, "\x10\x00", 2, 1);
    f->data[23] = 'X';
}

static void b_method2(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 2, 0, 2, 2, 1, "\x10\x00", 2);
}

static void b_seq(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 0, 1, "\x10\x00", 2, 1);
}

static void b_raw_limit(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 0, 0, (64u << 20) + 1, (64u << 20) + 1, 1, "", 0);
}

static void b_comp_zero(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 1, 0, 0, 100, 1, "", 0);
}

static void b_ratio(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 1, 0, 10, 20000, 1, "0123456789", 10);
}

static void b_records_zero(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 0, 0, "\x10\x00", 2, 0);
}

static void b_stored_len(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 0, 0, 2, 3, 1, "\x10\x00", 2);
}

static void b_payload_crc(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 0, 0, "\x10\x00", 2, 1);
    f->data[f->len - 1] ^= 1;
}

static void b_inflate(hg_buf_t *f) {
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 1, 0, 8, 8, 1, "\x78\x9c\xff\xff\xff\xff\xff\xff", 8);
}

static void zchunk_declaring(hg_buf_t *f, size_t real, uint32_t declared) {
    uint8_t raw[400] = {0x10, 0x00}, z[600];
    uLongf zn = sizeof z;
    compress2(z, &zn, raw, real, 6);
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 1, 0, (uint32_t)zn, declared, 1, z, zn);
}

static void b_inflate_more(hg_buf_t *f) {
    zchunk_declaring(f, 200, 100);
}

static void b_inflate_fewer(hg_buf_t *f) {
    zchunk_declaring(f, 100, 200);
}

static void b_inflate_trailing(hg_buf_t *f) {
    uint8_t raw[2] = {0x10, 0x00}, z[64];
    uLongf zn = sizeof z;
    compress2(z, &zn, raw, 2, 6);
    z[zn++] = 0;
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk_raw(f, 1, 0, (uint32_t)zn, 2, 1, z, zn);
}

static void b_after_end_chunk(hg_buf_t *f) {
    const char *s[7] = {"f0", [6] = "01 00"};
    streams_file(f, s, 1);
    hgt_craft_chunk(f, 0, 1, "\x10\x00", 2, 1);
}

static const hostile_t hostile_cases[] = {
    {"signature", b_signature, .what = "offset 0: not a heapgate trace"},
    {"major", b_major2, .what = "offset 8: unsupported major version 2"},
    {"header crc", b_header_crc, .what = "offset 16: file header CRC mismatch"},
    {"chunk magic", b_chunk_magic, .what = "offset 20: bad chunk magic"},
    {"method", b_method2, .what = "offset 20: chunk 0: unknown compression method"},
    {"sequence", b_seq, .what = "chunk sequence number out of order"},
    {"raw limit", b_raw_limit, .what = "raw length must be 1..64 MiB"},
    {"comp zero", b_comp_zero, .what = "compressed length impossible"},
    {"ratio", b_ratio, .what = "1032:1"},
    {"records zero", b_records_zero, .what = "record count must be"},
    {"stored len", b_stored_len, .what = "stored chunk with compressed != raw"},
    {"payload crc", b_payload_crc, .what = "offset 52: chunk 0 payload CRC mismatch"},
    {"inflate", b_inflate, .what = "offset 52: chunk 0: inflate failed"},
    {"inflate more", b_inflate_more, .what = "inflates to more than the 100 raw"},
    {"inflate fewer", b_inflate_fewer, .what = "inflates to fewer than the 200 raw"},
    {"inflate trailing", b_inflate_trailing, .what = "has data after its zlib stream"},
    {"after end chunk", b_after_end_chunk, .what = "offset 63: data after the end"},
    {"streams 6", NULL, "06 00 00 00 00 00 00", .what = "fewer than 7 streams"},
    {"streams 65", NULL, "41 00", .what = "more than 64 streams"},
    {"stream table cut", NULL, "07 00 00", .what = "stream table runs past the end"},
    {"stream sum", NULL, "07 01 00 00 00 00 00 00", .what = "do not add up"},
    {"stream huge", NULL, "07 ff ff ff ff 0f 00 00 00 00 00 00 01", .what = "do not add up"},
    {"tag 0x0b", .s = {"0b"}, .what = "record 0 (tag at payload byte 8): unknown record tag 0x0b"},
    {"kind 10", .s = {"01 1a", "00", NULL, "10", "00", "00"},
     .what = "record 1 (tag at payload "
             "byte 9): unknown record "
             "tag 0x1a"},
    {"tag 0x60", .s = {"60", [6] = "00"}, .what = "unknown record tag 0x60"},
    {"tag 0x00", .s = {"00", [6] = "00"}, .what = "unknown record tag 0x00"},
    {"varint 11 bytes", .s = {"03", "ff ff ff ff ff ff ff ff ff ff 01"}, .what = "varint overflow"},
    {"varint 65 bits", .s = {"03", "ff ff ff ff ff ff ff ff ff 02"}, .what = "varint overflow"},
    {"varint cut", .s = {"03", "ff ff"}, .what = "times stream ends before this event's"},
    {"pid 2^32", .s = {"83 20", "00", "80 80 80 80 10", "00"}, .what = "does not fit its 32-bit"},
    {"frames 257", .s = {"40", [6] = "04 01 81 02 00"}, .what = "more than 256 frames"},
    {"string 65536", .s = {"20", [6] = "06 01 02 81 80 04 00"}, .what = "longer than 65535"},
    {"string nul", .s = {"20", [6] = "07 01 02 03 61 00 00 00"}, .what = "contains a NUL"},
    {"build-id 65", .s = {"30", [6] = "08 01 00 00 00 00 00 41 00"}, .what = "build-id longer"},
    {"stack id 0", .s = {"40", [6] = "02 00 00"}, .what = "stack id 0 in a stack definition"},
    {"field bits cut", .s = {"83"}, .what = "tags stream ends inside this record"},
    {"source 256", .s = {"43", "00", "80 02 00", "00"}, .what = "source above 255"},
    {"flags 2^16", .s = {"43", "00", "01 80 80 04", "00"}, .what = "flags above 0xffff"},
    {"short body", .s = {"50", [6] = "03 01 02 03"}, .what = "record body shorter than its"},
    {"long body", .s = {"50", [6] = "7f 01 02"}, .what = "record length runs past the end"},
    {"no times", .s = {"03"}, .what = "times stream ends before this event's timestamp"},
    {"no address", .s = {"03", "00"}, .what = "addresses stream ends before"},
    {"no size", .s = {"01", "00", NULL, "00", NULL, "00"}, .what = "sizes stream ends before"},
    {"no stack", .s = {"01", "00", NULL, "00", "00"}, .what = "stacks stream ends before"},
    {"no context", .s = {"13", "00", NULL, "00"}, .what = "context stream ends before"},
    {"ring place 1024", .s = {"03", "00", NULL, "81 10"}, .what = "ring place beyond 1023"},
    {"left over", .s = {"03", "00 00", NULL, "00"}, .what = "the times stream has 1 bytes no"},
    {"end count", .s = {"03 f0", "00", NULL, "00", [6] = "01 05"}, .what = "end record counts 5"},
    {"after end", .s = {"f0 03", "00", NULL, "00", [6] = "01 00"},
     .what = "record 1 (tag at "
             "payload byte 9): "
             "record after the end"},
};

#define HOSTILE_CASES (sizeof hostile_cases / sizeof hostile_cases[0])

/* Criterion runs each test in a re-executed process where addresses differ (ASLR): the
 * parameter is an index into the table, not a pointer. */
static size_t hostile_index[HOSTILE_CASES];

ParameterizedTestParameters(hgt_damage, hostile) {
    for (size_t i = 0; i < HOSTILE_CASES; i++) {
        hostile_index[i] = i;
    }
    return cr_make_param_array(size_t, hostile_index, HOSTILE_CASES);
}

ParameterizedTest(size_t *index, hgt_damage, hostile) {
    const hostile_t *c = &hostile_cases[*index];
    hg_buf_t f;
    hg_buf_init(&f);
    if (c->build) {
        c->build(&f);
    } else if (c->payload) {
        payload_file(&f, c->payload);
    } else {
        streams_file(&f, c->s, 1);
    }
    cr_log_info("case %s", c->name);
    expect_damage(&f, c->what);
    hg_buf_free(&f);
}

Test(hgt_damage, record_count_mismatch) {
    hg_buf_t f;
    hg_buf_init(&f);
    const char *s[7] = {"03 03", "00 00", NULL, "00 00"};
    streams_file(&f, s, 3);
    expect_damage(&f, "chunk header declares 3 records, its payload holds 2");
    hg_buf_free(&f);
}

/* ---- hand-made files (the specification, not the writer) ---------------------------------- */

/* The example of docs/hgt-format.md §5.6, byte for byte, in a zlib chunk. */
static void spec_example(hg_buf_t *f) {
    const char *s[7] = {
        /* tags: ALLOC with TID, HEAP and EXTRA (field bits: PID); FREE going back in time
         * (EXTRA, field bits TS_BACK); REALLOC with SRC; ALLOC; FREE; SKIP; STATS; END */
        "b1 20 83 80 42 01 03 e0 50 f0",
        /* times: +100, -10, +1, +1, +1 */
        "64 0a 01 01 01",
        /* context: pid 7, tid 8, heap 5; source 2, flags 1 */
        "07 08 05 02 01",
        /* addresses: 0x1000 as a delta from 0 (zigzag 0x2000, times 2); ring place 0 (code 1);
         * ring place 0, old_addr delta 0; 0x2000 as a delta of +0x1000; 0x1000 at ring
         * place 1 (code 3) */
        "80 80 01 01 01 00 80 80 01 03",
        /* sizes: 24 (code 25); 48 (code 49), old size 24; 24 from stack 3's cache slot */
        "19 31 18 00",
        /* stacks: 3, 0, 3 */
        "03 00 03",
        /* meta: SKIP body of 2; STATS body of 8 with a trailing byte unknown to 1.0; END: 7
         * records came before it */
        "02 aa bb 08 07 01 02 03 04 05 06 ff 01 07"};
    const char *later[1] = {"de ad"}; /* an eighth stream from a later minor version */
    hg_buf_t raw;
    hg_buf_init(&raw);
    hgt_craft_payload(&raw, s, later, 1);
    hgt_craft_file_header(f, 1);
    hgt_craft_chunk(f, 1, 0, raw.data, raw.len, 8);
    hg_buf_free(&raw);
}

Test(hgt_spec, hand_assembled_events_decode_as_specified) {
    hg_buf_t f;
    hg_buf_init(&f);
    spec_example(&f);
    hgt_rec_t rec;
    hgt_outcome_t o = read_rec(f.data, f.len, &rec);
    cr_assert_eq(o.rc, 0, "%s", o.err.msg);
    cr_assert(!o.res.truncated);
    cr_assert_str_eq(rec.log.data, "E 1 0 0 3 7 8 100 5 1000 24 0 0\n"
                                   "E 3 0 0 0 7 8 90 5 1000 0 0 0\n"
                                   "E 2 2 1 0 7 8 91 5 1000 48 1000 24\n"
                                   "E 1 2 1 3 7 8 92 5 2000 24 0 0\n"
                                   "E 3 2 1 0 7 8 93 5 1000 0 0 0\n"
                                   "A 7 1 2 3 4 5 6\n");
    hg_buf_free(&f);
    hgt_rec_free(&rec);
}

/* ---- sinks that fail ---------------------------------------------------------------------- */

Test(hgt_sink, a_failing_callback_stops_the_reader_with_its_code) {
    mem_t m = write_mem(NULL, emit_both, 1000);
    int codes[] = {HG_ENOMEM, HG_ESTOP, HG_EFORMAT};
    for (uint64_t at = 1; at < 120; at += 7) {
        hgt_rec_t rec;
        hgt_rec_init(&rec);
        rec.fail_at = at;
        rec.fail_rc = codes[at % 3];
        hgt_outcome_t o = hgt_read_mem(m.data, m.len, hgt_rec_sink(&rec));
        cr_assert_eq(o.rc, codes[at % 3]);
        cr_assert_eq(rec.records, at, "no callback after the failing one");
        hgt_rec_free(&rec);
    }
    free(m.data);
}

Test(hgt_sink, null_callbacks_are_skipped) {
    mem_t m = write_mem(NULL, emit_both, 100);
    hg_sink_ops_t none = {0};
    hgt_outcome_t o = hgt_read_mem(m.data, m.len, (hg_sink_t){&none, NULL});
    cr_assert_eq(o.rc, 0);
    free(m.data);
}

/* ---- the writer --------------------------------------------------------------------------- */

static int count_dir(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return n;
}

static hg_hgt_writer_t *open_in(char *dir, char *path, size_t cap) {
    strcpy(dir, "/tmp/hgt-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, cap, "%s/trace.hgt", dir);
    hg_error_t err;
    hg_hgt_writer_t *w = hg_hgt_writer_open(path, NULL, &err);
    cr_assert_not_null(w, "%s", err.msg);
    return w;
}

Test(hgt_writer, writes_a_temporary_file_then_renames) {
    char dir[32], path[64];
    umask(022);
    hg_hgt_writer_t *w = open_in(dir, path, sizeof path);
    cr_assert_eq(hgt_synth(hg_hgt_writer_sink(w), 1000, 3), 0);
    cr_assert_eq(count_dir(dir, "trace.hgt.tmp."), 1);
    cr_assert_neq(access(path, F_OK), 0, "target not there before close");
    hg_error_t err;
    cr_assert_eq(hg_hgt_writer_close(w, &err), 0, "%s", err.msg);
    cr_assert_eq(count_dir(dir, "trace.hgt.tmp."), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);
    unlink(path);
    rmdir(dir);
}

Test(hgt_writer, abort_leaves_nothing) {
    char dir[32], path[64];
    hg_hgt_writer_t *w = open_in(dir, path, sizeof path);
    cr_assert_eq(hgt_synth(hg_hgt_writer_sink(w), 1000, 3), 0);
    hg_hgt_writer_abort(w);
    cr_assert_eq(count_dir(dir, "trace"), 0);
    cr_assert_eq(rmdir(dir), 0);
}

Test(hgt_writer, close_replaces_an_existing_file) {
    char dir[32], path[64];
    hg_hgt_writer_t *w = open_in(dir, path, sizeof path);
    FILE *old = fopen(path, "w");
    fputs("old", old);
    fclose(old);
    hg_error_t err;
    cr_assert_eq(hg_hgt_writer_close(w, &err), 0);
    uint8_t *data;
    size_t n = hgt_slurp(path, &data);
    cr_assert_gt(n, 52);
    cr_assert_eq(memcmp(data, "\x89HGT", 4), 0);
    free(data);
    unlink(path);
    rmdir(dir);
}

Test(hgt_writer, unwritable_directory_is_an_io_error) {
    hg_error_t err;
    cr_assert_null(hg_hgt_writer_open("/nonexistent-hgt/dir/t.hgt", NULL, &err));
    cr_assert_eq(err.code, HG_EIO);
    cr_assert(strstr(err.msg, "/nonexistent-hgt/dir/t.hgt") != NULL, "%s", err.msg);
}

Test(hgt_writer, non_regular_target_is_written_directly) {
    hg_error_t err;
    hg_hgt_writer_t *w = hg_hgt_writer_open("/dev/null", NULL, &err);
    cr_assert_not_null(w, "%s", err.msg);
    cr_assert_eq(hgt_everything(hg_hgt_writer_sink(w)), 0);
    cr_assert_eq(hg_hgt_writer_close(w, &err), 0, "%s", err.msg);
}

Test(hgt_writer, flush_makes_a_stream_readable_so_far) {
    char *data = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&data, &len);
    hg_hgt_write_options_t o = options(true, -1, 0);
    hg_error_t err;
    hg_hgt_writer_t *w = hg_hgt_writer_open_stream(fp, "live", &o, &err);
    hg_event_t e = {.kind = HG_EV_ALLOC, .addr = 0x1000, .size = 8};
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(hg_hgt_writer_sink(w).ops->event(w, &e), 0);
    }
    cr_assert_eq(hg_hgt_writer_flush(w, &err), 0);
    hgt_rec_t rec;
    hgt_outcome_t r = read_rec(data, len, &rec);
    cr_assert_eq(r.rc, 0);
    cr_assert(r.res.truncated, "no END yet");
    cr_assert_eq(rec.events, 10);
    cr_assert_eq(data[24], 0, "stored chunk (method 0)");
    hgt_rec_free(&rec);
    cr_assert_eq(hg_hgt_writer_close(w, &err), 0);
    fclose(fp);
    r = read_rec(data, len, &rec);
    cr_assert(!r.res.truncated);
    hgt_rec_free(&rec);
    free(data);
}

Test(hgt_writer, default_chunks_are_zlib) {
    mem_t m = write_mem(NULL, emit_everything, 0);
    cr_assert_eq(m.data[24], 1);
    free(m.data);
}

Test(hgt_writer, bad_input_is_refused_and_sticky) {
    char dir[32], path[64];
    hg_hgt_writer_t *w = open_in(dir, path, sizeof path);
    hg_sink_t s = hg_hgt_writer_sink(w);
    hg_event_t bad = {.kind = 10}, good = {.kind = HG_EV_FREE};
    cr_assert_eq(s.ops->event(s.ctx, &bad), HG_EUSAGE);
    cr_assert_eq(s.ops->event(s.ctx, &good), HG_EUSAGE, "sticky");
    cr_assert_eq(hg_hgt_writer_error(w)->code, HG_EUSAGE);
    hg_error_t err;
    cr_assert_eq(hg_hgt_writer_close(w, &err), HG_EUSAGE);
    cr_assert(strstr(err.msg, "event kind 10") != NULL, "%s", err.msg);
    cr_assert_eq(count_dir(dir, "trace"), 0, "nothing left behind");
    rmdir(dir);
}

Test(hgt_writer, refuses_stack_zero_and_long_build_ids) {
    hg_error_t err;
    hg_hgt_writer_t *w = hg_hgt_writer_open("/dev/null", NULL, &err);
    uint64_t f = 1;
    cr_assert_eq(hg_hgt_writer_sink(w).ops->stack(w, 0, &f, 1), HG_EUSAGE);
    hg_hgt_writer_abort(w);
    w = hg_hgt_writer_open("/dev/null", NULL, &err);
    uint8_t id[65] = {0};
    hg_module_info_t m = {.path = "x", .build_id = id, .build_id_len = 65};
    cr_assert_eq(hg_hgt_writer_sink(w).ops->module(w, &m), HG_ELIMIT);
    hg_hgt_writer_abort(w);
}

Test(hgt_writer, bad_compression_level) {
    hg_hgt_write_options_t o = options(false, 10, 0);
    hg_error_t err;
    cr_assert_null(hg_hgt_writer_open("/dev/null", &o, &err));
    cr_assert_eq(err.code, HG_EUSAGE);
}

Test(hgt_writer, write_failure_is_an_io_error) {
    FILE *fp = fopen("/dev/full", "wb");
    if (!fp) {
        cr_skip_test("no /dev/full");
    }
    hg_error_t err;
    hg_hgt_writer_t *w = hg_hgt_writer_open_stream(fp, "full", NULL, &err);
    int rc = w ? hgt_synth(hg_hgt_writer_sink(w), 200000, 1) : err.code;
    rc = w ? hg_hgt_writer_close(w, &err) : rc;
    fclose(fp);
    cr_assert_eq(rc, HG_EIO);
    cr_assert(strstr(err.msg, "full: cannot write") != NULL, "%s", err.msg);
}

/* ---- allocation failures ------------------------------------------------------------------ */

static int write_with_failure(long n, mem_t *m) {
    FILE *fp = open_memstream(&m->data, &m->len);
    hg_error_t err;
    hg_hgt_write_options_t o = options(false, -1, 256);
    hg_mem_fail_after(n);
    hg_hgt_writer_t *w = hg_hgt_writer_open_stream(fp, "mem", &o, &err);
    int rc = w ? emit_both(hg_hgt_writer_sink(w), 200) : err.code;
    if (w && rc == 0) {
        rc = hg_hgt_writer_close(w, &err);
    } else if (w) {
        hg_hgt_writer_abort(w);
    }
    hg_mem_fail_after(-1);
    fclose(fp);
    return rc;
}

Test(hgt_memory, every_allocation_failure_is_reported_and_leaks_nothing) {
    uint64_t live = hg_mem_stats().live_bytes;
    mem_t good = write_mem(NULL, emit_both, 200);
    for (long n = 0; n < 40; n++) {
        mem_t m = {0};
        int rc = write_with_failure(n, &m);
        cr_assert(rc == 0 || rc == HG_ENOMEM, "n=%ld rc=%d", n, rc);
        free(m.data);
        hgt_rec_t rec;
        hgt_rec_init(&rec);
        hg_mem_fail_after(n);
        hgt_outcome_t o = hgt_read_mem(good.data, good.len, hgt_rec_sink(&rec));
        hg_mem_fail_after(-1);
        cr_assert(o.rc == 0 || o.rc == HG_ENOMEM, "n=%ld rc=%d", n, o.rc);
        hgt_rec_free(&rec);
        cr_assert_eq(hg_mem_stats().live_bytes, live, "n=%ld", n);
    }
    free(good.data);
}

/* ---- size --------------------------------------------------------------------------------- */

static uint64_t synth_tick_ns;

static int emit_ticks(hg_sink_t sink, uint32_t n) {
    return hgt_synth_ticks(sink, n, 12345, synth_tick_ns);
}

/* Bytes per event of the synthetic stream written with these options. */
static double bytes_per_event(bool stored, uint64_t tick_ns) {
    const uint32_t events = 200000;
    hg_hgt_write_options_t o = options(stored, -1, 0);
    synth_tick_ns = tick_ns;
    mem_t m = write_mem(&o, emit_ticks, events);
    hgt_rec_t rec;
    hgt_outcome_t r = read_rec(m.data, m.len, &rec);
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(rec.events, events, "the generator ran to the end");
    hgt_rec_free(&rec);
    free(m.data);
    return (double)m.len / events;
}

Test(hgt_size, synthetic_alloc_free_stream_is_compact) {
    double ns = bytes_per_event(false, 1), qpc = bytes_per_event(false, 100);
    double raw = bytes_per_event(true, 1);
    printf("hgt size: %.3f bytes/event (ns clock), %.3f (100 ns clock), %.3f stored\n", ns, qpc,
           raw);
    cr_assert_lt(ns, HGT_BOUND_NS_CLOCK);
    cr_assert_lt(qpc, HGT_BOUND_100NS_QPC);
    cr_assert_lt(raw, 8.0);
}

/* ---- fuzz corpus -------------------------------------------------------------------------- */

#define CORPUS HG_SOURCE_DIR "/fuzz/corpus/hgt"

/* ok-*: complete; cut-*: truncated; bad-*: damage; anything else (fuzz finds): no crash. */
static void check_corpus_file(const char *name, int *seen) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CORPUS, name);
    uint8_t *data;
    size_t n = hgt_slurp(path, &data);
    cr_assert_neq(n, (size_t)-1, "%s", path);
    hgt_rec_t rec;
    hgt_outcome_t o = read_rec(data, n, &rec);
    if (strncmp(name, "ok-", 3) == 0) {
        cr_expect(o.rc == 0 && !o.res.truncated, "%s: %d %s", name, o.rc, o.err.msg);
        seen[0]++;
    } else if (strncmp(name, "cut-", 4) == 0) {
        cr_expect(o.rc == 0 && o.res.truncated, "%s: %d %s", name, o.rc, o.err.msg);
        seen[1]++;
    } else if (strncmp(name, "bad-", 4) == 0) {
        cr_expect_eq(o.rc, HG_EFORMAT, "%s", name);
        seen[2]++;
    }
    hgt_rec_free(&rec);
    free(data);
}

Test(hgt_corpus, files_read_as_their_names_say) {
    DIR *d = opendir(CORPUS);
    cr_assert_not_null(d, "%s", CORPUS);
    int seen[3] = {0};
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] != '.') {
            check_corpus_file(e->d_name, seen);
        }
    }
    closedir(d);
    cr_assert(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}

static void save(const char *dir, const char *name, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "%s", path);
    fwrite(data, 1, n, fp);
    fclose(fp);
}

static void save_variants(const char *dir, const char *stem, const mem_t *m) {
    char name[128];
    snprintf(name, sizeof name, "ok-%s.hgt", stem);
    save(dir, name, m->data, m->len);
    snprintf(name, sizeof name, "cut-%s.hgt", stem);
    save(dir, name, m->data, m->len * 2 / 3);
    char *bad = malloc(m->len);
    memcpy(bad, m->data, m->len);
    bad[m->len / 2] ^= 0x20;
    snprintf(name, sizeof name, "bad-%s.hgt", stem);
    save(dir, name, bad, m->len);
    free(bad);
}

/* Regenerates the seed corpus: HGT_WRITE_CORPUS=fuzz/corpus/hgt ./test_hgt --filter
 * 'hgt_corpus/generate'. Skipped otherwise. */
Test(hgt_corpus, generate) {
    const char *dir = getenv("HGT_WRITE_CORPUS");
    if (!dir) {
        cr_skip_test("set HGT_WRITE_CORPUS to a directory to regenerate the corpus");
    }
    hg_hgt_write_options_t small = options(false, -1, 128), stored = options(true, -1, 256);
    mem_t a = write_mem(&small, emit_everything, 0), b = write_mem(&stored, emit_both, 40),
          c = write_mem(&small, emit_synth, 200);
    save_variants(dir, "everything-zlib", &a);
    save_variants(dir, "mixed-stored", &b);
    save_variants(dir, "synth-zlib", &c);
    hg_buf_t spec;
    hg_buf_init(&spec);
    spec_example(&spec);
    save(dir, "ok-spec-example.hgt", spec.data, spec.len);
    hg_buf_free(&spec);
    free(a.data);
    free(b.data);
    free(c.data);
}
