/* fuzz_json_report.c - libFuzzer target for the JSON report reader (hg_report_parse_json),
 * the parser `heapgate diff`, `merge` and `--baseline` run on files from other runs.
 *
 * Each input is parsed; a failure must be HG_EFORMAT (or HG_ENOMEM) with a message naming the
 * input. A report that parsed is then written in every format (the writers must cope with any
 * model the reader accepts: indices out of range, empty arrays, huge counts, NaN), and its JSON
 * read back: writing what was read back must be stable byte for byte from the second writing
 * on. Last the input is parsed again with the tool's allocations failing after a few. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_json_report: check failed: %s\n", #c);                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* r in format f, in memory (malloc'd, *len bytes). */
static char *render(const hg_report_t *r, hg_report_format_t f, size_t *len) {
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    CHECK(fp != NULL);
    hg_out_t *o = hg_out_stream(fp, "<memory>", false, NULL);
    CHECK(o != NULL);
    CHECK(hg_report_write(r, f, NULL, o) == 0);
    int rc = hg_out_commit(o, NULL);
    fclose(fp);
    CHECK(rc == 0);
    return buf;
}

static hg_report_t *parse(const void *data, size_t size, int *code) {
    hg_error_t err = {0};
    hg_report_t *r = hg_report_parse_json(data, size, "fuzz.json", &err);
    *code = r ? 0 : err.code;
    CHECK(r || strncmp(err.msg, "fuzz.json", 9) == 0);
    return r;
}

static void write_everything(const hg_report_t *r) {
    for (int f = 0; f < HG_RF_COUNT; f++) {
        size_t len;
        free(render(r, (hg_report_format_t)f, &len));
    }
}

/* write(read(x)) twice: the second and third writings are identical. */
static void check_stable(const hg_report_t *r) {
    size_t a_len, b_len, c_len;
    int code;
    char *a = render(r, HG_RF_JSON, &a_len);
    hg_report_t *r2 = parse(a, a_len, &code);
    CHECK(r2 != NULL);
    char *b = render(r2, HG_RF_JSON, &b_len);
    hg_report_t *r3 = parse(b, b_len, &code);
    CHECK(r3 != NULL);
    char *c = render(r3, HG_RF_JSON, &c_len);
    CHECK(b_len == c_len && memcmp(b, c, b_len) == 0);
    hg_report_free(r2);
    hg_report_free(r3);
    free(a);
    free(b);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int code;
    hg_report_t *r = parse(data, size, &code);
    CHECK(r || code == HG_EFORMAT);
    if (r) {
        write_everything(r);
        check_stable(r);
        hg_report_free(r);
    }
    hg_mem_fail_after((long)(size % 11) * 3);
    r = parse(data, size, &code);
    hg_mem_fail_after(-1);
    CHECK(r || code == HG_EFORMAT || code == HG_ENOMEM);
    hg_report_free(r);
    return 0;
}
