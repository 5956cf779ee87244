/* segv.c - leaks, then crashes on a null pointer (SIGSEGV, status 139). Leaked: 55 bytes in 1
 * block. */
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) static void *leak_then(void) {
    return malloc(55); /* LEAK: segv */
}

int main(int argc, char **argv) {
    (void)argv;
    void *p = leak_then();
    volatile int *null = (volatile int *)(argc > 100 ? p : NULL);
    if (write(1, "crashing\n", 9) == 9) {
        *null = 1;
    }
    return 1;
}
