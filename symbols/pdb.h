/* pdb.h - heapgate's own reader of Microsoft PDB files (MSF 7.00), private to symbols/ (the PDB
 * backend, its tests and its fuzz target use it).
 *
 * Opening a PDB reads what every lookup needs: the MSF container, the PDB info stream (GUID,
 * age), the DBI stream (modules, section contributions, section headers, OMAP). Everything else
 * is read on first use: a compiland's symbols and lines on the first address that falls in it,
 * the public symbols on the first address no procedure covers, the IPI stream on the first
 * inline site. Damage found then is a warning (hg_pdb_warnings), never a crash: what is damaged
 * stays unknown. docs/pdb-reader.md describes the format and the sources of each fact. */
#ifndef HG_SYMBOLS_PDB_H
#define HG_SYMBOLS_PDB_H

#include "base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hg_pdb hg_pdb_t;

/* One frame of an address. Strings point into the PDB's buffers: valid until hg_pdb_close. */
typedef struct hg_pdb_frame {
    const char *function; /* NULL when unknown */
    const char *file;     /* as recorded in the PDB (often a full Windows path); NULL: unknown */
    uint32_t line;        /* 0 when unknown */
    bool inlined;         /* inlined into the next (outer) frame */
} hg_pdb_frame_t;

/* Opens the PDB file at path. Returns NULL with err set (HG_EIO: cannot read it, HG_EFORMAT:
 * not a PDB or damaged where opening must read, with the stream and offset, HG_ENOMEM). */
hg_pdb_t *hg_pdb_open_file(const char *path, hg_error_t *err);
/* Opens a PDB held in memory (size bytes at data, which must outlive the handle); name is used
 * in messages. Same errors as hg_pdb_open_file. */
hg_pdb_t *hg_pdb_open_memory(const void *data, size_t size, const char *name, hg_error_t *err);
void hg_pdb_close(hg_pdb_t *p);

/* The PDB's identity: GUID (Windows in-memory byte order) and age from the PDB info stream. */
void hg_pdb_identity(const hg_pdb_t *p, uint8_t guid[16], uint32_t *age);
/* True when the PDB belongs to an image whose CodeView record holds guid and age (the age of
 * the PDB info stream or of the DBI stream may match). */
bool hg_pdb_matches(const hg_pdb_t *p, const uint8_t guid[16], uint32_t age);

/* Resolves rva (address - image base) into at most max frames, innermost inline frame first.
 * Returns the count written; 0 when the PDB knows nothing about rva. */
size_t hg_pdb_lookup(hg_pdb_t *p, uint64_t rva, hg_pdb_frame_t *out, size_t max);

/* How many warnings lookups have raised so far, and the latest one's message ("" if none). */
uint64_t hg_pdb_warnings(const hg_pdb_t *p, const char **last);

#endif
