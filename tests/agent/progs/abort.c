/* abort.c - leaks, then aborts (SIGABRT, status 134). Output through write(2) only, so no
 * stdio buffer is live at the abort. Leaked: 77 bytes in 1 block. */
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) static void *leak_then(void) {
    return malloc(77); /* LEAK: abort */
}

int main(void) {
    void *p = leak_then();
    if (p && write(1, "aborting\n", 9) == 9) {
        abort();
    }
    return 1;
}
