/* exec.c - leaks, then replaces itself with the program argv[1] (with the rest of argv).
 * Leaked by this image: 10 bytes in 1 block; the program run then leaks its own. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        return 2;
    }
    void *p = malloc(10); /* LEAK: exec */
    if (p && write(1, "exec\n", 5) == 5) {
        execv(argv[1], argv + 1);
    }
    return 1;
}
