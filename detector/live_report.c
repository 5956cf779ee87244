/* live_report.c - the reports of a live session: the final one, after the program ended (or
 * heapgate detached), and snapshots while it runs.
 *
 * A snapshot must not stop the trace: heapgate forks, and the child, which has a copy of the
 * tracker as it is, ends its copy (running processes' live blocks become outstanding), writes
 * the report and exits, while the parent goes on reading the agents. Copy-on-write keeps this
 * cheap; one snapshot is written at a time. Snapshot reports go where the final report goes,
 * with "-snapshot-N" before the format suffix (r.json -> r-snapshot-1.json, r.json.gz ->
 * r-snapshot-1.json.gz), or to stderr after a heading line. The child leaves with _exit: it
 * must not run the parent's exit handlers, and it frees nothing. */
#include "live_priv.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fill_live(void *ud, hg_report_t *r, hg_builder_t *b, hg_error_t *err) {
    hg_live_t *lv = ud;
    if (lv->pre_attach_frees) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "%llu frees of blocks allocated before heapgate attached were left out (not "
                 "anomalies: the process was not traced from its start)",
                 (unsigned long long)lv->pre_attach_frees);
        if (hg_report_add_warning(r, msg)) {
            return hg_error_set(err, HG_ENOMEM, "out of memory");
        }
    }
    const hg_trace_quality_t *q = hg_tracker_quality(lv->t);
    if (q->truncated && hg_report_add_warning(r, q->truncated_reason)) {
        return hg_error_set(err, HG_ENOMEM, "out of memory");
    }
    int rc = hg_tracker_finish(lv->t);
    if (!rc) {
        rc = hg__builder_add(b, lv->t, lv->sym, lv->o.input_name, "agent",
                             lv->o.analyze.tracker.cluster_gap_bytes);
    }
    return rc ? hg_error_set(err, rc, "out of memory while building the report") : 0;
}

static int close_save(hg_live_t *lv) {
    hg_error_t err;
    hg_hgt_writer_t *w = lv->save;
    lv->save = NULL;
    if (w && hg_hgt_writer_close(w, &err) != 0) {
        fprintf(stderr, "heapgate: %s\n", err.msg);
        return HG_EIO;
    }
    return 0;
}

int hg__live_report(hg_live_t *lv, FILE *default_stream) {
    while (lv->snapshot_child > 0 && waitpid(lv->snapshot_child, NULL, 0) < 0) {
    }
    lv->snapshot_child = 0;
    int rc = hg__live_settle(lv);
    if (rc) {
        fprintf(stderr, "heapgate: out of memory\n");
        return HG_EXIT_ERROR;
    }
    int status = hg__report_run(&lv->o.analyze, fill_live, lv, default_stream);
    return close_save(lv) ? HG_EXIT_ERROR : status;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

char *hg__live_snapshot_path(const char *path, unsigned n) {
    size_t len = strlen(path);
    size_t gz = len > 3 && strcmp(path + len - 3, ".gz") == 0 ? 3 : 0;
    const char *slash = strrchr(path, '/');
    const char *dot = NULL;
    for (const char *p = path + len - gz; p-- > (slash ? slash + 1 : path);) {
        if (*p == '.') {
            dot = p;
            break;
        }
    }
    size_t stem = dot ? (size_t)(dot - path) : len - gz;
    char tag[32];
    int tn = snprintf(tag, sizeof tag, "-snapshot-%u", n);
    char *out = hg_malloc(len + (size_t)tn + 1);
    if (out) {
        memcpy(out, path, stem);
        memcpy(out + stem, tag, (size_t)tn);
        memcpy(out + stem + tn, path + stem, len - stem + 1);
    }
    return out;
}

/* In the forked child: the report of the trace so far. Never returns. */
static void snapshot_child(hg_live_t *lv) {
    hg_analyze_opts_t o = lv->o.analyze;
    for (size_t i = 0; i < o.noutputs; i++) {
        o.outputs[i].path = hg__live_snapshot_path(o.outputs[i].path, lv->snapshots);
        if (!o.outputs[i].path) {
            _exit(HG_EXIT_ERROR);
        }
    }
    if (o.noutputs == 0) {
        char when[32];
        hg_format_duration(hg_tracker_quality(lv->t)->last_ts_ns, when, sizeof when);
        fprintf(stderr, "heapgate: snapshot %u at %s\n", lv->snapshots, when);
    }
    int status = hg__report_run(&o, fill_live, lv, stderr);
    fflush(stderr); /* only: other streams (the --save file) belong to the parent */
    _exit(status);
}

int hg__live_snapshot(hg_live_t *lv) {
    if (lv->snapshot_child > 0) {
        fprintf(stderr, "heapgate: snapshot skipped: the previous one is still being written\n");
        return 0;
    }
    lv->snapshots++;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        snapshot_child(lv);
    }
    if (pid < 0) {
        fprintf(stderr, "heapgate: snapshot skipped: cannot fork\n");
        return 0;
    }
    lv->snapshot_child = pid;
    return 0;
}

void hg__live_reap_snapshot(hg_live_t *lv) {
    if (lv->snapshot_child > 0 &&
        waitpid(lv->snapshot_child, NULL, WNOHANG) == lv->snapshot_child) {
        lv->snapshot_child = 0;
    }
}
