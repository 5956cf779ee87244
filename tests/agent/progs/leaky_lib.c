/* leaky_lib.c - a library dlopen'ed by dlopen.c; leaky_make allocates and never frees. */
#include <stdlib.h>

__attribute__((visibility("default"))) void *leaky_make(size_t n) {
    return malloc(n); /* LEAK: dlopen */
}
