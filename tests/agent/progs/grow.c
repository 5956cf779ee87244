/* grow.c - grows for a while: keeps one 1000-byte block every 10 ms, none freed, argv[1] times
 * (default 100) or, given a file name argv[2], until that file exists (at most argv[1] times,
 * and at least 20); says "growing" (flushed) after 20 blocks, and at the end how many. Its site's
 * bytes rise from one snapshot to the next. Leaked: 1000 bytes times the count printed. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void *grow_step(void) {
    return malloc(1000); /* LEAK: grow */
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100, i = 0;
    const char *stop = argc > 2 ? argv[2] : NULL;
    struct timespec tick = {0, 10 * 1000 * 1000};
    void *last = NULL;
    for (; i < n && !(i >= 20 && stop && access(stop, F_OK) == 0); i++) {
        last = grow_step();
        nanosleep(&tick, NULL);
        if (i == 19) {
            printf("growing\n");
            fflush(stdout);
        }
    }
    printf("grew %d %d\n", i, last != NULL);
    return 0;
}
