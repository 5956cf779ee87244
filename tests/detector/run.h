/* run.h - end-to-end test helpers: run the built heapgate, capture its output and status, and
 * write scratch files. */
#ifndef HG_TESTS_RUN_H
#define HG_TESTS_RUN_H

#include <stddef.h>

typedef struct run_result {
    int status; /* exit status, or 128 + signal */
    char *out;  /* stdout (NUL-terminated, malloc'd) */
    char *err;  /* stderr */
    size_t out_len;
} run_result_t;

/* Runs heapgate with the NULL-terminated arguments (argv[0] excluded). */
run_result_t run_heapgate(const char *const *args);
void run_free(run_result_t *r);

/* A fresh scratch directory for one test (removed by scratch_cleanup). */
const char *scratch_dir(void);
void scratch_cleanup(void);
/* Writes text to scratch_dir()/name and returns the full path (static buffer per call slot). */
char *scratch_write(const char *name, const char *text);
char *scratch_path(const char *name);
/* Reads a whole file (malloc'd, NUL-terminated) or NULL. */
char *read_file(const char *path, size_t *len);

#endif
