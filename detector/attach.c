/* attach.c - `heapgate attach PID [--duration T] [options]`: loads the agent into a running
 * process, traces it until the duration is over, Ctrl-C, or the process ends, then detaches
 * and leaves it running (if it still is) and writes the report.
 *
 * Loading is heaptrack's way (its heaptrack script, "injecting heaptrack into application via
 * GDB"): gdb attaches in batch mode, calls dlopen on the agent in the process, calls the
 * agent's hg_agent_attach with the session's configuration, and detaches. The agent then
 * connects back, installs its hooks in the GOTs (agent/got.c) and starts streaming. gdb runs
 * beside the session's loop, which reads the agent meanwhile. Detaching needs no gdb: heapgate
 * asks the agent over its socket ('D'); the agent restores the GOT entries, ends its stream and
 * stays loaded, idle (dlclose of a library whose code other threads may be running is unsafe;
 * heaptrack keeps its library loaded for the same reason).
 *
 * The process was not traced from its start: blocks allocated before attaching are invisible,
 * and their frees are left out (live_sink.c). A block allocated after attaching and still live
 * at the detach is outstanding; one still live when the process exited is leaked. */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DETACH_WAIT_NS (10ull * 1000000000u)

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the command line --------------------------------------------------------------------- */

/* Returns 1 when parsed, 0 after --help, -1 after a usage error. */
static int parse(hg_live_opts_t *o, int argc, char **argv, uint32_t *pid) {
    hg_args_t a = {argc, 1, argv, "attach"};
    char buf[64];
    hg_error_t err;
    const char *target = NULL;
    while (a.i < argc) {
        const char *name, *value;
        if (strcmp(argv[a.i], "-h") == 0 || strcmp(argv[a.i], "--help") == 0) {
            hg__print_help(stdout);
            return 0;
        }
        if (hg__next_arg(&a, hg__live_opt_arity, &name, &value, buf, sizeof buf)) {
            return -1;
        }
        if (!name && target) {
            hg__usage_error("attach", "one process id only (got '%s' and '%s')", target, value);
            return -1;
        }
        if (!name) {
            target = value;
        } else if (hg__live_opt(o, name, value, &err)) {
            hg__usage_error("attach", "%s", err.msg);
            return -1;
        }
    }
    uint64_t v;
    if (!target || hg_parse_u64(target, &v) || v == 0 || v > INT32_MAX) {
        hg__usage_error("attach", "expected the id of a running process, got '%s'",
                        target ? target : "");
        return -1;
    }
    *pid = (uint32_t)v;
    return 1;
}

static int check(hg_live_opts_t *o, uint32_t pid) {
    hg_error_t err;
    char path[64];
    if (o->exit_status_program) {
        hg__usage_error("attach", "--exit-status program is an option of run");
        return -1;
    }
    if (hg__analyze_opts_finish(&o->analyze, &err)) {
        hg__usage_error("attach", "%s", err.msg);
        return -1;
    }
    snprintf(path, sizeof path, "/proc/%u", pid);
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "heapgate: attach: no process %u\n", pid);
        return -1;
    }
    return 0;
}

/* ---- gdb ---------------------------------------------------------------------------------- */

/* The gdb on PATH; false when there is none. */
static bool find_gdb(char *buf, size_t cap) {
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, cap, "%s/gdb", d);
        if (access(buf, X_OK) == 0) {
            return true;
        }
    }
    return false;
}

/* Starts gdb on pid with the injection commands; its output goes to out_fd. */
static pid_t start_gdb(const char *gdb, uint32_t pid, const char *agent, const char *config,
                       int out_fd, const sigset_t *mask) {
    char spid[16], dl[4300], call[900];
    snprintf(spid, sizeof spid, "%u", pid);
    snprintf(dl, sizeof dl, "call (void *) dlopen(\"%s\", 2)", agent);
    snprintf(call, sizeof call, "call (int) hg_agent_attach(\"%s\")", config);
    const char *argv[] = {gdb,      "-nx",
                          "-batch", "-q",
                          "-p",     spid,
                          "-iex",   "set auto-solib-add off",
                          "-iex",   "set debuginfod enabled off",
                          "-ex",    "sharedlibrary libc.so",
                          "-ex",    dl,
                          "-ex",    "sharedlibrary libheapgate-agent",
                          "-ex",    call,
                          "-ex",    "detach",
                          NULL};
    pid_t child = fork();
    if (child == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        sigprocmask(SIG_SETMASK, mask, NULL);
        unsetenv("DEBUGINFOD_URLS");
        execv(gdb, (char *const *)argv);
        _exit(127);
    }
    return child;
}

/* Runs gdb while the session reads what the agent sends. Returns gdb's wait status. */
static int run_gdb(hg_live_t *lv, pid_t gdb, int *first_err, hg_error_t *err) {
    int wstatus = 0;
    while (waitpid(gdb, &wstatus, WNOHANG) != gdb) {
        unsigned sigs;
        int stop_sig = 0;
        hg_error_t e;
        int rc = hg__live_poll(lv, 100, &sigs, &stop_sig, &e);
        if (rc && !*first_err) {
            *first_err = rc;
            *err = e;
        }
    }
    return wstatus;
}

/* The last lines of gdb's output, for a failure message. */
static void show_gdb_output(int fd) {
    char buf[2048];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, from);
    buf[n > 0 ? n : 0] = '\0';
    fprintf(stderr, "heapgate: attach: gdb said:\n%s", buf);
}

static int inject(hg_live_t *lv, uint32_t pid, const char *agent, hg_error_t *err) {
    char gdb[4096];
    if (!find_gdb(gdb, sizeof gdb)) {
        return hg_error_set(err, HG_EUSAGE,
                            "attach: gdb is needed to load the agent into a "
                            "running process (Debian: apt-get install gdb)");
    }
    char log[] = "/tmp/heapgate-gdb-XXXXXX";
    int fd = mkstemp(log);
    if (fd < 0) {
        return hg_error_set(err, HG_EIO, "attach: cannot create a temporary file: %s",
                            strerror(errno));
    }
    unlink(log);
    pid_t child =
        start_gdb(gdb, pid, agent, hg__live_agent_config(lv), fd, hg__live_old_sigmask(lv));
    int first = 0;
    int wstatus = child > 0 ? run_gdb(lv, child, &first, err) : -1;
    if (!first && !hg__live_saw_pid(lv, pid)) {
        show_gdb_output(fd);
        first = hg_error_set(err, HG_EIO,
                             "attach: the agent did not start in process %u (gdb exit status %d)",
                             pid, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    }
    close(fd);
    return first;
}

/* ---- tracing ------------------------------------------------------------------------------ */

/* Until the duration is over, a stop signal, or the process's streams ended. */
static int trace(hg_live_t *lv, uint64_t duration_ns, hg_error_t *err) {
    uint64_t deadline = duration_ns ? now_ns() + duration_ns : 0;
    while (hg__live_busy(lv)) {
        uint64_t now = now_ns();
        if (deadline && now >= deadline) {
            return 0;
        }
        int timeout = deadline ? (int)((deadline - now) / 1000000u) + 1 : -1;
        unsigned sigs = 0;
        int stop_sig = 0;
        int rc = hg__live_poll(lv, timeout, &sigs, &stop_sig, err);
        if (rc || (sigs & HG_LIVE_SIGINT)) {
            return rc;
        }
    }
    return 0;
}

static int detach(hg_live_t *lv, hg_error_t *err) {
    hg__live_detach_all(lv);
    uint64_t deadline = now_ns() + DETACH_WAIT_NS;
    while (hg__live_busy(lv) && now_ns() < deadline) {
        unsigned sigs;
        int stop_sig = 0;
        int rc = hg__live_poll(lv, 100, &sigs, &stop_sig, err);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

static int attach_and_report(hg_live_opts_t *o, hg_live_t *lv, uint32_t pid, const char *agent) {
    hg_error_t err;
    hg_error_clear(&err);
    int rc = inject(lv, pid, agent, &err);
    if (!rc) {
        fprintf(stderr, "heapgate: attached to process %u\n", pid);
        rc = trace(lv, o->duration_ns, &err);
    }
    if (!rc) {
        rc = detach(lv, &err);
    }
    if (rc) {
        fprintf(stderr, "heapgate: %s\n", err.msg[0] ? err.msg : hg_strerror(rc));
        return HG_EXIT_ERROR;
    }
    return hg__live_report(lv, stderr);
}

int hg__cmd_attach(int argc, char **argv) {
    hg_live_opts_t o;
    hg__live_opts_init(&o);
    uint32_t pid = 0;
    int parsed = parse(&o, argc, argv, &pid);
    if (parsed <= 0 || check(&o, pid)) {
        return parsed == 0 ? HG_EXIT_PASS : HG_EXIT_ERROR;
    }
    char name[32], agent[4096];
    snprintf(name, sizeof name, "pid %u", pid);
    o.input_name = name;
    o.attach = true;
    hg_error_t err;
    hg_live_t *lv = NULL;
    if (hg__live_agent_path(agent, sizeof agent, &err) || !(lv = hg__live_open(&o, &err))) {
        fprintf(stderr, "heapgate: attach: %s\n", err.msg);
        return HG_EXIT_ERROR;
    }
    int status = attach_and_report(&o, lv, pid, agent);
    hg__live_close(lv);
    return status;
}
