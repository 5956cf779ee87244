/* text_value.c - parsers for the value syntaxes of the text trace format: integers (decimal or
 * 0x-hex), byte counts with binary suffixes, times with units, UTC wall-clock times, GUIDs, hex
 * byte strings, and a UTF-8 check for strings.
 *
 * They read a (pointer, length) slice and never allocate; integer arithmetic only (no strtod),
 * with overflow checks, because times are exact nanoseconds and this is the hot path. */
#include "text_lex.h"

#include <string.h>

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/* Reads leading decimal digits into *out; returns how many (0: none). Sets *overflow. */
static size_t read_dec(const char *s, size_t n, uint64_t *out, bool *overflow) {
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *overflow = true;
        }
        v = v * 10 + d;
    }
    *out = v;
    return i;
}

static int parse_hex_u64(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (n == 0) {
        return HG__TEXT_BADSYNTAX;
    }
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit(s[i]);
        if (d < 0) {
            return HG__TEXT_BADSYNTAX;
        }
        if (v >> 60) {
            return HG__TEXT_RANGE;
        }
        v = (v << 4) | (unsigned)d;
    }
    *out = v;
    return 0;
}

int hg__text_parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        return parse_hex_u64(s + 2, n - 2, out);
    }
    bool overflow = false;
    if (n == 0 || read_dec(s, n, out, &overflow) != n) {
        return HG__TEXT_BADSYNTAX;
    }
    return overflow ? HG__TEXT_RANGE : 0;
}

int hg__text_parse_bytes(const char *s, size_t n, uint64_t *out) {
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"K", 10}, {"M", 20}, {"G", 30}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}};
    bool overflow = false;
    size_t digits = read_dec(s, n, out, &overflow);
    if (digits == 0 || digits == n || (n > 2 && (s[1] | 0x20) == 'x')) {
        return hg__text_parse_u64(s, n, out);
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t ul = strlen(units[i].unit);
        if (n - digits == ul && memcmp(s + digits, units[i].unit, ul) == 0) {
            if (overflow || *out > (UINT64_MAX >> units[i].shift)) {
                return HG__TEXT_RANGE;
            }
            *out <<= units[i].shift;
            return 0;
        }
    }
    return HG__TEXT_BADSYNTAX;
}

/* ---- times ------------------------------------------------------------------------------- */

#define FRAC_DIGITS 12 /* kept fraction digits: below 1 ns for every unit */

static const uint64_t pow10_tab[FRAC_DIGITS + 1] = {
    1,        10,        100,        1000,           10000,           100000,          1000000,
    10000000, 100000000, 1000000000, 10000000000ULL, 100000000000ULL, 1000000000000ULL};

/* The unit's size as mult * 10^exp nanoseconds. */
static int time_unit(const char *u, size_t n, uint64_t *mult, unsigned *exp) {
    *mult = 1;
    if (n == 0 || (n == 1 && u[0] == 's')) {
        *exp = 9;
    } else if (n == 1 && u[0] == 'm') {
        *mult = 60;
        *exp = 9;
    } else if (n == 2 && u[1] == 's' && (u[0] == 'm' || u[0] == 'u' || u[0] == 'n')) {
        *exp = u[0] == 'm' ? 6 : u[0] == 'u' ? 3 : 0;
    } else {
        return HG__TEXT_BADSYNTAX;
    }
    return 0;
}

/* Reads ".ddd" at s (if present): the first FRAC_DIGITS digits into *frac, their count into
 * *nd; returns the bytes used. */
static size_t read_fraction(const char *s, size_t n, uint64_t *frac, unsigned *nd) {
    size_t i = 1;
    *frac = 0;
    *nd = 0;
    if (n == 0 || s[0] != '.') {
        return 0;
    }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (*nd < FRAC_DIGITS) {
            *frac = *frac * 10 + (uint64_t)(s[i] - '0');
            (*nd)++;
        }
    }
    return i;
}

int hg__text_parse_time(const char *s, size_t n, uint64_t *out_ns) {
    uint64_t ip, frac, mult;
    unsigned nd, exp;
    bool overflow = false;
    size_t i = read_dec(s, n, &ip, &overflow);
    size_t f = read_fraction(s + i, n - i, &frac, &nd);
    if ((i == 0 && f == 0) || f == 1 || time_unit(s + i + f, n - i - f, &mult, &exp)) {
        return HG__TEXT_BADSYNTAX;
    }
    uint64_t unit_ns = mult * pow10_tab[exp];
    if (overflow || ip > UINT64_MAX / unit_ns) {
        return HG__TEXT_RANGE;
    }
    uint64_t frac_ns =
        nd <= exp ? frac * mult * pow10_tab[exp - nd] : frac * mult / pow10_tab[nd - exp];
    if (ip * unit_ns > UINT64_MAX - frac_ns) {
        return HG__TEXT_RANGE;
    }
    *out_ns = ip * unit_ns + frac_ns;
    return 0;
}

/* Reads exactly n decimal digits at s; -1 when one is not a digit. */
static long fixed_dec(const char *s, size_t n) {
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(long y, long m, long d) {
    y -= m <= 2;
    long era = y / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

static long days_in_month(long y, long m) {
    static const long days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* Checks the punctuation of "YYYY-MM-DDTHH:MM:SS". */
static bool wall_shape(const char *s, size_t n) {
    return n >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') &&
           s[13] == ':' && s[16] == ':' && (s[n - 1] == 'Z' || s[n - 1] == 'z');
}

int hg__text_parse_wall(const char *s, size_t n, uint64_t *out_ns) {
    if (!wall_shape(s, n)) {
        return HG__TEXT_BADSYNTAX;
    }
    long y = fixed_dec(s, 4), mo = fixed_dec(s + 5, 2), d = fixed_dec(s + 8, 2);
    long h = fixed_dec(s + 11, 2), mi = fixed_dec(s + 14, 2), sec = fixed_dec(s + 17, 2);
    uint64_t frac = 0;
    unsigned nd = 0;
    size_t f = read_fraction(s + 19, n - 20, &frac, &nd);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 59 || 19 + f != n - 1 || (f == 1)) {
        return HG__TEXT_BADSYNTAX;
    }
    uint64_t secs =
        (uint64_t)days_from_civil(y, mo, d) * 86400 + (uint64_t)(h * 3600 + mi * 60 + sec);
    uint64_t frac_ns = nd <= 9 ? frac * pow10_tab[9 - nd] : frac / pow10_tab[nd - 9];
    *out_ns = secs * 1000000000u + frac_ns;
    return 0;
}

/* ---- identities ------------------------------------------------------------------------- */

/* Reads 2*nbytes hex digits at s into out, most significant first. */
static bool hex_run(const char *s, size_t nbytes, uint8_t *out) {
    for (size_t i = 0; i < nbytes; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void swap_bytes(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n / 2; i++) {
        uint8_t t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

int hg__text_parse_guid(const char *s, size_t n, uint8_t out[16]) {
    if (n == 38 && s[0] == '{' && s[37] == '}') {
        s++;
        n -= 2;
    }
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        return HG__TEXT_BADSYNTAX;
    }
    if (!hex_run(s, 4, out) || !hex_run(s + 9, 2, out + 4) || !hex_run(s + 14, 2, out + 6) ||
        !hex_run(s + 19, 2, out + 8) || !hex_run(s + 24, 6, out + 10)) {
        return HG__TEXT_BADSYNTAX;
    }
    swap_bytes(out, 4); /* Data1, Data2, Data3 are little-endian in memory */
    swap_bytes(out + 4, 2);
    swap_bytes(out + 6, 2);
    return 0;
}

int hg__text_parse_hex(const char *s, size_t n, uint8_t *out, size_t cap, uint32_t *out_len) {
    if (n == 0 || n % 2) {
        return HG__TEXT_BADSYNTAX;
    }
    if (!hex_run(s, n / 2 <= cap ? n / 2 : cap, out)) {
        return HG__TEXT_BADSYNTAX;
    }
    if (n / 2 > cap) {
        return HG__TEXT_RANGE;
    }
    *out_len = (uint32_t)(n / 2);
    return 0;
}

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    size_t len = s[0] < 0x80   ? 1
                 : s[0] < 0xc2 ? 0
                 : s[0] < 0xe0 ? 2
                 : s[0] < 0xf0 ? 3
                 : s[0] < 0xf5 ? 4
                               : 0;
    if (len == 0 || len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)) {
        return 0;
    }
    return len;
}

size_t hg__text_utf8_check(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_seq(u + i, n - i);
        if (len == 0) {
            return i;
        }
        i += len;
    }
    return i;
}
