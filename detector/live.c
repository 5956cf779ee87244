/* live.c - the live session's plumbing: the listening socket, the signals, the poll loop and
 * the agents' connections (live.h).
 *
 * The socket is a Unix stream socket in the abstract namespace (unix(7)) with a random name;
 * only peers of heapgate's own user (or any, when heapgate runs as root) are accepted
 * (SO_PEERCRED). Each connection is read without blocking into its push reader
 * (tracker/formats/hgt_push.c), whose records live_sink.c turns into the session's trace; a
 * damaged stream is an input error: the connection is closed (its agent then stops tracing and
 * the program runs on) and the command exits with status 2 at the end. Signals heapgate acts
 * on arrive through a signalfd, snapshot periods through a timerfd. */
#include "live_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK   (256u << 10)
#define READ_BUDGET  (8u << 20) /* bytes read from one connection per round, for fairness */
#define MAX_POLL_FDS 256

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the agent library -------------------------------------------------------------------- */

static bool readable(const char *path) {
    return access(path, R_OK) == 0;
}

int hg__live_agent_path(char *buf, size_t cap, hg_error_t *err) {
    const char *env = getenv("HEAPGATE_AGENT_LIB");
    if (env && *env) {
        snprintf(buf, cap, "%s", env);
        return readable(buf) ? 0 : hg_error_set(err, HG_EIO, "%s: cannot read the agent", buf);
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
    }
    snprintf(buf, cap, "%s/libheapgate-agent.so", exe);
    if (readable(buf)) {
        return 0;
    }
    snprintf(buf, cap, "%s/../lib/heapgate/libheapgate-agent.so", exe);
    return readable(buf) ? 0
                         : hg_error_set(err, HG_EIO,
                                        "cannot find libheapgate-agent.so beside %s/heapgate "
                                        "(set HEAPGATE_AGENT_LIB)",
                                        exe);
}

/* ---- setup -------------------------------------------------------------------------------- */

static int listen_socket(hg_live_t *lv, hg_error_t *err) {
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        r = clock_ns(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 32);
    }
    snprintf(lv->sock_name, sizeof lv->sock_name, "heapgate-%d-%016llx", (int)getpid(),
             (unsigned long long)r);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(lv->sock_name);
    memcpy(a.sun_path + 1, lv->sock_name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    lv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lv->listen_fd < 0 || bind(lv->listen_fd, (struct sockaddr *)&a, len) != 0 ||
        listen(lv->listen_fd, 128) != 0) {
        return hg_error_set(err, HG_EIO, "cannot listen for the agent: %s", strerror(errno));
    }
    return 0;
}

static int signals(hg_live_t *lv, hg_error_t *err) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGCHLD, SIGUSR1, SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaddset(&set, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &set, &lv->old_mask);
    lv->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return lv->sig_fd < 0 ? hg_error_set(err, HG_EIO, "signalfd: %s", strerror(errno)) : 0;
}

static int snapshot_timer(hg_live_t *lv, hg_error_t *err) {
    uint64_t ns = lv->o.snapshot_every_ns;
    if (!ns) {
        return 0;
    }
    lv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = {{(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)},
                             {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)}};
    if (lv->timer_fd < 0 || timerfd_settime(lv->timer_fd, 0, &its, NULL) != 0) {
        return hg_error_set(err, HG_EIO, "timerfd: %s", strerror(errno));
    }
    return 0;
}

static void make_config(hg_live_t *lv) {
    snprintf(lv->config, sizeof lv->config,
             "sock=%s;t0=%llu;wall0=%llu;depth=%u;unwind=%s;follow=%d;flush_ms=100;"
             "stats_ms=1000",
             lv->sock_name, (unsigned long long)lv->t0_mono_ns, (unsigned long long)lv->wall0_ns,
             lv->o.depth, lv->o.use_fp ? "fp" : "libunwind", lv->o.follow ? 1 : 0);
}

static int open_save(hg_live_t *lv, hg_error_t *err) {
    if (!lv->o.save_path) {
        return 0;
    }
    lv->save = hg_hgt_writer_open(lv->o.save_path, NULL, err);
    return lv->save ? 0 : (err->code ? err->code : HG_EIO);
}

static int open_core(hg_live_t *lv, hg_error_t *err) {
    lv->t = hg_tracker_new(&lv->o.analyze.tracker);
    lv->sym = lv->t ? hg_sym_open(&lv->o.analyze.sym, err) : NULL;
    lv->stacks = lv->sym ? hg_stack_interner_new() : NULL;
    lv->rbuf = lv->stacks ? hg_malloc(READ_CHUNK) : NULL;
    return lv->rbuf ? 0 : hg_error_set(err, HG_ENOMEM, "out of memory");
}

hg_live_t *hg__live_open(const hg_live_opts_t *o, hg_error_t *err) {
    hg_live_t *lv = hg_calloc(1, sizeof *lv);
    if (!lv) {
        hg_error_set(err, HG_ENOMEM, "out of memory");
        return NULL;
    }
    lv->o = *o;
    lv->listen_fd = lv->sig_fd = lv->timer_fd = -1;
    lv->t0_mono_ns = clock_ns(CLOCK_MONOTONIC);
    lv->wall0_ns = clock_ns(CLOCK_REALTIME);
    int rc = open_core(lv, err);
    rc = rc ? rc : listen_socket(lv, err);
    rc = rc ? rc : signals(lv, err);
    rc = rc ? rc : snapshot_timer(lv, err);
    rc = rc ? rc : open_save(lv, err);
    if (rc) {
        hg__live_close(lv);
        return NULL;
    }
    make_config(lv);
    return lv;
}

/* ---- connections -------------------------------------------------------------------------- */

static void close_conn(hg_live_t *lv, size_t i) {
    hg_live_conn_t *c = lv->conns[i];
    if (c->ps) {
        c->ps->stream_done = hg_hgt_push_ended(c->push);
        c->ps->open_conns--;
    }
    close(c->fd);
    hg_hgt_push_free(c->push);
    hg_free(c);
    lv->conns[i] = lv->conns[--lv->nconns];
}

void hg__live_close(hg_live_t *lv) {
    if (!lv) {
        return;
    }
    while (lv->nconns) {
        close_conn(lv, lv->nconns - 1);
    }
    hg_free(lv->conns);
    if (lv->save) {
        hg_hgt_writer_abort(lv->save);
    }
    int fds[] = {lv->listen_fd, lv->sig_fd, lv->timer_fd};
    for (size_t i = 0; i < 3; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    if (lv->sig_fd >= 0) {
        sigprocmask(SIG_SETMASK, &lv->old_mask, NULL);
    }
    hg__live_pids_free(lv);
    hg_stack_interner_free(lv->stacks);
    hg_sym_close(lv->sym);
    hg_tracker_free(lv->t);
    hg_free(lv->rbuf);
    hg_free(lv);
}

static bool peer_allowed(int fd) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return false;
    }
    return geteuid() == 0 || cred.uid == geteuid();
}

static int add_conn(hg_live_t *lv, int fd) {
    if (lv->nconns == lv->capconns) {
        size_t cap = lv->capconns ? lv->capconns * 2 : 8;
        hg_live_conn_t **v = hg_realloc(lv->conns, cap * sizeof *v);
        if (!v) {
            return HG_ENOMEM;
        }
        lv->conns = v;
        lv->capconns = cap;
    }
    hg_live_conn_t *c = hg_calloc(1, sizeof *c);
    if (!c) {
        return HG_ENOMEM;
    }
    c->lv = lv;
    c->fd = fd;
    snprintf(c->name, sizeof c->name, "agent stream %zu", ++lv->seen_conns);
    c->push = hg_hgt_push_new(c->name, hg__live_conn_sink(c));
    if (!c->push) {
        hg_free(c);
        return HG_ENOMEM;
    }
    lv->conns[lv->nconns++] = c;
    return 0;
}

static int accept_all(hg_live_t *lv, hg_error_t *err) {
    for (;;) {
        int fd = accept4(lv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            return 0;
        }
        if (lv->nconns >= MAX_POLL_FDS - 3 || !peer_allowed(fd)) {
            close(fd);
            continue;
        }
        if (add_conn(lv, fd) != 0) {
            close(fd);
            return hg_error_set(err, HG_ENOMEM, "out of memory");
        }
    }
}

/* The stream ended (EOF): whole, or cut short (noted by the session's settle step). */
static int end_conn(hg_live_t *lv, size_t i, hg_error_t *err) {
    hg_read_result_t res;
    int rc = hg_hgt_push_end(lv->conns[i]->push, &res, err);
    close_conn(lv, i);
    return rc;
}

/* Reads what connection i has; *closed when it ended. */
static int read_conn(hg_live_t *lv, size_t i, bool *closed, hg_error_t *err) {
    hg_live_conn_t *c = lv->conns[i];
    *closed = false;
    for (size_t total = 0; total < READ_BUDGET;) {
        ssize_t n = read(c->fd, lv->rbuf, READ_CHUNK);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        if (n <= 0) {
            *closed = true;
            return end_conn(lv, i, err);
        }
        int rc = hg_hgt_push_feed(c->push, lv->rbuf, (size_t)n, err);
        if (!rc && hg_hgt_push_ended(c->push)) {
            *closed = true; /* END: done, even if another process still holds the socket */
            return end_conn(lv, i, err);
        }
        if (rc) {
            *closed = true;
            close_conn(lv, i);
            return rc == HG_EFORMAT || rc == HG_ENOMEM
                       ? rc
                       : hg_error_set(err, rc, "%s: %s", c->name, hg_strerror(rc));
        }
        total += (size_t)n;
    }
    return 0;
}

/* ---- signals ------------------------------------------------------------------------------ */

static void read_signals(hg_live_t *lv, unsigned *signals, int *stop_sig) {
    struct signalfd_siginfo si;
    while (read(lv->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            *signals |= HG_LIVE_SIGCHLD;
            hg__live_reap_snapshot(lv);
        } else if (si.ssi_signo == SIGUSR1) {
            hg__live_snapshot(lv);
        } else {
            *signals |= HG_LIVE_SIGINT;
            *signals |= si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE ? HG_LIVE_FORWARD : 0;
            *stop_sig = (int)si.ssi_signo;
        }
    }
}

static void timer_expired(hg_live_t *lv) {
    uint64_t ticks;
    if (read(lv->timer_fd, &ticks, sizeof ticks) == (ssize_t)sizeof ticks && ticks) {
        hg__live_snapshot(lv);
    }
}

/* ---- the loop ----------------------------------------------------------------------------- */

static size_t fill_pollfds(hg_live_t *lv, struct pollfd *p) {
    size_t n = 0;
    p[n++] = (struct pollfd){lv->listen_fd, POLLIN, 0};
    p[n++] = (struct pollfd){lv->sig_fd, POLLIN, 0};
    p[n++] = (struct pollfd){lv->timer_fd, POLLIN, 0};
    for (size_t i = 0; i < lv->nconns; i++) {
        p[n++] = (struct pollfd){lv->conns[i]->fd, POLLIN, 0};
    }
    return n;
}

static int read_ready(hg_live_t *lv, const struct pollfd *p, size_t np, hg_error_t *err) {
    int first = 0;
    /* connections are at p[3..np) in the order of lv->conns; closing one moves the last */
    for (size_t k = np; k-- > 3;) {
        size_t i = k - 3;
        if (i < lv->nconns && (p[k].revents & (POLLIN | POLLHUP | POLLERR))) {
            bool closed;
            hg_error_t e;
            hg_error_clear(&e);
            int rc = read_conn(lv, i, &closed, &e);
            if (rc && !first) {
                first = rc;
                *err = e;
            }
        }
    }
    return first;
}

int hg__live_poll(hg_live_t *lv, int timeout_ms, unsigned *signals, int *stop_sig,
                  hg_error_t *err) {
    struct pollfd p[MAX_POLL_FDS];
    size_t np = fill_pollfds(lv, p);
    *signals = 0;
    if (poll(p, np, timeout_ms) < 0 && errno != EINTR) {
        return hg_error_set(err, HG_EIO, "poll: %s", strerror(errno));
    }
    int rc = read_ready(lv, p, np, err);
    if (p[1].revents & POLLIN) {
        read_signals(lv, signals, stop_sig);
    }
    if (lv->timer_fd >= 0 && (p[2].revents & POLLIN)) {
        timer_expired(lv);
    }
    int arc = (p[0].revents & POLLIN) ? accept_all(lv, err) : 0;
    return rc ? rc : arc;
}

bool hg__live_busy(hg_live_t *lv) {
    struct pollfd p = {lv->listen_fd, POLLIN, 0};
    return lv->nconns > 0 || (poll(&p, 1, 0) > 0 && (p.revents & POLLIN));
}

bool hg__live_saw_pid(const hg_live_t *lv, uint32_t pid) {
    return JudyLGet(lv->pids, pid, PJE0) != NULL;
}

bool hg__live_saw_any(const hg_live_t *lv) {
    return lv->seen_conns > 0;
}

void hg__live_process_exited(hg_live_t *lv, uint32_t pid) {
    hg_live_pid_t *ps = hg__live_saw_pid(lv, pid) ? hg__live_pid(lv, pid) : NULL;
    if (ps) {
        ps->exited = true;
    }
}

void hg__live_detach_all(hg_live_t *lv) {
    for (size_t i = 0; i < lv->nconns; i++) {
        char d = 'D';
        (void)!send(lv->conns[i]->fd, &d, 1, MSG_NOSIGNAL);
    }
}

const char *hg__live_agent_config(const hg_live_t *lv) {
    return lv->config;
}

const sigset_t *hg__live_old_sigmask(const hg_live_t *lv) {
    return &lv->old_mask;
}
