/* fuzz_pdb.c - libFuzzer target for the PDB reader (symbols/pdb.h), reading from memory.
 *
 * Each input is opened as a PDB; when it opens, a spread of rvas (those of the seed images'
 * .text, and a few taken from the input's last bytes) is looked up and every answer checked:
 * at most the room given, strings terminated, only the last frame not inlined, warnings named
 * after the file. Then the same input is read again with the reader's own allocations failing
 * after a few, which must fail cleanly (HG_ENOMEM) or succeed, and free everything either way.
 * Seeds: fuzz/corpus/pdb/ (tests/pdb/make_fuzz_seeds.sh). */
#include "pdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_pdb: check failed: %s\n", #c);                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NAME "fuzz.pdb"

static volatile size_t g_sink;

static void check_frames(const hg_pdb_frame_t *f, size_t n, size_t max) {
    CHECK(n <= max);
    for (size_t i = 0; i < n; i++) {
        g_sink += f[i].function ? strlen(f[i].function) : 0;
        g_sink += f[i].file ? strlen(f[i].file) : 0;
        CHECK(f[i].inlined == (i + 1 < n));
    }
}

/* rva number i: the seeds' code starts at 0x1000; the input's tail adds arbitrary ones. */
static uint64_t rva_at(const uint8_t *data, size_t size, unsigned i) {
    if (i < 48) {
        return 0x1000 + (uint64_t)i * 7;
    }
    uint64_t v = 0;
    for (unsigned k = 0; k < 4 && size > (i - 48) * 4 + k; k++) {
        v = v << 8 | data[size - 1 - (i - 48) * 4 - k];
    }
    return v;
}

static void exercise(hg_pdb_t *p, const uint8_t *data, size_t size) {
    for (unsigned i = 0; i < 56; i++) {
        hg_pdb_frame_t f[8];
        size_t max = 1 + i % 8;
        check_frames(f, hg_pdb_lookup(p, rva_at(data, size, i), f, max), max);
    }
    const char *last;
    if (hg_pdb_warnings(p, &last) > 0) {
        CHECK(strncmp(last, NAME ": ", sizeof NAME + 1) == 0);
    }
    uint8_t guid[16];
    uint32_t age;
    hg_pdb_identity(p, guid, &age);
    CHECK(hg_pdb_matches(p, guid, age));
}

static void read_once(const uint8_t *data, size_t size, bool oom) {
    uint64_t live = hg_mem_stats().live_bytes;
    hg_error_t err;
    hg_error_clear(&err);
    if (oom) {
        hg_mem_fail_after((long)(size % 11));
    }
    hg_pdb_t *p = hg_pdb_open_memory(data, size, NAME, &err);
    if (p) {
        exercise(p, data, size);
        hg_pdb_close(p);
    } else {
        CHECK(err.code == HG_EFORMAT || err.code == HG_EIO || (oom && err.code == HG_ENOMEM));
        CHECK(strncmp(err.msg, NAME ": ", sizeof NAME + 1) == 0);
    }
    hg_mem_fail_after(-1);
    CHECK(hg_mem_stats().live_bytes == live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    read_once(data, size, false);
    read_once(data, size, true);
    return 0;
}
