/* registry.c - the table of symbolization backends compiled into this build. CMake defines
 * HG_SYM_BACKEND_LIST as X(name) entries, one per backend file it compiled. */
#include "backend.h"

#include <stddef.h>

#ifndef HG_SYM_BACKEND_LIST
#define HG_SYM_BACKEND_LIST
#endif

#define X(name) extern const hg__sym_backend_t hg__sym_backend_##name;
HG_SYM_BACKEND_LIST
#undef X

const hg__sym_backend_t *const hg__sym_backend_table[] = {
#define X(name) &hg__sym_backend_##name,
    HG_SYM_BACKEND_LIST
#undef X
        NULL};

const char *hg_sym_backends(void) {
#define X(name) #name " "
    static const char names[] = "" HG_SYM_BACKEND_LIST;
#undef X
    return names;
}
