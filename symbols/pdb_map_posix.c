/* pdb_map_posix.c - maps a PDB file into memory, read-only, on POSIX systems (pdb_priv.h, "file
 * mapping"): the reader then lends streams whose blocks are adjacent straight from the mapping
 * instead of copying them. Where mapping fails, the reader reads the file instead. */
#include "pdb_priv.h"

#include <sys/mman.h>

const uint8_t *hg__pdb_map(FILE *fp, uint64_t size) {
    if (size == 0 || size > SIZE_MAX) {
        return NULL;
    }
    void *base = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fileno(fp), 0);
    return base == MAP_FAILED ? NULL : base;
}

void hg__pdb_unmap(const uint8_t *base, uint64_t size) {
    if (base) {
        munmap((void *)base, (size_t)size);
    }
}
