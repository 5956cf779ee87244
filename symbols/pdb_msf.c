/* pdb_msf.c - the MSF container of a PDB: superblock, stream directory, streams.
 *
 * An MSF file is an array of fixed-size blocks. The superblock (block 0) gives the block size,
 * the block count, the size of the stream directory and the block holding the list of the
 * directory's blocks. The directory is {u32 NumStreams; u32 StreamSizes[NumStreams];
 * u32 StreamBlocks[NumStreams][ceil(size / BlockSize)]} (LLVM, "The MSF File Format",
 * llvm/docs/PDB/MsfFile.md). A stream is read by concatenating its blocks; runs of adjacent
 * blocks are read in one call.
 *
 * Nothing from the file is trusted: the directory must fit in the block list one block can
 * hold, every block number must lie inside the file, the streams together cannot own more
 * blocks than the file has, and no stream may be larger than the file, so what is allocated
 * stays within a small multiple of the file's size. */
#include "pdb_priv.h"

#include <stdlib.h>
#include <string.h>

#define SUPERBLOCK_BYTES 56
#define NIL_STREAM_SIZE  0xFFFFFFFFu /* a deleted stream (LLVM MsfFile.md: "nil" streams) */

static const uint8_t msf_magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a"
                                     "DS\0\0";

/* ---- spans (pdb_priv.h) ----------------------------------------------------------------- */

const char *hg__span_str(hg__span_t s, size_t off) {
    if (off >= s.n) {
        return NULL;
    }
    return memchr(s.p + off, 0, s.n - off) ? (const char *)s.p + off : NULL;
}

hg__span_t hg__span_sub(hg__span_t s, size_t off, size_t len) {
    hg__span_t sub = {NULL, 0};
    if (hg__span_has(s, off, len)) {
        sub.p = s.p + off;
        sub.n = len;
    }
    return sub;
}

int hg__pdb_grow(void **arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) {
        return 0;
    }
    size_t want = *cap ? *cap * 2 : 64;
    if (want > SIZE_MAX / elem) {
        return HG_ENOMEM;
    }
    void *grown = hg_realloc(*arr, want * elem);
    if (!grown) {
        return HG_ENOMEM;
    }
    *arr = grown;
    *cap = want;
    return 0;
}

void hg__pdb_sort(void *arr, size_t n, size_t elem, int (*cmp)(const void *, const void *)) {
    const char *a = arr;
    for (size_t i = 1; i < n; i++) {
        if (cmp(a + (i - 1) * elem, a + i * elem) > 0) {
            qsort(arr, n, elem, cmp);
            return;
        }
    }
}

/* ---- the container ---------------------------------------------------------------------- */

static bool block_size_ok(uint32_t bs) {
    return bs >= 512 && bs <= 32768 && (bs & (bs - 1)) == 0;
}

/* True when block b lies wholly inside the file. */
static bool block_ok(const hg__msf_t *m, uint32_t b) {
    return b < m->num_blocks && ((uint64_t)b + 1) * m->block_size <= m->src.size;
}

/* Reads n bytes starting at block b. */
static int read_blocks(hg__msf_t *m, uint32_t b, uint8_t *dst, size_t n) {
    return m->src.read_at(m->src.ctx, (uint64_t)b * m->block_size, dst, n);
}

static int check_superblock(hg__msf_t *m, const uint8_t *sb, hg_error_t *err) {
    if (memcmp(sb, msf_magic, sizeof msf_magic) != 0) {
        return hg_error_set(err, HG_EFORMAT, "%s: offset 0: not a PDB (no MSF 7.00 signature)",
                            m->name);
    }
    m->block_size = hg__le32(sb + 32);
    m->num_blocks = hg__le32(sb + 40);
    uint32_t fpm = hg__le32(sb + 36);
    if (!block_size_ok(m->block_size)) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: offset 0x20: block size %u (expected a power of two, 512 to "
                            "32768)",
                            m->name, m->block_size);
    }
    if (fpm != 1 && fpm != 2) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: offset 0x24: free block map at block %u "
                            "(expected 1 or 2)",
                            m->name, fpm);
    }
    return 0;
}

/* The file offset of byte off of the stream directory (for messages). */
static uint64_t dir_file_offset(const hg__msf_t *m, uint64_t off) {
    return (uint64_t)m->dir_blocks[off / m->block_size] * m->block_size + off % m->block_size;
}

static int bad_dir_block(const hg__msf_t *m, uint32_t map_block, uint32_t i, uint32_t b,
                         hg_error_t *err) {
    return hg_error_set(err, HG_EFORMAT,
                        "%s: offset 0x%llx: stream directory block number %u lies past the end "
                        "of the file (%llu bytes, %u-byte blocks)",
                        m->name, (unsigned long long)map_block * m->block_size + 4ull * i, b,
                        (unsigned long long)m->src.size, m->block_size);
}

/* Reads the directory's block list into m->dir_blocks, then the directory into m->dir. */
static int read_directory(hg__msf_t *m, const uint8_t *sb, uint32_t *dir_bytes, hg_error_t *err) {
    *dir_bytes = hg__le32(sb + 44);
    uint32_t map_block = hg__le32(sb + 52);
    uint32_t bs = m->block_size, nblocks = (uint32_t)(((uint64_t)*dir_bytes + bs - 1) / bs);
    if (*dir_bytes < 4 || *dir_bytes > m->src.size || nblocks > bs / 4 || !block_ok(m, map_block)) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: offset 0x2c: stream directory of %u bytes listed at block %u "
                            "does not fit the file",
                            m->name, *dir_bytes, map_block);
    }
    uint8_t *map = hg_malloc((size_t)nblocks * 4);
    m->dir_blocks = hg_malloc((size_t)nblocks * sizeof *m->dir_blocks);
    m->dir = hg_malloc((size_t)nblocks * bs + 1);
    int rc = map && m->dir && m->dir_blocks ? read_blocks(m, map_block, map, (size_t)nblocks * 4)
                                            : HG_ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < nblocks; i++) {
        uint32_t b = m->dir_blocks[i] = hg__le32(map + 4 * i);
        rc = block_ok(m, b) ? read_blocks(m, b, m->dir + (size_t)i * bs, bs)
                            : bad_dir_block(m, map_block, i, b, err);
    }
    hg_free(map);
    if (rc == HG_EIO) {
        hg_error_set(err, rc, "%s: offset 0x%llx: the stream directory could not be read", m->name,
                     (unsigned long long)map_block * bs);
    }
    return rc;
}

static uint32_t blocks_of(const hg__msf_t *m, uint32_t size) {
    return size == NIL_STREAM_SIZE
               ? 0
               : (uint32_t)(((uint64_t)size + m->block_size - 1) / m->block_size);
}

/* Checks the directory's shape and records where each stream's block list starts. */
static int index_directory(hg__msf_t *m, uint32_t dir_bytes, hg_error_t *err) {
    m->nstreams = hg__le32(m->dir);
    uint64_t words = dir_bytes / 4;
    if ((uint64_t)m->nstreams + 1 > words) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: stream directory: %u streams do not fit in "
                            "%u bytes",
                            m->name, m->nstreams, dir_bytes);
    }
    m->first_block = hg_malloc(((size_t)m->nstreams + 1) * sizeof *m->first_block);
    if (!m->first_block) {
        return HG_ENOMEM;
    }
    uint64_t next = 1 + (uint64_t)m->nstreams, total = 0;
    for (uint32_t i = 0; i < m->nstreams; i++) {
        uint32_t n = blocks_of(m, hg__le32(m->dir + 4 + 4 * (size_t)i));
        m->first_block[i] = (uint32_t)next;
        next += n;
        total += n;
    }
    if (next > words || total > m->num_blocks) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: stream directory: the streams' block lists "
                            "need more than its %u bytes or the file's %u blocks",
                            m->name, dir_bytes, m->num_blocks);
    }
    return 0;
}

int hg__msf_open(hg__msf_t *m, hg__msf_src_t src, const char *name, hg_error_t *err) {
    memset(m, 0, sizeof *m);
    m->src = src;
    m->name = name;
    uint8_t sb[SUPERBLOCK_BYTES];
    if (src.size < SUPERBLOCK_BYTES || src.read_at(src.ctx, 0, sb, sizeof sb) != 0) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: offset 0: not a PDB (shorter than an MSF "
                            "superblock)",
                            name);
    }
    uint32_t dir_bytes = 0;
    int rc = check_superblock(m, sb, err);
    if (rc == 0) {
        rc = read_directory(m, sb, &dir_bytes, err);
    }
    if (rc == 0) {
        rc = index_directory(m, dir_bytes, err);
    }
    if (rc == HG_ENOMEM) {
        hg_error_set(err, rc, "%s: out of memory", name);
    }
    if (rc != 0) {
        hg__msf_close(m);
    }
    return rc;
}

void hg__msf_close(hg__msf_t *m) {
    hg_free(m->dir);
    hg_free(m->dir_blocks);
    hg_free(m->first_block);
    m->dir = NULL;
    m->dir_blocks = NULL;
    m->first_block = NULL;
}

uint32_t hg__msf_stream_size(const hg__msf_t *m, uint32_t index) {
    if (index >= m->nstreams) {
        return 0;
    }
    uint32_t size = hg__le32(m->dir + 4 + 4 * (size_t)index);
    return size == NIL_STREAM_SIZE ? 0 : size;
}

static uint32_t block_at(const hg__msf_t *m, uint32_t index, uint32_t i) {
    return hg__le32(m->dir + 4 * ((size_t)m->first_block[index] + i));
}

/* Reads the n blocks of stream index into buf, a run of adjacent blocks at a time. */
static int read_stream_blocks(hg__msf_t *m, uint32_t index, uint32_t n, uint8_t *buf, size_t size) {
    size_t done = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t first = block_at(m, index, i), run = 1;
        while (i + run < n && block_at(m, index, i + run) == first + run) {
            run++;
        }
        size_t bytes = (size_t)run * m->block_size;
        bytes = bytes < size - done ? bytes : size - done;
        if (read_blocks(m, first, buf + done, bytes) != 0) {
            return HG_EIO;
        }
        done += bytes;
        i += run;
    }
    return 0;
}

/* The first block of stream index that lies outside the file, or UINT32_MAX. */
static uint32_t bad_block(const hg__msf_t *m, uint32_t index, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (!block_ok(m, block_at(m, index, i))) {
            return i;
        }
    }
    return UINT32_MAX;
}

/* A stream larger than the file, or one of its n block numbers past the end of the file, is
 * an error naming the file offset of the directory entry that says so. */
static int check_stream(const hg__msf_t *m, uint32_t index, uint32_t size, uint32_t n,
                        hg_error_t *err) {
    if (size > m->src.size) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s: offset 0x%llx: stream %u of %u bytes is larger than the file "
                            "(%llu bytes)",
                            m->name, (unsigned long long)dir_file_offset(m, 4 + 4ull * index),
                            index, size, (unsigned long long)m->src.size);
    }
    uint32_t i = bad_block(m, index, n);
    if (i == UINT32_MAX) {
        return 0;
    }
    uint64_t entry = 4ull * ((uint64_t)m->first_block[index] + i);
    return hg_error_set(err, HG_EFORMAT,
                        "%s: offset 0x%llx: stream %u: block number %u lies past the end of the "
                        "file (%llu bytes, %u-byte blocks)",
                        m->name, (unsigned long long)dir_file_offset(m, entry), index,
                        block_at(m, index, i), (unsigned long long)m->src.size, m->block_size);
}

/* True when the stream's n blocks follow each other in the file. */
static bool adjacent(const hg__msf_t *m, uint32_t index, uint32_t n) {
    for (uint32_t i = 1; i < n; i++) {
        if (block_at(m, index, i) != block_at(m, index, 0) + i) {
            return false;
        }
    }
    return true;
}

/* Copies the stream's blocks into a new buffer. */
static int copy_stream(hg__msf_t *m, uint32_t index, uint32_t n, hg__stream_t *out,
                       hg_error_t *err) {
    out->owned = hg_malloc(out->n ? out->n : 1);
    if (!out->owned) {
        return hg_error_set(err, HG_ENOMEM, "%s: out of memory reading stream %u", m->name, index);
    }
    if (read_stream_blocks(m, index, n, out->owned, out->n) != 0) {
        hg__stream_free(out);
        return hg_error_set(err, HG_EIO, "%s: stream %u: read failed", m->name, index);
    }
    out->p = out->owned;
    return 0;
}

int hg__msf_read(hg__msf_t *m, uint32_t index, hg__stream_t *out, hg_error_t *err) {
    memset(out, 0, sizeof *out);
    if (index >= m->nstreams) {
        return hg_error_set(err, HG_EFORMAT, "%s: stream %u does not exist (the file has %u)",
                            m->name, index, m->nstreams);
    }
    uint32_t size = hg__msf_stream_size(m, index), n = blocks_of(m, size);
    int rc = check_stream(m, index, size, n, err);
    if (rc != 0) {
        return rc;
    }
    out->n = size;
    if (m->src.base && n > 0 && adjacent(m, index, n)) {
        out->p = m->src.base + (size_t)block_at(m, index, 0) * m->block_size; /* lent */
        return 0;
    }
    return copy_stream(m, index, n, out, err);
}

void hg__stream_free(hg__stream_t *s) {
    hg_free(s->owned);
    memset(s, 0, sizeof *s);
}
