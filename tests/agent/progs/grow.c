/* grow.c - grows for a while: one 1000-byte block every 10 ms, argv[1] times (default 100),
 * none freed. Its site's bytes rise from one snapshot to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) static void *grow_step(void) {
    return malloc(1000); /* LEAK: grow */
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    struct timespec tick = {0, 10 * 1000 * 1000};
    void *last = NULL;
    for (int i = 0; i < n; i++) {
        last = grow_step();
        nanosleep(&tick, NULL);
    }
    printf("grew %d %d\n", n, last != NULL);
    return 0;
}
