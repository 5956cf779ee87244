/* lz77.h - private to tracker/formats: the MS-XCA "plain LZ77" decompressor that ETL files use
 * for compressed buffers (docs/etw-format.md §1.3; [MS-XCA] §2.4). */
#ifndef HG_FORMATS_LZ77_H
#define HG_FORMATS_LZ77_H

#include <stddef.h>
#include <stdint.h>

typedef struct hg__lz77_error {
    size_t in_offset; /* input byte where decoding failed */
    const char *why;  /* static text */
} hg__lz77_error_t;

/* Decompresses in[0..in_len) into out, which must receive exactly out_len bytes. Returns 0, or
 * -1 with *err set when the input ends inside an element, a match reaches before the start of
 * the output, the output would exceed out_len, or the input ends with fewer bytes produced.
 * Never reads or writes outside the two buffers. */
int hg__lz77_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                        hg__lz77_error_t *err);

#endif
