/* write_bench.c - times each report writer on one report (bench/reports/README.md).
 *
 * Usage: write_bench REPORT.json OUTDIR [ROUNDS]. Reads the report (timed apart: reading is
 * not writing), then writes it in every format to OUTDIR/bench.<format> (regular files:
 * temporary name and rename, as heapgate does) or, with OUTDIR /dev/null, to /dev/null (as
 * the analyze run it is compared with), ROUNDS times (default 1), and prints each writer's
 * wall-clock and CPU time and output size, and the totals, of the round that took the least
 * CPU time (as run.sh keeps the best of 3 analyze runs). Writers see the default write options
 * (top 10 sites in text and HTML). */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) {
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void) {
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Writes r in format f to dir; returns the wall-clock seconds taken (*cpu: CPU seconds), or -1
 * on failure. */
static double time_one(const hg_report_t *r, hg_report_format_t f, const char *dir, char *path,
                       size_t cap, double *cpu) {
    hg_error_t err;
    if (strcmp(dir, "/dev/null") == 0) {
        snprintf(path, cap, "/dev/null");
    } else {
        snprintf(path, cap, "%s/bench.%s", dir, hg_report_format_name(f));
    }
    double t0 = now_s(), c0 = cpu_s();
    hg_out_t *o = hg_out_open(path, false, &err);
    if (!o || hg_report_write(r, f, NULL, o) != 0 || hg_out_commit(o, &err) != 0) {
        fprintf(stderr, "write_bench: %s: %s\n", path, err.msg);
        return -1;
    }
    *cpu = cpu_s() - c0;
    return now_s() - t0;
}

typedef struct round {
    double wall[HG_RF_COUNT], cpu[HG_RF_COUNT], total, total_cpu;
    long long size[HG_RF_COUNT];
} round_t;

/* One round of every writer; 0, or 1 when a writer failed. */
static int one_round(const hg_report_t *r, const char *dir, round_t *rd) {
    rd->total = rd->total_cpu = 0;
    for (int f = 0; f < HG_RF_COUNT; f++) {
        char path[4096];
        double cpu = 0, s = time_one(r, (hg_report_format_t)f, dir, path, sizeof path, &cpu);
        if (s < 0) {
            return 1;
        }
        rd->wall[f] = s;
        rd->cpu[f] = cpu;
        rd->size[f] = file_size(path);
        rd->total += s;
        rd->total_cpu += cpu;
    }
    return 0;
}

static void print_round(const round_t *rd) {
    printf("%-10s %10s %10s %14s\n", "format", "wall s", "CPU s", "bytes");
    for (int f = 0; f < HG_RF_COUNT; f++) {
        printf("%-10s %10.3f %10.3f %14lld\n", hg_report_format_name(f), rd->wall[f], rd->cpu[f],
               rd->size[f]);
    }
    printf("%-10s %10.3f %10.3f\n", "all", rd->total, rd->total_cpu);
}

int main(int argc, char **argv) {
    int rounds = argc == 4 ? atoi(argv[3]) : 1;
    if ((argc != 3 && argc != 4) || rounds < 1) {
        fprintf(stderr, "usage: write_bench REPORT.json OUTDIR [ROUNDS]\n");
        return 2;
    }
    hg_error_t err;
    double t0 = now_s(), c0 = cpu_s();
    hg_report_t *r = hg_report_read_json(argv[1], &err);
    if (!r) {
        fprintf(stderr, "write_bench: %s\n", err.msg);
        return 2;
    }
    printf("read %s: %zu sites in %.3f s wall, %.3f s CPU (not counted below)\n", argv[1],
           r->nsites, now_s() - t0, cpu_s() - c0);
    round_t best = {0}, rd;
    for (int i = 0; i < rounds; i++) {
        if (one_round(r, argv[2], &rd) != 0) {
            hg_report_free(r);
            return 1;
        }
        if (i == 0 || rd.total_cpu < best.total_cpu) {
            best = rd;
        }
    }
    if (rounds > 1) {
        printf("best of %d rounds (by CPU time):\n", rounds);
    }
    print_round(&best);
    hg_report_free(r);
    return 0;
}
