/* pprof_priv.h - protocol buffer wire encoding for the pprof writer; private to
 * reports/pprof*.c. Only what profile.proto needs: varints (wire type 0) and length-delimited
 * fields (wire type 2), written into growable buffers. */
#ifndef HG_REPORTS_PPROF_PRIV_H
#define HG_REPORTS_PPROF_PRIV_H

#include "internal.h"

/* A varint field (wire type 0). Zero is the proto3 default and is left out. */
void hg__pb_uint(hg_buf_t *b, unsigned field, uint64_t v);
/* A length-delimited field (wire type 2): a string, bytes or an embedded message. Written even
 * when empty (string_table[0] is ""). */
void hg__pb_bytes(hg_buf_t *b, unsigned field, const void *data, size_t n);
/* A packed repeated varint field (wire type 2 holding varints); nothing when n is 0. */
void hg__pb_packed(hg_buf_t *b, unsigned field, const uint64_t *v, size_t n, hg_buf_t *scratch);
/* Compresses data as one gzip member (RFC 1952, through zlib's deflate, mtime 0) into o. */
void hg__pb_gzip(hg_out_t *o, const void *data, size_t n);

#endif
