/* symprog.c - a C test program for the ELF/DWARF symbolizer (tests/symbols): functions whose
 * call sites are recorded with the function and line a symbolizer must name (capture.h),
 * including calls made from inlined code (one and two levels deep), a static function, and an
 * allocation whose stack a report must show as "leaf_alloc (symprog.c:LINE)" once malloc is
 * trimmed. Built -O2 -g and in the variants tests/symbols/CMakeLists.txt lists. */
#include "capture.h"

#include <stdlib.h>

static void *kept;

__attribute__((noinline)) void *leaf_alloc(size_t n) {
    void *p = TRACED("malloc", "leaf_alloc", malloc(n));
    kept = p;
    symprog_sink++;
    return p;
}

__attribute__((noinline)) void middle(int depth) {
    CAPTURE("middle");
    if (depth > 0) {
        leaf_alloc((size_t)depth * 16);
    }
    symprog_sink++;
}

static inline __attribute__((always_inline)) void inner_inline(const char *outer) {
    CAPTURE_INLINED("inner_inline", outer);
}

static inline __attribute__((always_inline)) void outer_inline(void) {
    symprog_outer_line = __LINE__, inner_inline("outer_inline");
    symprog_sink++;
}

__attribute__((noinline)) void with_inline(void) {
    symprog_outer_line = __LINE__, inner_inline("with_inline");
    symprog_sink++;
}

__attribute__((noinline)) void twice_inlined(void) {
    outer_inline();
    symprog_sink++;
}

__attribute__((noinline)) static int local_static(int x) {
    CAPTURE("local_static");
    return x + symprog_sink;
}

int main(int argc, char **argv) {
    (void)argv;
    CAPTURE("main");
    middle(argc + 1);
    with_inline();
    twice_inlined();
    int r = local_static(argc);
    symprog_print();
    free(kept);
    return r > 1000;
}
