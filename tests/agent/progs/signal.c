/* signal.c - allocates in signal handlers: SIGUSR1, raised by the program itself, whose handler
 * leaks a block; and a 1 ms timer (SIGALRM) whose handler allocates and frees while the main
 * loop allocates and frees, so some of its calls arrive while the agent records one of the
 * main loop's (they wait in the agent's 128 slots for deferred events: 50 ticks never fill
 * them, so nothing is lost however late the lock comes free). Leaked: 40 bytes in 1 block.
 * Allocating in a handler is safe here only because the two sides never share a glibc lock or
 * tcache bin: the loop's 16-byte blocks and the timer's 100-byte blocks sit in different bins,
 * and the timer's bin is filled before the timer starts, so its calls never reach an arena. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void *volatile from_handler;
static volatile sig_atomic_t ticks;

static void on_signal(int sig) {
    (void)sig;
    from_handler = malloc(40); /* LEAK: signal */
}

static void on_tick(int sig) {
    (void)sig;
    if (ticks < 50) { /* the timer may run on while the loop waits for the agent's lock */
        free(malloc(100));
        ticks++;
    }
}

static void handle(int sig, void (*fn)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

int main(void) {
    handle(SIGUSR1, on_signal);
    raise(SIGUSR1);
    void *leaked = from_handler;
    free(malloc(16));
    free(malloc(100));
    handle(SIGALRM, on_tick);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &every_ms, NULL);
    for (long i = 0; ticks < 50 && i < 100000000; i++) {
        free(malloc(16));
    }
    setitimer(ITIMER_REAL, &off, NULL);
    printf("signal %d %d\n", leaked != NULL, ticks >= 50);
    return 0;
}
