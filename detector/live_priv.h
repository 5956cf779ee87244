/* live_priv.h - private to detector/live*.c: the session's state. live.c owns the socket, the
 * signals and the loop; live_sink.c turns each connection's records into the session's
 * tracker, symbolizer and --save writer; live_report.c writes snapshots and the final report. */
#ifndef HG_DETECTOR_LIVE_PRIV_H
#define HG_DETECTOR_LIVE_PRIV_H

#include "live.h"

#include <Judy.h>
#include <signal.h>

/* What the session knows of one process (pid), across its connections. Agent stack ids are
 * per process: they map to the session's ids, interned by frames (so a site keeps one id when
 * a child or a new connection sends the same stack again). */
typedef struct hg_live_pid {
    uint32_t pid;
    uint32_t *stack_map; /* agent id -> session id (0: never defined) */
    uint32_t stack_cap;
    Pvoid_t born;    /* attach: Judy1 of addresses allocated since attaching */
    Pvoid_t modules; /* JudyL: bases of the loaded modules of the current image */
    uint64_t last_ts_ns;
    uint32_t open_conns;
    bool end_seen;    /* a PROCESS_END went to the tracker */
    bool stream_done; /* its latest connection ended with the END record */
    bool exited;      /* heapgate knows it is gone */
} hg_live_pid_t;

/* One agent connection. */
typedef struct hg_live_conn {
    struct hg_live *lv;
    int fd;
    hg_hgt_push_t *push;
    hg_live_pid_t *ps; /* from its PROCESS record */
    char name[64];     /* for messages: "agent stream 3" then "agent stream of pid N" */
} hg_live_conn_t;

struct hg_live {
    hg_live_opts_t o;
    hg_tracker_t *t;
    hg_symbolizer_t *sym;
    hg_stack_interner_t *stacks;
    hg_hgt_writer_t *save;
    int listen_fd, sig_fd, timer_fd;
    sigset_t old_mask;
    char sock_name[64];
    char config[640];
    uint64_t t0_mono_ns, wall0_ns;
    hg_live_conn_t **conns;
    size_t nconns, capconns, seen_conns;
    Pvoid_t pids; /* JudyL pid -> hg_live_pid_t* */
    hg_live_pid_t *last_ps;
    bool trace_set;
    uint64_t pre_attach_frees;
    unsigned snapshots;
    pid_t snapshot_child;
    uint8_t *rbuf;
    size_t rbuf_cap;
};

/* live_sink.c */
hg_sink_t hg__live_conn_sink(hg_live_conn_t *c);
hg_live_pid_t *hg__live_pid(struct hg_live *lv, uint32_t pid);
void hg__live_pids_free(struct hg_live *lv);
/* Records the end of every process known to be gone whose agent could not say so; marks the
 * trace cut short where a stream ended without its END record. */
int hg__live_settle(struct hg_live *lv);

/* live_report.c */
int hg__live_snapshot(struct hg_live *lv);
void hg__live_reap_snapshot(struct hg_live *lv);
/* Path for snapshot n of an output: "r.json" -> "r.snapshot-3.json" (".gz" kept last). */
char *hg__live_snapshot_path(const char *path, unsigned n);

#endif
