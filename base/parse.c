/* parse.c - command-line value parsers (durations, byte counts, integers) and their
 * human-readable counterparts, plus the FNV-1a hash used for stable identities. */
#include "base.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hg_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') {
        return HG_EUSAGE;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) {
        return HG_EUSAGE;
    }
    *out = v;
    return 0;
}

/* Splits "12.5ms" into its number and unit; the number must be a plain non-negative decimal. */
static int split_number(const char *s, double *num, const char **unit) {
    const char *p = s;
    bool digits = false;
    while ((*p >= '0' && *p <= '9') || *p == '.') {
        digits |= (*p != '.');
        p++;
    }
    if (!digits) {
        return HG_EUSAGE;
    }
    char tmp[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof tmp) {
        return HG_EUSAGE;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    *num = strtod(tmp, &end);
    if (*end) {
        return HG_EUSAGE;
    }
    *unit = p;
    return 0;
}

int hg_parse_duration_ns(const char *s, uint64_t *out_ns) {
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"", 1e9}, {"s", 1e9}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"m", 60e9}};
    double num;
    const char *unit;
    if (!s || split_number(s, &num, &unit)) {
        return HG_EUSAGE;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(unit, units[i].unit) == 0) {
            double v = num * units[i].ns;
            if (v >= 1.8e19) {
                return HG_EUSAGE;
            }
            *out_ns = (uint64_t)llround(v);
            return 0;
        }
    }
    return HG_EUSAGE;
}

int hg_parse_bytes(const char *s, uint64_t *out_bytes) {
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"", 0},     {"B", 0},   {"k", 10},   {"K", 10},  {"KiB", 10},
                 {"KB", 10},  {"M", 20},  {"MiB", 20}, {"MB", 20}, {"G", 30},
                 {"GiB", 30}, {"GB", 30}, {"T", 40},   {"TiB", 40}};
    if (!s || *s < '0' || *s > '9') {
        return HG_EUSAGE;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) {
        return HG_EUSAGE;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (units[i].shift && v > (UINT64_MAX >> units[i].shift)) {
                return HG_EUSAGE;
            }
            *out_bytes = (uint64_t)v << units[i].shift;
            return 0;
        }
    }
    return HG_EUSAGE;
}

const char *hg_format_duration(uint64_t ns, char *buf, size_t cap) {
    if (ns < 1000) {
        snprintf(buf, cap, "%llu ns", (unsigned long long)ns);
    } else if (ns < 1000000) {
        snprintf(buf, cap, "%.1f us", ns / 1e3);
    } else if (ns < 1000000000) {
        snprintf(buf, cap, "%.1f ms", ns / 1e6);
    } else {
        snprintf(buf, cap, "%.3f s", ns / 1e9);
    }
    return buf;
}

const char *hg_format_bytes(uint64_t bytes, char *buf, size_t cap) {
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    size_t u = 0;
    v /= 1024;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

uint64_t hg_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
