/* dlopen.c - a leak in a dlopen'ed library (path in argv[1]), closed before the end.
 * Leaked: 77 bytes in 1 block. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        return 3;
    }
    void *(*make)(size_t) = (void *(*)(size_t))dlsym(h, "leaky_make");
    void *p = make ? make(77) : NULL;
    dlclose(h);
    printf("dlopen %d\n", p != NULL);
    return 0;
}
