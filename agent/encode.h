/* encode.h - private to agent/: the chunk builders of encode.c (docs/hgt-format.md §4-§5) and
 * the records they take. */
#ifndef HG_AGENT_ENCODE_H
#define HG_AGENT_ENCODE_H

#include "agent.h"

#define HG__STREAMS           7
#define HG__MAIN_STREAM_BYTES (128u << 10)
#define HG__PRE_STREAM_BYTES  (16u << 10)
#define HG__EVENT_MAX         32 /* most bytes one event adds to one stream */
#define HG__SIZE_CACHE        256
#define HG__MAX_STRING        4096u /* the agent's own cut; the format allows 65535 */

enum { HG__S_TAGS, HG__S_TIMES, HG__S_CONTEXT, HG__S_ADDRS, HG__S_SIZES, HG__S_STACKS, HG__S_META };

/* One chunk being built: its streams and the per-chunk coding state (§5.4). */
typedef struct hg__chunk {
    uint8_t *s[HG__STREAMS];
    uint32_t len[HG__STREAMS], cap[HG__STREAMS];
    uint32_t records;
    uint64_t ts, addr, heap;
    uint32_t pid, tid;
    uint16_t flags;
    uint64_t size_cache[HG__SIZE_CACHE];
    uint8_t header[32];
    uint8_t table[1 + HG__STREAMS * 5];
} hg__chunk_t;

typedef struct hg__proc {
    uint32_t pid, ppid;
    const char *name, *cmdline;
    bool glibc;
} hg__proc_t;

typedef struct hg__mod_rec {
    uint32_t pid;
    bool unload;
    uint64_t base, size, ts_ns;
    const char *path;
    const uint8_t *build_id;
    uint32_t build_id_len;
} hg__mod_rec_t;

extern hg__chunk_t hg__main_chunk, hg__pre_chunk;

void hg__chunks_init(void);
void hg__chunk_clear(hg__chunk_t *c);
bool hg__chunk_empty(const hg__chunk_t *c);
/* Whether one more event and a metadata body of up to meta_bytes fit. */
bool hg__chunk_room(const hg__chunk_t *c, size_t meta_bytes);
void hg__chunk_event(hg__chunk_t *c, const hg__ev_t *ev);
void hg__chunk_trace(hg__chunk_t *c, uint64_t wall0_ns);
void hg__chunk_process(hg__chunk_t *c, const hg__proc_t *p);
void hg__chunk_module(hg__chunk_t *c, const hg__mod_rec_t *m);
void hg__chunk_stack(hg__chunk_t *c, uint32_t id, const uint64_t *frames, uint32_t n);
void hg__chunk_stats(hg__chunk_t *c, uint32_t pid, uint64_t ts_ns, const uint64_t v[5]);
/* The END record: counts every record of the stream before it. */
void hg__chunk_end(hg__chunk_t *c);

/* A new stream (connection): sequence numbers and the END count start again. */
void hg__stream_reset(void);
void hg__stream_file_header(uint8_t out[20]);
/* Fills iov (at most 2 + HG__STREAMS entries) with the chunk ready to send; 0 when empty. */
int hg__chunk_iov(hg__chunk_t *c, struct iovec *iov);
/* The chunk was sent: the stream counts it, the builder starts a new chunk. */
void hg__chunk_sent(hg__chunk_t *c);

#endif
