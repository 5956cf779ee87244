/* loop.c - a leak in a loop among many freed blocks. Leaked: 10 * 32 = 320 bytes in 10 blocks.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *leak_loop(size_t n) {
    return malloc(n); /* LEAK: loop */
}

int main(void) {
    void *kept[10];
    for (int i = 0; i < 10000; i++) {
        void *p = malloc((size_t)(i % 500) + 1);
        if (i % 1000 == 0) {
            kept[i / 1000] = leak_loop(32);
        }
        free(p);
    }
    printf("loop %d\n", kept[9] != NULL);
    return 0;
}
