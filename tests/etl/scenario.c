/* scenario.c - one heap trace with known leaks, anomalies and fragmentation, written through the
 * test ETL writer. Times in ms (10 MHz clock: 10000 ticks), events spread over three CPUs, 64-bit
 * events with SYSTEM and COMPACT headers, 32-bit events, immediate stacks (whole, and as a kernel
 * then a user fragment on another CPU), stack keys (the user key defined by a rundown at the very
 * end), lost events in the header.
 *
 *   pid 100 app64.exe (started and ended in the trace; 64-bit)
 *     heap H1 0x1f0000 created;  A 100 B 200 C 64 E 32 (Source 5: invalid) F 16 allocated
 *     F freed twice (double free), A freed, 0x1f9000 freed (never allocated)
 *     C moved by HeapReAlloc to D 480 (realloc alone), B moved to B' 300 (HeapAlloc, HeapReAlloc,
 *     HeapFree: the realloc with its alloc/free pair); heap H2 0x2a0000: G 1000, then destroyed
 *     -> leaked B' 300 (stack S1) + D 480 (stack S3, keys) = 780 B in 2 blocks; released 1000 B
 *   pid 200 app32.exe (running before the trace, never ends; 32-bit)
 *     64 B live at the end (outstanding, stack S4), 128 B freed, 0x520000 freed unknown
 *   pid 300 idle.exe (running, no heap events) */
#include "scenario.h"

#include <stdio.h>

#define MS(x) ((uint64_t)((x)*10000.0))

enum { P1 = 100, P2 = 200, P3 = 300, T1 = 101, T2 = 102, T3 = 201 };

static const uint64_t H1 = 0x1f0000, H2 = 0x2a0000, H3 = 0x500000;

static const uint64_t s1[] = {0xfffff80000001000, 0xfffff80000002000, 0x7ffa00001000,
                              0x7ffa00002000,     0x7ff600001234,     0x7ff600005678};
static const uint64_t s2_kernel[] = {0xfffff80000001000, 0xfffff80000003000};
static const uint64_t s2_user[] = {0x7ffa00001000, 0x7ff600002222, 0x7ff600005678};
static const uint64_t s3_kernel[] = {0xfffff80000001000};
static const uint64_t s3_user[] = {0x7ffa00001000, 0x7ff600003333, 0x7ff600005678};
static const uint64_t s4[] = {0x00401111, 0x00402222};
#define KEY_K 0xfffff80011110000ull
#define KEY_U 0x222ull

static const uint8_t g1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t g2[16] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};

/* Rundowns and loads before the first heap event (CPU 0 and 2, in time order on each). */
static void before_heap(etlw_t *w) {
    etlw_dbg_id(w, 0, MS(0.2), 0, 0xfffff80000000000, g1, 3, "ntkrnlmp.pdb");
    etlw_image(w, 0, MS(0.2), 3, 0, 0xfffff80000000000, 0x800000, 0x50000000,
               "\\SystemRoot\\system32\\ntoskrnl.exe");
    etlw_image_id(w, 0, MS(0.2), 0, 0xfffff80000000000, 0x800000, 0x50000000, "ntoskrnl.exe");
    etlw_process(w, 2, MS(0.5), 3, P2, 4, "app32.exe", "app32.exe");
    etlw_process(w, 0, MS(0.55), 3, P3, 4, "idle.exe", "idle.exe /quiet");
    etlw_image(w, 2, MS(0.6), 3, P2, 0x400000, 0x10000, 0x51000000, "C:\\apps\\app32.exe");
    etlw_process(w, 0, MS(1.0), 1, P1, 4, "app64.exe", "app64.exe --leak");
    etlw_image(w, 0, MS(1.5), 10, P1, 0x7ff600000000, 0x100000, 0x5f000000, "C:\\apps\\app64.exe");
    etlw_image_id(w, 0, MS(1.5), P1, 0x7ff600000000, 0x100000, 0x5f000000, "app64.exe");
    etlw_dbg_id(w, 0, MS(1.5), P1, 0x7ff600000000, g2, 7, "app64.pdb");
    etlw_image(w, 0, MS(1.6), 10, P1, 0x7ffa00000000, 0x200000, 0x52000000,
               "C:\\Windows\\System32\\ntdll.dll");
}

static void p1_first(etlw_t *w) {
    etlw_heap_create(w, 0, MS(2.0), ETLW_SYSTEM, 8, P1, T1, H1);
    etlw_heap_alloc(w, 0, MS(3.0), ETLW_SYSTEM, 8, P1, T1, H1, 100, 0x1f1000, 3); /* A */
    etlw_stack(w, 0, MS(3.0), 8, MS(3.0), P1, T1, s1, 6);
    etlw_heap_alloc(w, 1, MS(3.5), ETLW_COMPACT, 8, P1, T2, H1, 200, 0x1f2000, 2); /* B */
    etlw_stack(w, 1, MS(3.5), 8, MS(3.5), P1, T2, s1, 6);
    etlw_heap_alloc(w, 0, MS(4.0), ETLW_COMPACT, 8, P1, T1, H1, 64, 0x1f3000, 3); /* C */
    etlw_stack(w, 0, MS(4.0), 8, MS(4.0), P1, T1, s2_kernel, 2);
    etlw_stack(w, 1, MS(4.01), 8, MS(4.0), P1, T1, s2_user, 3);
    etlw_heap_alloc(w, 1, MS(5.0), ETLW_SYSTEM, 8, P1, T2, H1, 32, 0x1f4000, 5); /* E */
    etlw_stack(w, 1, MS(5.0), 8, MS(5.0), P1, T2, s1, 6);
    etlw_heap_alloc(w, 0, MS(6.0), ETLW_SYSTEM, 8, P1, T1, H1, 16, 0x1f5000, 1); /* F */
    etlw_stack_key_ref(w, 0, MS(6.0), 8, true, MS(6.0), P1, T1, KEY_K);
    etlw_stack_key_ref(w, 0, MS(6.001), 8, false, MS(6.0), P1, T1, KEY_U);
}

static void p1_second(etlw_t *w) {
    etlw_heap_free(w, 0, MS(7.0), ETLW_COMPACT, 8, P1, T1, H1, 0x1f5000, 1);
    etlw_heap_free(w, 1, MS(7.5), ETLW_SYSTEM, 8, P1, T2, H1, 0x1f5000, 1); /* double free */
    etlw_heap_free(w, 0, MS(8.0), ETLW_SYSTEM, 8, P1, T1, H1, 0x1f1000, 3); /* A */
    etlw_heap_free(w, 1, MS(9.0), ETLW_SYSTEM, 8, P1, T2, H1, 0x1f9000, 3); /* unknown */
    etlw_heap_realloc(w, 0, MS(10.0), ETLW_SYSTEM, 8, P1, T1, H1, 0x1f6000, 0x1f3000, 480, 64, 4);
    etlw_stack_key_ref(w, 0, MS(10.0), 8, true, MS(10.0), P1, T1, KEY_K);
    etlw_stack_key_ref(w, 1, MS(10.002), 8, false, MS(10.0), P1, T1, KEY_U);
    etlw_heap_create(w, 1, MS(11.0), ETLW_COMPACT, 8, P1, T2, H2);
    etlw_heap_alloc(w, 1, MS(12.0), ETLW_SYSTEM, 8, P1, T2, H2, 1000, 0x2a1000, 3); /* G */
    etlw_stack(w, 1, MS(12.0), 8, MS(12.0), P1, T2, s1, 6);
    etlw_heap_destroy(w, 1, MS(13.0), ETLW_SYSTEM, 8, P1, T2, H2);
    /* B moves: the realloc with its own alloc and free, one after the other on thread T2 */
    etlw_heap_alloc(w, 1, MS(14.0), ETLW_SYSTEM, 8, P1, T2, H1, 300, 0x1f8000, 3);
    etlw_stack(w, 1, MS(14.0), 8, MS(14.0), P1, T2, s1, 6);
    etlw_heap_realloc(w, 1, MS(14.001), ETLW_SYSTEM, 8, P1, T2, H1, 0x1f8000, 0x1f2000, 300, 200,
                      3);
    etlw_stack(w, 1, MS(14.001), 8, MS(14.001), P1, T2, s1, 6);
    etlw_heap_free(w, 1, MS(14.002), ETLW_SYSTEM, 8, P1, T2, H1, 0x1f2000, 3);
    etlw_stack_key_def(w, 0, MS(20.0), 8, false, KEY_K, s3_kernel, 1);
    etlw_process(w, 0, MS(90.0), 2, P1, 4, "app64.exe", "app64.exe --leak");
}

static void p2(etlw_t *w) {
    etlw_heap_alloc(w, 2, MS(2.5), ETLW_COMPACT, 4, P2, T3, H3, 64, 0x510000, 2);
    etlw_stack(w, 2, MS(2.5), 4, MS(2.5), P2, T3, s4, 2);
    etlw_heap_alloc(w, 2, MS(3.2), ETLW_SYSTEM, 4, P2, T3, H3, 128, 0x510100, 3);
    etlw_stack(w, 2, MS(3.2), 4, MS(3.2), P2, T3, s4, 2);
    etlw_heap_free(w, 2, MS(4.5), ETLW_SYSTEM, 4, P2, T3, H3, 0x510100, 3);
    etlw_heap_free(w, 2, MS(5.5), ETLW_COMPACT, 4, P2, T3, H3, 0x520000, 3); /* unknown */
}

int scenario_write(const char *path, etlw_compress_t mode, uint32_t buffer_bytes) {
    etlw_config_t c = {.buffer_bytes = buffer_bytes,
                       .cpus = 3,
                       .compress = mode,
                       .events_lost = 3,
                       .buffers_lost = 1};
    etlw_t *w = etlw_open(path, &c);
    if (!w) {
        return -1;
    }
    before_heap(w);
    p2(w); /* on CPU 2 alone: each CPU's events are written in time order */
    p1_first(w);
    p1_second(w);
    etlw_stack_key_def(w, 1, MS(95.0), 8, true, KEY_U, s3_user, 3);
    return etlw_close(w);
}
