/* life.c - the agent's life in a process: configuration, start, fork, exec, exit, fatal
 * signals, and the attach and detach of `heapgate attach`.
 *
 * Preloaded (`heapgate run`), the agent starts at the first allocation or at its constructor,
 * whichever comes first: allocations made by libraries initialised before it are recorded
 * too. The configuration comes from HEAPGATE_AGENT in the environment the program was started
 * with (docs/agent-stream.md); without it the agent stays passive. Unless children are
 * followed, the agent takes itself out of the environment (LD_PRELOAD as the user had it), so
 * programs the traced one executes run untraced and see the environment they would have seen.
 *
 * The end: the constructor registers a handler with __cxa_atexit and no DSO handle before
 * __libc_start_main registers the dynamic linker's own (csu/libc-start.c), so it runs after
 * every library destructor, as late as exit allows. There, as valgrind does, it calls
 * __gnu_cxx::__freeres and __libc_freeres (only when no other program thread is left, as they
 * free state running threads use), then records the end of the process. _exit, the exec family
 * and fatal signals (handlers installed only where the disposition is the default; they record
 * the end, restore the default and re-raise) end the stream too.
 *
 * Forked children: the child of a followed process gets its own connection and stream (not
 * traced from its start: it inherited its parent's heap); otherwise it closes its copy of the
 * socket and runs untraced. The fork handlers flush and hold the agent's locks across fork so
 * a child never inherits half-written state. */
#include "agent.h"
#include "encode.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { LIFE_NEW, LIFE_STARTING, LIFE_RUNNING, LIFE_STOPPED };

hg__config_t hg__cfg = {.depth = 32, .flush_ms = 100, .stats_ms = 1000};
uint32_t hg__pid;
atomic_int hg__helper_pending;

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
extern char **environ;

static atomic_int life_state;
static atomic_int finished;
static bool from_start, start_sent, exit_registered, fork_registered;
static uint64_t start_ts;
static uint32_t parent_pid;
static char proc_name[256];
static char proc_cmdline[HG__MAX_STRING];
static char env_buf[1u << 16];
static char preload_entry[4096];

static const int fatal_signals[] = {SIGHUP,  SIGINT,  SIGQUIT,   SIGILL,  SIGTRAP, SIGABRT,
                                    SIGBUS,  SIGFPE,  SIGUSR1,   SIGSEGV, SIGUSR2, SIGPIPE,
                                    SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM,
                                    SIGPROF, SIGPWR,  SIGSYS};

/* ---- configuration ------------------------------------------------------------------------ */

static bool key_is(const char *k, size_t n, const char *want) {
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

static void set_option(const char *k, size_t kn, const char *v, size_t vn) {
    uint64_t x = 0;
    bool num = hg__parse_u64(v, vn, &x);
    if (key_is(k, kn, "sock") && vn < sizeof hg__cfg.sock) {
        memcpy(hg__cfg.sock, v, vn);
        hg__cfg.sock[vn] = '\0';
    } else if (key_is(k, kn, "unwind")) {
        hg__cfg.use_fp = vn == 2 && memcmp(v, "fp", 2) == 0;
    } else if (num && key_is(k, kn, "t0")) {
        hg__cfg.t0_mono_ns = x;
    } else if (num && key_is(k, kn, "wall0")) {
        hg__cfg.wall0_ns = x;
    } else if (num && key_is(k, kn, "depth")) {
        hg__cfg.depth = (uint32_t)(x > HG_AG_MAX_DEPTH ? HG_AG_MAX_DEPTH : x ? x : 1);
    } else if (num && key_is(k, kn, "follow")) {
        hg__cfg.follow = x != 0;
    } else if (num && key_is(k, kn, "flush_ms")) {
        hg__cfg.flush_ms = (uint32_t)(x ? x : 1);
    } else if (num && key_is(k, kn, "stats_ms")) {
        hg__cfg.stats_ms = (uint32_t)x;
    }
}

/* "key=value;key=value;..." (docs/agent-stream.md). True when a socket name was given. */
static bool parse_config(const char *s) {
    hg__cfg.sock[0] = '\0';
    while (s && *s) {
        const char *end = strchr(s, ';'), *eq = strchr(s, '=');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (eq && (size_t)(eq - s) < len) {
            set_option(s, (size_t)(eq - s), eq + 1, len - (size_t)(eq - s) - 1);
        }
        s = end ? end + 1 : NULL;
    }
    hg__conn_set_name(hg__cfg.sock);
    return hg__cfg.sock[0] != '\0';
}

/* HEAPGATE_AGENT from the environment the program was started with (/proc/self/environ: valid
 * even before libc set up environ); getenv when /proc is not there. */
static const char *config_from_env(void) {
    long n = hg__read_file("/proc/self/environ", env_buf, sizeof env_buf);
    for (long i = 0; i < n; i += (long)strlen(env_buf + i) + 1) {
        if (strncmp(env_buf + i, "HEAPGATE_AGENT=", 15) == 0) {
            return env_buf + i + 15;
        }
    }
    return n > 0 ? NULL : getenv("HEAPGATE_AGENT");
}

/* ---- identity ----------------------------------------------------------------------------- */

static void read_identity(void) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    size_t bn = strnlen(base, sizeof proc_name - 1);
    memcpy(proc_name, base, bn);
    proc_name[bn] = '\0';
    long len = hg__read_file("/proc/self/cmdline", proc_cmdline, sizeof proc_cmdline);
    for (long i = 0; i + 1 < len; i++) {
        proc_cmdline[i] = proc_cmdline[i] ? proc_cmdline[i] : ' ';
    }
}

void hg__life_preamble(hg__chunk_t *c) {
    hg__chunk_trace(c, hg__cfg.wall0_ns);
    hg__proc_t p = {hg__pid, parent_pid, proc_name, proc_cmdline, hg__glibc_malloc};
    hg__chunk_process(c, &p);
    if (from_start && !start_sent) {
        hg__ev_t ev = {.kind = HG_AG_PROCESS_START,
                       .pid = hg__pid,
                       .tid = hg__gettid(),
                       .heap = HG_AG_MAIN_ARENA,
                       .ts_ns = start_ts};
        hg__chunk_event(c, &ev);
        start_sent = true;
    }
}

/* ---- start -------------------------------------------------------------------------------- */

static void set_self_range(void) {
    uint64_t lo, hi;
    if (hg__modules_range_of((const void *)(uintptr_t)set_self_range, &lo, &hi)) {
        hg__unwind_set_self(lo, hi);
    }
}

/* Starts recording in this process (traced_from_start: no allocation came before). */
static void begin(bool traced_from_start) {
    hg__pid = (uint32_t)getpid();
    parent_pid = (uint32_t)getppid();
    hg__chunks_init();
    hg__stream_reset();
    hg__crc32(0, "", 0); /* builds the tables before any concurrent use */
    read_identity();
    hg__stacks_reset();
    hg__modules_resend();
    hg__modules_scan();
    set_self_range();
    hg__unwind_init(hg__cfg.use_fp, hg__cfg.depth);
    from_start = traced_from_start;
    start_sent = false;
    start_ts = hg__now_ns();
    atomic_store(&finished, 0);
    hg__rec_lock();
    hg__modules_emit_locked();
    hg__rec_unlock();
    atomic_store(&hg__recording, 1);
    atomic_store(&life_state, LIFE_RUNNING);
}

void hg__life_ensure_started(void) {
    int expected = LIFE_NEW;
    if (hg__cfg.attach || atomic_load_explicit(&life_state, memory_order_relaxed) != LIFE_NEW ||
        !atomic_compare_exchange_strong(&life_state, &expected, LIFE_STARTING)) {
        return;
    }
    hg__tls.internal++;
    if (parse_config(config_from_env())) {
        hg__boot_resolve();
        begin(true);
    } else {
        atomic_store(&life_state, LIFE_STOPPED); /* passive; attach may still start it */
    }
    hg__tls.internal--;
}

/* False in the child of a vfork (or any clone that skipped the fork handlers): it shares the
 * traced process's memory, and must not end or flush its stream. */
static bool is_traced_process(void) {
    return (uint32_t)getpid() == hg__pid;
}

/* ---- the environment of programs run from this one ---------------------------------------- */

static void remove_env(const char *name) {
    size_t n = strlen(name);
    for (char **e = environ; e && *e;) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            for (char **m = e; *m; m++) {
                m[0] = m[1];
            }
        } else {
            e++;
        }
    }
}

/* LD_PRELOAD back to the user's value (HEAPGATE_LD_PRELOAD), without allocating. */
static void restore_preload(void) {
    const char *orig = getenv("HEAPGATE_LD_PRELOAD");
    size_t n = orig ? strlen(orig) : 0;
    if (!orig || n + 12 > sizeof preload_entry) {
        remove_env("LD_PRELOAD");
        return;
    }
    memcpy(preload_entry, "LD_PRELOAD=", 11);
    memcpy(preload_entry + 11, orig, n + 1);
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
            *e = preload_entry;
        }
    }
}

static void clean_env(void) {
    if (!hg__cfg.follow) {
        restore_preload();
        remove_env("HEAPGATE_LD_PRELOAD");
        remove_env("HEAPGATE_AGENT");
    }
}

/* ---- the end ------------------------------------------------------------------------------ */

static void end_locked(bool process_ends) {
    hg__conn_ensure(); /* END counts the records of the stream: it must have begun */
    hg__modules_emit_locked();
    if (process_ends) {
        hg__rec_process_event_locked(HG_AG_PROCESS_END);
    }
    if (!hg__chunk_room(&hg__main_chunk, 16)) {
        hg__rec_flush_locked();
    }
    hg__chunk_end(&hg__main_chunk);
    hg__rec_flush_locked();
    atomic_store(&hg__recording, 0);
}

void hg__life_finish(bool process_ends) {
    if (!atomic_load(&hg__recording) || !is_traced_process() || atomic_exchange(&finished, 1)) {
        return;
    }
    hg__stats_record();
    hg__modules_scan();
    hg__rec_lock();
    end_locked(process_ends);
    hg__rec_unlock();
    hg__conn_close();
    atomic_store(&life_state, LIFE_STOPPED);
}

/* From a fatal signal: no statistics, no scan (they take locks the crash may hold); the
 * recording lock only if it comes free within about 100 ms. */
static void finish_from_signal(void) {
    if (!atomic_load(&hg__recording) || !is_traced_process() || atomic_exchange(&finished, 1)) {
        return;
    }
    for (int i = 0; i < 100; i++) {
        if (hg__rec_trylock()) {
            end_locked(true);
            hg__rec_unlock();
            hg__conn_close();
            return;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

void hg__life_stop(void) {
    if (hg__cfg.attach) {
        hg__got_uninstall();
    }
    atomic_store(&hg__recording, 0);
    atomic_store(&life_state, LIFE_STOPPED);
}

void hg__life_detach(void) {
    hg__got_uninstall();
    if (!atomic_exchange(&finished, 1)) {
        hg__rec_lock();
        if (atomic_load(&hg__recording)) {
            end_locked(false);
        }
        hg__rec_unlock();
    }
    atomic_store(&hg__recording, 0);
    hg__conn_close();
    atomic_store(&life_state, LIFE_STOPPED);
}

typedef void (*freeres_fn)(void);

/* After every destructor (see the file comment): release the runtimes' caches, then end. */
static void at_final_exit(void *unused) {
    (void)unused;
    if (!atomic_load(&hg__recording)) {
        return;
    }
    if (hg__cfg.attach) {
        atomic_store(&hg__flush_each, 1); /* destructors still run after this handler */
        hg__rec_lock();
        hg__rec_flush_locked();
        hg__rec_unlock();
        return;
    }
    hg__helper_park();
    if (hg__thread_count() <= 2) { /* this thread and the parked helper */
        hg__tls.internal++;
        freeres_fn cxx = (freeres_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
        freeres_fn c = (freeres_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "__libc_freeres");
        hg__tls.internal--;
        if (cxx) {
            cxx();
        }
        if (c) {
            c();
        }
    }
    hg__life_finish(true);
}

/* ---- fork --------------------------------------------------------------------------------- */

static void fork_prepare(void) {
    hg__modules_fork_lock();
    hg__rec_lock();
    if (atomic_load(&hg__recording)) {
        hg__rec_flush_locked();
    }
    hg__modules_fork_table_lock();
}

static void fork_parent(void) {
    hg__modules_fork_table_unlock();
    hg__rec_unlock();
    hg__modules_fork_unlock();
}

static void fork_child(void) {
    hg__rec_after_fork_child();
    hg__modules_after_fork_child();
    hg__helper_forget();
    hg__conn_close(); /* the parent's connection is not the child's */
    if (!atomic_load(&hg__recording)) {
        return;
    }
    if (!hg__cfg.follow) {
        atomic_store(&hg__recording, 0);
        atomic_store(&life_state, LIFE_STOPPED);
        return;
    }
    parent_pid = hg__pid;
    hg__pid = (uint32_t)getpid();
    from_start = false;
    atomic_store(&finished, 0);
    hg__stacks_reset();
    hg__modules_resend();
    atomic_store(&hg__helper_pending, 1);
}

/* The helper thread of a forked child starts with the child's first event. */
void hg__life_child_first_event(void) {
    if (atomic_exchange(&hg__helper_pending, 0)) {
        hg__helper_start();
    }
}

/* ---- exec --------------------------------------------------------------------------------- */

void hg__life_before_exec(void) {
    hg__life_finish(true); /* the image ends here if the call succeeds */
}

void hg__life_exec_failed(void) {
    if (atomic_load(&life_state) != LIFE_STOPPED || hg__cfg.attach || !is_traced_process()) {
        return;
    }
    from_start = false; /* the same image goes on: a new stream, not a new start */
    atomic_store(&finished, 0);
    atomic_store(&hg__recording, 1);
    atomic_store(&life_state, LIFE_RUNNING);
    hg__helper_start();
}

/* ---- fatal signals ------------------------------------------------------------------------ */

static void on_fatal(int sig) {
    int saved = errno;
    finish_from_signal();
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    raise(sig); /* blocked in this handler: delivered, with its default action, on return */
    errno = saved;
}

static void install_fatal_handlers(void) {
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO)) {
            continue;
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal;
        sa.sa_flags = SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
}

/* ---- entry points ------------------------------------------------------------------------- */

static void register_once(void) {
    if (!exit_registered) {
        exit_registered = true;
        __cxa_atexit(at_final_exit, NULL, NULL);
    }
    if (!fork_registered) {
        fork_registered = true;
        pthread_atfork(fork_prepare, fork_parent, fork_child);
    }
}

__attribute__((constructor)) static void hg_agent_constructor(void) {
    hg__life_ensure_started();
    if (atomic_load(&life_state) != LIFE_RUNNING || hg__cfg.attach) {
        return;
    }
    hg__tls.internal++;
    clean_env();
    hg__rec_lock();
    bool connected = hg__conn_ensure();
    if (connected) {
        hg__rec_flush_locked();
    }
    hg__rec_unlock();
    if (connected) {
        hg__helper_start();
        register_once();
        install_fatal_handlers();
    } else {
        hg__life_stop();
    }
    hg__tls.internal--;
}

/* Called by `heapgate attach` through gdb after dlopen (docs/agent-stream.md): starts the agent
 * in a running process and installs its hooks in the GOTs. Returns 0, or -1 when already
 * running, -2 for a bad configuration, -3 when heapgate cannot be reached. */
HG_AGENT_EXPORT int hg_agent_attach(const char *config) {
    if (atomic_load(&life_state) == LIFE_RUNNING || atomic_load(&life_state) == LIFE_STARTING) {
        return -1;
    }
    hg__cfg.attach = true;
    hg__tls.internal++;
    int rc = parse_config(config) ? 0 : -2;
    if (rc == 0) {
        hg__boot_resolve();
        begin(false);
        hg__rec_lock();
        rc = hg__conn_ensure() ? 0 : -3;
        hg__rec_unlock();
    }
    if (rc == 0) {
        hg__helper_start(); /* before the hooks: its own allocations stay out of the trace */
        register_once();
        hg__got_install();
    } else {
        hg__life_stop();
    }
    hg__tls.internal--;
    return rc;
}
