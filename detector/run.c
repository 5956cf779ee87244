/* run.c - `heapgate run [options] [--] PROG ARGS...`: runs PROG with the agent preloaded
 * (LD_PRELOAD, agent/), traces it live (live.c), and when it has exited and every traced
 * process's stream has ended, writes the report (to stderr unless -o: the program owns stdout)
 * and exits with the gate's verdict, or with the program's own status (--exit-status program;
 * 128 + signal when a signal killed it).
 *
 * The program gets heapgate's environment plus LD_PRELOAD (the agent first, then what the user
 * preloaded, kept in HEAPGATE_LD_PRELOAD) and HEAPGATE_AGENT (the agent's configuration); the
 * agent removes them again unless children are followed. Its signal mask is heapgate's own, as
 * it was before the session blocked the signals it reads. A failed exec is reported through a
 * close-on-exec pipe. SIGINT, SIGTERM and SIGHUP sent to heapgate by another process are passed
 * on to the program (the terminal's Ctrl-C reaches both already). */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- the command line --------------------------------------------------------------------- */

/* Returns the index of PROG in argv, 0 after --help, -1 after a usage error. */
static int parse(hg_live_opts_t *o, int argc, char **argv) {
    hg_args_t a = {argc, 1, argv, "run"};
    char buf[64];
    hg_error_t err;
    while (a.i < argc) {
        const char *name, *value;
        if (strcmp(argv[a.i], "-h") == 0 || strcmp(argv[a.i], "--help") == 0) {
            hg__print_help(stdout);
            return 0;
        }
        if (hg__next_arg(&a, hg__live_opt_arity, &name, &value, buf, sizeof buf)) {
            return -1;
        }
        if (!name) {
            int prog = strcmp(value, "--") == 0 ? a.i : a.i - 1;
            return prog < argc ? prog : (hg__usage_error("run", "no program given after --"), -1);
        }
        if (hg__live_opt(o, name, value, &err)) {
            hg__usage_error("run", "%s", err.msg);
            return -1;
        }
    }
    hg__usage_error("run", "no program given (heapgate run [options] -- PROG ARGS...)");
    return -1;
}

static int check(hg_live_opts_t *o) {
    hg_error_t err;
    if (o->duration_ns) {
        hg__usage_error("run", "--duration is an option of attach");
        return -1;
    }
    if (hg__analyze_opts_finish(&o->analyze, &err)) {
        hg__usage_error("run", "%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- the program's environment ------------------------------------------------------------ */

/* "NAME=A" or "NAME=A:B"; NULL when out of memory. */
static char *entry(const char *name, const char *a, const char *b) {
    size_t n = strlen(name) + strlen(a) + (b ? strlen(b) + 1 : 0) + 2;
    char *s = hg_malloc(n);
    if (s && b) {
        snprintf(s, n, "%s=%s:%s", name, a, b);
    } else if (s) {
        snprintf(s, n, "%s=%s", name, a);
    }
    return s;
}

static bool ours(const char *e) {
    return strncmp(e, "LD_PRELOAD=", 11) == 0 || strncmp(e, "HEAPGATE_AGENT=", 15) == 0 ||
           strncmp(e, "HEAPGATE_LD_PRELOAD=", 20) == 0;
}

#define ENV_ADDED 3 /* LD_PRELOAD, HEAPGATE_AGENT, HEAPGATE_LD_PRELOAD (when the user had one) */

/* heapgate's environment with the agent's variables at env[*kept..]; NULL when out of memory.
 * Only the added strings are owned by the array (free_env). */
static char **child_env(const char *agent, const char *config, size_t *kept) {
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    char **env = hg_calloc(n + ENV_ADDED + 1, sizeof *env);
    if (!env) {
        return NULL;
    }
    const char *orig = getenv("LD_PRELOAD");
    orig = orig && *orig ? orig : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ours(environ[i])) {
            env[k++] = environ[i];
        }
    }
    *kept = k;
    env[k] = entry("LD_PRELOAD", agent, orig);
    env[k + 1] = entry("HEAPGATE_AGENT", config, NULL);
    env[k + 2] = orig ? entry("HEAPGATE_LD_PRELOAD", orig, NULL) : NULL;
    return env;
}

static void free_env(char **env, size_t kept) {
    for (size_t i = kept; env && i < kept + ENV_ADDED; i++) {
        hg_free(env[i]);
    }
    hg_free(env);
}

/* Complete when every added entry was allocated. */
static bool env_whole(char **env, size_t kept) {
    return env && env[kept] && env[kept + 1] &&
           (!getenv("LD_PRELOAD") || !*getenv("LD_PRELOAD") || env[kept + 2]);
}

/* ---- the program -------------------------------------------------------------------------- */

/* Forks and execs argv; returns the pid, or -1 with errno set when the exec failed. */
static pid_t spawn(char **argv, char **env, const sigset_t *mask) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        sigprocmask(SIG_SETMASK, mask, NULL);
        execvpe(argv[0], argv, env);
        int e = errno;
        (void)!write(p[1], &e, sizeof e);
        _exit(127);
    }
    close(p[1]);
    int e = 0;
    ssize_t n = pid > 0 ? read(p[0], &e, sizeof e) : 0;
    close(p[0]);
    if (pid > 0 && n == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        errno = e;
        return -1;
    }
    return pid;
}

/* Traces until the program exited and every stream ended. Returns 0 or the first error. */
static int trace(hg_live_t *lv, pid_t pid, int *wstatus, hg_error_t *err) {
    bool exited = false;
    int first = 0;
    while (!exited || hg__live_busy(lv)) {
        unsigned sigs = 0;
        int stop_sig = 0;
        hg_error_t e;
        hg_error_clear(&e);
        int rc = hg__live_poll(lv, exited ? 200 : -1, &sigs, &stop_sig, &e);
        if (rc && !first) {
            first = rc;
            *err = e;
        }
        if (!exited && waitpid(pid, wstatus, WNOHANG) == pid) {
            exited = true;
            hg__live_process_exited(lv, (uint32_t)pid);
        }
        if ((sigs & HG_LIVE_FORWARD) && !exited) {
            kill(pid, stop_sig);
        }
        if ((sigs & HG_LIVE_SIGINT) && exited) {
            break; /* stop waiting for followed children */
        }
    }
    return first;
}

static int program_status(int wstatus) {
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

static int launch_and_report(hg_live_opts_t *o, hg_live_t *lv, char **argv, const char *agent) {
    size_t added = 0;
    char **env = child_env(agent, hg__live_agent_config(lv), &added);
    if (!env_whole(env, added)) {
        free_env(env, added);
        fprintf(stderr, "heapgate: out of memory\n");
        return HG_EXIT_ERROR;
    }
    pid_t pid = spawn(argv, env, hg__live_old_sigmask(lv));
    free_env(env, added);
    if (pid < 0) {
        fprintf(stderr, "heapgate: run: cannot run %s: %s\n", argv[0], strerror(errno));
        return HG_EXIT_ERROR;
    }
    int wstatus = 0;
    hg_error_t err;
    hg_error_clear(&err);
    if (trace(lv, pid, &wstatus, &err)) {
        fprintf(stderr, "heapgate: %s\n", err.msg[0] ? err.msg : hg_strerror(err.code));
        return HG_EXIT_ERROR;
    }
    if (!hg__live_saw_pid(lv, (uint32_t)pid)) {
        fprintf(stderr,
                "heapgate: run: %s sent no trace: the agent was not loaded (a statically "
                "linked or set-user-ID program?)\n",
                argv[0]);
        return HG_EXIT_ERROR;
    }
    int status = hg__live_report(lv, stderr);
    return o->exit_status_program && status != HG_EXIT_ERROR ? program_status(wstatus) : status;
}

int hg__cmd_run(int argc, char **argv) {
    hg_live_opts_t o;
    hg__live_opts_init(&o);
    int prog = parse(&o, argc, argv);
    if (prog <= 0 || check(&o)) {
        return prog == 0 ? HG_EXIT_PASS : HG_EXIT_ERROR;
    }
    o.input_name = argv[prog];
    char agent[4096];
    hg_error_t err;
    hg_live_t *lv = NULL;
    if (hg__live_agent_path(agent, sizeof agent, &err) || !(lv = hg__live_open(&o, &err))) {
        fprintf(stderr, "heapgate: run: %s\n", err.msg);
        return HG_EXIT_ERROR;
    }
    int status = launch_and_report(&o, lv, argv + prog, agent);
    hg__live_close(lv);
    return status;
}
