/* pdb_info.c - the PDB info stream (stream 1) and the /names string table.
 *
 * The info stream starts with {u32 Version; u32 Signature; u32 Age; GUID UniqueId} (28 bytes);
 * GUID and Age identify the PDB and must equal the CodeView (RSDS) record of the image. Then
 * comes the named stream map: {u32 StringBufferSize; char Strings[]; a serialized hash table
 * u32 Size, u32 Capacity, present and deleted bit vectors (u32 WordCount; u32 Words[]), Size
 * pairs (u32 name offset, u32 stream)} (LLVM, llvm/docs/PDB/PdbStream.md and HashTable.md).
 * Only "/names" is looked up, by walking the pairs: no hashing is needed to read.
 *
 * /names is {u32 Signature 0xEFFEEFFE; u32 HashVersion; u32 ByteSize; char Strings[ByteSize];
 * hash buckets...}; file checksums name their file by an offset into Strings (LLVM's
 * PDBStringTable; raw_pdb's PDB_NamesStream). */
#include "pdb_priv.h"

#include <string.h>

#define INFO_HEADER_BYTES 28
#define NAMES_SIGNATURE   0xEFFEEFFEu
#define NAMES_HEADER      12

/* Skips a serialized bit vector at *off; false when it does not fit. */
static bool skip_bitvector(hg__span_t s, size_t *off) {
    if (!hg__span_has(s, *off, 4)) {
        return false;
    }
    uint64_t words = hg__span_u32(s, *off);
    *off += 4;
    if (words > (s.n - *off) / 4) {
        return false;
    }
    *off += (size_t)words * 4;
    return true;
}

/* The stream the named stream map gives "/names", or HG__NO_STREAM. */
static uint32_t find_names_stream(hg__span_t s) {
    size_t off = INFO_HEADER_BYTES;
    uint32_t strbuf = hg__span_u32(s, off);
    hg__span_t strings = hg__span_sub(s, off + 4, strbuf);
    if (!strings.p) {
        return HG__NO_STREAM;
    }
    off += 4 + (size_t)strbuf;
    uint32_t size = hg__span_u32(s, off);
    off += 8; /* Size, Capacity */
    if (!skip_bitvector(s, &off) || !skip_bitvector(s, &off)) {
        return HG__NO_STREAM;
    }
    for (uint32_t i = 0; i < size && hg__span_has(s, off, 8); i++, off += 8) {
        const char *name = hg__span_str(strings, hg__span_u32(s, off));
        if (name && strcmp(name, "/names") == 0) {
            return hg__span_u32(s, off + 4);
        }
    }
    return HG__NO_STREAM;
}

int hg__pdb_info_parse(hg__span_t s, hg__pdb_info_t *out, const char *name, hg_error_t *err) {
    if (!hg__span_has(s, 0, INFO_HEADER_BYTES)) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: stream 1 (PDB info): %zu bytes, shorter than "
                            "its 28-byte header",
                            name, s.n);
    }
    out->version = hg__le32(s.p);
    out->signature = hg__le32(s.p + 4);
    out->age = hg__le32(s.p + 8);
    memcpy(out->guid, s.p + 12, 16);
    out->names_stream = find_names_stream(s);
    return 0;
}

int hg__pdb_names_load(hg__msf_t *m, uint32_t index, hg__pdb_names_t *out, hg_error_t *err) {
    memset(out, 0, sizeof *out);
    int rc = hg__msf_read(m, index, &out->stream, err);
    if (rc != 0) {
        return rc;
    }
    hg__span_t s = hg__stream_span(&out->stream);
    uint32_t bytes = hg__span_u32(s, 8);
    out->strings = hg__span_sub(s, NAMES_HEADER, bytes);
    if (hg__span_u32(s, 0) != NAMES_SIGNATURE || !out->strings.p) {
        hg__stream_free(&out->stream);
        return hg_error_set(err, HG_EFORMAT,
                            "%s: stream %u (/names): bad signature or a "
                            "string buffer of %u bytes past its end",
                            m->name, index, bytes);
    }
    return 0;
}

const char *hg__pdb_names_get(const hg__pdb_names_t *n, uint32_t offset) {
    return n->stream.p ? hg__span_str(n->strings, offset) : NULL;
}
