/* symsrv_win.c - HTTP(S) symbol servers in the Windows build (sympath.h, "downloads").
 *
 * The Windows build has no libcurl (Debian ships none for mingw-w64), so heapgate does not
 * download from symbol servers itself there: each server answers "cannot be reached" once,
 * with a message saying so, and is not asked again. The DbgHelp backend hands a path with
 * servers to DbgHelp, whose symsrv.dll downloads on Windows (dbghelp.c). */
#include "sympath.h"

#include <stdio.h>

int hg__symsrv_download(const char *server, const char *name, const char *key, const char *dest,
                        bool *unreachable, char *msg, size_t cap) {
    (void)name;
    (void)key;
    (void)dest;
    *unreachable = true;
    snprintf(msg, cap, "%s: this Windows build does not download from symbol servers itself",
             server);
    return HG_EIO;
}
