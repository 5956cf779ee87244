/* bench_symbols.c - how fast the symbolizer names addresses in a large binary.
 *
 *   bench_symbols BINARY [ADDRESSES] [ROUNDS] [DUMP]
 *
 * Picks ADDRESSES (default 100000) distinct addresses spread evenly over the bytes of the
 * binary's function symbols (.symtab, else .dynsym, read here with libelf), in shuffled order.
 * Each round: "cold" is a new symbolizer resolving each address once (it opens the module,
 * finds the debug file, indexes unit ranges, indexes each unit on first use, then looks up);
 * "first" is the first address alone (the module's opening); "warm" resolves them all again
 * (the symbolizer's per-address cache). The median round is printed, with the share of
 * addresses that got a function and a file:line, and heapgate's own peak memory. Times are
 * given as wall clock and, in parentheses, as this process's CPU time, which is what to
 * compare on a machine shared with other work. DUMP, when given, receives the addresses as
 * ELF virtual addresses, one per line, for `llvm-symbolizer --obj=BINARY < DUMP`. */
#include "symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE 0x7f0000000000ull

typedef struct fn {
    uint64_t lo, size;
} fn_t;

typedef struct target {
    fn_t *fns;
    size_t nfns;
    uint64_t shift, total;
} target_t;

/* Milliseconds of the given clock: CLOCK_MONOTONIC (wall) or CLOCK_PROCESS_CPUTIME_ID (CPU,
 * what counts on a shared machine). */
static double now_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void read_functions(Elf *elf, GElf_Word type, target_t *t) {
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && t->nfns == 0; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != type) {
            continue;
        }
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        t->fns = calloc(n ? n : 1, sizeof *t->fns);
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (gelf_getsym(d, (int)i, &s) && GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_size &&
                s.st_shndx != SHN_UNDEF) {
                t->fns[t->nfns++] = (fn_t){s.st_value, s.st_size};
                t->total += s.st_size;
            }
        }
    }
}

static void read_target(const char *path, target_t *t) {
    memset(t, 0, sizeof *t);
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY);
    Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
    if (!elf) {
        fprintf(stderr, "bench_symbols: %s: not an ELF file\n", path);
        exit(2);
    }
    size_t nph = 0;
    elf_getphdrnum(elf, &nph);
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
            t->shift = ph.p_vaddr - ph.p_offset;
            break;
        }
    }
    read_functions(elf, SHT_SYMTAB, t);
    read_functions(elf, SHT_DYNSYM, t);
    elf_end(elf);
    close(fd);
}

/* n distinct addresses (as loaded at BASE) spread over the functions' bytes, shuffled. */
static uint64_t *pick(const target_t *t, size_t n) {
    uint64_t *a = malloc(n * sizeof *a), stride = t->total / n ? t->total / n : 1, pos = 0;
    size_t f = 0, k = 0;
    uint64_t inside = 0;
    for (; k < n && f < t->nfns; k++, pos += stride) {
        while (f < t->nfns && pos >= inside + t->fns[f].size) {
            inside += t->fns[f++].size;
        }
        if (f < t->nfns) {
            a[k] = BASE + t->fns[f].lo + (pos - inside) - t->shift;
        }
    }
    uint32_t st = 12345;
    for (size_t i = k; i > 1; i--) {
        st = st * 1103515245u + 12345u;
        size_t j = (st >> 8) % i;
        uint64_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
    return a;
}

typedef struct round {
    double cold_ms, first_ms, warm_ms, cold_cpu_ms, warm_cpu_ms;
    size_t named, positioned;
} round_t;

static round_t run_round(const char *path, const uint64_t *a, size_t n, clockid_t clock) {
    round_t r = {0};
    hg_sym_frame_t f[8];
    double t0 = now_ms(clock);
    hg_error_t err;
    hg_symbolizer_t *s = hg_sym_open(NULL, &err);
    hg_sym_module_t m = {.base = BASE, .size = 1ull << 36, .path = path};
    hg_sym_add_module(s, 0, &m);
    for (size_t i = 0; i < n; i++) {
        size_t k = hg_sym_resolve(s, 0, a[i], 0, f, 8);
        if (i == 0) {
            r.first_ms = now_ms(clock) - t0;
        }
        r.named += f[k - 1].function != NULL;
        r.positioned += f[0].file != NULL && f[0].line != 0;
    }
    double t1 = now_ms(clock);
    for (size_t i = 0; i < n; i++) {
        hg_sym_resolve(s, 0, a[i], 0, f, 8);
    }
    r.warm_ms = now_ms(clock) - t1;
    r.cold_ms = t1 - t0;
    hg_sym_close(s);
    return r;
}

static void dump(const char *path, const target_t *t, const uint64_t *a, size_t n) {
    FILE *fp = fopen(path, "w");
    for (size_t i = 0; fp && i < n; i++) {
        fprintf(fp, "0x%llx\n", (unsigned long long)(a[i] - BASE + t->shift));
    }
    if (!fp || fclose(fp) != 0) {
        fprintf(stderr, "bench_symbols: cannot write %s\n", path);
        exit(2);
    }
}

static int by_cold(const void *pa, const void *pb) {
    const round_t *a = pa, *b = pb;
    return a->cold_ms < b->cold_ms ? -1 : a->cold_ms > b->cold_ms;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_symbols BINARY [ADDRESSES] [ROUNDS] [DUMP]\n");
        return 2;
    }
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 0) : 100000;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    target_t t;
    read_target(argv[1], &t);
    if (t.nfns == 0 || t.total < n || rounds < 1) {
        fprintf(stderr, "bench_symbols: %s: too few function bytes for %zu addresses\n", argv[1],
                n);
        return 2;
    }
    uint64_t *a = pick(&t, n);
    if (argc > 4) {
        dump(argv[4], &t, a, n);
    }
    round_t r[64], c[64];
    rounds = rounds > 64 ? 64 : rounds;
    for (int i = 0; i < rounds; i++) {
        r[i] = run_round(argv[1], a, n, CLOCK_MONOTONIC);
        c[i] = run_round(argv[1], a, n, CLOCK_PROCESS_CPUTIME_ID);
    }
    qsort(r, (size_t)rounds, sizeof r[0], by_cold);
    qsort(c, (size_t)rounds, sizeof c[0], by_cold);
    round_t *m = &r[rounds / 2], *mc = &c[rounds / 2];
    printf("%s: %zu functions, %zu addresses, median of %d rounds, wall (CPU)\n", argv[1], t.nfns,
           n, rounds);
    printf("  cold  %.1f (%.1f) ms total, %.2f (%.2f) us/address; first address, opening the "
           "module: %.1f (%.1f) ms\n",
           m->cold_ms, mc->cold_ms, m->cold_ms * 1e3 / (double)n, mc->cold_ms * 1e3 / (double)n,
           m->first_ms, mc->first_ms);
    printf("  warm  %.1f (%.1f) ms total, %.0f (%.0f) ns/address\n", m->warm_ms, mc->warm_ms,
           m->warm_ms * 1e6 / (double)n, mc->warm_ms * 1e6 / (double)n);
    printf("  named %.1f%%, with file:line %.1f%%; heapgate peak memory %.1f MiB\n",
           100.0 * (double)m->named / (double)n, 100.0 * (double)m->positioned / (double)n,
           (double)hg_mem_stats().peak_bytes / 1048576.0);
    free(a);
    free(t.fns);
    return 0;
}
