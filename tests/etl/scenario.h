/* scenario.h - the heap scenario the end-to-end tests write as ETL files (etlw.h) and whose
 * report figures test_etl_e2e.c derives by hand (see scenario.c for the story). */
#ifndef HG_TESTS_ETL_SCENARIO_H
#define HG_TESTS_ETL_SCENARIO_H

#include "etlw.h"

/* Writes the scenario to path; buffer_bytes small enough spreads it over many buffers. */
int scenario_write(const char *path, etlw_compress_t mode, uint32_t buffer_bytes);

#endif
