/* hgt_testlib.c - the recording sink, the by-the-specification crafter and the synthetic
 * streams used by test_hgt.c (see hgt_testlib.h). */
#include "hgt_testlib.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- recording sink ----------------------------------------------------------------------- */

void hgt_rec_init(hgt_rec_t *r) {
    memset(r, 0, sizeof *r);
    hg_buf_init(&r->log);
}

void hgt_rec_free(hgt_rec_t *r) {
    hg_buf_free(&r->log);
}

static int rec_count(hgt_rec_t *r) {
    r->records++;
    return (r->fail_at && r->records == r->fail_at) ? r->fail_rc : 0;
}

static void put_str(hg_buf_t *b, const char *s) {
    if (s) {
        hg_buf_printf(b, " \"%s\"", s);
    } else {
        hg_buf_puts(b, " null");
    }
}

static void put_hex(hg_buf_t *b, const uint8_t *p, size_t n) {
    hg_buf_putc(b, ' ');
    for (size_t i = 0; i < n; i++) {
        hg_buf_printf(b, "%02x", p[i]);
    }
    hg_buf_puts(b, p ? "" : "-");
}

static int rec_trace(void *ctx, const hg_trace_info_t *t) {
    hgt_rec_t *r = ctx;
    hg_buf_puts(&r->log, "T");
    put_str(&r->log, t->format);
    hg_buf_printf(&r->log, " %llu %llu %u %d\n", (unsigned long long)t->start_wall_ns,
                  (unsigned long long)t->duration_hint_ns, t->pointer_size, t->lost_counts_known);
    return rec_count(r);
}

static int rec_process(void *ctx, const hg_process_info_t *p) {
    hgt_rec_t *r = ctx;
    hg_buf_printf(&r->log, "P %u %u", p->pid, p->parent_pid);
    put_str(&r->log, p->name);
    put_str(&r->log, p->cmdline);
    hg_buf_printf(&r->log, " %u %u\n", p->pointer_size, p->allocator);
    return rec_count(r);
}

static int rec_module(void *ctx, const hg_module_info_t *m) {
    hgt_rec_t *r = ctx;
    hg_buf_printf(&r->log, "M %u %d %llx %llx %llu", m->pid, m->unload, (unsigned long long)m->base,
                  (unsigned long long)m->size, (unsigned long long)m->ts_ns);
    put_str(&r->log, m->path);
    put_hex(&r->log, m->build_id, m->build_id_len);
    put_str(&r->log, m->pdb_name);
    put_hex(&r->log, m->pdb_guid, sizeof m->pdb_guid);
    hg_buf_printf(&r->log, " %u %u\n", m->pdb_age, m->pe_timestamp);
    return rec_count(r);
}

static int rec_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    hgt_rec_t *r = ctx;
    hg_buf_printf(&r->log, "S %u %u", id, n);
    for (uint32_t i = 0; i < n; i++) {
        hg_buf_printf(&r->log, " %llx", (unsigned long long)frames[i]);
    }
    hg_buf_putc(&r->log, '\n');
    return rec_count(r);
}

static int rec_event(void *ctx, const hg_event_t *e) {
    hgt_rec_t *r = ctx;
    hg_buf_printf(&r->log, "E %u %u %x %u %u %u %llu %llx %llx %llu %llx %llu\n", e->kind,
                  e->source, e->flags, e->stack_id, e->pid, e->tid, (unsigned long long)e->ts_ns,
                  (unsigned long long)e->heap, (unsigned long long)e->addr,
                  (unsigned long long)e->size, (unsigned long long)e->old_addr,
                  (unsigned long long)e->old_size);
    r->events++;
    return rec_count(r);
}

static int rec_stats(void *ctx, const hg_alloc_stats_t *s) {
    hgt_rec_t *r = ctx;
    hg_buf_printf(&r->log, "A %u %llu %llu %llu %llu %llu %llu\n", s->pid,
                  (unsigned long long)s->ts_ns, (unsigned long long)s->arena_bytes,
                  (unsigned long long)s->in_use_bytes, (unsigned long long)s->free_bytes,
                  (unsigned long long)s->mmapped_bytes, (unsigned long long)s->rss_bytes);
    return rec_count(r);
}

static const hg_sink_ops_t rec_ops = {rec_trace, rec_process, rec_module,
                                      rec_stack, rec_event,   rec_stats};

hg_sink_t hgt_rec_sink(hgt_rec_t *r) {
    return (hg_sink_t){&rec_ops, r};
}

/* ---- reading helpers ---------------------------------------------------------------------- */

hgt_outcome_t hgt_read_mem(const void *data, size_t n, hg_sink_t sink) {
    hgt_outcome_t o;
    memset(&o, 0, sizeof o);
    FILE *fp = n ? fmemopen((void *)data, n, "rb") : tmpfile();
    if (!fp) {
        o.rc = HG_EIO;
        return o;
    }
    o.rc = hg_hgt_read(fp, "mem.hgt", n, sink, NULL, &o.res, &o.err);
    fclose(fp);
    return o;
}

size_t hgt_slurp(const char *path, uint8_t **out) {
    FILE *fp = fopen(path, "rb");
    *out = NULL;
    if (!fp) {
        return (size_t)-1;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    *out = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(*out, 1, (size_t)n, fp);
    fclose(fp);
    return got;
}

/* ---- crafting ----------------------------------------------------------------------------- */

void hgt_craft_varint(hg_buf_t *b, uint64_t v) {
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        hg_buf_putc(b, (char)(byte | (v ? 0x80 : 0)));
    } while (v);
}

void hgt_craft_u32(hg_buf_t *b, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        hg_buf_putc(b, (char)(v >> (8 * i)));
    }
}

static uint32_t crc_of(const void *p, size_t n) {
    return (uint32_t)crc32(0, p, (uInt)n);
}

void hgt_craft_file_header(hg_buf_t *b, uint16_t major) {
    size_t at = b->len;
    hg_buf_append(b, "\x89HGT\r\n\x1a\n", 8);
    hg_buf_putc(b, (char)major);
    hg_buf_putc(b, (char)(major >> 8));
    hg_buf_append(b, "\0\0\0\0\0\0", 6); /* minor 0, flags 0 */
    hgt_craft_u32(b, crc_of(b->data + at, 16));
}

void hgt_craft_chunk_raw(hg_buf_t *b, uint8_t method, uint32_t seq, uint32_t comp_len,
                         uint32_t raw_len, uint32_t records, const void *payload,
                         size_t payload_len) {
    size_t at = b->len;
    hg_buf_append(b, "HGCK", 4);
    hg_buf_putc(b, (char)method);
    hg_buf_append(b, "\0\0\0", 3);
    hgt_craft_u32(b, seq);
    hgt_craft_u32(b, comp_len);
    hgt_craft_u32(b, raw_len);
    hgt_craft_u32(b, records);
    hgt_craft_u32(b, crc_of(payload, payload_len));
    hgt_craft_u32(b, crc_of(b->data + at, 28));
    hg_buf_append(b, payload, payload_len);
}

void hgt_craft_chunk(hg_buf_t *b, uint8_t method, uint32_t seq, const void *raw, size_t raw_len,
                     uint32_t records) {
    if (method == 0) {
        hgt_craft_chunk_raw(b, 0, seq, (uint32_t)raw_len, (uint32_t)raw_len, records, raw, raw_len);
        return;
    }
    uLongf n = compressBound((uLong)raw_len);
    uint8_t *z = malloc(n);
    compress2(z, &n, raw, (uLong)raw_len, 6);
    hgt_craft_chunk_raw(b, 1, seq, (uint32_t)n, (uint32_t)raw_len, records, z, n);
    free(z);
}

void hgt_craft_hex(hg_buf_t *b, const char *hex) {
    for (const char *p = hex; p && *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        char byte[3] = {p[0], p[1], 0};
        hg_buf_putc(b, (char)strtoul(byte, NULL, 16));
        p += p[1] ? 2 : 1;
    }
}

void hgt_craft_payload(hg_buf_t *raw, const char *const streams[7], const char *const *extra,
                       int nextra) {
    hg_buf_t s[7 + 8];
    int n = 7 + nextra;
    for (int i = 0; i < n; i++) {
        hg_buf_init(&s[i]);
        hgt_craft_hex(&s[i], i < 7 ? streams[i] : extra[i - 7]);
    }
    hgt_craft_varint(raw, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        hgt_craft_varint(raw, s[i].len);
    }
    for (int i = 0; i < n; i++) {
        hg_buf_append(raw, s[i].data ? s[i].data : "", s[i].len);
        hg_buf_free(&s[i]);
    }
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t hgt_chunks(const uint8_t *file, size_t n, hgt_chunk_pos_t *out, size_t max) {
    size_t count = 0, off = 20;
    while (off + 32 <= n && count < max) {
        hgt_chunk_pos_t c = {off, off + 32 + get_u32(file + off + 12), get_u32(file + off + 20),
                             file[off + 4]};
        out[count++] = c;
        off = c.end;
    }
    return count;
}

/* ---- synthetic allocation stream ---------------------------------------------------------- */

/* The stream models what allocation traces are made of: call sites (stacks) with Zipf
 * popularity, most allocating one fixed size; lifetimes that are mostly short and LIFO (a
 * temporary freed by the same thread soon after), some medium (freed later, in random order)
 * and a few never freed; threads that run in time slices of a few dozen events; timestamps a
 * few hundred ns apart inside a slice with longer gaps between; and an allocator with
 * 16-byte size classes whose LIFO free lists hand a freed block to the next request of its
 * class (glibc's tcache behaves so, and blocks of 128 KiB or more are mmapped apart). */

#define SYNTH_BASE    0x555555600000ull
#define SYNTH_SPAN    (64ull << 20)
#define SYNTH_MMAP    0x7f3a5c000000ull
#define SYNTH_PID     4242
#define SYNTH_SITES   256
#define SYNTH_THREADS 4
#define SYNTH_STACK   64   /* short-lived blocks kept per thread */
#define SYNTH_POOL    4096 /* medium-lived blocks */
#define SYNTH_CLASSES 8192 /* 16-byte classes below the 128 KiB mmap threshold */

typedef struct block {
    uint64_t addr, size;
    uint32_t site;
} block_t;

typedef struct synth {
    uint64_t rng;
    uint64_t tick_ns; /* timer resolution: 1 (clock_gettime) or 100 (ETW's 10 MHz QPC) */
    uint64_t clock_ns;
    uint64_t ts_ns;
    uint32_t thread;
    uint64_t brk;                      /* bump pointer of the simulated heap */
    uint64_t mmap_top;                 /* next address for large blocks */
    uint64_t free_head[SYNTH_CLASSES]; /* LIFO free list heads per 16-byte class */
    uint64_t *free_next;               /* (addr - base) / 16 -> next free block of its class */
    uint32_t cdf[SYNTH_SITES];
    uint64_t site_size[SYNTH_SITES]; /* 0: variable */
    uint8_t site_life[SYNTH_SITES];  /* 0 short, 1 medium, 2 never freed */
    block_t stack[SYNTH_THREADS][SYNTH_STACK];
    uint32_t depth[SYNTH_THREADS];
    block_t pool[SYNTH_POOL];
    uint32_t pooled;
} synth_t;

static uint64_t rnd(synth_t *s) { /* xorshift64* (Vigna, "An experimental exploration of
                                      Marsaglia's xorshift generators", 2016) */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t synth_size(synth_t *s) {
    uint64_t r = rnd(s) % 100;
    uint64_t x = rnd(s);
    if (r < 60) {
        return 8 + (x % 16) * 8;
    }
    if (r < 90) {
        return 128 + x % 896;
    }
    return r < 99 ? 1024 + x % 15360 : 16384 + x % 245760;
}

static void synth_sites(synth_t *s) {
    double total = 0, acc = 0;
    for (int i = 0; i < SYNTH_SITES; i++) {
        total += 1.0 / (i + 1);
    }
    for (int i = 0; i < SYNTH_SITES; i++) {
        acc += 1.0 / (i + 1);
        s->cdf[i] = (uint32_t)(acc / total * 4294967295.0);
        s->site_size[i] = rnd(s) % 10 < 7 ? synth_size(s) : 0;
        uint64_t r = rnd(s) % 100;
        s->site_life[i] = r < 75 ? 0 : r < 97 ? 1 : 2;
    }
}

static uint32_t synth_site(synth_t *s) {
    uint32_t x = (uint32_t)rnd(s), i = 0;
    while (i < SYNTH_SITES - 1 && s->cdf[i] < x) {
        i++;
    }
    return i;
}

static uint64_t synth_alloc_addr(synth_t *s, uint64_t size) {
    uint64_t cls = (size + 16 + 15) / 16;
    if (cls < SYNTH_CLASSES && s->free_head[cls]) {
        uint64_t a = s->free_head[cls];
        s->free_head[cls] = s->free_next[(a - SYNTH_BASE) / 16];
        return a;
    }
    if (cls >= SYNTH_CLASSES) {
        uint64_t a = s->mmap_top;
        s->mmap_top += (size + 4095) & ~4095ull;
        return a;
    }
    uint64_t a = s->brk + 16;
    s->brk += cls * 16;
    return a;
}

static void synth_free_addr(synth_t *s, uint64_t addr, uint64_t size) {
    uint64_t cls = (size + 16 + 15) / 16;
    if (cls < SYNTH_CLASSES) {
        s->free_next[(addr - SYNTH_BASE) / 16] = s->free_head[cls];
        s->free_head[cls] = addr;
    }
}

static hg_event_t synth_base(synth_t *s, uint8_t kind) {
    if (rnd(s) % 32 == 0) { /* the scheduler switches threads: a longer gap */
        s->thread = (uint32_t)(rnd(s) % SYNTH_THREADS);
        s->clock_ns += 2000 + rnd(s) % 50000;
    }
    s->clock_ns += 40 + rnd(s) % 160;
    s->ts_ns = s->clock_ns / s->tick_ns * s->tick_ns;
    return (hg_event_t){
        .kind = kind, .pid = SYNTH_PID, .tid = SYNTH_PID + s->thread, .ts_ns = s->ts_ns};
}

static void synth_keep(synth_t *s, block_t b) {
    uint32_t t = s->thread;
    if (s->site_life[b.site] == 0 && s->depth[t] < SYNTH_STACK) {
        s->stack[t][s->depth[t]++] = b;
    } else if (s->site_life[b.site] <= 1 && s->pooled < SYNTH_POOL) {
        s->pool[s->pooled++] = b;
    }
}

static hg_event_t synth_new(synth_t *s) {
    hg_event_t e = synth_base(s, HG_EV_ALLOC);
    block_t b = {.site = synth_site(s)};
    b.size = s->site_size[b.site] ? s->site_size[b.site] : 8 + rnd(s) % 1000;
    b.addr = synth_alloc_addr(s, b.size);
    e.addr = b.addr;
    e.size = b.size;
    e.stack_id = b.site + 1;
    e.flags = b.size >= 128 * 1024 - 16 ? HG_EVF_MMAPPED : 0;
    synth_keep(s, b);
    return e;
}

/* Takes a block to free or grow: the thread's latest temporary, or a pooled one. */
static bool synth_take(synth_t *s, block_t *b) {
    uint32_t t = s->thread;
    if (s->depth[t] > 0 && (rnd(s) % 8 != 0 || s->pooled == 0)) {
        *b = s->stack[t][--s->depth[t]];
        return true;
    }
    if (s->pooled == 0) {
        return false;
    }
    uint32_t i = (uint32_t)(rnd(s) % s->pooled);
    *b = s->pool[i];
    s->pool[i] = s->pool[--s->pooled];
    return true;
}

static hg_event_t synth_del(synth_t *s, block_t b) {
    hg_event_t e = synth_base(s, HG_EV_FREE);
    e.addr = b.addr;
    synth_free_addr(s, b.addr, b.size);
    return e;
}

static hg_event_t synth_grow(synth_t *s, block_t b) {
    hg_event_t e = synth_base(s, HG_EV_REALLOC);
    e.old_addr = b.addr;
    e.old_size = b.size;
    e.size = b.size + b.size / 2 + 8;
    e.flags = HG_EVF_OLD_SIZE;
    e.stack_id = b.site + 1;
    if ((e.size + 31) / 16 == (b.size + 31) / 16) {
        e.addr = b.addr; /* fits its chunk: in place */
    } else {
        synth_free_addr(s, b.addr, b.size);
        e.addr = synth_alloc_addr(s, e.size);
    }
    b.addr = e.addr;
    b.size = e.size;
    synth_keep(s, b);
    return e;
}

static hg_event_t synth_step(synth_t *s) {
    uint64_t r = rnd(s) % 100;
    block_t b;
    if (r < 50 || !synth_take(s, &b)) {
        return synth_new(s);
    }
    return r < 95 ? synth_del(s, b) : synth_grow(s, b);
}

static int synth_meta(hg_sink_t k) {
    hg_trace_info_t t = {.format = "agent",
                         .start_wall_ns = 1700000000000000000ull,
                         .pointer_size = 8,
                         .lost_counts_known = true};
    hg_process_info_t p = {.pid = SYNTH_PID,
                           .parent_pid = 1,
                           .name = "synth",
                           .cmdline = "synth --events",
                           .pointer_size = 8,
                           .allocator = HG_ALLOCATOR_GLIBC};
    hg_module_info_t m = {.pid = SYNTH_PID,
                          .base = 0x555555554000ull,
                          .size = 0x20000,
                          .path = "/usr/bin/synth",
                          .build_id = (const uint8_t *)"0123456789abcdefghij",
                          .build_id_len = 20};
    int rc = k.ops->trace(k.ctx, &t);
    rc = rc ? rc : k.ops->process(k.ctx, &p);
    return rc ? rc : k.ops->module(k.ctx, &m);
}

static int synth_stacks(hg_sink_t k) {
    uint64_t frames[12];
    for (uint32_t id = 1; id <= SYNTH_SITES; id++) {
        frames[0] = 0x7f3a5d0a1b2cull; /* malloc */
        for (int i = 1; i < 12; i++) {
            frames[i] = 0x555555555000ull + ((id * 2654435761u) >> (i + 8)) % 0x18000 + i;
        }
        int rc = k.ops->stack(k.ctx, id, frames, 12);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

int hgt_synth(hg_sink_t k, uint32_t events, uint64_t seed) {
    return hgt_synth_ticks(k, events, seed, 1);
}

int hgt_synth_ticks(hg_sink_t k, uint32_t events, uint64_t seed, uint64_t tick_ns) {
    synth_t *s = calloc(1, sizeof *s);
    s->rng = seed | 1;
    s->tick_ns = tick_ns ? tick_ns : 1;
    s->brk = SYNTH_BASE;
    s->mmap_top = SYNTH_MMAP;
    s->free_next = calloc(SYNTH_SPAN / 16, sizeof *s->free_next);
    synth_sites(s);
    int rc = synth_meta(k);
    for (uint32_t i = 0; i < events && rc == 0 && s->brk < SYNTH_BASE + SYNTH_SPAN - (1 << 20);
         i++) {
        hg_event_t e = synth_step(s);
        rc = k.ops->event(k.ctx, &e);
    }
    rc = rc ? rc : synth_stacks(k);
    free(s->free_next);
    free(s);
    return rc;
}

/* ---- every record, every field ------------------------------------------------------------ */

static int every_event(hg_sink_t k, uint8_t kind, uint64_t i) {
    hg_event_t e = {.kind = kind,
                    .source = (uint8_t)(i * 37),
                    .flags = (uint16_t)(i * 4099),
                    .stack_id = (uint32_t)(i * 3 + 1),
                    .pid = 100 + (uint32_t)(i % 2),
                    .tid = 7 + (uint32_t)i,
                    .ts_ns = 1000000 - i * 1000, /* goes backwards */
                    .heap = 0x1c0000 + i,
                    .addr = 0x10000 * i + 8,
                    .size = i * 100,
                    .old_addr = UINT64_MAX - i,
                    .old_size = i ? UINT64_MAX / i : 1};
    return k.ops->event(k.ctx, &e);
}

static int every_meta(hg_sink_t k) {
    static const uint64_t deep[256] = {[0] = 1, [1] = UINT64_MAX, [2] = 0, [255] = 42};
    hg_trace_info_t t = {.format = "etl",
                         .start_wall_ns = UINT64_MAX,
                         .duration_hint_ns = 123456789,
                         .pointer_size = 4,
                         .lost_counts_known = true};
    hg_process_info_t p1 = {.pid = 100,
                            .parent_pid = 4,
                            .name = "app.exe",
                            .cmdline = "app.exe --flag \"caf\xc3\xa9\"",
                            .pointer_size = 4,
                            .allocator = HG_ALLOCATOR_WINDOWS};
    hg_process_info_t p2 = {.pid = UINT32_MAX, .name = NULL, .cmdline = ""};
    int rc = k.ops->trace(k.ctx, &t);
    rc = rc ? rc : k.ops->process(k.ctx, &p1);
    rc = rc ? rc : k.ops->process(k.ctx, &p2);
    rc = rc ? rc : k.ops->stack(k.ctx, UINT32_MAX, deep, 256);
    return rc ? rc : k.ops->stack(k.ctx, 5, NULL, 0);
}

static int every_module(hg_sink_t k) {
    uint8_t id[64];
    for (int i = 0; i < 64; i++) {
        id[i] = (uint8_t)(i * 7);
    }
    hg_module_info_t m = {.pid = 100,
                          .base = 0x7ff600000000ull,
                          .size = 0x5000,
                          .ts_ns = 9,
                          .path = "C:\\app\\app.exe",
                          .build_id = id,
                          .build_id_len = 64,
                          .pdb_name = "app.pdb",
                          .pdb_age = 3,
                          .pe_timestamp = 0x5f000000};
    memcpy(m.pdb_guid, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
    hg_module_info_t u = {.pid = 100, .unload = true, .base = 0x7ff600000000ull, .ts_ns = 99};
    int rc = k.ops->module(k.ctx, &m);
    return rc ? rc : k.ops->module(k.ctx, &u);
}

int hgt_everything(hg_sink_t k) {
    hg_alloc_stats_t st = {100, 5, 1, 2, 3, 4, 5};
    hg_alloc_stats_t big = {UINT32_MAX, UINT64_MAX, UINT64_MAX, 0, UINT64_MAX, 1, 0};
    int rc = every_meta(k);
    rc = rc ? rc : every_module(k);
    for (uint64_t i = 0; i < 30 && rc == 0; i++) {
        rc = every_event(k, (uint8_t)(1 + i % HG_EV_KIND_MAX), i);
    }
    hg_event_t zero = {.kind = HG_EV_FREE};
    rc = rc ? rc : k.ops->event(k.ctx, &zero);
    rc = rc ? rc : k.ops->stats(k.ctx, &st);
    rc = rc ? rc : k.ops->stats(k.ctx, &big);
    uint64_t late[3] = {0x401000, 0x401234, 0x400100};
    return rc ? rc : k.ops->stack(k.ctx, 1, late, 3); /* used by events above */
}
