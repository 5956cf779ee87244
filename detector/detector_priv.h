/* detector_priv.h - private to detector/: the parsed command line and the steps of a run
 * (ingest -> build the report -> suppress -> gate -> write). */
#ifndef HG_DETECTOR_PRIV_H
#define HG_DETECTOR_PRIV_H

#include "detector.h"
#include "formats.h"
#include "report.h"
#include "symbols.h"
#include "tracker.h"

#include <stdio.h>

#define HG_MAX_OUTPUTS 16
#define HG_MAX_LIST    64

typedef struct hg_output_spec {
    const char *path;
    int format; /* hg_report_format_t */
    bool gzip;
} hg_output_spec_t;

typedef struct hg_gate_opts {
    bool has_max_leaked_bytes, has_max_leaked_blocks, has_max_site_bytes, has_max_frag;
    uint64_t max_leaked_bytes, max_leaked_blocks, max_site_bytes;
    double max_fragmentation;
    int fail_on_kinds[HG_MAX_LIST]; /* anomaly kinds */
    size_t nfail_on_kinds;
    int fail_on_severity; /* 0 = none given */
    bool fail_on_given;
    bool count_outstanding, count_released;
    const char *baseline_path; /* --baseline: checks against an earlier JSON report */
    bool fail_on_new;          /* --fail-on-new (implied by --baseline alone) */
    bool has_max_growth;       /* --max-growth-bytes */
    uint64_t max_growth_bytes;
    hg_report_t *baseline; /* loaded by hg__baseline_load, freed by hg__baseline_free */
} hg_gate_opts_t;

typedef enum { HG_PROGRESS_AUTO, HG_PROGRESS_ALWAYS, HG_PROGRESS_NEVER } hg_progress_mode_t;

/* Everything `analyze` (and the commands that report like it) takes. */
typedef struct hg_analyze_opts {
    hg_tracker_options_t tracker;
    hg_sym_options_t sym;
    const char *inputs[HG_MAX_LIST];
    size_t ninputs;
    hg_output_spec_t outputs[HG_MAX_OUTPUTS];
    size_t noutputs;
    int format; /* --format, -1 when not given */
    hg_write_options_t write;
    const char *color; /* auto|always|never */
    const char *suppression_files[HG_MAX_LIST];
    size_t nsuppression_files;
    const char *trim_patterns[HG_MAX_LIST];
    size_t ntrim_patterns;
    bool no_default_trim;
    hg_gate_opts_t gate;
    hg_progress_mode_t progress;
} hg_analyze_opts_t;

/* ---- options.c ---------------------------------------------------------------------------- */

void hg__analyze_opts_init(hg_analyze_opts_t *o);
/* Applies one option of the analyze family (long name without "--", its argument or NULL).
 * Returns 1 when the name is not of this family, 0 when applied, HG_EUSAGE with err set. */
int hg__analyze_opt(hg_analyze_opts_t *o, const char *name, const char *arg, hg_error_t *err);
/* Whether the analyze-family option `name` takes an argument (-1 when unknown). */
int hg__analyze_opt_arity(const char *name);
/* Checks option combinations after parsing; fills outputs' formats. */
int hg__analyze_opts_finish(hg_analyze_opts_t *o, hg_error_t *err);

/* A tiny argv walker shared by the subcommands: --name=value, --name value, -o value. */
typedef struct hg_args {
    int argc, i;
    char **argv;
    const char *cmd;
} hg_args_t;

/* Splits the next argument into an option name (NULL for a positional argument) and its value;
 * arity(name) says whether an option takes a value (-1: unknown option). Prints the usage
 * error itself and returns HG_EUSAGE on a bad option. */
int hg__next_arg(hg_args_t *a, int (*arity)(const char *), const char **name, const char **value,
                 char *buf, size_t cap);

/* ---- ingest.c: reading one input into a tracker and a symbolizer ------------------------- */

typedef struct hg_input_result {
    hg_format_t format;
    bool truncated;
    char warning[512];
} hg_input_result_t;

/* Reads path into t (events) and sym (modules). progress: show progress on stderr. */
int hg__ingest(const char *path, hg_tracker_t *t, hg_symbolizer_t *sym, bool progress,
               hg_input_result_t *res, hg_error_t *err);
bool hg__progress_wanted(hg_progress_mode_t mode);

/* ---- frames.c: symbolized, trimmed frames and the ASLR-stable identity -------------------- */

typedef struct hg_trim hg_trim_t;
hg_trim_t *hg__trim_new(const char *const *extra, size_t nextra, bool no_defaults);
void hg__trim_free(hg_trim_t *tr);
/* Whether a frame is an allocator frame to be trimmed from the top of stacks. */
bool hg__trim_match(const hg_trim_t *tr, const hg_sym_frame_t *f);

/* Fills site->frames from the raw stack (innermost first) resolved in address space `space`
 * at time ts_ns, allocator frames trimmed; sets site->id from the identity. Returns 0 or
 * HG_ENOMEM. */
int hg__site_frames(hg_rsite_t *site, hg_symbolizer_t *sym, const hg_trim_t *trim, uint32_t space,
                    const uint64_t *frames, uint32_t nframes, uint32_t stack_id, uint64_t ts_ns);

/* ---- build.c: the report model from a finished tracker ------------------------------------ */

typedef struct hg_builder hg_builder_t;
hg_builder_t *hg__builder_new(hg_report_t *r, const hg_trim_t *trim);
void hg__builder_free(hg_builder_t *b);
/* Adds one finished trace (its processes, sites merged by identity, anomalies, heaps,
 * timeline, quality) to the report. */
int hg__builder_add(hg_builder_t *b, const hg_tracker_t *t, hg_symbolizer_t *sym, const char *input,
                    const char *format, uint64_t cluster_gap);
/* Recomputes the report's top-level totals from its sites (suppressed ones excluded). */
void hg__report_totals(hg_report_t *r);

/* ---- suppress.c ------------------------------------------------------------------------- */

typedef struct hg_suppressions hg_suppressions_t;
hg_suppressions_t *hg__suppressions_new(void);
void hg__suppressions_free(hg_suppressions_t *s);
/* Reads a LeakSanitizer-style file (leak:PATTERN lines, # comments). HG_EFORMAT names the
 * file and line. */
int hg__suppressions_load(hg_suppressions_t *s, const char *path, hg_error_t *err);
int hg__suppressions_add(hg_suppressions_t *s, const char *pattern, bool builtin);
/* Marks matching sites suppressed and fills r->suppressions / r->suppressed. */
int hg__suppressions_apply(const hg_suppressions_t *s, hg_report_t *r);
/* LeakSanitizer's template match: '*' any sequence, '^' / '$' anchors, else substring. */
bool hg__template_match(const char *templ, const char *str);

/* ---- gate.c ------------------------------------------------------------------------------ */

/* Evaluates the thresholds on r and records each check and the verdict in r->gate. */
int hg__gate_evaluate(const hg_gate_opts_t *g, hg_report_t *r);

/* ---- baseline.c: --baseline, --fail-on-new, --max-growth-bytes; site lookups by identity -- */

/* Reads g->baseline_path (when set) into g->baseline. HG_EFORMAT/HG_EIO with err naming it. */
int hg__baseline_load(hg_gate_opts_t *g, hg_error_t *err);
void hg__baseline_free(hg_gate_opts_t *g);
/* Adds the baseline checks to r->gate.checks (before the verdict is taken). 0 or HG_ENOMEM. */
int hg__baseline_checks(const hg_gate_opts_t *g, hg_report_t *r);
/* The bytes (or blocks) of s the gate counts: leaked, plus outstanding and released-by-destroy
 * when the options say so; 0 for a suppressed site. */
uint64_t hg__site_counted(const hg_gate_opts_t *g, const hg_rsite_t *s, bool bytes);

/* Sites of a report sorted by id, for lookups by ASLR-stable identity. */
typedef struct hg_site_index {
    const hg_rsite_t **v;
    size_t n;
} hg_site_index_t;
int hg__site_index_build(hg_site_index_t *x, const hg_report_t *r); /* 0 or HG_ENOMEM */
const hg_rsite_t *hg__site_index_find(const hg_site_index_t *x, const char *id);
void hg__site_index_free(hg_site_index_t *x);

/* ---- diff.c, merge.c: reports of earlier runs -------------------------------------------- */

/* Loads a JSON report, or analyzes a trace with o's options (suppressions applied, no gate). */
int hg__load_report(const hg_analyze_opts_t *o, const char *path, hg_report_t **out,
                    hg_error_t *err);

/* ---- output.c ---------------------------------------------------------------------------- */

/* Writes r to every output (stdout/stderr when none); all or nothing: outputs are committed
 * only when all were written. */
int hg__write_outputs(const hg_analyze_opts_t *o, const hg_report_t *r, FILE *default_stream,
                      hg_error_t *err);

/* ---- the subcommands ------------------------------------------------------------------------ */

int hg__cmd_analyze(int argc, char **argv);
int hg__cmd_convert(int argc, char **argv);
int hg__cmd_run(int argc, char **argv);
int hg__cmd_attach(int argc, char **argv);
/* Runs the whole analysis of opts' inputs; returns the exit status. */
int hg__analyze_run(hg_analyze_opts_t *o, FILE *default_stream);
/* Adds traces to the report being built (through b); returns 0 or an error with err set. */
typedef int (*hg_report_fill_fn)(void *ud, hg_report_t *r, hg_builder_t *b, hg_error_t *err);
/* The analysis with the traces fill provides: report, suppressions (the runtime rules when a
 * glibc process is in it), gate, outputs. Returns the exit status (0, 1, or 2 after printing
 * the error). */
int hg__report_run(hg_analyze_opts_t *o, hg_report_fill_fn fill, void *ud, FILE *default_stream);

/* runtime_rules.c: the built-in "runtime" suppressions (shown, never gated). */
int hg__runtime_rules_add(hg_suppressions_t *s);

/* Builds the report of these traces with o's options, suppressions applied, no gate; *out is
 * the caller's (NULL on failure, err set). */
int hg__analyze_report(const hg_analyze_opts_t *o, const char *const *inputs, size_t ninputs,
                       hg_report_t **out, hg_error_t *err);
int hg__cmd_diff(int argc, char **argv);
int hg__cmd_merge(int argc, char **argv);

/* cli.c */
int hg__print_help(FILE *out); /* the full help text; returns HG_EXIT_PASS */
typedef int (*hg_cmd_parse_fn)(int argc, char **argv, hg_analyze_opts_t *o, hg_error_t *err);
/* The start of a report command (diff, merge): options initialised, -h/--help answered, the
 * arguments parsed with parse. Returns -1 to go on, else the exit status to end with (the help
 * printed, or a usage error reported). */
int hg__cmd_start(const char *cmd, int argc, char **argv, hg_analyze_opts_t *o,
                  hg_cmd_parse_fn parse);
void hg__usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *hg__version(void);

#endif
