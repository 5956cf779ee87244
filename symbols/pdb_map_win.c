/* pdb_map_win.c - maps a PDB file into memory, read-only, on Windows (pdb_priv.h, "file
 * mapping"; pdb_map_posix.c is the POSIX twin): a file mapping object over the C runtime's
 * handle of fp, viewed whole. Where mapping fails, the reader reads the file instead. */
#include "pdb_priv.h"

#include <io.h>
#include <windows.h>

const uint8_t *hg__pdb_map(FILE *fp, uint64_t size) {
    if (size == 0 || size > SIZE_MAX) {
        return NULL;
    }
    HANDLE file = (HANDLE)_get_osfhandle(_fileno(fp));
    if (file == INVALID_HANDLE_VALUE) {
        return NULL;
    }
    HANDLE mapping = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
    if (!mapping) {
        return NULL;
    }
    void *base = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, (SIZE_T)size);
    CloseHandle(mapping); /* the view keeps the mapping alive */
    return base;
}

void hg__pdb_unmap(const uint8_t *base, uint64_t size) {
    (void)size;
    if (base) {
        UnmapViewOfFile(base);
    }
}
