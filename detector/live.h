/* live.h - private to detector/: a live tracing session, shared by `heapgate run` (run.c) and
 * `heapgate attach` (attach.c).
 *
 * A session listens on a Unix socket for the agents' connections (one per traced process
 * image, docs/agent-stream.md), reads their .hgt streams side by side with the push reader,
 * and feeds one tracker and one symbolizer as the program runs, optionally saving everything
 * to a .hgt file. It writes snapshot reports on request (SIGUSR1 to heapgate, or a period) and
 * the final report when the command says the program is done. */
#ifndef HG_DETECTOR_LIVE_H
#define HG_DETECTOR_LIVE_H

#include "detector_priv.h"

#include <sys/types.h>

typedef struct hg_live_opts {
    hg_analyze_opts_t analyze;
    const char *save_path;      /* --save: the .hgt to keep; NULL for none */
    uint32_t depth;             /* --depth: frames per stack (default 32) */
    bool use_fp;                /* --unwind=fp */
    bool follow;                /* --follow-children */
    bool exit_status_program;   /* --exit-status program */
    uint64_t snapshot_every_ns; /* --snapshot-every; 0 = none */
    uint64_t duration_ns;       /* attach --duration; 0 = until the process ends or Ctrl-C */
    bool attach;                /* attached, not traced from the start */
    const char *input_name;     /* how the report names the input ("PROG", "pid 1234") */
} hg_live_opts_t;

void hg__live_opts_init(hg_live_opts_t *o);
/* Applies one run/attach option (long name without "--"): 1 when not one of them, 0 when
 * applied, HG_EUSAGE with err set. Analyze options are tried too. */
int hg__live_opt(hg_live_opts_t *o, const char *name, const char *arg, hg_error_t *err);
int hg__live_opt_arity(const char *name);

typedef struct hg_live hg_live_t;

/* Opens a session (listening socket, tracker, symbolizer, --save writer, signal handling:
 * SIGCHLD, SIGUSR1, SIGINT, SIGTERM, SIGHUP are blocked and read by the session). NULL with
 * err set on failure. */
hg_live_t *hg__live_open(const hg_live_opts_t *o, hg_error_t *err);
void hg__live_close(hg_live_t *lv);
/* The agent's configuration for this session (HEAPGATE_AGENT, or hg_agent_attach's argument). */
const char *hg__live_agent_config(const hg_live_t *lv);
/* The path of libheapgate-agent.so: $HEAPGATE_AGENT_LIB, else beside the heapgate binary (or
 * in ../lib/heapgate). */
int hg__live_agent_path(char *buf, size_t cap, hg_error_t *err);
/* The signal mask the traced program must get back (heapgate's mask before the session). */
const sigset_t *hg__live_old_sigmask(const hg_live_t *lv);

/* Bits of hg__live_poll's *signals. */
#define HG_LIVE_SIGCHLD 0x1u
#define HG_LIVE_SIGINT  0x2u /* SIGINT, SIGTERM or SIGHUP */
#define HG_LIVE_FORWARD 0x4u /* ... sent by a process, not by the terminal: pass it on */

/* One round: accepts connections, reads what the agents sent, takes snapshots that are due,
 * collects signals (bits above; the last stop signal in *stop_sig). Waits up to timeout_ms
 * (-1: until something happens). Returns 0, or an error (a damaged stream) with err set. */
int hg__live_poll(hg_live_t *lv, int timeout_ms, unsigned *signals, int *stop_sig, hg_error_t *err);
/* Connections still open, and connections waiting to be accepted. */
bool hg__live_busy(hg_live_t *lv);
/* Whether any agent connected at all, and from this pid. */
bool hg__live_saw_pid(const hg_live_t *lv, uint32_t pid);
bool hg__live_saw_any(const hg_live_t *lv);
/* The process ended (heapgate reaped it): its end is recorded if its agent could not say. */
void hg__live_process_exited(hg_live_t *lv, uint32_t pid);
/* Asks every agent to detach (attach mode). */
void hg__live_detach_all(hg_live_t *lv);
/* Ends the trace and writes the report; returns the gate's exit status (0, 1, 2). */
int hg__live_report(hg_live_t *lv, FILE *default_stream);

#endif
