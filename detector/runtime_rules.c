/* runtime_rules.c - built-in "runtime" suppressions: memory the C and C++ runtimes keep for the
 * whole life of a process (docs/heap-semantics.md §1). Sites they match are shown, labelled
 * runtime, and never gated. The agent calls __gnu_cxx::__freeres and __libc_freeres at a normal
 * exit (as valgrind does), which releases most of this; the rules cover what remains: exits
 * through _exit, abort or a signal, exits with threads still running (the agent then skips the
 * freeres calls), and processes traced by `attach` (never torn down by the agent).
 *
 * Patterns use the LeakSanitizer template syntax of suppress.c and match function names (or
 * file names) of any frame; they are anchored so that a program's own functions with similar
 * names are not caught. Names are glibc 2.36's and libstdc++ 12's (Debian 12):
 *   - stdio buffers: _IO_file_doallocate (libio/filedoalloc.c), allocated on a stream's first
 *     use, freed by _IO_cleanup only through __libc_freeres;
 *   - thread control blocks and dynamic TLS: _dl_allocate_tls, _dl_allocate_tls_init and
 *     allocate_dtv (elf/dl-tls.c), update_get_addr / __tls_get_addr for dlopened TLS; cached
 *     thread stacks keep theirs until __libc_freeres;
 *   - the dynamic loader's records of objects loaded by dlopen and kept open: _dl_new_object,
 *     _dl_map_object_deps, _dl_add_to_namespace_list, add_to_global_resize, _dl_check_map_versions
 *     (elf/dl-object.c, dl-deps.c, dl-open.c, dl-version.c) and dlerror's buffer (_dlerror_run,
 *     dlfcn/dlerror.c);
 *   - locale and character-set conversion caches: _nl_load_locale_from_archive, _nl_find_locale,
 *     _nl_intern_locale_data, _nl_find_domain (locale/, intl/), __gconv_open / __gconv_lookup_cache
 *     (iconv/);
 *   - time zone data: __tzfile_read, __tzstring, tzset_internal (time/tzfile.c, time/tzset.c);
 *   - name service modules and their caches: __nss_database_lookup2, __nss_module_load,
 *     nss_database_check_reload_and_get, __nss_lookup_function (nss/);
 *   - exit handler lists beyond the static first block: __new_exitfn (stdlib/cxa_atexit.c);
 *   - libstdc++'s emergency exception pool, 72,704 bytes in every C++ program (the
 *     (anonymous namespace)::pool constructor in libsupc++/eh_alloc.cc), released only by
 *     __gnu_cxx::__freeres. */
#include "detector_priv.h"

static const char *const runtime_rules[] = {
    "^_IO_file_doallocate",
    "^_dl_allocate_tls",
    "^allocate_dtv",
    "^_dl_resize_dtv",
    "^__tls_get_addr",
    "^update_get_addr",
    "^_dl_new_object",
    "^_dl_map_object_deps",
    "^_dl_add_to_namespace_list",
    "^add_to_global_resize",
    "^_dl_check_map_versions",
    "^_dlerror_run",
    "^_nl_load_locale_from_archive",
    "^_nl_find_locale",
    "^_nl_intern_locale_data",
    "^_nl_find_domain",
    "^__gconv_open",
    "^__gconv_lookup_cache",
    "^__tzfile_read",
    "^__tzstring",
    "^tzset_internal",
    "^__nss_database_lookup",
    "^__nss_module_load",
    "^nss_database_check_reload_and_get",
    "^__nss_lookup_function",
    "^__new_exitfn",
    "eh_alloc.cc",
    "^(anonymous namespace)::pool::pool",
};

int hg__runtime_rules_add(hg_suppressions_t *s) {
    for (size_t i = 0; i < sizeof runtime_rules / sizeof runtime_rules[0]; i++) {
        int rc = hg__suppressions_add(s, runtime_rules[i], true);
        if (rc) {
            return rc;
        }
    }
    return 0;
}
