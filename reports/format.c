/* format.c - report format names, the file-suffix table that picks a format for "-o FILE"
 * (ARCHITECTURE.md, command-line conventions), write options, and the dispatch from a format to
 * its writer. A format whose writer is not in this build has a NULL slot in the writer table. */
#include "report.h"

#include <string.h>
#include <strings.h>

typedef void (*writer_fn)(const hg_report_t *, const hg_write_options_t *, hg_out_t *);

static const char *const format_names[HG_RF_COUNT] = {
    [HG_RF_TEXT] = "text",           [HG_RF_JSON] = "json",   [HG_RF_HTML] = "html",
    [HG_RF_PPROF] = "pprof",         [HG_RF_SARIF] = "sarif", [HG_RF_JUNIT] = "junit",
    [HG_RF_COLLAPSED] = "collapsed",
};

static const writer_fn writers[HG_RF_COUNT] = {
    [HG_RF_TEXT] = hg_report_write_text,           [HG_RF_JSON] = hg_report_write_json,
    [HG_RF_HTML] = hg_report_write_html,           [HG_RF_PPROF] = hg_report_write_pprof,
    [HG_RF_SARIF] = hg_report_write_sarif,         [HG_RF_JUNIT] = hg_report_write_junit,
    [HG_RF_COLLAPSED] = hg_report_write_collapsed,
};

/* Suffixes before any ".gz". ".pb.gz" is handled apart: pprof is gzip by definition. */
static const struct {
    const char *suffix;
    hg_report_format_t format;
} suffixes[] = {
    {".txt", HG_RF_TEXT},
    {".json", HG_RF_JSON},
    {".html", HG_RF_HTML},
    {".pprof", HG_RF_PPROF},
    {".sarif", HG_RF_SARIF},
    {".xml", HG_RF_JUNIT},
    {".collapsed", HG_RF_COLLAPSED},
    {".folded", HG_RF_COLLAPSED},
};

const char *hg_report_format_name(hg_report_format_t f) {
    return (unsigned)f < HG_RF_COUNT ? format_names[f] : "unknown";
}

int hg_report_format_parse(const char *name) {
    for (int f = 0; name && f < HG_RF_COUNT; f++) {
        if (strcasecmp(name, format_names[f]) == 0) {
            return f;
        }
    }
    return -1;
}

/* Whether the first n bytes of path end with suffix (ASCII case-insensitive). */
static bool ends_with(const char *path, size_t n, const char *suffix) {
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(path + n - k, suffix, k) == 0;
}

static int format_by_suffix(const char *path, size_t n) {
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (ends_with(path, n, suffixes[i].suffix)) {
            return (int)suffixes[i].format;
        }
    }
    return -1;
}

int hg_report_format_from_path(const char *path, bool *gzip) {
    size_t n = strlen(path);
    bool gz = false;
    int f;
    if (ends_with(path, n, ".pb.gz")) {
        f = HG_RF_PPROF;
    } else {
        gz = ends_with(path, n, ".gz");
        f = format_by_suffix(path, gz ? n - 3 : n);
        gz = gz && f != HG_RF_PPROF; /* the pprof writer compresses itself: never twice */
    }
    if (gzip) {
        *gzip = gz;
    }
    return f;
}

bool hg_report_format_available(hg_report_format_t f) {
    return (unsigned)f < HG_RF_COUNT && writers[f] != NULL;
}

void hg_write_options_init(hg_write_options_t *opt) {
    memset(opt, 0, sizeof *opt);
    opt->top = 10;
    opt->max_frames = 16;
    opt->color = false;
}

int hg_report_write(const hg_report_t *r, hg_report_format_t f, const hg_write_options_t *opt,
                    hg_out_t *o) {
    if (!hg_report_format_available(f)) {
        return HG_EUSAGE; /* "format X is not available yet": the caller names X */
    }
    hg_write_options_t defaults;
    if (!opt) {
        hg_write_options_init(&defaults);
        opt = &defaults;
    }
    writers[f](r, opt, o);
    return 0;
}
