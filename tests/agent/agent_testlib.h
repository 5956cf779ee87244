/* agent_testlib.h - helpers of the agent's end-to-end tests: run programs directly and under
 * `heapgate run`, read the JSON report, find the lines the test programs mark with "LEAK:",
 * and check the frames a report names for a leak (when the build can symbolize: dwarf). */
#ifndef HG_TESTS_AGENT_TESTLIB_H
#define HG_TESTS_AGENT_TESTLIB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct proc_result {
    int status; /* exit status, or 128 + signal */
    char *out;  /* standard output (malloc'd, NUL-terminated) */
    char *err;  /* standard error */
} proc_result_t;

/* HG_PROGS_DIR/name (static buffer per call slot: copy when keeping two). */
const char *prog(const char *name);
/* Runs argv (argv[0] a path), capturing its output; env NULL = this process's. */
proc_result_t run_argv(const char *const *argv);
void proc_free(proc_result_t *r);

/* `heapgate run -o REPORT.json [extra...] -- argv...`: the report, and heapgate's result (the
 * program's output is heapgate's). Fails the test when no report was written. */
json_t *heapgate_run(const char *const *extra, const char *const *argv, proc_result_t *res);

json_int_t jint(json_t *j, const char *key);
const char *jstr(json_t *j, const char *key);

/* The line of "LEAK: marker" in progs/file. */
int marker_line(const char *file, const char *marker);
/* Whether this build symbolizes ELF/DWARF (the frame checks need it). */
bool have_dwarf(void);
/* Some leaked site of the report has, as its first frame from file, function at the marker's
 * line; first_frame: that frame must be the site's first. */
void check_leak_frame(json_t *report, const char *file, const char *function, const char *marker,
                      bool first_frame);

/* Starts argv with pipes to its stdin and from its stdout (and stderr when err_fd is not
 * NULL). */
pid_t spawn_piped(const char *const *argv, int *in_fd, int *out_fd, int *err_fd);
/* Reads from fd until the text appears (or timeout_s); returns what was read (malloc'd). */
char *read_until(int fd, const char *text, int timeout_s);
/* Reads fd to its end. */
char *read_all(int fd);
int wait_status(pid_t pid);
/* Whether a tool is on PATH; with CI=true a missing one fails the test instead. */
bool tool_or_skip(const char *tool);

#endif
