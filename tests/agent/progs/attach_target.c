/* attach_target.c - a long-running program for `heapgate attach`: says "ready", then obeys
 * lines on its standard input: "leak N" allocates N bytes in attach_leak and keeps them,
 * "churn" allocates and frees, "quit" says "bye" and exits 0. It lets any process trace it
 * (prctl PR_SET_PTRACER), as Yama's ptrace_scope 1 otherwise allows only its ancestors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

__attribute__((noinline)) static void *attach_leak(size_t n) {
    return malloc(n); /* LEAK: attach */
}

int main(void) {
    char line[128];
    void *kept[64];
    int nkept = 0;
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY); /* Yama's ptrace_scope 1: let gdb attach */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "leak ", 5) == 0 && nkept < 64) {
            kept[nkept++] = attach_leak((size_t)atol(line + 5));
            printf("leaked %s", line + 5);
        } else if (strncmp(line, "churn", 5) == 0) {
            for (int i = 0; i < 1000; i++) {
                free(malloc((size_t)i + 1));
            }
            printf("churned\n");
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    printf("bye %d\n", nkept);
    return 0;
}
