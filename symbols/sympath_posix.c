/* sympath_posix.c - the few calls the symbol path needs from the system, for POSIX systems
 * (sympath.h, "platform calls"). A Windows build provides the same four in sympath_win.c. */
#include "sympath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool hg__sym_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Creates one directory; an existing one is fine. */
static int make_one(const char *dir) {
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : HG_EIO;
    }
    return HG_EIO;
}

int hg__sym_mkdirs(const char *dir) {
    char *copy = hg_strdup(dir);
    if (!copy) {
        return HG_ENOMEM;
    }
    int rc = 0;
    for (char *p = copy + 1; rc == 0 && *p; p++) {
        if (*p == '/') {
            *p = '\0';
            rc = make_one(copy);
            *p = '/';
        }
    }
    rc = rc == 0 ? make_one(copy) : rc;
    hg_free(copy);
    return rc;
}

/* $XDG_CACHE_HOME/heapgate/symbols, else $HOME/.cache/heapgate/symbols (XDG Base Directory). */
char *hg__sym_default_cache(void) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    hg_buf_t b;
    hg_buf_init(&b);
    if (xdg && xdg[0] == '/') {
        hg_buf_printf(&b, "%s/heapgate/symbols", xdg);
    } else if (home && home[0]) {
        hg_buf_printf(&b, "%s/.cache/heapgate/symbols", home);
    } else {
        return NULL;
    }
    char *dir = b.failed ? NULL : hg_buf_take(&b);
    hg_buf_free(&b);
    return dir;
}

void hg__sym_temp_suffix(char *buf, size_t cap) {
    static unsigned long counter;
    snprintf(buf, cap, ".tmp-%ld-%lu", (long)getpid(), ++counter);
}
