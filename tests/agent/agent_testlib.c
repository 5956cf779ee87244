/* agent_testlib.c - see agent_testlib.h. */
#include "agent_testlib.h"

#include "detector/run.h"
#include "symbols.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *prog(const char *name) {
    static char slots[4][512];
    static int next;
    char *p = slots[next++ % 4];
    snprintf(p, 512, "%s/%s", HG_PROGS_DIR, name);
    return p;
}

int wait_status(pid_t pid) {
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

proc_result_t run_argv(const char *const *argv) {
    char out[] = "/tmp/hg-agent-out-XXXXXX", err[] = "/tmp/hg-agent-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err);
    cr_assert(fo >= 0 && fe >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    proc_result_t r = {wait_status(pid), NULL, NULL};
    close(fo);
    close(fe);
    r.out = read_file(out, NULL);
    r.err = read_file(err, NULL);
    unlink(out);
    unlink(err);
    return r;
}

void proc_free(proc_result_t *r) {
    free(r->out);
    free(r->err);
}

json_t *heapgate_run(const char *const *extra, const char *const *argv, proc_result_t *res) {
    char *report = scratch_path("report.json");
    const char *args[64] = {HG_BINARY_DIR "/heapgate", "run", "-o", report};
    int n = 4;
    for (int i = 0; extra && extra[i]; i++) {
        args[n++] = extra[i];
    }
    args[n++] = "--";
    for (int i = 0; argv[i] && n < 63; i++) {
        args[n++] = argv[i];
    }
    args[n] = NULL;
    unlink(report);
    *res = run_argv(args);
    json_error_t jerr;
    json_t *j = json_load_file(report, 0, &jerr);
    cr_assert_not_null(j, "no report (heapgate status %d): %s; stderr: %s", res->status, jerr.text,
                       res->err);
    free(report);
    return j;
}

json_int_t jint(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

const char *jstr(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- leak lines and frames ---------------------------------------------------------------- */

int marker_line(const char *file, const char *marker) {
    char path[512], line[512], want[128];
    snprintf(path, sizeof path, "%s/%s", HG_PROGS_SRC, file);
    snprintf(want, sizeof want, "LEAK: %s */", marker);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s", path);
    int n = 0, found = 0;
    while (!found && fgets(line, sizeof line, fp)) {
        n++;
        found = strstr(line, want) ? n : 0;
    }
    fclose(fp);
    cr_assert(found, "no '%s' in %s", want, path);
    return found;
}

bool have_dwarf(void) {
    return strstr(hg_sym_backends(), "dwarf") != NULL;
}

static bool ends_with(const char *s, const char *tail) {
    size_t a = s ? strlen(s) : 0, b = strlen(tail);
    return s && a >= b && strcmp(s + a - b, tail) == 0;
}

/* The function name without parameters ("leak_array()" -> "leak_array"). */
static bool same_function(const char *got, const char *want) {
    size_t n = strlen(want);
    return got && strncmp(got, want, n) == 0 && (got[n] == '\0' || got[n] == '(');
}

/* Index of the first frame of site s from file, or -1. */
static int frame_from(json_t *frames, const char *file) {
    for (size_t i = 0; i < json_array_size(frames); i++) {
        if (ends_with(jstr(json_array_get(frames, i), "file"), file)) {
            return (int)i;
        }
    }
    return -1;
}

void check_leak_frame(json_t *report, const char *file, const char *function, const char *marker,
                      bool first_frame) {
    int line = marker_line(file, marker);
    json_t *sites = json_object_get(report, "sites");
    for (size_t i = 0; i < json_array_size(sites); i++) {
        json_t *s = json_array_get(sites, i), *frames = json_object_get(s, "frames");
        int k = frame_from(frames, file);
        json_t *f = k >= 0 ? json_array_get(frames, (size_t)k) : NULL;
        if (jint(s, "leaked_bytes") + jint(s, "outstanding_bytes") > 0 && f &&
            jint(f, "line") == line && same_function(jstr(f, "function"), function)) {
            cr_assert(!first_frame || k == 0, "%s:%d is frame %d of its site, not the first", file,
                      line, k);
            return;
        }
    }
    cr_assert_fail("no leak site names %s at %s:%d", function, file, line);
}

/* ---- processes with pipes ----------------------------------------------------------------- */

pid_t spawn_piped(const char *const *argv, int *in_fd, int *out_fd, int *err_fd) {
    int in[2], out[2], err[2] = {-1, -1};
    cr_assert(pipe(in) == 0 && pipe(out) == 0 && (!err_fd || pipe(err) == 0));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (err_fd) {
            dup2(err[1], 2);
        }
        for (int fd = 3; fd < 64; fd++) {
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *in_fd = in[1];
    *out_fd = out[0];
    if (err_fd) {
        close(err[1]);
        *err_fd = err[0];
    }
    return pid;
}

char *read_until(int fd, const char *text, int timeout_s) {
    size_t cap = 4096, n = 0;
    char *buf = calloc(1, cap + 1);
    time_t end = time(NULL) + timeout_s;
    while (!strstr(buf, text) && time(NULL) < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k <= 0) {
            break;
        }
        n += (size_t)k;
        buf[n] = '\0';
        if (n == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
        }
    }
    return buf;
}

char *read_all(int fd) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    ssize_t k;
    while ((k = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)k;
        if (n == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
        }
    }
    buf[n] = '\0';
    return buf;
}

bool tool_or_skip(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    if (system(cmd) == 0) {
        return true;
    }
    const char *ci = getenv("CI");
    cr_assert(!(ci && strcmp(ci, "true") == 0), "%s is not installed (scripts/deps.sh test)", tool);
    cr_skip_test("%s is not installed: run scripts/deps.sh test", tool);
    return false;
}
