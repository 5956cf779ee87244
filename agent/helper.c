/* helper.c - the agent's helper thread (heaptrack keeps a similar timer thread). Every flush
 * interval (100 ms by default) it sends what is buffered, so heapgate's snapshots and a crash
 * lose at most that much; it records allocator statistics (glibc's mallinfo2(3) and the
 * resident set size from /proc/self/statm, proc(5)) every statistics interval; it rescans the
 * module map when dl_iterate_phdr's counters say objects came or went; and it reads heapgate's
 * commands on the socket: 'D' asks to detach (attach mode), end of file means heapgate is gone
 * and the program goes on untraced.
 *
 * The thread runs with every signal blocked (process signals go to the program's threads) and
 * is marked internal (it records nothing of its own). At the program's exit it is parked, not
 * ended: a finished thread's stack and TLS would be freed by __libc_freeres, and the agent never
 * recorded their allocation. A wake-up pipe on a high descriptor, checked by identity before
 * use like the socket, shortens its waits. */
#include "agent.h"
#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { H_OFF, H_RUN, H_PARK, H_PARKED };

static atomic_int state;
static int wake_fd[2] = {-1, -1};
static ino_t wake_ino;

/* ---- statistics --------------------------------------------------------------------------- */

static uint64_t rss_bytes(void) {
    char buf[128];
    if (hg__read_file("/proc/self/statm", buf, sizeof buf) <= 0) {
        return 0;
    }
    const char *p = strchr(buf, ' ');
    uint64_t pages = 0;
    size_t n = 0;
    while (p && p[1 + n] >= '0' && p[1 + n] <= '9') {
        n++;
    }
    return p && hg__parse_u64(p + 1, n, &pages) ? pages * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void hg__stats_record(void) {
    uint64_t v[5] = {0, 0, 0, 0, 0};
    if (hg__glibc_malloc) {
        struct mallinfo2 m = mallinfo2();
        v[0] = m.arena;
        v[1] = m.uordblks;
        v[2] = m.fordblks;
        v[3] = m.hblkhd;
    }
    v[4] = rss_bytes();
    hg__rec_lock();
    if (atomic_load(&hg__recording)) {
        if (!hg__chunk_room(&hg__main_chunk, 80)) {
            hg__rec_flush_locked();
        }
        hg__chunk_stats(&hg__main_chunk, hg__pid, hg__now_ns(), v);
    }
    hg__rec_unlock();
}

/* ---- the wake-up pipe --------------------------------------------------------------------- */

static bool wake_is_ours(void) {
    struct stat st;
    return wake_fd[0] >= 0 && fstat(wake_fd[0], &st) == 0 && st.st_ino == wake_ino;
}

static void open_wake(void) {
    int p[2];
    struct stat st;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
        return;
    }
    wake_fd[0] = fcntl(p[0], F_DUPFD_CLOEXEC, 900);
    wake_fd[1] = fcntl(p[1], F_DUPFD_CLOEXEC, 900);
    close(p[0]);
    close(p[1]);
    wake_ino = fstat(wake_fd[0], &st) == 0 ? st.st_ino : 0;
}

static void wake(void) {
    if (wake_is_ours()) {
        char c = 'w';
        (void)!write(wake_fd[1], &c, 1);
    }
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* A command from heapgate, or the end of the connection. False when the helper must end. */
static bool read_command(int fd) {
    char c;
    ssize_t k = recv(fd, &c, 1, MSG_DONTWAIT);
    if (k == 1 && c == 'D') {
        hg__life_detach();
        return false;
    }
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
        hg__conn_close();
        hg__life_stop();
        return false;
    }
    return true;
}

static void flush_now(void) {
    hg__rec_lock();
    if (atomic_load(&hg__recording)) {
        hg__modules_emit_locked();
        hg__rec_flush_locked();
    }
    hg__rec_unlock();
}

/* Waits for the next tick, a command or a wake-up; false when the helper must end. */
static bool wait_tick(void) {
    int fd = hg__conn_fd();
    struct pollfd p[2] = {{fd, POLLIN, 0}, {wake_is_ours() ? wake_fd[0] : -1, POLLIN, 0}};
    int n = poll(p, 2, (int)hg__cfg.flush_ms);
    if (atomic_load(&state) != H_RUN) {
        return false;
    }
    if (n > 0 && fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        return read_command(fd);
    }
    return true;
}

static void *helper_main(void *arg) {
    (void)arg;
    hg__tls.internal = 1;
    uint64_t next_stats = hg__mono_ns();
    while (atomic_load(&state) == H_RUN && wait_tick()) {
        if (!atomic_load(&hg__recording)) {
            break;
        }
        if (hg__modules_changed()) {
            hg__modules_scan();
            if (hg__cfg.attach) {
                hg__got_install(); /* objects loaded since get the hooks too */
            }
        }
        if (hg__cfg.stats_ms && hg__mono_ns() >= next_stats) {
            hg__stats_record();
            next_stats = hg__mono_ns() + (uint64_t)hg__cfg.stats_ms * 1000000u;
        }
        flush_now();
    }
    int expected = H_PARK;
    if (atomic_compare_exchange_strong(&state, &expected, H_PARKED)) {
        for (;;) {
            pause(); /* every signal is blocked here: sleeps until the process ends */
        }
    }
    atomic_store(&state, H_OFF);
    return NULL;
}

void hg__helper_start(void) {
    int expected = H_OFF;
    if (!atomic_compare_exchange_strong(&state, &expected, H_RUN)) {
        return;
    }
    hg__tls.internal++;
    if (!wake_is_ours()) {
        open_wake();
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256u << 10);
    pthread_t t;
    if (pthread_create(&t, &attr, helper_main, NULL) != 0) {
        atomic_store(&state, H_OFF);
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    hg__tls.internal--;
}

void hg__helper_park(void) {
    int expected = H_RUN;
    if (!atomic_compare_exchange_strong(&state, &expected, H_PARK)) {
        return;
    }
    wake();
    for (int i = 0; i < 2000 && atomic_load(&state) == H_PARK; i++) {
        struct timespec ms = {0, 100000};
        nanosleep(&ms, NULL);
    }
}

void hg__helper_forget(void) {
    atomic_store(&state, H_OFF);
    if (wake_is_ours()) {
        close(wake_fd[0]);
        close(wake_fd[1]);
    }
    wake_fd[0] = wake_fd[1] = -1;
}
