/* fuzz_lz77.c - libFuzzer target for the MS-XCA plain LZ77 decoder (tracker/formats/lz77.c):
 * the first two input bytes choose the expected output size (0-65535), the rest is the
 * compressed stream; the output buffer is exactly that size, so ASan catches any write past it
 * and any read past the input. Corpus: fuzz/corpus/lz77/. */
#include "lz77.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) {
        return 0;
    }
    size_t out_len = (size_t)data[0] | (size_t)data[1] << 8;
    uint8_t *out = malloc(out_len ? out_len : 1);
    if (!out) {
        return 0;
    }
    hg__lz77_error_t err;
    (void)hg__lz77_decompress(data + 2, size - 2, out, out_len, &err);
    free(out);
    return 0;
}
