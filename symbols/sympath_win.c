/* sympath_win.c - the few calls the symbol path needs from the system, for Windows (sympath.h,
 * "platform calls"; sympath_posix.c is the POSIX twin). Paths are the ANSI code page's, as the
 * C runtime's fopen takes them; both '/' and '\' separate directories. */
#include "sympath.h"

#include <direct.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

bool hg__sym_is_file(const char *path) {
    DWORD attr = GetFileAttributesA(path);
    return attr != INVALID_FILE_ATTRIBUTES && !(attr & FILE_ATTRIBUTE_DIRECTORY);
}

/* Creates one directory; an existing one is fine. */
static int make_one(const char *dir) {
    if (_mkdir(dir) == 0 || errno == EEXIST) {
        DWORD attr = GetFileAttributesA(dir);
        return attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY) ? 0 : HG_EIO;
    }
    return HG_EIO;
}

/* True when copy up to p is a drive or a share (C:, \\host, \\host\share): not created. */
static bool is_root(const char *copy, const char *p) {
    if (p - copy == 2 && copy[1] == ':') {
        return true;
    }
    if (!(copy[0] == '\\' && copy[1] == '\\')) {
        return false;
    }
    int seps = 0;
    for (const char *c = copy + 2; c < p; c++) {
        seps += *c == '\\' || *c == '/';
    }
    return seps <= 1;
}

int hg__sym_mkdirs(const char *dir) {
    char *copy = hg_strdup(dir);
    if (!copy) {
        return HG_ENOMEM;
    }
    int rc = 0;
    for (char *p = copy + 1; rc == 0 && *p; p++) {
        if ((*p == '/' || *p == '\\') && !is_root(copy, p)) {
            char sep = *p;
            *p = '\0';
            rc = make_one(copy);
            *p = sep;
        }
    }
    rc = rc == 0 ? make_one(copy) : rc;
    hg_free(copy);
    return rc;
}

/* %LOCALAPPDATA%\heapgate\symbols, where Windows programs keep caches of their own. */
char *hg__sym_default_cache(void) {
    const char *local = getenv("LOCALAPPDATA");
    if (!local || !local[0]) {
        return NULL;
    }
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_printf(&b, "%s\\heapgate\\symbols", local);
    char *dir = b.failed ? NULL : hg_buf_take(&b);
    hg_buf_free(&b);
    return dir;
}

void hg__sym_temp_suffix(char *buf, size_t cap) {
    static unsigned long counter;
    snprintf(buf, cap, ".tmp-%lu-%lu", (unsigned long)GetCurrentProcessId(), ++counter);
}
