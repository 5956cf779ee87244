/* exit_.c - leaks, then leaves with _exit(3): no exit handler runs. Leaked: 33 bytes in 1
 * block. */
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    void *p = malloc(33); /* LEAK: _exit */
    if (p && write(1, "leaving\n", 8) == 8) {
        _exit(3);
    }
    return 1;
}
