/* aligned.c - calloc and every aligned allocation function, each block leaked.
 * Leaked: 120 + 200 + 256 + 48 + 100 + 10 = 734 bytes in 6 blocks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    void *a = calloc(10, 12); /* LEAK: calloc */
    void *b = NULL;
    int rc = posix_memalign(&b, 64, 200);
    void *c = aligned_alloc(128, 256);
    void *d = memalign(32, 48);
    void *e = valloc(100);
    void *f = pvalloc(10);
    printf("aligned %d %d\n", rc, a && b && c && d && e && f);
    return 0;
}
