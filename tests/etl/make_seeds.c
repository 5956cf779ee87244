/* make_seeds.c - writes the seed corpora of fuzz/corpus/etl and fuzz/corpus/lz77 with the test
 * ETL writer: the heap scenario in each buffer mode, small files of single event kinds, and
 * LZ77 streams (two bytes of expected size, then the stream). Run once by hand:
 *   build/etl/tests/etl/etl_make_seeds fuzz/corpus/etl fuzz/corpus/lz77 */
#include "etlw.h"
#include "scenario.h"

#include <stdio.h>
#include <string.h>

static void path_of(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static void small_files(const char *dir) {
    char p[512];
    static const uint64_t f[] = {0xfffff80000001000, 0x7ff600001234};
    path_of(p, sizeof p, dir, "stack-keys-lz77.etl");
    etlw_config_t c = {.cpus = 2, .compress = ETLW_LZ77, .buffer_bytes = 1024};
    etlw_t *w = etlw_open(p, &c);
    etlw_heap_alloc(w, 0, 10, ETLW_COMPACT, 8, 1, 2, 0x10000, 24, 0x20000, 2);
    etlw_stack_key_ref(w, 0, 11, 8, true, 10, 1, 2, 0xfffff80000005000);
    etlw_stack_key_ref(w, 1, 12, 8, false, 10, 1, 2, 0x77);
    etlw_heap_free(w, 1, 13, ETLW_SYSTEM, 8, 1, 2, 0x10000, 0x20000, 2);
    etlw_stack_key_def(w, 0, 20, 8, true, 0xfffff80000005000, f, 1);
    etlw_stack_key_def(w, 1, 21, 8, true, 0x77, f + 1, 1);
    etlw_close(w);
    path_of(p, sizeof p, dir, "heap32-plain.etl");
    etlw_config_t c32 = {.cpus = 1, .buffer_bytes = 512, .events_lost = 5};
    w = etlw_open(p, &c32);
    etlw_heap_create(w, 0, 5, ETLW_SYSTEM, 4, 3, 4, 0x30000);
    etlw_heap_realloc(w, 0, 6, ETLW_COMPACT, 4, 3, 4, 0x30000, 0x31000, 0x32000, 40, 20, 3);
    etlw_stack(w, 0, 6, 4, 6, 3, 4, f + 1, 1);
    etlw_heap_destroy(w, 0, 7, ETLW_SYSTEM, 4, 3, 4, 0x30000);
    etlw_close(w);
}

static void lz77_seed(const char *dir, const char *name, const uint8_t *in, size_t n, int lit) {
    static uint8_t out[70000];
    char p[512];
    size_t k = etlw_lz77(in, n, out + 2, sizeof out - 2, lit);
    out[0] = (uint8_t)n;
    out[1] = (uint8_t)(n >> 8);
    path_of(p, sizeof p, dir, name);
    FILE *fp = fopen(p, "wb");
    fwrite(out, 1, k + 2, fp);
    fclose(fp);
}

static void lz77_seeds(const char *dir) {
    static uint8_t in[60000];
    for (size_t i = 0; i < sizeof in; i++) {
        in[i] = (uint8_t)("heap events\0\x21\x10\xc0"[i % 15] ^ (i / 977));
    }
    lz77_seed(dir, "text-matches.lz", in, 3000, 0);
    lz77_seed(dir, "text-literals.lz", in, 700, 1);
    memset(in, 7, sizeof in);
    lz77_seed(dir, "long-run.lz", in, sizeof in, 0);
    lz77_seed(dir, "run-300.lz", in, 300, 0);
    lz77_seed(dir, "run-22.lz", in, 22, 0);
    lz77_seed(dir, "empty.lz", in, 0, 0);
}

int main(int argc, char **argv) {
    char p[512];
    if (argc != 3) {
        fprintf(stderr, "usage: etl_make_seeds ETL_DIR LZ77_DIR\n");
        return 2;
    }
    static const struct {
        const char *name;
        etlw_compress_t mode;
        unsigned bytes;
    } s[] = {{"scenario-plain-512.etl", ETLW_PLAIN, 512},
             {"scenario-lz77-512.etl", ETLW_LZ77, 512},
             {"scenario-literals-1024.etl", ETLW_LITERALS, 1024},
             {"scenario-lz77-8192.etl", ETLW_LZ77, 8192}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        path_of(p, sizeof p, argv[1], s[i].name);
        if (scenario_write(p, s[i].mode, s[i].bytes) != 0) {
            return 1;
        }
    }
    small_files(argv[1]);
    lz77_seeds(argv[2]);
    return 0;
}
