/* etl_heap.c - heap provider events (HookId 0x1020-0x102E, docs/etw-format.md §2.2) turned into
 * hg_event_t. The payloads are packed structs of pointer-sized fields (P = 4 or 8, from the
 * event's header type, §1.5) and a 32-bit Source (§2.3):
 *
 *   Create   HeapHandle, Flags                                       (newer: more sizes)
 *   Alloc    HeapHandle, Size, Address, Source
 *   ReAlloc  HeapHandle, NewAddress, OldAddress, NewSize, OldSize, Source
 *   Destroy  HeapHandle
 *   Free     HeapHandle, Address, Source
 *
 * Longer payloads (newer versions) are accepted; shorter ones are damage. Expand, snapshot,
 * contract, lock, unlock, validate and walk events say nothing about blocks and are skipped. A
 * moving realloc that also comes as an alloc/free pair is the tracker's to recognise. */
#include "etl_priv.h"

enum {
    HOOK_CREATE = 0x1020,
    HOOK_ALLOC = 0x1021,
    HOOK_REALLOC = 0x1022,
    HOOK_DESTROY = 0x1023,
    HOOK_FREE = 0x1024,
};

/* Minimal payload length: pointer fields, then 4 bytes when a u32 follows. */
static uint32_t min_len(uint16_t hook, unsigned p) {
    switch (hook) {
    case HOOK_CREATE:
        return p + 4;
    case HOOK_ALLOC:
        return 3 * p + 4;
    case HOOK_REALLOC:
        return 5 * p + 4;
    case HOOK_DESTROY:
        return p;
    case HOOK_FREE:
        return 2 * p + 4;
    default:
        return 0;
    }
}

static void decode_alloc(const uint8_t *d, unsigned p, hg_event_t *ev) {
    ev->kind = HG_EV_ALLOC;
    ev->size = hg__get_ptr(d + p, p);
    ev->addr = hg__get_ptr(d + 2 * p, p);
    ev->source = (uint8_t)hg__get_u32(d + 3 * p);
}

static void decode_realloc(const uint8_t *d, unsigned p, hg_event_t *ev) {
    ev->kind = HG_EV_REALLOC;
    ev->addr = hg__get_ptr(d + p, p);
    ev->old_addr = hg__get_ptr(d + 2 * p, p);
    ev->size = hg__get_ptr(d + 3 * p, p);
    ev->old_size = hg__get_ptr(d + 4 * p, p);
    ev->flags = HG_EVF_OLD_SIZE;
    ev->source = (uint8_t)hg__get_u32(d + 5 * p);
}

static void decode_free(const uint8_t *d, unsigned p, hg_event_t *ev) {
    ev->kind = HG_EV_FREE;
    ev->addr = hg__get_ptr(d + p, p);
    ev->source = (uint8_t)hg__get_u32(d + 2 * p);
}

/* Source values above 255 would not fit hg_event_t.source: keep them out of range. */
static void clamp_source(const uint8_t *d, uint32_t at, hg_event_t *ev) {
    if (hg__get_u32(d + at) > 255) {
        ev->source = 255;
    }
}

int hg__etl_heap_decode(const hg__etl_event_t *e, hg_event_t *ev, const char **why) {
    unsigned p = e->ptr;
    uint32_t need = min_len(e->hook, p);
    if (need == 0) {
        return 0;
    }
    if (e->data_len < need) {
        *why = "heap event payload shorter than its layout (docs/etw-format.md §2.3)";
        return -1;
    }
    const uint8_t *d = e->data;
    ev->heap = hg__get_ptr(d, p);
    switch (e->hook) {
    case HOOK_ALLOC:
        decode_alloc(d, p, ev);
        clamp_source(d, 3 * p, ev);
        break;
    case HOOK_REALLOC:
        decode_realloc(d, p, ev);
        clamp_source(d, 5 * p, ev);
        break;
    case HOOK_FREE:
        decode_free(d, p, ev);
        clamp_source(d, 2 * p, ev);
        break;
    default:
        ev->kind = e->hook == HOOK_CREATE ? HG_EV_HEAP_CREATE : HG_EV_HEAP_DESTROY;
    }
    return 1;
}
