/* etl_event.c - one ETL event: its header kind from the first four bytes, its size, the
 * payload's pointer size, timestamp, process and thread (docs/etw-format.md §1.5, §1.7, §1.8).
 *
 * Byte 3 holds the marker flags: 0x80 marks a trace header (clear: a legacy WNODE_HEADER, which
 * ETL files of Windows 7 and later do not hold), 0x40 every kind but MESSAGE, 0x10 MESSAGE. Byte 2
 * is then the header type, which fixes the header's length, where its size field is and whether
 * the payload has 4- or 8-byte pointers. Every size includes the header; a size smaller than
 * the header or larger than what is left of the buffer is damage. */
#include "etl_priv.h"

#define FLAG_TRACE_HEADER 0x80u
#define FLAG_EVENT_TRACE  0x40u
#define FLAG_MESSAGE      0x10u

/* SYSTEM_TRACE_HEADER (0x20) and its COMPACT form (0x18): size @4, hook @6, ids @8, time @0x10 */
static int parse_system(const uint8_t *p, uint32_t hdr_len, hg__etl_event_t *ev) {
    ev->cls = ETL_CLASS_HOOK;
    ev->version = p[0];
    ev->size = hg__get_u16(p + 4);
    ev->hook = hg__get_u16(p + 6);
    ev->has_ids = true;
    ev->tid = hg__get_u32(p + 8);
    ev->pid = hg__get_u32(p + 12);
    ev->ts = hg__get_u64(p + 16);
    return (int)hdr_len;
}

/* PERFINFO_TRACE_HEADER (0x10 + PEBS index + PMC counters): no process or thread. */
static int parse_perfinfo(const uint8_t *p, hg__etl_event_t *ev) {
    uint16_t v = hg__get_u16(p);
    ev->cls = ETL_CLASS_HOOK;
    ev->version = (uint8_t)(v & 0xff);
    ev->size = hg__get_u16(p + 4);
    ev->hook = hg__get_u16(p + 6);
    ev->ts = hg__get_u64(p + 8);
    return 0x10 + ((v & 0x8000) ? 8 : 0) + 8 * ((v >> 8) & 7);
}

/* EVENT_TRACE_HEADER (0x30) and EVENT_INSTANCE_GUID_HEADER (0x48). */
static int parse_full(const uint8_t *p, uint32_t hdr_len, hg__etl_event_t *ev) {
    ev->cls = ETL_CLASS_GUID;
    ev->size = hg__get_u16(p);
    ev->opcode = p[4];
    ev->version = (uint8_t)hg__get_u16(p + 6);
    ev->has_ids = true;
    ev->tid = hg__get_u32(p + 8);
    ev->pid = hg__get_u32(p + 12);
    ev->ts = hg__get_u64(p + 16);
    ev->guid = p + 0x18;
    return (int)hdr_len;
}

/* Extended data items after an EVENT_HEADER, each 8-aligned; returns the header's length, or
 * -1 when an item runs past the event. */
static int event_header_items(const uint8_t *p, uint32_t size) {
    uint32_t off = 0x50;
    for (;;) {
        if (off + 8 > size) {
            return -1;
        }
        uint32_t item = (8u + hg__get_u16(p + off + 6) + 7u) & ~7u;
        bool more = hg__get_u16(p + off + 4) & 1;
        if (item > size - off) {
            return -1;
        }
        off += item;
        if (!more) {
            return (int)off;
        }
    }
}

/* EVENT_HEADER (0x50 + extended items): manifest and TraceLogging events. */
static int parse_event_header(const uint8_t *p, size_t avail, hg__etl_event_t *ev) {
    ev->cls = ETL_CLASS_GUID;
    ev->size = hg__get_u16(p);
    ev->has_ids = true;
    ev->tid = hg__get_u32(p + 8);
    ev->pid = hg__get_u32(p + 12);
    ev->ts = hg__get_u64(p + 16);
    ev->guid = p + 0x18;
    ev->version = p[0x2A];
    ev->opcode = p[0x2D];
    bool items = hg__get_u16(p + 4) & 1;
    if (ev->size < 0x50 || ev->size > avail) {
        return -1;
    }
    return items ? event_header_items(p, ev->size) : 0x50;
}

/* MESSAGE_TRACE_HEADER (WPP): Size @0, 8 bytes of header. */
static int parse_message(const uint8_t *p, hg__etl_event_t *ev) {
    ev->cls = ETL_CLASS_MESSAGE;
    ev->type = 0x0F;
    ev->size = hg__get_u16(p);
    return 8;
}

/* The header's length by type (byte 2), or -1 for a type ETL files do not use. */
static int parse_typed(const uint8_t *p, size_t avail, hg__etl_event_t *ev) {
    switch (ev->type) {
    case 0x01:
    case 0x02: /* SYSTEM32/64 */
        return parse_system(p, 0x20, ev);
    case 0x03:
    case 0x04: /* COMPACT32/64 */
        return parse_system(p, 0x18, ev);
    case 0x0A:
    case 0x14: /* FULL_HEADER32/64 */
        return parse_full(p, 0x30, ev);
    case 0x0B:
    case 0x15: /* INSTANCE32/64 */
        return parse_full(p, 0x48, ev);
    case 0x10:
    case 0x11: /* PERFINFO32/64 */
        return parse_perfinfo(p, ev);
    case 0x12:
    case 0x13: /* EVENT_HEADER32/64 */
        return parse_event_header(p, avail, ev);
    default:
        return -1;
    }
}

static uint8_t pointer_size_of(uint8_t type) {
    switch (type) {
    case 0x02:
    case 0x04:
    case 0x11:
    case 0x13:
    case 0x14:
    case 0x15:
        return 8;
    default:
        return 4;
    }
}

/* Bytes of the fixed header, which must be present before it is read (0: unknown type). */
static uint32_t min_header(uint8_t type) {
    switch (type) {
    case 0x01:
    case 0x02:
        return 0x20;
    case 0x03:
    case 0x04:
        return 0x18;
    case 0x0A:
    case 0x14:
        return 0x30;
    case 0x0B:
    case 0x15:
        return 0x48;
    case 0x10:
    case 0x11:
        return 0x10;
    case 0x12:
    case 0x13:
        return 0x50;
    default:
        return 0;
    }
}

static int parse_header(const uint8_t *p, size_t avail, hg__etl_event_t *ev, const char **why) {
    uint8_t flags = p[3];
    if (!(flags & FLAG_TRACE_HEADER)) {
        *why = "event header without the trace-header flag (0x80 in byte 3)";
        return -1;
    }
    if (!(flags & FLAG_EVENT_TRACE)) {
        if ((flags & FLAG_MESSAGE) && avail >= 8) {
            return parse_message(p, ev);
        }
        *why = flags & FLAG_MESSAGE
                   ? "message header runs past the end of the buffer's data"
                   : "event header with neither the event-trace nor the message flag";
        return -1;
    }
    ev->type = p[2];
    ev->ptr = pointer_size_of(ev->type);
    if (min_header(ev->type) && avail < min_header(ev->type)) {
        *why = "event header runs past the end of the buffer's data";
        return -1;
    }
    int hdr = parse_typed(p, avail, ev);
    if (hdr < 0 && min_header(ev->type) == 0) {
        *why = ev->type >= 0x0C && ev->type <= 0x0E ? "unused event header type (0x0C-0x0E)"
                                                    : "unknown event header type";
    }
    return hdr;
}

int hg__etl_parse_event(const uint8_t *p, size_t avail, hg__etl_event_t *ev, const char **why) {
    if (avail < 4 || hg__get_u32(p) == 0xFFFFFFFFu) {
        return 0;
    }
    *ev = (hg__etl_event_t){0};
    *why = NULL;
    int hdr = parse_header(p, avail, ev, why);
    if (hdr < 0) {
        *why = *why ? *why
                    : "event size smaller than its header or past the buffer's data, or extended "
                      "data items past the event";
        return -1;
    }
    if ((uint32_t)hdr > ev->size || ev->size > avail) {
        *why = ev->size > avail ? "event size runs past the end of the buffer's data"
                                : "event size smaller than its header";
        return -1;
    }
    ev->data = p + hdr;
    ev->data_len = ev->size - (uint32_t)hdr;
    return 1;
}
