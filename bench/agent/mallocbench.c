/* mallocbench.c - the agent benchmark's workload: an allocation-heavy program shaped like a
 * text-processing service, built the way distributions build (-O2 -g, no forced frame
 * pointers). Each round generates lines of pseudo-random words, splits them into tokens
 * (strdup), collects tokens in arrays grown with realloc, counts words in a hash table (one
 * node per new word, freed with the table), builds output strings by repeated realloc, and
 * keeps a cache of objects made a few calls deep, freed in random order. Every other round
 * leaks one small record: a few hundred leaks in all. Between allocations it does some work
 * on the data, as programs do: tokens are sorted and each gets a few passes of checksumming
 * (WORK passes, default 100: with it heaptrack costs about 3.7x the plain run's wall time and
 * 6x its CPU here, as the issue measured on its reference program). Deterministic (own PRNG);
 * prints a checksum so the work cannot be optimised away, and its peak RSS and CPU time on stderr.
 *
 * Usage: mallocbench [ROUNDS [WORK]] (default 2000 rounds: about 14 million events). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

typedef struct node {
    struct node *next;
    char *word;
    unsigned count;
} node_t;

typedef struct table {
    node_t **slots;
    size_t n;
} table_t;

static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

static void count_word(table_t *t, const char *w) {
    node_t **slot = &t->slots[hash(w) % t->n];
    for (node_t *e = *slot; e; e = e->next) {
        if (strcmp(e->word, w) == 0) {
            e->count++;
            return;
        }
    }
    node_t *e = malloc(sizeof *e);
    e->word = strdup(w);
    e->count = 1;
    e->next = *slot;
    *slot = e;
}

static unsigned drop_table(table_t *t) {
    unsigned sum = 0;
    for (size_t i = 0; i < t->n; i++) {
        for (node_t *e = t->slots[i], *nx; e; e = nx) {
            nx = e->next;
            sum += e->count;
            free(e->word);
            free(e);
        }
    }
    free(t->slots);
    return sum;
}

/* A line of 8..40 words of 2..12 letters. */
static char *make_line(void) {
    size_t words = 8 + next() % 33, len = 0, cap = 64;
    char *line = malloc(cap);
    for (size_t w = 0; w < words; w++) {
        size_t wl = 2 + next() % 11;
        if (len + wl + 2 > cap) {
            cap *= 2;
            line = realloc(line, cap);
        }
        for (size_t k = 0; k < wl; k++) {
            line[len++] = (char)('a' + next() % 6);
        }
        line[len++] = ' ';
    }
    line[len] = '\0';
    return line;
}

typedef struct tokens {
    char **v;
    size_t n, cap;
} tokens_t;

static void push(tokens_t *t, char *s) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = s;
}

static void split(const char *line, tokens_t *out) {
    char *copy = strdup(line), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        push(out, strdup(w));
    }
    free(copy);
}

/* Output built by appending, growing with realloc. */
static size_t render(const tokens_t *t) {
    char *out = NULL;
    size_t len = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t wl = strlen(t->v[i]);
        out = realloc(out, len + wl + 2);
        memcpy(out + len, t->v[i], wl);
        len += wl;
        out[len++] = ',';
        out[len] = '\0';
    }
    free(out);
    return len;
}

/* Cache entries made a few calls deep, as services do. */
typedef struct entry {
    size_t size;
    char data[];
} entry_t;

static entry_t *make_entry(size_t size) {
    entry_t *e = malloc(sizeof *e + size);
    e->size = size;
    memset(e->data, 1, size < 64 ? size : 64);
    return e;
}

static entry_t *build(int depth, size_t size) {
    return depth == 0 ? make_entry(size) : build(depth - 1, size + 8);
}

#define CACHE 4096

static void churn_cache(entry_t **cache, int n) {
    for (int i = 0; i < n; i++) {
        size_t k = next() % CACHE;
        free(cache[k]);
        cache[k] = build((int)(next() % 6), 16 + next() % 512);
    }
}

typedef struct leak_record {
    int round;
    char note[40];
} leak_record_t;

static void *leak_one(int round) {
    leak_record_t *r = malloc(sizeof *r);
    r->round = round;
    snprintf(r->note, sizeof r->note, "round %d", round);
    return r;
}

static int work = 100;

static int by_text(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The processing the program exists for: sorting, then passes over each token. */
static unsigned process(const tokens_t *t) {
    unsigned sum = 0;
    qsort(t->v, t->n, sizeof *t->v, by_text);
    for (int pass = 0; pass < work; pass++) {
        for (size_t i = 0; i < t->n; i++) {
            sum = sum * 31 + hash(t->v[i]) + (unsigned)pass;
        }
    }
    return sum;
}

static unsigned round_of_work(int round, entry_t **cache) {
    table_t t = {calloc(257, sizeof(node_t *)), 257};
    tokens_t tok = {NULL, 0, 0};
    size_t rendered = 0;
    for (int l = 0; l < 40; l++) {
        char *line = make_line();
        split(line, &tok);
        free(line);
    }
    for (size_t i = 0; i < tok.n; i++) {
        count_word(&t, tok.v[i]);
    }
    rendered += render(&tok) + process(&tok);
    for (size_t i = 0; i < tok.n; i++) {
        free(tok.v[i]);
    }
    free(tok.v);
    churn_cache(cache, 300);
    if (round % 2 == 0) {
        leak_one(round);
    }
    return drop_table(&t) + (unsigned)rendered;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 2000;
    work = argc > 2 ? atoi(argv[2]) : work;
    entry_t **cache = calloc(CACHE, sizeof *cache);
    unsigned sum = 0;
    for (int r = 0; r < rounds; r++) {
        sum += round_of_work(r, cache);
    }
    for (int i = 0; i < CACHE; i++) {
        free(cache[i]);
    }
    free(cache);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("checksum %u\n", sum);
    fprintf(stderr, "mallocbench: peak RSS %ld KiB, cpu %.3f s\n", ru.ru_maxrss,
            (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                ru.ru_stime.tv_usec / 1e6);
    return 0;
}
