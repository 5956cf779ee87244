/* fixtures.c - see fixtures.h. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *etl_fixture(const char *name) {
    const char *env = getenv("HEAPGATE_FIXTURES");
    char *path = malloc(1024);
    if (env && *env) {
        snprintf(path, 1024, "%s/etl/%s", env, name);
    } else {
        snprintf(path, 1024, "%s/../shared/fixtures/etl/%s", HG_SOURCE_DIR, name);
    }
    if (access(path, R_OK) == 0) {
        return path;
    }
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        cr_assert_fail("fixture %s is absent (CI=true: fixtures are required)", path);
    } else {
        cr_skip_test("fixture %s is absent: test skipped", path);
    }
    free(path);
    return NULL;
}
