/* crc32.c - CRC-32 as zlib's crc32() computes it (CRC-32/ISO-HDLC: polynomial 0x04C11DB7
 * reflected as 0xEDB88320, initial and final XOR 0xFFFFFFFF; RFC 1952 §8), which .hgt uses for
 * headers and payloads (docs/hgt-format.md §2.4). Slicing by 8 (Intel's "slicing-by-8",
 * Kounavis and Berry, 2005): eight tables let the loop consume 8 bytes per step. The agent has
 * its own so that it links nothing beyond libc and libunwind into the traced program. */
#include "agent.h"

#include <string.h>

static uint32_t table[8][256];
static atomic_int table_ready;

static void build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
        }
    }
    atomic_store(&table_ready, 1);
}

static uint32_t eight(uint32_t crc, const uint8_t *p) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
    lo ^= crc; /* little-endian (x86-64, the agent's only target) */
    return table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
           table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
           table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
}

uint32_t hg__crc32(uint32_t crc, const void *data, size_t n) {
    if (!atomic_load_explicit(&table_ready, memory_order_acquire)) {
        build_tables(); /* idempotent: two threads racing write the same values */
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        crc = eight(crc, p);
    }
    for (; n > 0; n--) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}
