/* test_pdb_damage.c - damaged PDBs: bad superblocks, bad block numbers, sizes past the file,
 * absurd counts, truncation, failing allocations. Opening fails with a message naming the file
 * (and the stream or offset), or the PDB opens and the damaged part stays unknown with a
 * warning; nothing crashes, nothing leaks (the reader's own memory is counted by hg_malloc). */
#include "pdb.h"
#include "pdbtest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static oracle_entry_t *g_oracle;
static size_t g_noracle;
static volatile size_t g_sink; /* keeps the strings' reads */

static void setup(void) {
    require_fixtures();
    g_oracle = oracle_load("app-O2", &g_noracle);
}

static void teardown(void) {
    oracle_free(g_oracle, g_noracle);
}

TestSuite(pdb_damage, .init = setup, .fini = teardown);

static uint8_t *load(size_t *len) {
    char *path = fixture("app-O2.pdb");
    uint8_t *bytes = slurp(path, len);
    free(path);
    return bytes;
}

/* Opens bytes and looks up every rva the oracle knows, touching every string. Returns the
 * PDB's warnings, or -1 when it did not open (then err names the file). */
static long exercise(const uint8_t *bytes, size_t len, hg_error_t *err) {
    uint64_t live = hg_mem_stats().live_bytes;
    hg_error_clear(err);
    hg_pdb_t *p = hg_pdb_open_memory(bytes, len, "bad.pdb", err);
    if (!p) {
        cr_assert(err->code == HG_EFORMAT || err->code == HG_EIO, "%d %s", err->code, err->msg);
        cr_assert_eq(strncmp(err->msg, "bad.pdb: ", 9), 0, "%s", err->msg);
        cr_assert_eq(hg_mem_stats().live_bytes, live, "a failed open keeps nothing");
        return -1;
    }
    size_t touched = 0;
    for (size_t i = 0; i < g_noracle; i++) {
        hg_pdb_frame_t f[32];
        size_t n = hg_pdb_lookup(p, g_oracle[i].rva, f, 32);
        for (size_t j = 0; j < n; j++) {
            touched +=
                (f[j].function ? strlen(f[j].function) : 0) + (f[j].file ? strlen(f[j].file) : 0);
        }
    }
    const char *last;
    long warnings = (long)hg_pdb_warnings(p, &last);
    cr_assert(warnings == 0 || strncmp(last, "bad.pdb: ", 9) == 0, "%s", last);
    hg_pdb_close(p);
    cr_assert_eq(hg_mem_stats().live_bytes, live, "closing frees everything");
    g_sink += touched;
    return warnings;
}

static uint16_t dbi_u16(const uint8_t *pdb, size_t len, size_t off) {
    const uint8_t *p = pdb + msf_stream_offset(pdb, len, 3, off);
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The stream of module 0 (ModInfo at DBI offset 64, ModuleSymStream at +34). */
static uint32_t module0_stream(const uint8_t *pdb, size_t len) {
    return dbi_u16(pdb, len, 64 + 34);
}

static void patch_stream_u32(uint8_t *pdb, size_t len, uint32_t stream, size_t off, uint32_t v) {
    wr32(pdb + msf_stream_offset(pdb, len, stream, off), v);
}

static uint32_t stream_u32(const uint8_t *pdb, size_t len, uint32_t stream, size_t off) {
    return rd32(pdb + msf_stream_offset(pdb, len, stream, off));
}

/* The directory offset of stream index's first block number. */
static size_t first_block_entry(const uint8_t *pdb, size_t len, uint32_t index) {
    uint32_t bs = rd32(pdb + 32), n = rd32(pdb + msf_dir_offset(pdb, len, 0));
    size_t off = 4 + 4 * (size_t)n;
    for (uint32_t i = 0; i < index; i++) {
        uint32_t size = rd32(pdb + msf_dir_offset(pdb, len, 4 + 4 * (size_t)i));
        off += size == 0xFFFFFFFFu ? 0 : 4 * (((size_t)size + bs - 1) / bs);
    }
    return off;
}

Test(pdb_damage, not_a_pdb) {
    hg_error_t err;
    uint8_t zeros[64] = {0};
    static const char text[] = "Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0 and more";
    cr_expect_eq(exercise(zeros, 0, &err), -1);
    cr_expect_eq(exercise(zeros, sizeof zeros, &err), -1);
    cr_expect(strstr(err.msg, "not a PDB"), "%s", err.msg);
    cr_expect_eq(exercise((const uint8_t *)text, sizeof text, &err), -1);
}

Test(pdb_damage, bad_superblock_fields) {
    size_t len;
    uint8_t *pdb = load(&len);
    hg_error_t err;
    static const struct {
        size_t at;
        uint32_t value;
        const char *says;
    } cases[] = {
        {32, 3000, "block size"},  {32, 0, "block size"},          {32, 1u << 20, "block size"},
        {36, 7, "free block map"}, {40, 0, "directory"},           {44, 0xFFFFFFF0u, "directory"},
        {44, 3, "directory"},      {52, 0x7FFFFFFFu, "directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, pdb, len);
        wr32(bad + cases[i].at, cases[i].value);
        cr_expect_eq(exercise(bad, len, &err), -1, "superblock +%zu = %#x", cases[i].at,
                     cases[i].value);
        cr_expect(strstr(err.msg, cases[i].says), "%s", err.msg);
        free(bad);
    }
    free(pdb);
}

Test(pdb_damage, truncated_anywhere) {
    size_t len;
    uint8_t *pdb = load(&len);
    hg_error_t err;
    long opened = 0;
    for (size_t cut = 0; cut < len; cut += cut < 8192 ? 509 : 4093) {
        opened += exercise(pdb, cut, &err) >= 0;
    }
    cr_expect_eq(exercise(pdb, len - 1, &err), -1, "the directory is in the last blocks");
    cr_log_info("truncated copies that still opened: %ld", opened);
    free(pdb);
}

Test(pdb_damage, truncated_file_on_disk) {
    size_t len;
    uint8_t *pdb = load(&len);
    char path[] = "/tmp/hg-pdb-cut-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    spit(path, pdb, len / 2);
    hg_error_t err;
    hg_pdb_t *p = hg_pdb_open_file(path, &err);
    cr_expect_null(p);
    cr_expect(strstr(err.msg, path), "the message names the file: %s", err.msg);
    remove(path);
    p = hg_pdb_open_file("/nonexistent/x.pdb", &err);
    cr_expect_null(p);
    cr_expect_eq(err.code, HG_EIO);
    free(pdb);
}

Test(pdb_damage, bad_block_numbers_in_every_stream) {
    size_t len;
    uint8_t *pdb = load(&len);
    uint32_t nstreams = rd32(pdb + msf_dir_offset(pdb, len, 0));
    hg_error_t err;
    long failed_open = 0, warned = 0;
    for (uint32_t s = 0; s < nstreams; s++) {
        uint32_t size = rd32(pdb + msf_dir_offset(pdb, len, 4 + 4 * (size_t)s));
        if (size == 0 || size == 0xFFFFFFFFu) {
            continue;
        }
        uint8_t *bad = malloc(len);
        memcpy(bad, pdb, len);
        size_t entry = msf_dir_offset(bad, len, first_block_entry(bad, len, s));
        wr32(bad + entry, 0x7FFFFFF0u + s);
        long w = exercise(bad, len, &err);
        char where[64];
        snprintf(where, sizeof where, "offset 0x%zx: stream %u: block number", entry, s);
        cr_expect(w >= 0 || strstr(err.msg, where), "%s lacks %s", err.msg, where);
        failed_open += w < 0;
        warned += w > 0;
        free(bad);
    }
    cr_expect_gt(failed_open, 0, "streams 1 and 3 are read at open");
    cr_expect_gt(warned, 0, "module streams are read later, with a warning");
    free(pdb);
}

Test(pdb_damage, module_stream_past_the_file_is_a_warning) {
    size_t len;
    uint8_t *pdb = load(&len);
    uint32_t mod = module0_stream(pdb, len);
    wr32(pdb + msf_dir_offset(pdb, len, first_block_entry(pdb, len, mod)), 0x7FFFFFF0u);
    hg_error_t err;
    hg_pdb_t *p = hg_pdb_open_memory(pdb, len, "bad.pdb", &err);
    cr_assert_not_null(p, "%s", err.msg);
    hg_pdb_frame_t f[8];
    for (size_t i = 0; i < g_noracle; i++) {
        hg_pdb_lookup(p, g_oracle[i].rva, f, 8);
    }
    const char *last;
    cr_expect_eq(hg_pdb_warnings(p, &last), 1, "one warning for the one damaged stream");
    char stream[32];
    snprintf(stream, sizeof stream, "stream %u", mod);
    cr_expect(strstr(last, stream), "%s", last);
    hg_pdb_close(p);
    free(pdb);
}

Test(pdb_damage, sizes_past_their_stream) {
    size_t len;
    uint8_t *pdb = load(&len);
    hg_error_t err;
    static const struct {
        size_t dbi_off; /* a size in the DBI stream */
        bool opens;
    } cases[] = {
        {24, false},     /* ModInfoSize */
        {28, false},     /* SectionContributionSize */
        {48, false},     /* OptionalDbgHeaderSize */
        {64 + 36, true}, /* module 0 SymByteSize */
        {64 + 44, true}, /* module 0 C13ByteSize */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, pdb, len);
        patch_stream_u32(bad, len, 3, cases[i].dbi_off, 0x7FFFFFF0u);
        long w = exercise(bad, len, &err);
        cr_expect_eq(w >= 0, cases[i].opens, "DBI +%zu: %ld %s", cases[i].dbi_off, w, err.msg);
        cr_expect(w != 0, "DBI +%zu: the damage is noticed", cases[i].dbi_off);
        free(bad);
    }
    free(pdb);
}

/* The offset in module 0's stream of its first C13 subsection of kind. */
static size_t find_subsection(const uint8_t *pdb, size_t len, uint32_t kind) {
    uint32_t mod = module0_stream(pdb, len);
    size_t off = stream_u32(pdb, len, 3, 64 + 36) + (size_t)stream_u32(pdb, len, 3, 64 + 40);
    size_t end = off + stream_u32(pdb, len, 3, 64 + 44);
    while (off < end && stream_u32(pdb, len, mod, off) != kind) {
        off += 8 + ((stream_u32(pdb, len, mod, off + 4) + 3u) & ~3u);
    }
    cr_assert_lt(off, end, "module 0 has no subsection %#x", kind);
    return off;
}

Test(pdb_damage, absurd_counts) {
    size_t len;
    uint8_t *pdb = load(&len);
    hg_error_t err;
    uint8_t *bad = malloc(len);

    memcpy(bad, pdb, len); /* NumStreams */
    wr32(bad + msf_dir_offset(bad, len, 0), 0xFFFFFFFFu);
    cr_expect_eq(exercise(bad, len, &err), -1);

    memcpy(bad, pdb, len); /* the size of stream 1 */
    wr32(bad + msf_dir_offset(bad, len, 8), 0xFFFFFFF0u);
    cr_expect_eq(exercise(bad, len, &err), -1);

    memcpy(bad, pdb, len); /* NumLines of module 0's first line block */
    uint32_t mod = module0_stream(bad, len);
    patch_stream_u32(bad, len, mod, find_subsection(bad, len, 0xF2) + 8 + 12 + 4, 0x40000000u);
    cr_expect_gt(exercise(bad, len, &err), 0);

    memcpy(bad, pdb, len); /* the publics' address map size */
    patch_stream_u32(bad, len, dbi_u16(bad, len, 16), 4, 0x7FFFFFF0u);
    cr_expect_gt(exercise(bad, len, &err), 0);

    memcpy(bad, pdb, len); /* inlinee lines: an entry cut short */
    patch_stream_u32(bad, len, mod, find_subsection(bad, len, 0xF6) + 4, 7);
    cr_expect_gt(exercise(bad, len, &err), 0);
    free(bad);
    free(pdb);
}

Test(pdb_damage, allocation_failures_are_clean) {
    size_t len;
    uint8_t *pdb = load(&len);
    hg_error_t err;
    int opened = 0;
    for (long n = 0; n < 40; n++) {
        uint64_t live = hg_mem_stats().live_bytes;
        hg_mem_fail_after(n);
        hg_pdb_t *p = hg_pdb_open_memory(pdb, len, "oom.pdb", &err);
        for (size_t i = 0; p && i < g_noracle; i += 13) {
            hg_pdb_frame_t f[32];
            hg_pdb_lookup(p, g_oracle[i].rva, f, 32);
        }
        hg_pdb_close(p);
        hg_mem_fail_after(-1);
        opened += p != NULL;
        cr_assert(p || err.code == HG_ENOMEM, "after %ld allocations: %s", n, err.msg);
        cr_assert_eq(hg_mem_stats().live_bytes, live, "after %ld allocations: a leak", n);
    }
    cr_expect_gt(opened, 0);
    free(pdb);
}
