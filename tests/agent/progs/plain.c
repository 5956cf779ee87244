/* plain.c - two plain leaks, each in its own function (a report site is a chain of functions),
 * and a block freed; prints one line.
 * Leaked: 100 + 28 = 128 bytes in 2 blocks. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *leak_small(void) {
    return malloc(28);
}

__attribute__((noinline)) static void *leak_two(void **second) {
    *second = leak_small();
    return malloc(100); /* LEAK: plain */
}

int main(void) {
    void *b;
    void *a = leak_two(&b);
    void *tmp = malloc(64);
    free(tmp);
    printf("plain %d\n", a != NULL && b != NULL);
    return 0;
}
