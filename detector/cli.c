/* cli.c - the heapgate command line: subcommand dispatch, the help text (kept word for word in
 * README.md's "Command reference"), and the argument walker the subcommands share. */
#include "detector_priv.h"

#include <stdarg.h>
#include <string.h>

#ifndef HG_VERSION
#define HG_VERSION "0.0.0"
#endif

const char *hg__version(void) {
    return HG_VERSION;
}

static const char help_text[] =
    "heapgate - heap leak and fragmentation detector\n"
    "\n"
    "Usage:\n"
    "  heapgate analyze [options] TRACE...      report leaks, anomalies and fragmentation\n"
    "  heapgate convert [options] TRACE -o OUT.hgt  rewrite any trace as .hgt\n"
    "  heapgate run [options] [--] PROG ARGS... run PROG under the agent, report at its exit\n"
    "  heapgate attach PID [options]            trace a running process, then detach\n"
    "  heapgate diff [options] OLD NEW          compare two runs (JSON reports or traces)\n"
    "  heapgate merge [options] REPORT...       sum the reports of many runs, then gate\n"
    "  heapgate help, heapgate --help           this text\n"
    "  heapgate --version\n"
    "\n"
    "Traces (format recognised from the content): Windows ETW .etl, xperf -a dumper\n"
    "text, heapgate .hgt, text event files (docs/text-format.md).\n"
    "\n"
    "Report options (analyze, merge, diff, run, attach):\n"
    "  -o, --output FILE       write the report to FILE (repeatable); the suffix picks the\n"
    "                          format (.txt .json .html .pb.gz/.pprof .sarif .xml (JUnit)\n"
    "                          .collapsed/.folded; a further .gz compresses, never pprof);\n"
    "                          default: stdout, text\n"
    "  --format FMT            text, json, html, pprof, sarif, junit or collapsed, for every\n"
    "                          output\n"
    "  --top N                 leak sites shown in detail in text (default 10, 0 = all)\n"
    "  --color WHEN            auto, always or never (text on a terminal)\n"
    "  --progress WHEN         auto, always or never (progress on stderr)\n"
    "  --pid PID               only this process\n"
    "  --process NAME          only processes with this image name (.exe optional)\n"
    "  --window T0:T1          lifetime classes AIFI/AIFO/AOFI/AOFO for [T0, T1]\n"
    "  --settle T              ignore allocations made before T (startup noise)\n"
    "  --suppressions FILE     LeakSanitizer-style leak:PATTERN lines (repeatable)\n"
    "  --symbol-path PATH      where debug files are looked up (default $_NT_SYMBOL_PATH)\n"
    "  --trim PATTERN          also trim frames matching PATTERN from the top of stacks\n"
    "  --no-default-trim       do not trim the built-in allocator frames\n"
    "  --cluster-gap BYTES     gap that splits a heap into clusters (default 1M)\n"
    "  --samples N             timeline samples kept (default 128)\n"
    "\n"
    "Gate options (analyze, merge, run, attach):\n"
    "  --max-leaked-bytes N    fail when more bytes leaked (default 0 without other leak\n"
    "                          thresholds)\n"
    "  --max-leaked-blocks N   fail when more blocks leaked\n"
    "  --max-site-bytes N      fail when one site leaked more bytes\n"
    "  --max-fragmentation F   fail when a heap's external fragmentation exceeds F (0-1)\n"
    "  --fail-on X             fail on anomalies of id (A3), name (wrong-heap-free) or at\n"
    "                          least severity (info, warning, error); repeatable;\n"
    "                          default: error\n"
    "  --count-outstanding     count blocks still live in running processes as leaked\n"
    "  --count-released        count blocks released by HeapDestroy as leaked\n"
    "  --baseline OLD.json     compare leak sites with an earlier report: known leaks\n"
    "                          pass; replaces the default any-leak check\n"
    "  --fail-on-new           fail when a site leaks that did not in the baseline\n"
    "                          (the default with --baseline)\n"
    "  --max-growth-bytes N    fail when a site's leaked bytes grew by more than N over\n"
    "                          the baseline\n"
    "\n"
    "Diff (OLD and NEW each a JSON report or a trace; text, or json with --format/-o):\n"
    "  exit 1 when NEW has a new leak site, a site grown by more than --max-growth-bytes\n"
    "  (default 0) or a new error anomaly; --count-outstanding/--count-released as above\n"
    "\n"
    "Merge: sums the sites of every REPORT by identity, then applies the gate options\n"
    "(and --suppressions) and writes the merged report like analyze (every format)\n"
    "\n";

/* The rest of the help text (one literal would pass the 4095 characters C guarantees). */
static const char help_text_more[] =
    "Run and attach options (the report goes to stderr unless -o):\n"
    "  --save FILE.hgt         also keep the trace, for a later analyze\n"
    "  --depth N               frames kept per stack (default 32, at most 128)\n"
    "  --unwind MODE           libunwind (default; needs no frame pointers) or fp\n"
    "  --follow-children       also trace forked children and the programs run\n"
    "  --exit-status WHAT      run: exit with the gate's verdict (gate, the default) or\n"
    "                          the program's own status (program; 128 + signal)\n"
    "  --snapshot-every T      also report every T while tracing (-o FILE.EXT writes\n"
    "                          FILE-snapshot-N.EXT); SIGUSR1 to heapgate: one now\n"
    "  --duration T            attach: detach after T (default: when the process ends\n"
    "                          or on Ctrl-C)\n"
    "\n"
    "Convert options:\n"
    "  -o, --output FILE       the .hgt file to write (required)\n"
    "  --level N               zlib level 0-9 (default 1)\n"
    "\n"
    "Times are numbers with ns, us, ms, s or m (default s) from the trace start; byte\n"
    "counts take K, M, G (powers of 1024).\n"
    "\n"
    "Exit status: 0 pass, 1 gate failed, 2 usage or input error.\n";

int hg__print_help(FILE *out) {
    fputs(help_text, out);
    fputs(help_text_more, out);
    return HG_EXIT_PASS;
}

int hg__cmd_start(const char *cmd, int argc, char **argv, hg_analyze_opts_t *o,
                  hg_cmd_parse_fn parse) {
    hg_error_t err;
    hg_error_clear(&err);
    hg__analyze_opts_init(o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            return hg__print_help(stdout);
        }
    }
    if (parse(argc, argv, o, &err) != 0) {
        if (err.msg[0]) {
            hg__usage_error(cmd, "%s", err.msg);
        }
        return HG_EXIT_ERROR;
    }
    return -1;
}

void hg__usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "heapgate: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputs("\n(see 'heapgate --help')\n", stderr);
    va_end(ap);
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command_t;

static const command_t commands[] = {
    {"analyze", hg__cmd_analyze}, {"convert", hg__cmd_convert}, {"run", hg__cmd_run},
    {"attach", hg__cmd_attach},   {"diff", hg__cmd_diff},       {"merge", hg__cmd_merge},
};

int hg_main(int argc, char **argv) {
    if (argc < 2) {
        hg__print_help(stderr);
        return HG_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        return hg__print_help(stdout);
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("heapgate %s\n", hg__version());
        return HG_EXIT_PASS;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    hg__usage_error(NULL, "unknown command '%s'", cmd);
    return HG_EXIT_ERROR;
}

/* ---- argument walking ------------------------------------------------------------------------ */

/* Splits argv[i] into an option name and value. Returns 0 with *name NULL for a positional
 * argument, 0 with the name otherwise, or HG_EUSAGE. arity(name) says whether the option takes
 * a value (-1: unknown). */
int hg__next_arg(hg_args_t *a, int (*arity)(const char *), const char **name, const char **value,
                 char *buf, size_t cap) {
    const char *arg = a->argv[a->i++];
    *name = NULL;
    *value = arg;
    if (strncmp(arg, "-o", 2) == 0) {
        snprintf(buf, cap, "output");
        arg = arg[2] ? arg + 2 : NULL;
    } else if (strncmp(arg, "--", 2) == 0 && arg[2]) {
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        snprintf(buf, cap, "%.*s", (int)n, arg + 2);
        arg = eq ? eq + 1 : NULL;
    } else {
        return 0; /* positional (a lone "-" included) */
    }
    *name = buf;
    int takes = arity(buf);
    if (takes < 0) {
        hg__usage_error(a->cmd, "unknown option '--%s'", buf);
        return HG_EUSAGE;
    }
    if (takes && !arg && a->i >= a->argc) {
        hg__usage_error(a->cmd, "option '--%s' needs a value", buf);
        return HG_EUSAGE;
    }
    if (!takes && arg) {
        hg__usage_error(a->cmd, "option '--%s' takes no value", buf);
        return HG_EUSAGE;
    }
    *value = takes ? (arg ? arg : a->argv[a->i++]) : NULL;
    return 0;
}

int hg__cmd_analyze(int argc, char **argv) {
    hg_analyze_opts_t o;
    hg__analyze_opts_init(&o);
    hg_args_t a = {argc, 1, argv, "analyze"};
    char buf[64];
    hg_error_t err;
    while (a.i < argc) {
        const char *name, *value;
        if (strcmp(argv[a.i], "-h") == 0 || strcmp(argv[a.i], "--help") == 0) {
            return hg__print_help(stdout);
        }
        if (hg__next_arg(&a, hg__analyze_opt_arity, &name, &value, buf, sizeof buf)) {
            return HG_EXIT_ERROR;
        }
        if (!name && o.ninputs >= HG_MAX_LIST) {
            hg__usage_error("analyze", "at most %d traces", HG_MAX_LIST);
            return HG_EXIT_ERROR;
        }
        if (!name) {
            o.inputs[o.ninputs++] = value;
        } else if (hg__analyze_opt(&o, name, value, &err)) {
            hg__usage_error("analyze", "%s", err.msg);
            return HG_EXIT_ERROR;
        }
    }
    if (o.ninputs == 0) {
        hg__usage_error("analyze", "no trace given");
        return HG_EXIT_ERROR;
    }
    if (hg__analyze_opts_finish(&o, &err)) {
        hg__usage_error("analyze", "%s", err.msg);
        return HG_EXIT_ERROR;
    }
    return hg__analyze_run(&o, stdout);
}
