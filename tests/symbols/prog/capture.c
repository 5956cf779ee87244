/* capture.c - see capture.h. Built into every test program, without optimisation concerns: the
 * addresses it records belong to its callers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "capture.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_CAPS  64
#define MAX_DEPTH 16

volatile int symprog_sink;
int symprog_outer_line;

typedef struct cap {
    const char *func, *outer;
    int line, outer_line;
    void *ret;
} cap_t;

static cap_t caps[MAX_CAPS];
static int ncaps;
static void *stack[MAX_DEPTH + 1];
static int nstack;
static const char *leak_func;
static int leak_line;

__attribute__((noinline)) void symprog_capture(const char *func, int line, const char *outer,
                                               int outer_line) {
    if (ncaps < MAX_CAPS) {
        cap_t c = {func, outer, line, outer_line, __builtin_return_address(0)};
        caps[ncaps++] = c;
    }
    symprog_sink++;
}

__attribute__((noinline)) void symprog_stack(const void *allocator, const char *func, int line) {
    void *bt[MAX_DEPTH];
    int n = backtrace(bt, MAX_DEPTH);
    stack[0] = (void *)allocator;
    for (int i = 1; i < n; i++) { /* bt[0] is in this function: its caller comes next */
        stack[i] = bt[i];
    }
    nstack = n;
    leak_func = func;
    leak_line = line;
    symprog_sink++;
}

const void *symprog_allocator(const char *symbol) {
    return (const char *)dlsym(RTLD_NEXT, symbol) + 16;
}

/* One "module" line per file in /proc/self/maps: base = start - offset of its first mapping. */
static void print_modules(void) {
    FILE *fp = fopen("/proc/self/maps", "r");
    char line[4096], last[4096] = "";
    unsigned long long base = 0, end = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long long lo, hi, off;
        char path[4096] = "";
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095s", &lo, &hi, &off, path) < 3 ||
            path[0] != '/') {
            continue;
        }
        if (strcmp(path, last) != 0) {
            if (last[0]) {
                printf("module|%s|0x%llx|0x%llx\n", last, base, end - base);
            }
            snprintf(last, sizeof last, "%s", path);
            base = lo - off;
        }
        end = hi;
    }
    if (last[0]) {
        printf("module|%s|0x%llx|0x%llx\n", last, base, end - base);
    }
    if (fp) {
        fclose(fp);
    }
}

void symprog_print(void) {
    print_modules();
    for (int i = 0; i < ncaps; i++) {
        printf("cap|%s|%d|%s|%d|%p\n", caps[i].func, caps[i].line, caps[i].outer,
               caps[i].outer_line, caps[i].ret);
    }
    if (nstack > 0) {
        printf("stack");
        for (int i = 0; i < nstack; i++) {
            printf("|%p", stack[i]);
        }
        printf("\nleak|%s|%d\n", leak_func, leak_line);
    }
}
