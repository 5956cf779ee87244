/* test_base.c - base: durations, byte counts, integers, buffers, the counted allocator. */
#include "base.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

typedef struct dur_case {
    char text[32]; /* inline: Criterion's parameters cross into the test's process by copy */
    int rc;
    uint64_t ns;
} dur_case_t;

ParameterizedTestParameters(base, durations) {
    static dur_case_t cases[] = {{"0", 0, 0},
                                 {"30", 0, 30000000000ULL},
                                 {"1.5ms", 0, 1500000},
                                 {"2m", 0, 120000000000ULL},
                                 {"100ns", 0, 100},
                                 {"7us", 0, 7000},
                                 {"0.25s", 0, 250000000},
                                 {"-1", HG_EUSAGE, 0},
                                 {"1h", HG_EUSAGE, 0},
                                 {"", HG_EUSAGE, 0},
                                 {"ms", HG_EUSAGE, 0},
                                 {"1..2s", HG_EUSAGE, 0},
                                 {"1e3", HG_EUSAGE, 0},
                                 {"99999999999999999999s", HG_EUSAGE, 0}};
    return cr_make_param_array(dur_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(dur_case_t *c, base, durations) {
    uint64_t ns = 0;
    cr_assert_eq(hg_parse_duration_ns(c->text, &ns), c->rc, "%s", c->text);
    if (c->rc == 0) {
        cr_assert_eq(ns, c->ns, "%s", c->text);
    }
}

Test(base, byte_counts) {
    uint64_t v = 0;
    cr_assert_eq(hg_parse_bytes("4096", &v), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(hg_parse_bytes("10M", &v), 0);
    cr_assert_eq(v, 10u << 20);
    cr_assert_eq(hg_parse_bytes("2KiB", &v), 0);
    cr_assert_eq(v, 2048);
    cr_assert_eq(hg_parse_bytes("1G", &v), 0);
    cr_assert_eq(v, 1u << 30);
    cr_assert_eq(hg_parse_bytes("1.5M", &v), HG_EUSAGE);
    cr_assert_eq(hg_parse_bytes("-1", &v), HG_EUSAGE);
    cr_assert_eq(hg_parse_bytes("5X", &v), HG_EUSAGE);
    cr_assert_eq(hg_parse_bytes("20000000000T", &v), HG_EUSAGE);
}

Test(base, integers) {
    uint64_t v;
    cr_assert_eq(hg_parse_u64("0x1F", &v), 0);
    cr_assert_eq(v, 31);
    cr_assert_eq(hg_parse_u64("12", &v), 0);
    cr_assert_eq(hg_parse_u64("12x", &v), HG_EUSAGE);
    cr_assert_eq(hg_parse_u64("", &v), HG_EUSAGE);
    cr_assert_eq(hg_parse_u64("-3", &v), HG_EUSAGE);
    cr_assert_eq(hg_parse_u64("18446744073709551616", &v), HG_EUSAGE);
}

Test(base, human_formats) {
    char b[32];
    cr_assert_str_eq(hg_format_bytes(312, b, sizeof b), "312 B");
    cr_assert_str_eq(hg_format_bytes(1536, b, sizeof b), "1.5 KiB");
    cr_assert_str_eq(hg_format_bytes(3u << 20, b, sizeof b), "3.0 MiB");
    cr_assert_str_eq(hg_format_duration(15, b, sizeof b), "15 ns");
    cr_assert_str_eq(hg_format_duration(1500000, b, sizeof b), "1.5 ms");
    cr_assert_str_eq(hg_format_duration(2500000000ULL, b, sizeof b), "2.500 s");
}

Test(base, buffer_grows_and_terminates) {
    hg_buf_t b;
    hg_buf_init(&b);
    for (int i = 0; i < 1000; i++) {
        hg_buf_printf(&b, "%04d,", i);
    }
    cr_assert_eq(b.len, 5000);
    cr_assert_eq(b.data[b.len], '\0');
    cr_assert_eq(strncmp(b.data + 4995, "0999,", 5), 0);
    char *s = hg_buf_take(&b);
    cr_assert_eq(b.len, 0);
    hg_free(s);
}

Test(base, allocator_counts_and_fails_on_demand) {
    hg_mem_stats_t before = hg_mem_stats();
    void *p = hg_malloc(1000);
    cr_assert_eq(hg_mem_stats().live_bytes, before.live_bytes + 1000);
    p = hg_realloc(p, 3000);
    cr_assert_eq(hg_mem_stats().live_bytes, before.live_bytes + 3000);
    hg_free(p);
    cr_assert_eq(hg_mem_stats().live_bytes, before.live_bytes);
    hg_mem_fail_after(1);
    void *a = hg_malloc(8), *b = hg_malloc(8);
    hg_mem_fail_after(-1);
    cr_assert_not_null(a);
    cr_assert_null(b);
    hg_free(a);
    cr_assert_null(hg_calloc(SIZE_MAX / 2, 4), "overflowing calloc fails");
}

Test(base, errors_carry_messages) {
    hg_error_t e;
    cr_assert_eq(hg_error_set(&e, HG_EFORMAT, "%s:%d: bad", "f", 3), HG_EFORMAT);
    cr_assert_str_eq(e.msg, "f:3: bad");
    cr_assert_str_eq(hg_strerror(HG_ENOMEM), "out of memory");
    cr_assert_eq(hg_fnv1a(HG_FNV_INIT, "", 0), HG_FNV_INIT);
}
