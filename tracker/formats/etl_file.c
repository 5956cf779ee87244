/* etl_file.c - an ETL file's buffers (docs/etw-format.md §1.1-§1.4) and their merge into one
 * stream of events in time order.
 *
 * A file is a sequence of buffers, each a 0x48-byte WMI_BUFFER_HEADER and events; BufferSize
 * leads to the next buffer, SavedOffset says how many bytes are valid (for a compressed buffer:
 * how many the decompressed buffer has). Buffers belong to one processor each; within a buffer
 * events are in time order, and a processor's buffers follow their SequenceNumber.
 *
 * Opening reads every buffer header once (seeking from header to header) into an index of
 * (offset, sequence, size, processor): 24 bytes per buffer, the only memory that grows with the
 * file. The index is sorted by processor and sequence; each processor gets a cursor holding one
 * decompressed buffer, and a binary heap of cursors ordered by their next event's timestamp
 * yields events in time order. Memory is one buffer per processor plus the index.
 *
 * A buffer whose header or body goes past the end of the file ends the index: the file was cut
 * short, everything before it is read and the file says truncated. Impossible sizes, unknown
 * compression and bad events in data that is present are damage (HG_EFORMAT). */
#include "etl_priv.h"
#include "lz77.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SAVED_OFFSET 0x04
#define BUF_SEQUENCE     0x18
#define BUF_PROCESSOR    0x28
#define BUF_STATE        0x2C
#define BUF_FLAG         0x34
#define BUF_TYPE         0x36
#define FLAG_COMPRESSED  0x0040u
#define TYPE_HEADER      4
#define PROCESSOR_MASK   0x07FFu     /* ETW_PROCESSOR_INDEX_MASK, §1.2 */
#define FORMAT_LZ77      3           /* COMPRESSION_FORMAT_XPRESS, §1.3 */
#define MAX_BUFFER_BYTES (64u << 20) /* far above ETW's largest buffers */

static int damage(hg__etl_file_t *f, uint64_t off, const char *what) {
    return hg_error_set(f->err, HG_EFORMAT, "%s: offset %llu: %s", f->name, (unsigned long long)off,
                        what);
}

static int read_at(hg__etl_file_t *f, uint64_t off, void *buf, size_t n, size_t *got) {
    *got = 0;
    if (fseeko(f->fp, (off_t)off, SEEK_SET) != 0) {
        return hg_error_set(f->err, HG_EIO, "%s: offset %llu: cannot seek: %s", f->name,
                            (unsigned long long)off, strerror(errno));
    }
    *got = fread(buf, 1, n, f->fp);
    if (*got < n && ferror(f->fp)) {
        return hg_error_set(f->err, HG_EIO, "%s: offset %llu: cannot read: %s", f->name,
                            (unsigned long long)off, strerror(errno));
    }
    return 0;
}

static void cut_short(hg__etl_file_t *f, uint64_t off, const char *what) {
    f->truncated = true;
    snprintf(f->warning, sizeof f->warning,
             "%s: cut short at offset %llu (%s); read up to the last whole buffer", f->name,
             (unsigned long long)off, what);
}

/* ---- the index ---------------------------------------------------------------------------- */

/* Checks one buffer header at off; *whole is false when the buffer goes past the file's end. */
static int check_buffer(hg__etl_file_t *f, uint64_t off, const uint8_t *h, bool *whole) {
    uint32_t size = hg__get_u32(h), saved = hg__get_u32(h + BUF_SAVED_OFFSET);
    bool compressed = hg__get_u16(h + BUF_FLAG) & FLAG_COMPRESSED;
    char what[160];
    if (size < ETL_BUFFER_HEADER_BYTES || size > MAX_BUFFER_BYTES) {
        return damage(f, off, "buffer size (BufferSize) smaller than its header or above 64 MiB");
    }
    if (saved < ETL_BUFFER_HEADER_BYTES || saved > (compressed ? MAX_BUFFER_BYTES : size)) {
        return damage(
            f, off + BUF_SAVED_OFFSET,
            "valid bytes (SavedOffset) smaller than the buffer header or past the buffer");
    }
    if (compressed && f->compression != FORMAT_LZ77) {
        snprintf(what, sizeof what,
                 "compressed buffer in compression format %u; only format 3 (MS-XCA plain "
                 "LZ77) is supported",
                 f->compression);
        return damage(f, off + BUF_FLAG, what);
    }
    *whole = off + size <= f->size;
    return 0;
}

static int add_ix(hg__etl_file_t *f, uint64_t off, const uint8_t *h, size_t *cap) {
    if (f->nix == *cap) {
        size_t n = *cap ? *cap * 2 : 256;
        hg__etl_buf_ix_t *v = hg_realloc(f->ix, n * sizeof *v);
        if (!v) {
            return hg_error_set(f->err, HG_ENOMEM, "%s: out of memory for the buffer index",
                                f->name);
        }
        f->ix = v;
        *cap = n;
    }
    f->ix[f->nix++] = (hg__etl_buf_ix_t){.off = off,
                                         .seq = hg__get_u64(h + BUF_SEQUENCE),
                                         .size = hg__get_u32(h),
                                         .cpu = hg__get_u16(h + BUF_PROCESSOR) & PROCESSOR_MASK,
                                         .compressed = hg__get_u16(h + BUF_FLAG) & FLAG_COMPRESSED};
    return 0;
}

static int build_index(hg__etl_file_t *f) {
    uint8_t h[ETL_BUFFER_HEADER_BYTES];
    size_t cap = 0, got;
    uint64_t off = 0;
    int rc = 0;
    while (rc == 0 && off < f->size) {
        bool whole = true;
        if ((rc = read_at(f, off, h, sizeof h, &got)) != 0) {
            break;
        }
        if (got < sizeof h) {
            cut_short(f, off + got, "in a buffer header");
            break;
        }
        if ((rc = check_buffer(f, off, h, &whole)) != 0 || !whole) {
            if (rc == 0) {
                cut_short(f, f->size, "in the last buffer");
            }
            break;
        }
        rc = add_ix(f, off, h, &cap);
        off += hg__get_u32(h);
    }
    f->end = off;
    return rc;
}

static int by_cpu_then_seq(const void *a, const void *b) {
    const hg__etl_buf_ix_t *x = a, *y = b;
    if (x->cpu != y->cpu) {
        return x->cpu < y->cpu ? -1 : 1;
    }
    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }
    return x->off < y->off ? -1 : x->off > y->off;
}

/* ---- loading one buffer ------------------------------------------------------------------- */

static int grow(hg__etl_file_t *f, uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap) {
        return 0;
    }
    uint8_t *p = hg_realloc(*buf, need);
    if (!p) {
        return hg_error_set(f->err, HG_ENOMEM, "%s: out of memory for a %zu-byte buffer", f->name,
                            need);
    }
    *buf = p;
    *cap = need;
    return 0;
}

static int decompress(hg__etl_file_t *f, hg__etl_cursor_t *c, uint32_t size, uint32_t saved) {
    hg__lz77_error_t e;
    memcpy(c->data, f->scratch, ETL_BUFFER_HEADER_BYTES);
    if (hg__lz77_decompress(f->scratch + ETL_BUFFER_HEADER_BYTES, size - ETL_BUFFER_HEADER_BYTES,
                            c->data + ETL_BUFFER_HEADER_BYTES, saved - ETL_BUFFER_HEADER_BYTES,
                            &e) != 0) {
        char what[200];
        snprintf(what, sizeof what, "compressed buffer (LZ77): %s", e.why);
        return damage(f, c->buf_off + ETL_BUFFER_HEADER_BYTES + e.in_offset, what);
    }
    f->compressed_buffers++;
    return 0;
}

/* Reads len bytes at off into buf; the file held them when it was indexed. */
static int read_whole(hg__etl_file_t *f, uint64_t off, uint8_t *buf, size_t len) {
    size_t got;
    int rc = read_at(f, off, buf, len, &got);
    if (rc == 0 && got < len) {
        rc = damage(f, off + got, "file ended while reading a buffer it held when opened");
    }
    return rc;
}

/* A compressed buffer: read into the scratch buffer, decompressed into c. */
static int load_compressed(hg__etl_file_t *f, hg__etl_cursor_t *c, const hg__etl_buf_ix_t *ix) {
    int rc = grow(f, &f->scratch, &f->scratch_cap, ix->size);
    if (rc == 0) {
        rc = read_whole(f, ix->off, f->scratch, ix->size);
    }
    uint32_t saved = rc == 0 ? hg__get_u32(f->scratch + BUF_SAVED_OFFSET) : 0;
    if (rc == 0 && (saved < ETL_BUFFER_HEADER_BYTES || saved > MAX_BUFFER_BYTES)) {
        rc = damage(f, ix->off + BUF_SAVED_OFFSET, "SavedOffset changed since the file was opened");
    }
    if (rc == 0 && (rc = grow(f, &c->data, &c->cap, saved)) == 0) {
        rc = decompress(f, c, ix->size, saved);
    }
    c->len = saved;
    return rc;
}

/* Reads the buffer indexed at ix into cursor c (decompressing it when needed). */
static int load(hg__etl_file_t *f, hg__etl_cursor_t *c, const hg__etl_buf_ix_t *ix) {
    int rc;
    c->compressed = ix->compressed;
    c->buf_off = ix->off;
    if (ix->compressed) {
        rc = load_compressed(f, c, ix);
    } else if ((rc = grow(f, &c->data, &c->cap, ix->size)) == 0) {
        rc = read_whole(f, ix->off, c->data, ix->size);
        c->len = rc == 0 ? hg__get_u32(c->data + BUF_SAVED_OFFSET) : 0;
        if (rc == 0 && (c->len < ETL_BUFFER_HEADER_BYTES || c->len > ix->size)) {
            rc = damage(f, ix->off + BUF_SAVED_OFFSET,
                        "SavedOffset changed since the file was opened");
        }
    }
    c->pos = ETL_BUFFER_HEADER_BYTES;
    f->buffers++;
    f->bytes_loaded += ix->size;
    return rc;
}

/* ---- cursors ------------------------------------------------------------------------------ */

void hg__etl_file_where(const hg__etl_file_t *f, char *buf, size_t cap) {
    const hg__etl_cursor_t *c = f->nheap ? &f->cur[f->heap[0]] : NULL;
    if (!c) {
        snprintf(buf, cap, "offset %llu", (unsigned long long)f->end);
    } else if (c->compressed) {
        snprintf(buf, cap, "offset %llu (compressed buffer), decompressed byte %u",
                 (unsigned long long)c->buf_off, c->pos);
    } else {
        snprintf(buf, cap, "offset %llu", (unsigned long long)(c->buf_off + c->pos));
    }
}

static int bad_event(hg__etl_file_t *f, hg__etl_cursor_t *c, const char *why) {
    char what[200];
    snprintf(what, sizeof what, "%s (event at byte %u of the buffer at offset %llu)", why, c->pos,
             (unsigned long long)c->buf_off);
    return damage(f, c->compressed ? c->buf_off : c->buf_off + c->pos, what);
}

/* Moves c to its next event, loading its next buffer when this one is used up. Returns 1 when
 * c has an event, 0 when its processor has no more. */
static int cursor_fill(hg__etl_file_t *f, hg__etl_cursor_t *c) {
    for (;;) {
        if (c->data && c->pos < c->len) {
            const char *why;
            int rc = hg__etl_parse_event(c->data + c->pos, c->len - c->pos, &c->ev, &why);
            if (rc != 0) {
                return rc > 0 ? 1 : bad_event(f, c, why);
            }
        }
        if (c->next == c->count) {
            return 0;
        }
        int rc = load(f, c, &f->ix[c->first + c->next++]);
        if (rc != 0) {
            return rc;
        }
    }
}

static bool before(const hg__etl_file_t *f, uint32_t a, uint32_t b) {
    uint64_t ta = f->cur[a].ev.ts, tb = f->cur[b].ev.ts;
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(hg__etl_file_t *f, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < f->nheap && before(f, f->heap[l], f->heap[m])) {
            m = l;
        }
        if (r < f->nheap && before(f, f->heap[r], f->heap[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        uint32_t t = f->heap[i];
        f->heap[i] = f->heap[m];
        f->heap[m] = t;
        i = m;
    }
}

/* Advances the cursor at the top of the heap past the event handed out. */
static int advance_top(hg__etl_file_t *f) {
    hg__etl_cursor_t *c = &f->cur[f->heap[0]];
    c->pos += (c->ev.size + 7u) & ~7u; /* 8-byte alignment, §1.4 */
    f->events++;
    int rc = cursor_fill(f, c);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        f->heap[0] = f->heap[--f->nheap];
    }
    sift_down(f, 0);
    return 0;
}

int hg__etl_file_next(hg__etl_file_t *f, const hg__etl_event_t **ev) {
    if (f->popped) {
        f->popped = false;
        int rc = advance_top(f);
        if (rc != 0) {
            return rc;
        }
    }
    if (f->nheap == 0) {
        return 0;
    }
    f->popped = true;
    *ev = &f->cur[f->heap[0]].ev;
    return 1;
}

/* One cursor per processor over its run of the sorted index. */
static int make_cursors(hg__etl_file_t *f) {
    size_t n = 0;
    for (size_t i = 0; i < f->nix; i++) {
        n += i == 0 || f->ix[i].cpu != f->ix[i - 1].cpu;
    }
    f->cur = hg_calloc(n ? n : 1, sizeof *f->cur);
    f->heap = hg_calloc(n ? n : 1, sizeof *f->heap);
    if (!f->cur || !f->heap) {
        return hg_error_set(f->err, HG_ENOMEM, "%s: out of memory", f->name);
    }
    for (size_t i = 0; i < f->nix; i++) {
        if (i == 0 || f->ix[i].cpu != f->ix[i - 1].cpu) {
            f->cur[f->ncur++].first = i;
        }
        f->cur[f->ncur - 1].count++;
    }
    return 0;
}

static int start_cursors(hg__etl_file_t *f) {
    for (size_t i = 0; i < f->ncur; i++) {
        int rc = cursor_fill(f, &f->cur[i]);
        if (rc < 0) {
            return rc;
        }
        if (rc > 0) {
            f->heap[f->nheap++] = (uint32_t)i;
        }
    }
    for (size_t i = f->nheap / 2; i-- > 0;) {
        sift_down(f, i);
    }
    return 0;
}

/* ---- the first buffer --------------------------------------------------------------------- */

static int read_first(hg__etl_file_t *f) {
    uint8_t h[ETL_BUFFER_HEADER_BYTES];
    size_t got;
    int rc = read_at(f, 0, h, sizeof h, &got);
    if (rc != 0) {
        return rc;
    }
    if (got < sizeof h || hg__get_u16(h + BUF_TYPE) != TYPE_HEADER) {
        return damage(f, got < sizeof h ? got : BUF_TYPE,
                      "not an ETL file (expected a first buffer of type 4, HEADER)");
    }
    if (hg__get_u16(h + BUF_FLAG) & FLAG_COMPRESSED) {
        return damage(f, BUF_FLAG, "the first (header) buffer is compressed");
    }
    f->compression = (uint16_t)hg__get_u32(h + BUF_STATE);
    uint32_t saved = hg__get_u32(h + BUF_SAVED_OFFSET);
    if (saved < sizeof h || saved > hg__get_u32(h) || saved > f->size) {
        return saved > f->size && saved <= hg__get_u32(h)
                   ? damage(f, f->size, "file ends inside its first buffer")
                   : damage(f, BUF_SAVED_OFFSET, "first buffer's SavedOffset is impossible");
    }
    size_t cap = 0;
    if ((rc = grow(f, &f->first, &cap, saved)) != 0) {
        return rc;
    }
    f->first_len = saved;
    return read_at(f, 0, f->first, saved, &got);
}

int hg__etl_file_open(hg__etl_file_t *f, FILE *fp, const char *name, uint64_t size,
                      hg_error_t *err) {
    memset(f, 0, sizeof *f);
    f->fp = fp;
    f->name = name;
    f->size = size;
    f->err = err;
    int rc = read_first(f);
    if (rc == 0) {
        rc = build_index(f);
    }
    if (rc == 0) {
        qsort(f->ix, f->nix, sizeof *f->ix, by_cpu_then_seq);
        rc = make_cursors(f);
    }
    return rc == 0 ? start_cursors(f) : rc;
}

void hg__etl_file_close(hg__etl_file_t *f) {
    for (size_t i = 0; i < f->ncur; i++) {
        hg_free(f->cur[i].data);
    }
    hg_free(f->cur);
    hg_free(f->heap);
    hg_free(f->ix);
    hg_free(f->scratch);
    hg_free(f->first);
    memset(f, 0, sizeof *f);
}
