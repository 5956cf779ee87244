/* symlib.c - a shared library for the ELF/DWARF symbolizer tests: exported functions the test
 * finds with dlsym, an internal inline helper, and a call site recorded with its line. */
#include <stddef.h>

volatile int symlib_sink;
int symlib_capture_line;
void *symlib_capture_ret;

__attribute__((noinline)) static void grab(void) {
    symlib_capture_ret = __builtin_return_address(0);
    symlib_sink++;
}

static inline __attribute__((always_inline)) int square(int x) {
    return x * x + symlib_sink;
}

__attribute__((noinline)) int symlib_sum(const int *v, int n) {
    int s = 0;
    for (int i = 0; i < n; i++) {
        s += square(v[i]);
    }
    return s;
}

__attribute__((noinline)) void symlib_capture(void) {
    symlib_capture_line = __LINE__, grab();
    symlib_sink++;
}
