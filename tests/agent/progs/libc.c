/* libc.c - leaks through libc functions that allocate: strdup and getline (whose buffer size
 * glibc chooses: the program prints it). Leaked: 16 + capacity bytes in 2 blocks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char *s = strdup("hello, heapgate"); /* LEAK: strdup */
    char text[] = "first line\nsecond line\n";
    FILE *fp = fmemopen(text, sizeof text - 1, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = fp ? getline(&line, &cap, fp) : -1; /* LEAK: getline */
    if (fp) {
        fclose(fp);
    }
    printf("libc %zd %s capacity %zu\n", n, s, cap);
    return 0;
}
