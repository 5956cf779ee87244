/* etlw_lz77.c - the test writer's MS-XCA plain LZ77 compressor ([MS-XCA] §2.3, as the format
 * notes describe the stream): 32-bit flag words, each bit (most significant first) saying
 * literal (0) or match (1); a match is a 16-bit word of (offset - 1) << 3 | min(length - 3, 7),
 * then, for longer matches, a half byte shared by two matches, a byte, and a 16- or 32-bit
 * length. The stream ends with a set flag bit where no element follows. Matches are found
 * greedily through a hash of the next three bytes; literal_only writes no matches at all. */
#include "etlw.h"

#include <string.h>

#define HASH_BITS  13
#define MAX_OFFSET 8192

typedef struct enc {
    uint8_t *out;
    size_t cap, pos;
    size_t flag_pos; /* where the current flag word goes */
    uint32_t flags;
    int nflags;
    size_t half_pos; /* byte holding a low length nibble whose high nibble is free */
    int half_open;
    int overflow;
} enc_t;

static void put(enc_t *e, uint8_t b) {
    if (e->pos < e->cap) {
        e->out[e->pos] = b;
    } else {
        e->overflow = 1;
    }
    e->pos++;
}

static void put16(enc_t *e, uint32_t v) {
    put(e, (uint8_t)v);
    put(e, (uint8_t)(v >> 8));
}

static void put32_at(enc_t *e, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        if (at + i < e->cap) {
            e->out[at + i] = (uint8_t)(v >> (8 * i));
        } else {
            e->overflow = 1;
        }
    }
}

/* Records one element's flag bit; a full word is stored and a new one reserved. */
static void flag(enc_t *e, int bit) {
    e->flags = (e->flags << 1) | (uint32_t)bit;
    if (++e->nflags == 32) {
        put32_at(e, e->flag_pos, e->flags);
        e->flag_pos = e->pos;
        e->pos += 4;
        e->flags = 0;
        e->nflags = 0;
    }
}

static void nibble(enc_t *e, uint32_t v) {
    if (!e->half_open) {
        e->half_pos = e->pos;
        put(e, (uint8_t)v);
        e->half_open = 1;
    } else {
        if (e->half_pos < e->cap) {
            e->out[e->half_pos] |= (uint8_t)(v << 4);
        }
        e->half_open = 0;
    }
}

static void match(enc_t *e, size_t offset, size_t len) {
    uint32_t l = (uint32_t)(len - 3);
    put16(e, (uint32_t)((offset - 1) << 3) | (l < 7 ? l : 7));
    if (l >= 7) {
        uint32_t rest = l - 7;
        nibble(e, rest < 15 ? rest : 15);
        if (rest >= 15) {
            uint32_t r2 = rest - 15;
            if (r2 < 255) {
                put(e, (uint8_t)r2);
            } else {
                put(e, 255);
                if (l < 65536) {
                    put16(e, l);
                } else {
                    put16(e, 0);
                    put16(e, l & 0xffff);
                    put16(e, l >> 16);
                }
            }
        }
    }
    flag(e, 1);
}

static uint32_t hash3(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static size_t match_len(const uint8_t *in, size_t n, size_t cand, size_t i) {
    size_t k = 0;
    while (i + k < n && in[cand + k] == in[i + k]) {
        k++;
    }
    return k;
}

size_t etlw_lz77(const uint8_t *in, size_t n, uint8_t *out, size_t cap, bool literal_only) {
    static size_t last[1u << HASH_BITS];
    enc_t e = {.out = out, .cap = cap, .flag_pos = 0, .pos = 4};
    memset(last, 0xff, sizeof last);
    for (size_t i = 0; i < n;) {
        size_t len = 0, cand = 0;
        if (!literal_only && i + 3 <= n) {
            uint32_t h = hash3(in + i);
            cand = last[h];
            last[h] = i;
            if (cand != (size_t)-1 && i - cand <= MAX_OFFSET) {
                len = match_len(in, n, cand, i);
            }
        }
        if (len >= 3) {
            match(&e, i - cand, len);
            i += len;
        } else {
            put(&e, in[i++]);
            flag(&e, 0);
        }
    }
    /* the end: a set bit with nothing after it; the unused bits are set too */
    uint32_t rest = 32u - (uint32_t)e.nflags;
    uint32_t word = rest == 32 ? 0xFFFFFFFFu : (e.flags << rest) | ((1u << rest) - 1);
    put32_at(&e, e.flag_pos, word);
    return e.overflow ? 0 : e.pos;
}
