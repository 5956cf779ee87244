/* report_test.h - helpers shared by the report writer tests: scratch directories, reading
 * files back, rendering a report to memory, and golden-file comparison.
 *
 * Golden files live in tests/reports/golden/. To regenerate them after an intended change of
 * output, run the tests with HG_UPDATE_GOLDEN=1 (e.g. `HG_UPDATE_GOLDEN=1 ctest --test-dir
 * build/rep -R report`), review `git diff tests/reports/golden`, and commit. On a mismatch the
 * actual output is left beside the build (the failure message names it) for diffing. */
#ifndef HG_TEST_REPORT_TEST_H
#define HG_TEST_REPORT_TEST_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>

/* A fresh scratch directory under the build tree (malloc'd path); rt_rmtree removes it. */
char *rt_mkdtemp(void);
void rt_rmtree(const char *dir);
/* dir/name, malloc'd. */
char *rt_path(const char *dir, const char *name);
/* Number of entries in dir (without . and ..). */
size_t rt_count_entries(const char *dir);

/* The whole file, NUL-terminated (malloc'd; *len without the NUL); NULL when unreadable. */
char *rt_read_file(const char *path, size_t *len);
/* Writes data to path (plain stdio); returns false on failure. */
bool rt_write_file(const char *path, const void *data, size_t len);
/* The whole gzip file decompressed with zlib's gzread (malloc'd), or NULL. */
char *rt_gunzip_file(const char *path, size_t *len);

/* Renders r in format f (gzip off) through a temporary file; malloc'd text or NULL. */
char *rt_render(const hg_report_t *r, hg_report_format_t f, const hg_write_options_t *opt,
                size_t *len);

/* Compares data with tests/reports/golden/<name>, or rewrites it when HG_UPDATE_GOLDEN=1. */
void rt_golden(const char *name, const char *data, size_t len);

/* Whether s is valid UTF-8 (own check, independent of the writers'). */
bool rt_valid_utf8(const char *s, size_t len);

#endif
