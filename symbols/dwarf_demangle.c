/* dwarf_demangle.c - function names as reports show them.
 *
 * Symbol versions are dropped: a library's .symtab may name a versioned definition
 * "__libc_start_main@@GLIBC_2.34" (the GNU symbol versioning of .symver; neither C identifiers
 * nor Itanium mangled names contain '@'), and the version is not part of the function's name.
 *
 * Compiler clone suffixes are dropped: GCC names the copies it makes of a function
 * "f.constprop.0", "f.isra.0", "f.part.0", "f.cold" (gcc/cgraphclones.cc, clone_function_name)
 * and LLVM's ThinLTO adds "f.llvm.<hash>". They say how the compiler split or specialised a
 * function, not which function it is, and change from build to build; without them a site's
 * name matches the DWARF name of the same code and stays stable for suppressions and baselines.
 *
 * Itanium C++ ABI mangled names ("_Z...", Itanium C++ ABI §5.1 "Mangling") are demangled by
 * libstdc++'s __cxa_demangle, called through its C ABI (Itanium C++ ABI §3.4 "Demangler API"):
 * the demangler g++ programs and gdb agree with, present wherever C++ programs run and kept up
 * with new manglings by the GCC project. It returns a malloc'd string (outside heapgate's
 * allocator, so freed with free()). Names longer than MAX_MANGLED stay mangled: real ones are
 * far shorter, and a hostile file should not make the demangler work through megabytes. */
#include "dwarf_priv.h"

#include <stdlib.h>
#include <string.h>

#define MAX_MANGLED 8192

/* libstdc++ (cxxabi.h), extern "C". */
char *__cxa_demangle(const char *mangled_name, char *output_buffer, size_t *length, int *status);

static bool is_clone_word(const char *w, size_t n) {
    static const char *const words[] = {"constprop", "isra",       "part", "cold",
                                        "lto_priv",  "localalias", "llvm"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0) {
            return true;
        }
    }
    return false;
}

static bool all_digits(const char *w, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9') {
            return false;
        }
    }
    return n > 0;
}

/* The length of name without its symbol version and trailing clone suffixes: ".word" or
 * ".digits" segments, the first of them a clone word. */
static size_t unsuffixed_len(const char *name) {
    const char *version = strchr(name + (name[0] != '\0'), '@');
    size_t end = version ? (size_t)(version - name) : strlen(name), keep = end;
    while (end > 0) {
        const char *dot = memrchr(name, '.', end);
        if (!dot || dot == name) {
            break;
        }
        size_t at = (size_t)(dot - name), n = end - at - 1;
        if (is_clone_word(dot + 1, n)) {
            keep = at;
        } else if (!all_digits(dot + 1, n)) {
            break;
        }
        end = at;
    }
    return keep;
}

bool hg__sym_is_mangled(const char *name) {
    return name && name[0] == '_' && name[1] == 'Z';
}

static const char *demangled(hg_symbolizer_t *s, const char *name) {
    if (!hg__sym_options(s)->demangle || !hg__sym_is_mangled(name) || strlen(name) > MAX_MANGLED) {
        return hg__sym_intern(s, name);
    }
    int status = 0;
    char *plain = __cxa_demangle(name, NULL, NULL, &status);
    const char *out = hg__sym_intern(s, status == 0 && plain ? plain : name);
    free(plain);
    return out;
}

const char *hg__sym_display_name(hg_symbolizer_t *s, const char *name) {
    if (!name) {
        return NULL;
    }
    size_t len = unsuffixed_len(name);
    if (len == 0 || name[len] == '\0') {
        return demangled(s, name);
    }
    char *base = hg_strndup(name, len);
    const char *out = base ? demangled(s, base) : NULL;
    hg_free(base);
    return out;
}
