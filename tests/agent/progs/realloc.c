/* realloc.c - realloc chains: one grows from nothing to an mmapped block and leaks, one is
 * freed, one leaks through reallocarray; and a block that a moving realloc made, freed and at
 * once handed out again by malloc (glibc's tcache), which leaks. Leaked: 200000 + 80 + 1000 =
 * 201080 bytes in 3 blocks. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *grow(void *p, size_t n) {
    return realloc(p, n); /* LEAK: realloc */
}

__attribute__((noinline)) static void *take(size_t n) {
    return malloc(n); /* LEAK: reuse */
}

/* realloc(a) moves a to b (guard keeps it from growing in place); b is freed and the next
 * malloc of its size returns b again. Returns that block and says whether it was b. */
__attribute__((noinline)) static void *reuse(int *same) {
    void *a = malloc(24), *guard = malloc(24);
    void *b = realloc(a, 1000);
    free(b);
    void *c = take(1000);
    *same = c == b;
    free(guard);
    return c;
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
    int same = 0;
    void *c = reuse(&same);
    printf("realloc %d %d %d\n", p != NULL, r != NULL, c != NULL && same);
    return 0;
}
