/* sample_report.h - fixed reports for the writer tests: one that fills every field of the model
 * (with hostile strings: quotes, backslashes, control characters, terminal escapes and bytes
 * that are not UTF-8), an empty one, and a large synthetic one for speed checks. */
#ifndef HG_TEST_SAMPLE_REPORT_H
#define HG_TEST_SAMPLE_REPORT_H

#include "report.h"

/* Strings the sample uses, so tests can check how writers render them. */
#define SAMPLE_TOOL_VERSION "0.1.0-test"
#define SAMPLE_EVIL_PROCESS "svc\x1b]0;pwned\x07\"name\"\\"
#define SAMPLE_EVIL_INPUT   "traces/evil\"quote\\back\x01\x1b[31mred\xff\xfe.etl"
#define SAMPLE_EVIL_WARNING "bad\tline\nnext \xc3\x28 \xe2\x82 end"
#define SAMPLE_BIG_COUNT    9007199254740993ULL /* 2^53 + 1: not exact as a double */
#define SAMPLE_MAX_ADDR     0xffffffffffffffffULL

/* The full sample, sorted (hg_report_sort); NULL when out of memory. */
hg_report_t *sample_report_new(void);
/* n sites with 6 frames each and a few processes and heaps; NULL when out of memory. */
hg_report_t *sample_report_many_sites(size_t n);

#endif
