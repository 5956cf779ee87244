/* runtime.c - test program for the PDB reader: the few C runtime functions a program without a
 * C library needs (compilers may call memset and memcpy on their own). */
#include "shapes.h"

void *memset(void *dst, int c, unsigned long long n) {
    volatile unsigned char *d = dst;
    while (n--) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned long long n) {
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}
