/* etlw.c - the test ETL writer (see etlw.h). Layouts follow ../shared/docs/etw-format.md: buffer
 * header §1.2, compression §1.3, events 8-aligned §1.4, header kinds §1.5, the trace header
 * §1.6, heap payloads §2.3, StackWalk §3.1-3.2, images §3.3-3.4, processes §3.5. */
#include "etlw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFHDR 0x48

typedef struct cpu {
    uint8_t *data;
    size_t used;
    uint64_t last_t;
} cpu_t;

struct etlw {
    FILE *fp;
    etlw_config_t c;
    cpu_t *cpu;
    uint64_t seq, nbuf;
    uint8_t *tmp;
    int failed;
};

static void le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static size_t utf16(uint8_t *p, const char *s) {
    size_t i = 0;
    for (; s[i]; i++) {
        le(p + 2 * i, (uint8_t)s[i], 2);
    }
    le(p + 2 * i, 0, 2);
    return 2 * i + 2;
}

/* ---- buffers ---------------------------------------------------------------------------- */

static void buffer_header(uint8_t *b, uint32_t size, uint32_t saved, uint64_t t, uint64_t seq,
                          int cpu, uint16_t flag, uint16_t type, uint32_t state) {
    memset(b, 0, BUFHDR);
    le(b + 0x00, size, 4);
    le(b + 0x04, saved, 4);
    le(b + 0x08, saved, 4);
    le(b + 0x10, t, 8);
    le(b + 0x18, seq, 8);
    le(b + 0x28, (uint64_t)cpu, 2);
    le(b + 0x2C, state, 4);
    le(b + 0x30, saved, 4);
    le(b + 0x34, flag, 2);
    le(b + 0x36, type, 2);
}

static void write_bytes(etlw_t *w, const void *p, size_t n) {
    if (fwrite(p, 1, n, w->fp) != n) {
        w->failed = 1;
    }
}

static void flush_cpu(etlw_t *w, int i) {
    cpu_t *c = &w->cpu[i];
    uint32_t bs = w->c.buffer_bytes;
    if (c->used == BUFHDR) {
        return;
    }
    uint64_t t = w->c.origin_ticks + c->last_t;
    if (w->c.compress == ETLW_PLAIN) {
        buffer_header(c->data, bs, (uint32_t)c->used, t, ++w->seq, i, 0, 0, 1);
        memset(c->data + c->used, 0xFF, bs - c->used);
        write_bytes(w, c->data, bs);
    } else {
        size_t n = etlw_lz77(c->data + BUFHDR, c->used - BUFHDR, w->tmp + BUFHDR, 2 * bs,
                             w->c.compress == ETLW_LITERALS);
        buffer_header(w->tmp, (uint32_t)(BUFHDR + n), (uint32_t)c->used, t, ++w->seq, i, 0x40, 0,
                      1);
        w->failed |= n == 0;
        write_bytes(w, w->tmp, BUFHDR + n);
    }
    w->nbuf++;
    c->used = BUFHDR;
}

/* Room for an event of len bytes on cpu (8-aligned), at relative time t. */
static uint8_t *event(etlw_t *w, int cpu, uint64_t t, size_t len) {
    cpu_t *c = &w->cpu[cpu];
    size_t room = (len + 7) & ~(size_t)7;
    if (c->used + room > w->c.buffer_bytes) {
        flush_cpu(w, cpu);
    }
    uint8_t *p = c->data + c->used;
    memset(p, 0, room);
    c->used += room;
    c->last_t = t;
    return p;
}

/* ---- the header buffer -------------------------------------------------------------------- */

static void logfile_header(const etlw_t *w, uint8_t *p) {
    le(p + 0x00, w->c.buffer_bytes, 4);
    p[0x04] = 10;
    p[0x06] = 1;
    p[0x07] = 5;
    le(p + 0x08, 19041, 4);
    le(p + 0x0C, w->c.cpus, 4);
    le(p + 0x10,
       (uint64_t)(w->c.start_filetime + (int64_t)(w->c.duration_ticks * 10000000 / w->c.perf_freq)),
       8);
    le(p + 0x18, 156250, 4);
    le(p + 0x20, w->c.compress ? 0x04000001u : 1u, 4);
    le(p + 0x24, w->nbuf + 1, 4);
    le(p + 0x28, 1, 4);
    le(p + 0x2C, 8, 4);
    le(p + 0x30, w->c.events_lost, 4);
    le(p + 0x34, 3000, 4);
    le(p + 0x100, w->c.perf_freq, 8);
    le(p + 0x108, (uint64_t)w->c.start_filetime, 8);
    le(p + 0x110, 1, 4);
    le(p + 0x114, w->c.buffers_lost, 4);
}

static void write_header_buffer(etlw_t *w) {
    uint32_t bs = w->c.buffer_bytes;
    uint8_t *b = calloc(1, bs);
    uint8_t *e = b + BUFHDR;
    size_t len = 0x20 + 0x118;
    len += utf16(e + len, "heapgate test");
    len += utf16(e + len, "C:\\trace.etl");
    le(e + 0x00, 2, 2);
    e[2] = 0x02;
    e[3] = 0xC0;
    le(e + 0x04, len, 2);
    le(e + 0x10, w->c.origin_ticks, 8);
    logfile_header(w, e + 0x20);
    size_t saved = BUFHDR + ((len + 7) & ~(size_t)7);
    buffer_header(b, bs, (uint32_t)saved, w->c.origin_ticks, 0, 0, 0x01, 4, w->c.compress ? 3 : 0);
    memset(b + saved, 0xFF, bs - saved);
    fseek(w->fp, 0, SEEK_SET);
    write_bytes(w, b, bs);
    free(b);
}

etlw_t *etlw_open(const char *path, const etlw_config_t *cfg) {
    etlw_t *w = calloc(1, sizeof *w);
    w->c = *cfg;
    w->c.buffer_bytes = w->c.buffer_bytes ? w->c.buffer_bytes : 8192;
    w->c.cpus = w->c.cpus ? w->c.cpus : 2;
    w->c.perf_freq = w->c.perf_freq ? w->c.perf_freq : 10000000;
    w->c.origin_ticks = w->c.origin_ticks ? w->c.origin_ticks : 1000000;
    w->c.start_filetime = w->c.start_filetime ? w->c.start_filetime : 133485408000000000LL;
    w->c.duration_ticks = w->c.duration_ticks ? w->c.duration_ticks : w->c.perf_freq;
    w->fp = fopen(path, "wb");
    w->cpu = calloc(w->c.cpus, sizeof *w->cpu);
    w->tmp = malloc(2 * (size_t)w->c.buffer_bytes + BUFHDR);
    for (uint32_t i = 0; i < w->c.cpus; i++) {
        w->cpu[i].data = malloc(w->c.buffer_bytes);
        w->cpu[i].used = BUFHDR;
    }
    if (!w->fp) {
        free(w);
        return NULL;
    }
    write_header_buffer(w); /* a placeholder, rewritten by etlw_close */
    return w;
}

uint64_t etlw_buffers(const etlw_t *w) {
    return w->nbuf + 1;
}

int etlw_close(etlw_t *w) {
    for (uint32_t i = 0; i < w->c.cpus; i++) {
        flush_cpu(w, (int)i);
    }
    write_header_buffer(w);
    int failed = w->failed | (fclose(w->fp) != 0);
    for (uint32_t i = 0; i < w->c.cpus; i++) {
        free(w->cpu[i].data);
    }
    free(w->cpu);
    free(w->tmp);
    free(w);
    return failed ? -1 : 0;
}

/* ---- event headers ------------------------------------------------------------------------ */

/* SYSTEM_TRACE_HEADER or its compact form; returns the payload. */
static uint8_t *system_event(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint16_t hook,
                             uint32_t pid, uint32_t tid, size_t payload) {
    size_t hl = h == ETLW_COMPACT ? 0x18 : 0x20;
    uint8_t *p = event(w, cpu, t, hl + payload);
    le(p, 2, 2);
    p[2] = (uint8_t)((h == ETLW_COMPACT ? 3 : 1) + (ptr == 8));
    p[3] = 0xC0;
    le(p + 4, hl + payload, 2);
    le(p + 6, hook, 2);
    le(p + 8, tid, 4);
    le(p + 12, pid, 4);
    le(p + 16, w->c.origin_ticks + t, 8);
    return p + hl;
}

static uint8_t *perfinfo_event(etlw_t *w, int cpu, uint64_t t, int ptr, uint16_t hook,
                               size_t payload) {
    uint8_t *p = event(w, cpu, t, 0x10 + payload);
    le(p, 2, 2);
    p[2] = ptr == 8 ? 0x11 : 0x10;
    p[3] = 0xC0;
    le(p + 4, 0x10 + payload, 2);
    le(p + 6, hook, 2);
    le(p + 8, w->c.origin_ticks + t, 8);
    return p + 0x10;
}

/* KernelTraceControl ImageID task {b3e675d7-2554-4f18-830b-2762732560de} */
static const uint8_t ktc[16] = {0xd7, 0x75, 0xe6, 0xb3, 0x54, 0x25, 0x18, 0x4f,
                                0x83, 0x0b, 0x27, 0x62, 0x73, 0x25, 0x60, 0xde};

static uint8_t *full_event(etlw_t *w, int cpu, uint64_t t, uint8_t opcode, uint32_t pid,
                           size_t payload) {
    uint8_t *p = event(w, cpu, t, 0x30 + payload);
    le(p, 0x30 + payload, 2);
    p[2] = 0x14;
    p[3] = 0xC0;
    p[4] = opcode;
    le(p + 6, 2, 2);
    le(p + 8, 0xFFFFFFFFu, 4);
    le(p + 12, pid, 4);
    le(p + 16, w->c.origin_ticks + t, 8);
    memcpy(p + 24, ktc, 16);
    return p + 0x30;
}

/* ---- heap events -------------------------------------------------------------------------- */

void etlw_heap_create(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                      uint32_t tid, uint64_t heap) {
    uint8_t *d = system_event(w, cpu, t, h, ptr, 0x1020, pid, tid, (size_t)ptr + 4);
    le(d, heap, ptr);
    le(d + ptr, 2, 4);
}

void etlw_heap_destroy(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                       uint32_t tid, uint64_t heap) {
    le(system_event(w, cpu, t, h, ptr, 0x1023, pid, tid, (size_t)ptr), heap, ptr);
}

void etlw_heap_alloc(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                     uint32_t tid, uint64_t heap, uint64_t size, uint64_t addr, uint32_t source) {
    uint8_t *d = system_event(w, cpu, t, h, ptr, 0x1021, pid, tid, 3 * (size_t)ptr + 4);
    le(d, heap, ptr);
    le(d + ptr, size, ptr);
    le(d + 2 * ptr, addr, ptr);
    le(d + 3 * ptr, source, 4);
}

void etlw_heap_realloc(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                       uint32_t tid, uint64_t heap, uint64_t new_addr, uint64_t old_addr,
                       uint64_t new_size, uint64_t old_size, uint32_t source) {
    uint8_t *d = system_event(w, cpu, t, h, ptr, 0x1022, pid, tid, 5 * (size_t)ptr + 4);
    le(d, heap, ptr);
    le(d + ptr, new_addr, ptr);
    le(d + 2 * ptr, old_addr, ptr);
    le(d + 3 * ptr, new_size, ptr);
    le(d + 4 * ptr, old_size, ptr);
    le(d + 5 * ptr, source, 4);
}

void etlw_heap_free(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                    uint32_t tid, uint64_t heap, uint64_t addr, uint32_t source) {
    uint8_t *d = system_event(w, cpu, t, h, ptr, 0x1024, pid, tid, 2 * (size_t)ptr + 4);
    le(d, heap, ptr);
    le(d + ptr, addr, ptr);
    le(d + 2 * ptr, source, 4);
}

void etlw_raw_system(etlw_t *w, int cpu, uint64_t t, int ptr, uint16_t hook, uint32_t pid,
                     uint32_t tid, const void *payload, size_t len) {
    memcpy(system_event(w, cpu, t, ETLW_SYSTEM, ptr, hook, pid, tid, len), payload, len);
}

/* ---- stacks ------------------------------------------------------------------------------- */

void etlw_stack(etlw_t *w, int cpu, uint64_t t, int ptr, uint64_t event_t, uint32_t pid,
                uint32_t tid, const uint64_t *frames, int n) {
    uint8_t *d = perfinfo_event(w, cpu, t, ptr, 0x1820, 16 + (size_t)n * ptr);
    le(d, w->c.origin_ticks + event_t, 8);
    le(d + 8, pid, 4);
    le(d + 12, tid, 4);
    for (int i = 0; i < n; i++) {
        le(d + 16 + i * ptr, frames[i], ptr);
    }
}

void etlw_stack_key_ref(etlw_t *w, int cpu, uint64_t t, int ptr, bool kernel, uint64_t event_t,
                        uint32_t pid, uint32_t tid, uint64_t key) {
    uint8_t *d = perfinfo_event(w, cpu, t, ptr, kernel ? 0x1825 : 0x1826, 16 + (size_t)ptr);
    le(d, w->c.origin_ticks + event_t, 8);
    le(d + 8, pid, 4);
    le(d + 12, tid, 4);
    le(d + 16, key, ptr);
}

void etlw_stack_key_def(etlw_t *w, int cpu, uint64_t t, int ptr, bool rundown, uint64_t key,
                        const uint64_t *frames, int n) {
    uint8_t *d = perfinfo_event(w, cpu, t, ptr, rundown ? 0x1824 : 0x1823, (size_t)(n + 1) * ptr);
    le(d, key, ptr);
    for (int i = 0; i < n; i++) {
        le(d + (i + 1) * ptr, frames[i], ptr);
    }
}

/* ---- processes and images ----------------------------------------------------------------- */

void etlw_process(etlw_t *w, int cpu, uint64_t t, int opcode, uint32_t pid, uint32_t ppid,
                  const char *name, const char *cmdline) {
    size_t nl = strlen(name) + 1, len = 36 + 4 + nl + 2 * strlen(cmdline) + 2 + 4;
    uint8_t *d = system_event(w, cpu, t, ETLW_SYSTEM, 8, (uint16_t)(0x0300 | opcode), pid, 0, len);
    d[-0x20] = 4; /* Process v4 */
    le(d, 0xffffe00000001000ull + pid, 8);
    le(d + 8, pid, 4);
    le(d + 12, ppid, 4);
    le(d + 16, 1, 4);
    le(d + 20, opcode == 2 ? 0 : 259, 4);
    le(d + 24, 0x1aa000, 8);
    /* Flags @32 = 0; an empty UserSID is 4 zero bytes @36 */
    memcpy(d + 40, name, nl);
    utf16(d + 40 + nl, cmdline); /* then empty PackageFullName and ApplicationId */
}

void etlw_image(etlw_t *w, int cpu, uint64_t t, int opcode, uint32_t pid, uint64_t base,
                uint64_t size, uint32_t tds, const char *path) {
    uint16_t hook = opcode == 10 ? 0x030A : (uint16_t)(0x1400 | opcode);
    uint8_t *d = system_event(w, cpu, t, ETLW_SYSTEM, 8, hook, pid, 0, 56 + 2 * strlen(path) + 2);
    le(d, base, 8);
    le(d + 8, size, 8);
    le(d + 16, pid, 4);
    le(d + 20, 0x1234, 4);
    le(d + 24, tds, 4);
    le(d + 32, base, 8);
    utf16(d + 56, path);
}

void etlw_image_id(etlw_t *w, int cpu, uint64_t t, uint32_t pid, uint64_t base, uint64_t size,
                   uint32_t tds, const char *name) {
    uint8_t *d = full_event(w, cpu, t, 0, pid, 24 + 2 * strlen(name) + 2);
    le(d, base, 8);
    le(d + 8, size, 8);
    le(d + 16, pid, 4);
    le(d + 20, tds, 4);
    utf16(d + 24, name);
}

void etlw_dbg_id(etlw_t *w, int cpu, uint64_t t, uint32_t pid, uint64_t base,
                 const uint8_t guid[16], uint32_t age, const char *pdb) {
    uint8_t *d = full_event(w, cpu, t, 36, pid, 32 + strlen(pdb) + 1);
    le(d, base, 8);
    le(d + 8, pid, 4);
    memcpy(d + 12, guid, 16);
    le(d + 28, age, 4);
    memcpy(d + 32, pdb, strlen(pdb) + 1);
}
