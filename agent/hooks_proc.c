/* hooks_proc.c - the process-level functions the agent interposes: dlclose (the module map
 * must know an object before it goes, and learn that it went), _exit and _Exit (no exit
 * handler runs after them: the stream ends here), abort (what is buffered is sent before the
 * signal), and the exec family (the image ends if the call succeeds; when children are
 * followed, an explicit environment gets the agent's variables back so the new program is
 * traced too). dlopen is deliberately not wrapped: glibc takes the caller's address to pick
 * the namespace and the RPATH/$ORIGIN a dlopen searches (dlfcn/dlopen.c, elf/dl-open.c), and
 * a wrapper would become that caller; new objects are found by the helper's scans instead. */
#include "agent.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_EXEC_ARGS 4096

static void emit_modules(void) {
    hg__modules_scan();
    hg__rec_lock();
    if (atomic_load(&hg__recording)) {
        hg__modules_emit_locked();
    }
    hg__rec_unlock();
}

HG_AGENT_EXPORT int dlclose(void *handle) {
    hg__boot_resolve();
    bool on = atomic_load(&hg__recording) && hg__tls.internal == 0;
    if (on) {
        emit_modules();
    }
    int rc = hg__real.dlclose(handle);
    if (on) {
        emit_modules();
    }
    return rc;
}

HG_AGENT_EXPORT void _exit(int status) {
    hg__life_finish(true);
    hg__boot_resolve();
    if (hg__real.exit_) {
        hg__real.exit_(status);
    }
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

HG_AGENT_EXPORT void _Exit(int status) {
    _exit(status);
}

HG_AGENT_EXPORT void abort(void) {
    hg__boot_resolve();
    if (atomic_load(&hg__recording) && hg__tls.depth == 0 && (uint32_t)getpid() == hg__pid) {
        hg__rec_lock();
        hg__rec_flush_locked();
        hg__rec_unlock();
    }
    hg__real.abort();
    __builtin_unreachable();
}

/* ---- exec --------------------------------------------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* envp with LD_PRELOAD and HEAPGATE_AGENT as this process was started with them (follow mode);
 * out has room for MAX_EXEC_ARGS entries. */
static char *const *follow_env(char *const envp[], char **out) {
    extern char **environ;
    if (!hg__cfg.follow || !envp || envp == environ) {
        return envp;
    }
    const char *ours[2] = {NULL, NULL};
    for (char **e = environ; e && *e; e++) {
        ours[0] = has_prefix(*e, "LD_PRELOAD=") ? *e : ours[0];
        ours[1] = has_prefix(*e, "HEAPGATE_AGENT=") ? *e : ours[1];
    }
    size_t n = 0;
    for (size_t i = 0; envp[i] && n + 3 < MAX_EXEC_ARGS; i++) {
        bool replaced = (ours[0] && has_prefix(envp[i], "LD_PRELOAD=")) ||
                        (ours[1] && has_prefix(envp[i], "HEAPGATE_AGENT="));
        if (!replaced) {
            out[n++] = envp[i];
        }
    }
    for (int k = 0; k < 2; k++) {
        if (ours[k]) {
            out[n++] = (char *)ours[k];
        }
    }
    out[n] = NULL;
    return out;
}

static int after_exec(int rc) {
    int saved = errno;
    hg__life_exec_failed();
    errno = saved;
    return rc;
}

HG_AGENT_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    char *env[MAX_EXEC_ARGS];
    hg__boot_resolve();
    hg__life_before_exec();
    return after_exec(hg__real.execve(path, argv, follow_env(envp, env)));
}

HG_AGENT_EXPORT int execv(const char *path, char *const argv[]) {
    hg__boot_resolve();
    hg__life_before_exec();
    return after_exec(hg__real.execv(path, argv));
}

HG_AGENT_EXPORT int execvp(const char *file, char *const argv[]) {
    hg__boot_resolve();
    hg__life_before_exec();
    return after_exec(hg__real.execvp(file, argv));
}

HG_AGENT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    char *env[MAX_EXEC_ARGS];
    hg__boot_resolve();
    hg__life_before_exec();
    return after_exec(hg__real.execvpe(file, argv, follow_env(envp, env)));
}

HG_AGENT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    char *env[MAX_EXEC_ARGS];
    hg__boot_resolve();
    hg__life_before_exec();
    return after_exec(hg__real.fexecve(fd, argv, follow_env(envp, env)));
}

/* execl, execlp, execle: the argument list into an array, then the vector form. */
static char **collect(const char *arg0, va_list *ap, char **argv) {
    size_t n = 0;
    argv[n++] = (char *)arg0;
    while (argv[n - 1] && n < MAX_EXEC_ARGS) {
        argv[n++] = va_arg(*ap, char *);
    }
    argv[MAX_EXEC_ARGS - 1] = NULL;
    return argv;
}

HG_AGENT_EXPORT int execl(const char *path, const char *arg, ...) {
    char *argv[MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    collect(arg, &ap, argv);
    va_end(ap);
    return execv(path, argv);
}

HG_AGENT_EXPORT int execlp(const char *file, const char *arg, ...) {
    char *argv[MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    collect(arg, &ap, argv);
    va_end(ap);
    return execvp(file, argv);
}

HG_AGENT_EXPORT int execle(const char *path, const char *arg, ...) {
    char *argv[MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    collect(arg, &ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}
