/* detect.c - recognises a trace's format from its first bytes, and hg_read_file, which opens a
 * file, detects its format and hands it to that format's reader. */
#include "formats.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* .hgt files start with an 8-byte signature (docs/hgt-format.md). */
static const uint8_t hgt_magic[8] = {0x89, 'H', 'G', 'T', '\r', '\n', 0x1a, '\n'};

/* Skips blank and '#' comment lines; true when the first other line starts with word. */
static bool first_line_is(const uint8_t *p, size_t n, const char *word) {
    size_t i = 0, wl = strlen(word);
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        i = 3; /* UTF-8 byte order mark */
    }
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
            i++;
        }
        if (i < n && p[i] == '#') {
            while (i < n && p[i] != '\n') {
                i++;
            }
            continue;
        }
        return i + wl <= n && memcmp(p + i, word, wl) == 0;
    }
    return false;
}

/* An ETL file starts with a WMI_BUFFER_HEADER of type 4 (HEADER) whose first event is the trace
 * header: a SYSTEM_TRACE_HEADER (type 1 or 2, flags 0xC0) with HookId 0 (etw-format.md §1.2,
 * §1.6). */
static bool is_etl(const uint8_t *p, size_t n) {
    return n >= 0x50 && p[0x36] == 4 && p[0x37] == 0 && (p[0x4A] == 1 || p[0x4A] == 2) &&
           p[0x4B] == 0xC0 && p[0x4E] == 0 && p[0x4F] == 0;
}

hg_format_t hg_format_detect(const uint8_t *head, size_t n) {
    if (n >= sizeof hgt_magic && memcmp(head, hgt_magic, sizeof hgt_magic) == 0) {
        return HG_FMT_HGT;
    }
    if (first_line_is(head, n, "hgtrace")) {
        return HG_FMT_TEXT;
    }
    if (is_etl(head, n)) {
        return HG_FMT_ETL;
    }
    if (first_line_is(head, n, "BeginHeader")) {
        return HG_FMT_XPERF; /* xperf -a dumper, etw-format.md §4.1 */
    }
    return HG_FMT_UNKNOWN;
}

const char *hg_format_name(hg_format_t fmt) {
    switch (fmt) {
    case HG_FMT_HGT:
        return "hgt";
    case HG_FMT_TEXT:
        return "text";
    case HG_FMT_ETL:
        return "etl";
    case HG_FMT_XPERF:
        return "xperf";
    default:
        return "unknown";
    }
}

typedef int (*reader_fn)(FILE *, const char *, uint64_t, hg_sink_t, const hg_read_options_t *,
                         hg_read_result_t *, hg_error_t *);

static reader_fn reader_for(hg_format_t fmt) {
    switch (fmt) {
    case HG_FMT_HGT:
        return hg_hgt_read;
    case HG_FMT_TEXT:
        return hg_text_read;
    case HG_FMT_ETL:
        return hg_etl_read;
    case HG_FMT_XPERF:
        return hg_xperf_read;
    default:
        return NULL;
    }
}

int hg_read_file(const char *path, hg_sink_t sink, const hg_read_options_t *opt,
                 hg_read_result_t *res, hg_error_t *err) {
    memset(res, 0, sizeof *res);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return hg_error_set(err, HG_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    uint64_t size = (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) ? (uint64_t)st.st_size : 0;
    uint8_t head[HG_DETECT_BYTES];
    size_t n = fread(head, 1, sizeof head, fp);
    int rc;
    if (ferror(fp)) {
        rc = hg_error_set(err, HG_EIO, "%s: cannot read: %s", path, strerror(errno));
    } else if (fseek(fp, 0, SEEK_SET) != 0) {
        rc = hg_error_set(err, HG_EIO, "%s: input must be a seekable file", path);
    } else {
        res->format = hg_format_detect(head, n);
        reader_fn read = reader_for(res->format);
        rc = read ? read(fp, path, size, sink, opt, res, err)
                  : hg_error_set(err, HG_EFORMAT,
                                 "%s: offset 0: not a heapgate trace (.hgt), text trace "
                                 "(\"hgtrace 1\"), ETL file, xperf text dump or other "
                                 "supported format",
                                 path);
    }
    fclose(fp);
    return rc;
}
