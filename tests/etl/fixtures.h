/* fixtures.h - where the tests of tests/etl find the real ETL files of ../shared/fixtures/etl
 * (or $HEAPGATE_FIXTURES/etl): a path, or a skip saying the file is absent (a failure when
 * CI=true). */
#ifndef HG_TESTS_ETL_FIXTURES_H
#define HG_TESTS_ETL_FIXTURES_H

/* The path of fixture file name (malloc'd), or NULL after cr_skip_test / cr_fail. */
char *etl_fixture(const char *name);

#endif
