/* lz77.c - MS-XCA plain LZ77 decompression ([MS-XCA] §2.4; docs/etw-format.md §1.3), written
 * from the public specification.
 *
 * The stream is a sequence of 32-bit little-endian flag words, each followed by the 32 elements
 * it describes, most significant bit first: a 0 bit is one literal byte, a 1 bit a match. A
 * match is a 16-bit word: offset - 1 in its top 13 bits, length - 3 in its low 3. A length field
 * of 7 continues in a half byte (two matches share one byte: low nibble first, high nibble for
 * the next such match), 15 there continues in a byte, 255 there in a 16-bit word, and 0 there in
 * a 32-bit word; the 16- and 32-bit forms hold the length - 3 itself. A 1 flag with no input
 * left ends the stream.
 *
 * Every read is checked against the input's end and every write against the output's size, so
 * a damaged stream fails with the input offset and a reason; it cannot loop, since each element
 * consumes input. */
#include "lz77.h"

#include <stdbool.h>
#include <string.h>

typedef struct lz {
    const uint8_t *in;
    size_t in_len, ip;
    uint8_t *out;
    size_t out_len, op;
    size_t nibble_at; /* the byte whose high nibble the next long match uses */
    int nibble_pending;
    hg__lz77_error_t *err;
} lz_t;

static int fail(lz_t *z, size_t at, const char *why) {
    z->err->in_offset = at;
    z->err->why = why;
    return -1;
}

static uint32_t get_u16(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get_u32(const uint8_t *p) {
    return get_u16(p) | get_u16(p + 2) << 16;
}

static int need(lz_t *z, size_t n) {
    return z->in_len - z->ip >= n ? 0 : fail(z, z->ip, "compressed data ends inside a match");
}

/* The rare long forms: a length nibble of 15 continues in a byte, then 16 or 32 bits. */
static int long_length(lz_t *z, size_t *len) {
    if (need(z, 1) < 0) {
        return -1;
    }
    size_t n = z->in[z->ip++];
    if (n == 255) {
        if (need(z, 2) < 0) {
            return -1;
        }
        n = get_u16(z->in + z->ip);
        z->ip += 2;
        if (n == 0) {
            if (need(z, 4) < 0) {
                return -1;
            }
            n = get_u32(z->in + z->ip);
            z->ip += 4;
        }
        if (n < 15 + 7) {
            return fail(z, z->ip, "match length field smaller than its escape value");
        }
        n -= 15 + 7;
    }
    *len = n + 15;
    return 0;
}

/* Length - 3 of a match whose 3-bit field was 7: the nibble, then the long forms. */
static int nibble_length(lz_t *z, size_t *len) {
    size_t n;
    if (!z->nibble_pending) {
        if (need(z, 1) < 0) {
            return -1;
        }
        n = z->in[z->ip] & 15;
        z->nibble_at = z->ip++;
        z->nibble_pending = 1;
    } else {
        n = z->in[z->nibble_at] >> 4;
        z->nibble_pending = 0;
    }
    if (n == 15 && long_length(z, &n) < 0) {
        return -1;
    }
    *len = n + 7;
    return 0;
}

static void copy_match(lz_t *z, size_t offset, size_t len) {
    uint8_t *dst = z->out + z->op;
    const uint8_t *src = dst - offset;
    bool room = z->out_len - z->op >= len + 8;
    z->op += len;
    if (offset >= 8 && room) { /* the common short match: whole 8-byte steps, a few bytes past
                                  len are written and overwritten later */
        for (size_t i = 0; i < len; i += 8) {
            memcpy(dst + i, src + i, 8);
        }
        return;
    }
    if (offset >= len) {
        memcpy(dst, src, len);
        return;
    }
    size_t i = 0;
    if (offset >= 8) { /* 8-byte steps never read bytes this copy has yet to write */
        for (; i + 8 <= len; i += 8) {
            memcpy(dst + i, src + i, 8);
        }
    }
    for (; i < len; i++) {
        dst[i] = src[i]; /* overlapping: repeats the last offset bytes */
    }
}

static int match(lz_t *z) {
    size_t at = z->ip;
    uint32_t word = get_u16(z->in + z->ip);
    size_t len = word & 7, offset = (word >> 3) + 1;
    z->ip += 2;
    if (len == 7 && nibble_length(z, &len) < 0) {
        return -1;
    }
    len += 3;
    if (offset > z->op) {
        return fail(z, at, "match refers to bytes before the start of the output");
    }
    if (len > z->out_len - z->op) {
        return fail(z, at, "match runs past the expected decompressed size");
    }
    copy_match(z, offset, len);
    return 0;
}

/* One element under a set flag bit: a match, or the end of the stream. Returns 1 at the end. */
static int flagged(lz_t *z) {
    if (z->ip == z->in_len) {
        return 1;
    }
    if (need(z, 2) < 0) {
        return -1;
    }
    return match(z);
}

/* n literal bytes (a run of 0 flag bits). */
static int literals(lz_t *z, size_t n) {
    if (z->in_len - z->ip < n) {
        return fail(z, z->in_len, "compressed data ends where a literal byte was expected");
    }
    if (z->out_len - z->op < n) {
        return fail(z, z->ip, "literal runs past the expected decompressed size");
    }
    memcpy(z->out + z->op, z->in + z->ip, n);
    z->ip += n;
    z->op += n;
    return 0;
}

/* The 32 elements of one flag word: runs of literals copied at once, matches one by one.
 * Returns 1 at the end of the stream. */
static int flag_group(lz_t *z, uint32_t flags) {
    int bits = 32, rc;
    while (bits > 0) {
        if (flags & 0x80000000u) {
            if ((rc = flagged(z)) != 0) {
                return rc;
            }
            flags <<= 1;
            bits--;
            continue;
        }
        int run = flags ? __builtin_clz(flags) : 32;
        run = run < bits ? run : bits;
        if ((rc = literals(z, (size_t)run)) != 0) {
            return rc;
        }
        flags = run < 32 ? flags << run : 0;
        bits -= run;
    }
    return 0;
}

static int run(lz_t *z) {
    for (;;) {
        if (z->in_len - z->ip < 4) {
            return z->ip == z->in_len ? 1
                                      : fail(z, z->ip, "compressed data ends inside a flag word");
        }
        uint32_t flags = get_u32(z->in + z->ip);
        z->ip += 4;
        int rc = flag_group(z, flags);
        if (rc != 0) {
            return rc;
        }
    }
}

int hg__lz77_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                        hg__lz77_error_t *err) {
    lz_t z = {.in = in, .in_len = in_len, .out = out, .out_len = out_len, .err = err};
    if (run(&z) < 0) {
        return -1;
    }
    if (z.op != out_len) {
        return fail(&z, z.ip, "compressed data ends before the expected decompressed size");
    }
    return 0;
}
