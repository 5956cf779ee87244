/* formats.h - readers that turn trace files into the hg_event stream (tracker.h), the format
 * detector, and the writer of heapgate's native trace format (.hgt).
 *
 * Formats are recognised from the first bytes of the content, never from the file name. Every
 * reader reports bad input as HG_EFORMAT with a message naming the file and the byte offset or
 * line (and column) and what was expected; a file cut short is not an error: it is read up to
 * its last whole unit and hg_read_result_t.truncated says so. */
#ifndef HG_FORMATS_H
#define HG_FORMATS_H

#include "tracker.h"

#include <stdio.h>

typedef enum hg_format {
    HG_FMT_UNKNOWN = 0,
    HG_FMT_HGT,   /* heapgate native trace (docs/hgt-format.md) */
    HG_FMT_TEXT,  /* line-oriented text events (docs/text-format.md) */
    HG_FMT_ETL,   /* Windows ETW trace */
    HG_FMT_XPERF, /* xperf -a dumper text */
} hg_format_t;

/* Bytes of the file's start that hg_format_detect wants to see (fewer is fine at EOF). */
#define HG_DETECT_BYTES 4096

/* The format of a file starting with head[0..n). */
hg_format_t hg_format_detect(const uint8_t *head, size_t n);
const char *hg_format_name(hg_format_t fmt);

typedef struct hg_read_options {
    /* Called now and then with the bytes consumed so far and the total (0 when unknown). */
    void (*progress)(void *ud, uint64_t bytes_done, uint64_t bytes_total);
    void *progress_ud;
    /* Frames the input names itself (xperf dumps made with -symbols): the return address addr
     * in process pid is module!function (function NULL: unresolved). Called once per (pid,
     * addr), before the events using it are delivered. Returns 0, or a negative HG_E... code
     * that stops the reader. NULL: not interested. */
    int (*symbol)(void *ud, uint32_t pid, uint64_t addr, const char *module, const char *function);
    void *symbol_ud;
} hg_read_options_t;

typedef struct hg_read_result {
    hg_format_t format;
    bool truncated;    /* input ended before its last unit was whole */
    char warning[512]; /* when truncated: file, offset and what was cut */
    uint64_t bytes_read;
} hg_read_result_t;

/* Reads the file at path, detecting its format, and delivers it to sink. Returns 0 (check
 * res->truncated), HG_EIO or HG_EFORMAT (err names the file and offset or line), or the first
 * nonzero value a sink callback returned. opt may be NULL. */
int hg_read_file(const char *path, hg_sink_t sink, const hg_read_options_t *opt,
                 hg_read_result_t *res, hg_error_t *err);

/* Per-format readers on an open stream. name is used in messages only; size_bytes is the
 * stream's total size when known (progress), else 0. Same results as hg_read_file. */
int hg_hgt_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err);
int hg_text_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                 const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err);
/* Windows ETW trace (docs/etl-reader.md). fp must be seekable. */
int hg_etl_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err);
/* `xperf -a dumper` text dump (docs/etl-reader.md); named frames go to opt->symbol. */
int hg_xperf_read(FILE *fp, const char *name, uint64_t size_bytes, hg_sink_t sink,
                  const hg_read_options_t *opt, hg_read_result_t *res, hg_error_t *err);

/* ---- .hgt push reader (live streams) ----------------------------------------------------- */

/* Reads a .hgt stream that arrives in pieces (hgt_push.c): bytes are pushed as they come and
 * every chunk that becomes whole is delivered to the sink at once. Same checks and messages as
 * hg_hgt_read; name is used in messages. */
typedef struct hg_hgt_push hg_hgt_push_t;

/* A new push reader, or NULL when out of memory. */
hg_hgt_push_t *hg_hgt_push_new(const char *name, hg_sink_t sink);
void hg_hgt_push_free(hg_hgt_push_t *p);
/* Takes n more bytes and decodes the chunks they complete. Returns 0; HG_EFORMAT or HG_ENOMEM
 * with err set (sticky: later calls return it again); or the nonzero value a sink callback
 * returned. err may be NULL. */
int hg_hgt_push_feed(hg_hgt_push_t *p, const void *data, size_t n, hg_error_t *err);
/* The stream ended: 0 with res->truncated (and a warning) when it was cut short before its END
 * record, or the error an earlier feed returned. */
int hg_hgt_push_end(hg_hgt_push_t *p, hg_read_result_t *res, hg_error_t *err);
/* Whether the END record has been decoded. */
bool hg_hgt_push_ended(const hg_hgt_push_t *p);
/* Bytes of the stream consumed so far (whole units). */
uint64_t hg_hgt_push_offset(const hg_hgt_push_t *p);

/* ---- .hgt writer ------------------------------------------------------------------------- */

typedef struct hg_hgt_writer hg_hgt_writer_t;

typedef struct hg_hgt_write_options {
    int compression_level; /* zlib level 0-9; -1 = default (1: fast) */
    uint32_t chunk_bytes;  /* uncompressed bytes per chunk (default 1 MiB) */
    bool stored;           /* write chunks uncompressed (method 0: streams, not files) */
} hg_hgt_write_options_t;

void hg_hgt_write_options_init(hg_hgt_write_options_t *opt);

/* Opens a writer on path: data goes to a temporary file beside it, renamed over path by a
 * successful hg_hgt_writer_close, removed by hg_hgt_writer_abort. Returns NULL with err set on
 * failure. opt may be NULL. */
hg_hgt_writer_t *hg_hgt_writer_open(const char *path, const hg_hgt_write_options_t *opt,
                                    hg_error_t *err);
/* Opens a writer on a stream the caller owns (a pipe, a socket, stdout). Close flushes but
 * does not close fp. */
hg_hgt_writer_t *hg_hgt_writer_open_stream(FILE *fp, const char *name,
                                           const hg_hgt_write_options_t *opt, hg_error_t *err);
/* The sink that writes into the file; valid until close or abort. Its callbacks fail with
 * HG_EIO or HG_ENOMEM, HG_EUSAGE for an event kind outside 1..HG_EV_KIND_MAX or a stack id 0,
 * HG_ELIMIT for a build-id over 64 bytes (details from hg_hgt_writer_error). */
hg_sink_t hg_hgt_writer_sink(hg_hgt_writer_t *w);
/* Writes what is buffered as a whole chunk now (streams: so the reader sees it). */
int hg_hgt_writer_flush(hg_hgt_writer_t *w, hg_error_t *err);
/* Writes the last chunk and the end marker, then renames (file writers). Frees w. */
int hg_hgt_writer_close(hg_hgt_writer_t *w, hg_error_t *err);
/* Drops everything written (the temporary file is removed). Frees w. */
void hg_hgt_writer_abort(hg_hgt_writer_t *w);
const hg_error_t *hg_hgt_writer_error(const hg_hgt_writer_t *w);

#endif
