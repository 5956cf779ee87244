/* signal.c - allocates in a signal handler (SIGUSR1 raised by the program itself, and a timer
 * signal while the main loop allocates). The handler's first block leaks, the timer blocks
 * are freed. Leaked: 40 bytes in 1 block. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile from_handler;

static void on_signal(int sig) {
    (void)sig;
    from_handler = malloc(40); /* LEAK: signal */
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    void *leaked = from_handler;
    for (int i = 0; i < 1000; i++) {
        free(malloc(16));
    }
    printf("signal %d\n", leaked != NULL);
    return 0;
}
