/* etl_bench.c - ETL ingest speed: writes a heap trace with the test ETL writer (LZ77-compressed
 * 64 KiB buffers on 4 CPUs, 64-bit events, each allocation with its stack), then in the same run
 * times (1) a plain read of the file (fread in 1 MiB blocks, every byte summed) and (2)
 * hg_etl_read into a sink that counts events (decompression, per-CPU merge, event decoding and
 * stack matching included), and (3) the same into heapgate's tracker. One core, best of three.
 *
 *   etl_bench [--keys] [--plain] [--events N] [--file PATH]
 *     --keys   stacks as stack-key references, defined by rundowns at the end
 *     --plain  uncompressed buffers */
#include "etlw.h"
#include "formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSTACKS 1000
#define DEPTH   12
#define CPUS    4

typedef struct config {
    bool keys, plain;
    uint64_t pairs;
    const char *path;
} config_t;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* the machine is shared: CPU time */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void stack_of(uint64_t k, uint64_t *f) {
    f[0] = 0xfffff80000001000ull + 16 * (k % 7);
    f[1] = 0x7ffa00001000ull + 16 * (k % 5);
    for (int i = 2; i < DEPTH; i++) {
        f[i] = 0x7ff600000000ull + ((k * 2654435761u + (uint64_t)i * 977) & 0xfffff);
    }
}

/* One allocation and its stack, then (half the time) the free of an older block. */
static void write_pair(etlw_t *w, const config_t *c, uint64_t i, uint64_t *live, uint64_t t) {
    int cpu = (int)(i % CPUS);
    uint32_t tid = 1000 + (uint32_t)(i % 16);
    uint64_t addr = 0x10000000ull + 64 * i, k = next_rand() % NSTACKS, f[DEPTH];
    etlw_heap_alloc(w, cpu, t, ETLW_SYSTEM, 8, 4242, tid, 0x1f0000, 24 + (k % 200), addr, 3);
    if (c->keys) {
        etlw_stack_key_ref(w, cpu, t, 8, true, t, 4242, tid, 0xfffff80010000000ull + k % 7);
        etlw_stack_key_ref(w, cpu, t, 8, false, t, 4242, tid, k);
    } else {
        stack_of(k, f);
        etlw_stack(w, cpu, t, 8, t, 4242, tid, f, DEPTH);
    }
    uint64_t slot = i % 1024;
    if (live[slot]) {
        etlw_heap_free(w, cpu, t + 1, ETLW_SYSTEM, 8, 4242, tid, 0x1f0000, live[slot], 3);
    }
    live[slot] = addr;
}

static void write_key_rundown(etlw_t *w, uint64_t t) {
    uint64_t f[DEPTH];
    for (uint64_t k = 0; k < NSTACKS; k++) {
        stack_of(k, f);
        etlw_stack_key_def(w, (int)(k % CPUS), t, 8, true, k, f + 2, DEPTH - 2);
    }
    for (uint64_t k = 0; k < 7; k++) {
        stack_of(k, f);
        etlw_stack_key_def(w, 0, t, 8, true, 0xfffff80010000000ull + k, f, 1);
    }
}

static int write_trace(const config_t *c) {
    etlw_config_t wc = {
        .buffer_bytes = 65536, .cpus = CPUS, .compress = c->plain ? ETLW_PLAIN : ETLW_LZ77};
    etlw_t *w = etlw_open(c->path, &wc);
    uint64_t *live = calloc(1024, sizeof *live), t = 10;
    if (!w || !live) {
        return -1;
    }
    for (uint64_t i = 0; i < c->pairs; i++, t += 4) {
        write_pair(w, c, i, live, t);
    }
    if (c->keys) {
        write_key_rundown(w, t + 10);
    }
    free(live);
    return etlw_close(w);
}

/* ---- timing ------------------------------------------------------------------------------- */

static double plain_read(const char *path, uint64_t *bytes) {
    static uint8_t buf[1 << 20];
    double t0 = now();
    FILE *fp = fopen(path, "rb");
    uint64_t sum = 0, n = 0;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0) {
        for (size_t i = 0; i < got; i += 8) {
            sum += buf[i];
        }
        n += got;
    }
    fclose(fp);
    *bytes = n + (sum == 1); /* keeps the loop */
    return now() - t0;
}

typedef struct counts {
    uint64_t events, stacks;
} counts_t;

static int count_event(void *ctx, const hg_event_t *ev) {
    ((counts_t *)ctx)->events += ev->kind <= HG_EV_HEAP_DESTROY;
    return 0;
}

static int count_stack(void *ctx, uint32_t id, const uint64_t *f, uint32_t n) {
    (void)id;
    (void)f;
    ((counts_t *)ctx)->stacks += n > 0;
    return 0;
}

static double ingest(const char *path, hg_sink_t sink) {
    hg_read_result_t res;
    hg_error_t err = {0};
    double t0 = now();
    FILE *fp = fopen(path, "rb");
    int rc = hg_etl_read(fp, path, 0, sink, NULL, &res, &err);
    fclose(fp);
    if (rc != 0) {
        fprintf(stderr, "etl_bench: %s\n", err.msg);
        exit(1);
    }
    return now() - t0;
}

static double best_of_three_counting(const char *path, counts_t *c) {
    static const hg_sink_ops_t ops = {.event = count_event, .stack = count_stack};
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        *c = (counts_t){0};
        double t = ingest(path, (hg_sink_t){&ops, c});
        best = t < best ? t : best;
    }
    return best;
}

static double tracker_run(const char *path) {
    hg_tracker_t *t = hg_tracker_new(NULL);
    double s = ingest(path, hg_tracker_sink(t));
    hg_tracker_finish(t);
    hg_tracker_free(t);
    return s;
}

static void parse(int argc, char **argv, config_t *c) {
    *c = (config_t){.pairs = 4000000, .path = "/tmp/hg-etl-bench.etl"};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0) {
            c->keys = true;
        } else if (strcmp(argv[i], "--plain") == 0) {
            c->plain = true;
        } else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            c->pairs = strtoull(argv[++i], NULL, 10) / 2;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            c->path = argv[++i];
        } else {
            fprintf(stderr, "usage: etl_bench [--keys] [--plain] [--events N] [--file PATH]\n");
            exit(2);
        }
    }
}

int main(int argc, char **argv) {
    config_t c;
    parse(argc, argv, &c);
    double t0 = now();
    if (write_trace(&c) != 0) {
        fprintf(stderr, "etl_bench: cannot write %s\n", c.path);
        return 1;
    }
    printf("wrote %s in %.2f s (%s, %s)\n", c.path, now() - t0, c.plain ? "plain" : "LZ77",
           c.keys ? "stack keys" : "Stack events");
    uint64_t bytes;
    double plain = plain_read(c.path, &bytes);
    plain = plain_read(c.path, &bytes) < plain ? plain_read(c.path, &bytes) : plain;
    counts_t n;
    double read = best_of_three_counting(c.path, &n);
    double full = tracker_run(c.path);
    printf("file            %.1f MB\n", (double)bytes / 1e6);
    printf("plain read      %.3f s  %8.1f MB/s\n", plain, (double)bytes / 1e6 / plain);
    printf("hg_etl_read     %.3f s  %8.2f M heap events/s  (%llu heap events, %llu stacks)\n", read,
           (double)n.events / 1e6 / read, (unsigned long long)n.events,
           (unsigned long long)n.stacks);
    printf("  vs plain read %.1fx the time\n", read / plain);
    printf("with tracker    %.3f s  %8.2f M heap events/s\n", full, (double)n.events / 1e6 / full);
    remove(c.path);
    return 0;
}
