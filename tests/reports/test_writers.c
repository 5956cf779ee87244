/* test_writers.c - what every writer of issue 5 promises: gzip output that decompresses to
 * the plain output (pprof excepted: it is always gzip, never twice), no crash and nothing left
 * under the final name when the tool's own allocations fail, and valid UTF-8 output whatever
 * the report's strings hold. */
#include "report_test.h"
#include "sample_report.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const hg_report_format_t formats[] = {HG_RF_HTML, HG_RF_SARIF, HG_RF_JUNIT, HG_RF_COLLAPSED,
                                             HG_RF_PPROF};
#define NFORMATS (sizeof formats / sizeof formats[0])

ParameterizedTestParameters(writers, gzip) {
    static size_t idx[NFORMATS];
    for (size_t i = 0; i < NFORMATS; i++) {
        idx[i] = i;
    }
    return cr_make_param_array(size_t, idx, NFORMATS);
}

ParameterizedTest(size_t *i, writers, gzip) {
    hg_report_format_t f = formats[*i];
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "out.gz");
    size_t plain_len, gz_len;
    char *plain = rt_render(r, f, NULL, &plain_len);
    hg_out_t *o = hg_out_open(path, f != HG_RF_PPROF, NULL);
    cr_assert_eq(hg_report_write(r, f, NULL, o), 0);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    char *gz = rt_gunzip_file(path, &gz_len);
    cr_assert_not_null(gz, "%s: not gzip", hg_report_format_name(f));
    if (f == HG_RF_PPROF) { /* plain is gzip already: compare what both decompress to */
        char *p2 = rt_path(dir, "plain.gz");
        rt_write_file(p2, plain, plain_len);
        free(plain);
        plain = rt_gunzip_file(p2, &plain_len);
        free(p2);
    } else {
        cr_assert(rt_valid_utf8(plain, plain_len), "%s: UTF-8", hg_report_format_name(f));
    }
    cr_assert_eq(gz_len, plain_len, "%s", hg_report_format_name(f));
    cr_assert_eq(memcmp(gz, plain, plain_len), 0);
    free(gz);
    free(plain);
    rt_rmtree(dir);
    free(path);
    free(dir);
    hg_report_free(r);
}

/* Every allocation after the n-th fails: the commit reports it and no file appears. */
static bool write_failing(const hg_report_t *r, hg_report_format_t f, const char *dir, long n) {
    char *path = rt_path(dir, "r.out");
    hg_error_t err;
    hg_out_t *o = hg_out_open(path, false, &err);
    cr_assert_not_null(o);
    hg_mem_fail_after(n);
    hg_report_write(r, f, NULL, o);
    hg_mem_fail_after(-1);
    int rc = hg_out_commit(o, &err);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    cr_assert(rc == 0 || !exists, "%s: failed write left a file", hg_report_format_name(f));
    cr_assert(rc == 0 || rc == HG_ENOMEM, "%s: rc %d", hg_report_format_name(f), rc);
    unlink(path);
    free(path);
    return rc == 0;
}

Test(writers, allocation_failures_are_clean) {
    hg_report_t *r = sample_report_new();
    char *dir = rt_mkdtemp();
    for (size_t k = 0; k < NFORMATS; k++) {
        long n = 0;
        while (!write_failing(r, formats[k], dir, n) && n < 100000) {
            n += n < 64 ? 1 : n / 8;
        }
        cr_assert_lt(n, 100000, "%s never succeeded", hg_report_format_name(formats[k]));
    }
    cr_assert_eq(rt_count_entries(dir), 0);
    rt_rmtree(dir);
    free(dir);
    hg_report_free(r);
}
