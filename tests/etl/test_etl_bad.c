/* test_etl_bad.c - damaged and cut-short ETL files, and the LZ77 decoder on bad streams: damage
 * is HG_EFORMAT naming the file and an offset (exit status 2), never a crash; a file cut short
 * is read up to its last whole buffer, with a warning. Files come from the test writer. */
#include "../detector/run.h"
#include "etl_priv.h"
#include "etlw.h"
#include "lz77.h"
#include "scenario.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(etl_bad, .fini = teardown);

static int count_event(void *ctx, const hg_event_t *ev) {
    (void)ev;
    ++*(int *)ctx;
    return 0;
}

/* Reads path; returns the reader's status, with the result and message. */
static int read_etl(const char *path, hg_read_result_t *res, hg_error_t *err, int *events) {
    static const hg_sink_ops_t ops = {.event = count_event};
    int n = 0;
    hg_sink_t sink = {&ops, &n};
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    memset(err, 0, sizeof *err);
    int rc = hg_etl_read(fp, path, 0, sink, NULL, res, err);
    fclose(fp);
    if (events) {
        *events = n;
    }
    return rc;
}

static char *scenario(etlw_compress_t mode, unsigned bytes, size_t *len) {
    char *path = scratch_path("s.etl");
    cr_assert_eq(scenario_write(path, mode, bytes), 0);
    free(read_file(path, len));
    return path;
}

static void patch(const char *path, long off, const void *bytes, size_t n) {
    FILE *fp = fopen(path, "r+b");
    fseek(fp, off, SEEK_SET);
    fwrite(bytes, 1, n, fp);
    fclose(fp);
}

static void cut(const char *path, long len) {
    cr_assert_eq(truncate(path, len), 0);
}

static void expect_damage(const char *path, const char *what) {
    hg_read_result_t res;
    hg_error_t err;
    cr_assert_eq(read_etl(path, &res, &err, NULL), HG_EFORMAT, "expected damage: %s", what);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "offset"), "message: %s", err.msg);
    cr_assert(strstr(err.msg, what), "message '%s' does not say '%s'", err.msg, what);
    const char *args[] = {"analyze", path, "-o", "/dev/null", NULL};
    run_result_t r = run_heapgate(args);
    cr_assert_eq(r.status, 2, "heapgate exit %d: %s", r.status, r.err);
    run_free(&r);
}

Test(etl_bad, cut_in_the_last_buffer_reads_the_whole_buffers) {
    size_t len;
    char *path = scenario(ETLW_PLAIN, 512, &len);
    hg_read_result_t res;
    hg_error_t err;
    int all, some;
    cr_assert_eq(read_etl(path, &res, &err, &all), 0, "%s", err.msg);
    cut(path, (long)len - 100);
    cr_assert_eq(read_etl(path, &res, &err, &some), 0, "%s", err.msg);
    cr_assert(res.truncated);
    cr_assert(strstr(res.warning, "cut short"), "%s", res.warning);
    cr_assert_eq(res.bytes_read, len - 512);
    cr_assert_lt(some, all);
    const char *args[] = {"analyze", path, "--format", "json", NULL};
    run_result_t r = run_heapgate(args);
    cr_assert(r.status == 0 || r.status == 1, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.out, "\"truncated\": true"), "report says truncated");
    run_free(&r);
    free(path);
}

Test(etl_bad, cut_in_a_buffer_header_is_truncation) {
    size_t len;
    char *path = scenario(ETLW_LZ77, 512, &len);
    hg_read_result_t res;
    hg_error_t err;
    cut(path, 512 + 20); /* the header buffer and 20 bytes of the next */
    cr_assert_eq(read_etl(path, &res, &err, NULL), 0, "%s", err.msg);
    cr_assert(res.truncated);
    free(path);
}

Test(etl_bad, cut_in_the_first_buffer_is_damage) {
    size_t len;
    char *path = scenario(ETLW_PLAIN, 4096, &len);
    cut(path, 100);
    expect_damage(path, "first buffer");
    free(path);
}

Test(etl_bad, valid_bytes_past_the_buffer) {
    size_t len;
    char *path = scenario(ETLW_PLAIN, 4096, &len);
    uint8_t big[4] = {0x00, 0x20, 0, 0}; /* SavedOffset 8192 > BufferSize 4096 */
    patch(path, 4096 + 4, big, 4);
    expect_damage(path, "SavedOffset");
    free(path);
}

Test(etl_bad, event_size_past_the_buffer) {
    size_t len;
    char *path = scenario(ETLW_PLAIN, 4096, &len);
    uint8_t size[2] = {0xf0, 0xff}; /* buffer 1 starts with a FULL_HEADER event: size @0 */
    patch(path, 4096 + 0x48, size, 2);
    expect_damage(path, "event size");
    free(path);
}

Test(etl_bad, unknown_header_type) {
    size_t len;
    char *path = scenario(ETLW_PLAIN, 4096, &len);
    uint8_t type = 0x0D;
    patch(path, 4096 + 0x48 + 2, &type, 1);
    expect_damage(path, "header type");
    free(path);
}

Test(etl_bad, buffer_size_smaller_than_its_header) {
    size_t len;
    char *path = scenario(ETLW_PLAIN, 4096, &len);
    uint8_t size[4] = {0x10, 0, 0, 0};
    patch(path, 4096, size, 4);
    expect_damage(path, "BufferSize");
    free(path);
}

Test(etl_bad, damaged_compressed_data) {
    size_t len;
    char *path = scenario(ETLW_LZ77, 4096, &len);
    uint8_t junk[16];
    memset(junk, 0xFF, sizeof junk); /* flags of all matches, offsets far before the start */
    patch(path, 4096 + 0x48, junk, sizeof junk);
    expect_damage(path, "LZ77");
    free(path);
}

Test(etl_bad, unsupported_compression_format_is_named) {
    size_t len;
    char *path = scenario(ETLW_LZ77, 4096, &len);
    uint8_t state[4] = {4, 0, 0, 0}; /* COMPRESSION_FORMAT_XPRESS_HUFF */
    patch(path, 0x2C, state, 4);
    expect_damage(path, "compression format 4");
    free(path);
}

Test(etl_bad, heap_payload_shorter_than_its_layout) {
    char *path = scratch_path("short.etl");
    etlw_config_t c = {.cpus = 1};
    etlw_t *w = etlw_open(path, &c);
    uint8_t payload[10] = {0};
    etlw_raw_system(w, 0, 100, 8, 0x1021, 7, 8, payload, sizeof payload);
    cr_assert_eq(etlw_close(w), 0);
    expect_damage(path, "heap event payload shorter");
    free(path);
}

Test(etl_bad, not_an_etl_file) {
    char *path = scratch_write("x.etl", "not a trace at all, just some text\n");
    hg_read_result_t res;
    hg_error_t err;
    cr_assert_eq(read_etl(path, &res, &err, NULL), HG_EFORMAT);
    free(path);
}

Test(etl_bad, no_heap_events_is_an_empty_report) {
    char *path = scratch_path("empty.etl");
    etlw_config_t c = {.cpus = 4, .compress = ETLW_LZ77};
    etlw_t *w = etlw_open(path, &c);
    etlw_process(w, 0, 10, 3, 4, 0, "System", "");
    cr_assert_eq(etlw_close(w), 0);
    const char *args[] = {"analyze", path, "-o", "/dev/null", NULL};
    run_result_t r = run_heapgate(args);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    run_free(&r);
    free(path);
}

/* ---- the LZ77 decoder -------------------------------------------------------------------------
 */

static int unpack(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, const char **why) {
    hg__lz77_error_t e = {0};
    int rc = hg__lz77_decompress(in, n, out, out_len, &e);
    *why = e.why;
    return rc;
}

Test(etl_bad, lz77_round_trips_the_writers_streams) {
    uint8_t in[5000], packed[12000], out[5000];
    srand(7);
    for (size_t i = 0; i < sizeof in; i++) {
        in[i] = (uint8_t)(i % 700 < 350 ? "abcabcabd"[i % 9] : rand());
    }
    for (int literal = 0; literal < 2; literal++) {
        size_t n = etlw_lz77(in, sizeof in, packed, sizeof packed, literal);
        const char *why;
        cr_assert_gt(n, 0);
        cr_assert_eq(unpack(packed, n, out, sizeof out, &why), 0, "%s", why ? why : "");
        cr_assert_eq(memcmp(in, out, sizeof in), 0);
    }
}

Test(etl_bad, lz77_long_matches_use_every_length_form) {
    static uint8_t in[200000], packed[200000], out[200000];
    memset(in, 'x', sizeof in); /* one literal, then lengths beyond 16 and 32 bits of escape */
    size_t n = etlw_lz77(in, sizeof in, packed, sizeof packed, false);
    const char *why;
    cr_assert_eq(unpack(packed, n, out, sizeof out, &why), 0, "%s", why ? why : "");
    cr_assert_eq(memcmp(in, out, sizeof in), 0);
    cr_assert_lt(n, 64);
}

Test(etl_bad, lz77_rejects_overruns_and_bad_offsets) {
    uint8_t out[8];
    const char *why;
    /* flags 0x80000000: one match word, offset 1 before any output */
    const uint8_t before[] = {0, 0, 0, 0x80, 0x00, 0x00};
    cr_assert_eq(unpack(before, sizeof before, out, sizeof out, &why), -1);
    cr_assert(strstr(why, "before the start"), "%s", why);
    /* a literal, then a match of 10 bytes into an 8-byte output */
    const uint8_t over[] = {0, 0, 0, 0x40, 'a', 0x07, 0x00, 0x00};
    cr_assert_eq(unpack(over, sizeof over, out, sizeof out, &why), -1);
    /* literals promised by the flags but absent */
    const uint8_t shortin[] = {0, 0, 0, 0, 'a'};
    cr_assert_eq(unpack(shortin, sizeof shortin, out, sizeof out, &why), -1);
    cr_assert(strstr(why, "literal"), "%s", why);
    /* a stream that ends early: fewer bytes than expected */
    const uint8_t early[] = {0xff, 0xff, 0xff, 0x7f, 'a'};
    cr_assert_eq(unpack(early, sizeof early, out, sizeof out, &why), -1);
    /* a flag word cut in two */
    const uint8_t cutflags[] = {0, 0};
    cr_assert_eq(unpack(cutflags, sizeof cutflags, out, sizeof out, &why), -1);
}
