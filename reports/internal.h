/* internal.h - what the report writers share and nothing outside reports/ may use: noting a
 * failure on an output, UTF-8 decoding and JSON string escaping (JSON, SARIF and HTML writers
 * all need it). Names are hg__report_*; the public API is report.h. */
#ifndef HG_REPORTS_INTERNAL_H
#define HG_REPORTS_INTERNAL_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records a failure that is not a failed write (HG_ENOMEM while a writer formatted something)
 * so hg_out_commit reports it and leaves nothing under the final name. The first failure
 * wins; later writes to o are dropped. */
void hg__report_out_fail(hg_out_t *o, int code);
/* Whether anything written to o has failed so far (writers may stop early). */
bool hg__report_out_failed(const hg_out_t *o);

/* Decodes the UTF-8 sequence at p (NUL-terminated string): returns its length 1..4 and sets
 * *cp, or returns 0 when the bytes at p are not valid UTF-8 (overlong forms, surrogates, code
 * points above U+10FFFF, a truncated sequence). Never reads past a NUL. */
size_t hg__report_utf8_decode(const unsigned char *p, uint32_t *cp);

/* Writes s as a JSON string literal, quotes included: '"' and '\' escaped, control characters
 * (and DEL) as \u00XX, each byte that is not part of valid UTF-8 as \ufffd. NULL writes null. */
void hg__report_json_string(hg_out_t *o, const char *s);

/* Points zs's allocator at heapgate's counted allocator (out.c; gzip and pprof output). */
struct z_stream_s;
void hg__report_zlib_alloc(struct z_stream_s *zs);

/* ---- shared by the writers of issue 5 (html_escape.c, pprof_intern.c) --------------------- */

/* Writes s as XML/HTML character data (attr false) or as a quoted attribute's value (attr true):
 * & < > " ' as references; what XML 1.0 forbids or a reader could be fooled by (C0 controls
 * other than tab, newline and CR; DEL; C1 controls; bidirectional overrides; U+FFFE, U+FFFF) and
 * every byte that is not valid UTF-8 as U+FFFD. In attributes tab, newline and CR become
 * character references so attribute-value normalization keeps them. NULL writes nothing. */
void hg__report_xml_escape(hg_out_t *o, const char *s, bool attr);

/* A hash table that interns byte strings: each distinct key gets the next index from 0. Keys are
 * copied into the table. Used for pprof's string table and ids and the HTML icicle's nodes. */
typedef struct hg__intern {
    uint64_t *hashes; /* per slot: hash | 1, 0 when empty */
    size_t *slots;    /* per slot: key index */
    size_t nslots;    /* power of two */
    size_t *offsets;  /* per key: offset into keys, and [n] = end */
    size_t n, cap;    /* keys interned, capacity of offsets - 1 */
    hg_buf_t keys;    /* the key bytes, back to back */
} hg__intern_t;

void hg__intern_init(hg__intern_t *t);
void hg__intern_free(hg__intern_t *t);
/* The index of key (len bytes): an existing one, or a new one (*added set). SIZE_MAX when out of
 * memory (the table is unchanged then). */
size_t hg__intern(hg__intern_t *t, const void *key, size_t len, bool *added);
/* Key i's bytes (not NUL-terminated in general) and length. */
const char *hg__intern_key(const hg__intern_t *t, size_t i, size_t *len);

/* Which sites the gate failed (junit.c): a site fails when a failing check names it, or when a
 * total leak threshold (a check named max-leaked-*) failed and the site leaked unsuppressed.
 * Built once per writer; lookups are binary searches. */
typedef struct hg__gate_index {
    const char **sites; /* ids named by failing checks, sorted */
    size_t n;
    bool totals_failed;
} hg__gate_index_t;

int hg__gate_index_build(hg__gate_index_t *g, const hg_report_t *r); /* 0 or HG_ENOMEM */
bool hg__gate_index_failed(const hg__gate_index_t *g, const hg_rsite_t *s);
void hg__gate_index_free(hg__gate_index_t *g);

/* The frame a leak is shown at (sarif.c): the first frame, innermost first, that has a source
 * file and is not a known C/C++ allocation entry point; NULL when there is none (or s is NULL). */
const hg_rframe_t *hg__report_source_frame(const hg_rsite_t *s);

#endif
