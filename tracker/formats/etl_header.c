/* etl_header.c - the first event of every ETL file: a SYSTEM_TRACE_HEADER with HookId 0 and a
 * TRACE_LOGFILE_HEADER payload (docs/etw-format.md §1.6), in its 32-bit form (header type 1,
 * 0x110 bytes) or 64-bit form (type 2, 0x118 bytes); and the clock it defines (§1.7): raw
 * timestamps count ticks of PerfFreq (QPC), of 100 ns (system time) or CPU cycles, and time 0 is
 * the header event's own timestamp, as PerfView does. */
#include "etl_priv.h"

#define FILETIME_UNIX_EPOCH INT64_C(116444736000000000) /* 1970-01-01 in 100 ns since 1601 */

enum { CLOCK_QPC = 1, CLOCK_SYSTEM_TIME = 2, CLOCK_CPU_CYCLES = 3 };

/* Offsets that differ between the two forms: the two pointer-sized names move the tail. */
typedef struct layout {
    uint32_t len, perf_freq, start_time, reserved_flags, buffers_lost;
} layout_t;

static const layout_t layout32 = {0x110, 0xF8, 0x100, 0x108, 0x10C};
static const layout_t layout64 = {0x118, 0x100, 0x108, 0x110, 0x114};

static void decode_common(const uint8_t *p, hg__etl_header_t *h) {
    h->buffer_size = hg__get_u32(p);
    h->provider_version = hg__get_u32(p + 0x08);
    h->processors = hg__get_u32(p + 0x0C);
    h->end_time = (int64_t)hg__get_u64(p + 0x10);
    h->log_file_mode = hg__get_u32(p + 0x20);
    h->buffers_written = hg__get_u32(p + 0x24);
    h->pointer_size = hg__get_u32(p + 0x2C);
    h->events_lost = hg__get_u32(p + 0x30);
    h->cpu_mhz = hg__get_u32(p + 0x34);
}

/* Ticks per second of the clock the timestamps use. */
static const char *set_clock(hg__etl_header_t *h) {
    if (h->clock_type == CLOCK_SYSTEM_TIME) {
        h->perf_freq = 10000000; /* 100 ns units, as PerfView takes them */
    } else if (h->clock_type == CLOCK_CPU_CYCLES) {
        h->perf_freq = (uint64_t)h->cpu_mhz * 1000000;
    }
    if (h->perf_freq == 0) {
        return "trace header gives no clock frequency (PerfFreq or CPU speed is 0)";
    }
    h->ns_per_tick = 1000000000 % h->perf_freq == 0 ? 1000000000 / h->perf_freq : 0;
    return NULL;
}

const char *hg__etl_header_decode(const hg__etl_event_t *ev, hg__etl_header_t *h) {
    if (ev->cls != ETL_CLASS_HOOK || ev->hook != 0 || (ev->type != 0x01 && ev->type != 0x02)) {
        return "the first event is not the trace header (SYSTEM_TRACE_HEADER, HookId 0)";
    }
    const layout_t *l = ev->type == 0x02 ? &layout64 : &layout32;
    if (ev->data_len < l->len) {
        return "trace header payload shorter than TRACE_LOGFILE_HEADER";
    }
    const uint8_t *p = ev->data;
    *h = (hg__etl_header_t){0};
    decode_common(p, h);
    h->perf_freq = hg__get_u64(p + l->perf_freq);
    h->start_time = (int64_t)hg__get_u64(p + l->start_time);
    h->clock_type = hg__get_u32(p + l->reserved_flags);
    h->buffers_lost = hg__get_u32(p + l->buffers_lost);
    h->ts0 = ev->ts;
    if (h->pointer_size != 4 && h->pointer_size != 8) {
        h->pointer_size = ev->ptr;
    }
    return set_clock(h);
}

uint64_t hg__etl_ts_ns(const hg__etl_header_t *h, uint64_t ts) {
    if (ts <= h->ts0) {
        return 0;
    }
    uint64_t d = ts - h->ts0;
    if (h->ns_per_tick) {
        return d * h->ns_per_tick;
    }
    uint64_t f = h->perf_freq;
    return d / f * 1000000000 + (d % f) * 1000000000 / f;
}

void hg__etl_trace_info(const hg__etl_header_t *h, hg_trace_info_t *info) {
    *info = (hg_trace_info_t){0};
    info->format = "etl";
    if (h->start_time > FILETIME_UNIX_EPOCH) {
        info->start_wall_ns = (uint64_t)(h->start_time - FILETIME_UNIX_EPOCH) * 100;
    }
    if (h->end_time > h->start_time && h->start_time > 0) {
        info->duration_hint_ns = (uint64_t)(h->end_time - h->start_time) * 100;
    }
    info->pointer_size = (uint8_t)h->pointer_size;
    info->lost_counts_known = true; /* EventsLost and BuffersLost are always recorded */
}
