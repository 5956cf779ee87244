/* etlw.h - a test-only ETL writer: builds Windows ETW trace files holding heap events, stacks,
 * processes and images, the way the format notes (../shared/docs/etw-format.md) describe them.
 * Written apart from heapgate's reader and sharing nothing with it, so the reader is checked
 * against an independent reading of the notes.
 *
 * Events are appended to per-CPU buffers in the order given (the caller keeps each CPU's
 * timestamps non-decreasing); a full buffer is flushed to the file with the next sequence
 * number, compressed (MS-XCA plain LZ77) when asked. The header buffer is written first and
 * rewritten by etlw_close once the buffer count is known. Timestamps are raw ticks of perf_freq;
 * tick 0 is the header event's time plus origin_ticks. */
#ifndef HG_TESTS_ETLW_H
#define HG_TESTS_ETLW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct etlw etlw_t;

typedef enum etlw_hdr {
    ETLW_SYSTEM = 0,  /* SYSTEM_TRACE_HEADER (0x20 bytes) */
    ETLW_COMPACT = 1, /* its compact form (0x18 bytes) */
} etlw_hdr_t;

typedef enum etlw_compress {
    ETLW_PLAIN = 0,
    ETLW_LZ77 = 1,     /* greedy matches */
    ETLW_LITERALS = 2, /* LZ77 stream of literals only */
} etlw_compress_t;

typedef struct etlw_config {
    uint32_t buffer_bytes; /* per buffer, default 8192 */
    uint32_t cpus;         /* default 2 */
    etlw_compress_t compress;
    uint32_t events_lost, buffers_lost;
    uint64_t perf_freq;      /* default 10 MHz */
    uint64_t origin_ticks;   /* raw timestamp of the header event, default 1000000 */
    int64_t start_filetime;  /* default 2024-01-01 */
    uint64_t duration_ticks; /* EndTime - StartTime, default 1 s worth */
} etlw_config_t;

etlw_t *etlw_open(const char *path, const etlw_config_t *cfg);
/* Flushes every buffer and rewrites the header; returns 0 or -1. */
int etlw_close(etlw_t *w);
uint64_t etlw_buffers(const etlw_t *w);

/* Heap events (HookId 0x1020-0x1024) with ptr-byte pointers (4 or 8). Times are relative ticks. */
void etlw_heap_create(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                      uint32_t tid, uint64_t heap);
void etlw_heap_destroy(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                       uint32_t tid, uint64_t heap);
void etlw_heap_alloc(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                     uint32_t tid, uint64_t heap, uint64_t size, uint64_t addr, uint32_t source);
void etlw_heap_realloc(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                       uint32_t tid, uint64_t heap, uint64_t new_addr, uint64_t old_addr,
                       uint64_t new_size, uint64_t old_size, uint32_t source);
void etlw_heap_free(etlw_t *w, int cpu, uint64_t t, etlw_hdr_t h, int ptr, uint32_t pid,
                    uint32_t tid, uint64_t heap, uint64_t addr, uint32_t source);
/* Any SYSTEM-header event with a raw payload (for damaged payloads and unknown hooks). */
void etlw_raw_system(etlw_t *w, int cpu, uint64_t t, int ptr, uint16_t hook, uint32_t pid,
                     uint32_t tid, const void *payload, size_t len);

/* StackWalk (PERFINFO header, 64-bit or 32-bit by ptr): a Stack event for the event of
 * (event_t, tid), frames innermost first; key references and definitions. */
void etlw_stack(etlw_t *w, int cpu, uint64_t t, int ptr, uint64_t event_t, uint32_t pid,
                uint32_t tid, const uint64_t *frames, int n);
void etlw_stack_key_ref(etlw_t *w, int cpu, uint64_t t, int ptr, bool kernel, uint64_t event_t,
                        uint32_t pid, uint32_t tid, uint64_t key);
void etlw_stack_key_def(etlw_t *w, int cpu, uint64_t t, int ptr, bool rundown, uint64_t key,
                        const uint64_t *frames, int n);

/* Process v4 (opcode 1 Start, 2 End, 3 DCStart, 4 DCEnd) with a 64-bit header. */
void etlw_process(etlw_t *w, int cpu, uint64_t t, int opcode, uint32_t pid, uint32_t ppid,
                  const char *name, const char *cmdline);
/* Image v2 (opcode 10 Load, 2 Unload, 3 DCStart, 4 DCEnd), and its KernelTraceControl ImageID
 * and DbgID_RSDS records (same time). */
void etlw_image(etlw_t *w, int cpu, uint64_t t, int opcode, uint32_t pid, uint64_t base,
                uint64_t size, uint32_t tds, const char *path);
void etlw_image_id(etlw_t *w, int cpu, uint64_t t, uint32_t pid, uint64_t base, uint64_t size,
                   uint32_t tds, const char *name);
void etlw_dbg_id(etlw_t *w, int cpu, uint64_t t, uint32_t pid, uint64_t base,
                 const uint8_t guid[16], uint32_t age, const char *pdb);

/* MS-XCA plain LZ77 compression of in[0..n) into out (cap bytes); returns the length, or 0
 * when it does not fit. literal_only: no matches. */
size_t etlw_lz77(const uint8_t *in, size_t n, uint8_t *out, size_t cap, bool literal_only);

#endif
