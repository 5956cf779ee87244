/* realloc.c - realloc chains: one grows from nothing to an mmapped block and leaks, one is
 * freed, one leaks through reallocarray. Leaked: 200000 + 80 = 200080 bytes in 2 blocks. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *grow(void *p, size_t n) {
    return realloc(p, n); /* LEAK: realloc */
}

int main(void) {
    void *p = grow(NULL, 10);
    p = grow(p, 100);
    p = grow(p, 1000);
    p = grow(p, 200000);
    void *q = malloc(5);
    q = realloc(q, 50);
    q = realloc(q, 20);
    free(q);
    void *r = reallocarray(NULL, 10, 8);
    printf("realloc %d %d\n", p != NULL, r != NULL);
    return 0;
}
