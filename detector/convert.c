/* convert.c - `heapgate convert TRACE -o OUT.hgt`: reads any supported trace and writes it as
 * heapgate's native format. The output appears only when the whole input was read (temporary
 * file, renamed on success). A cut-short input is converted up to where it was cut, with a
 * warning. */
#include "detector_priv.h"

#include <string.h>

typedef struct convert_opts {
    const char *input, *output;
    hg_hgt_write_options_t hgt;
} convert_opts_t;

static int convert_arity(const char *name) {
    if (strcmp(name, "output") == 0 || strcmp(name, "level") == 0) {
        return 1;
    }
    return strcmp(name, "help") == 0 ? 0 : -1;
}

static int convert_opt(convert_opts_t *o, const char *name, const char *value) {
    if (strcmp(name, "output") == 0) {
        o->output = value;
        return 0;
    }
    uint64_t level;
    if (hg_parse_u64(value, &level) || level > 9) {
        hg__usage_error("convert", "--level: expected 0 to 9, got '%s'", value);
        return HG_EUSAGE;
    }
    o->hgt.compression_level = (int)level;
    return 0;
}

static int parse(int argc, char **argv, convert_opts_t *o) {
    hg_args_t a = {argc, 1, argv, "convert"};
    char buf[64];
    while (a.i < argc) {
        const char *name, *value;
        if (hg__next_arg(&a, convert_arity, &name, &value, buf, sizeof buf)) {
            return HG_EUSAGE;
        }
        if (name && strcmp(name, "help") == 0) {
            return 1;
        }
        if (!name && o->input) {
            hg__usage_error("convert", "one trace at a time ('%s' and '%s')", o->input, value);
            return HG_EUSAGE;
        }
        int rc = name ? convert_opt(o, name, value) : 0;
        if (!name) {
            o->input = value;
        }
        if (rc) {
            return rc;
        }
    }
    if (!o->input || !o->output) {
        hg__usage_error("convert", o->input ? "no output given (-o OUT.hgt)" : "no trace given");
        return HG_EUSAGE;
    }
    return 0;
}

int hg__cmd_convert(int argc, char **argv) {
    convert_opts_t o = {0};
    hg_hgt_write_options_init(&o.hgt);
    int prc = parse(argc, argv, &o);
    if (prc) {
        return prc == 1 ? hg__print_help(stdout) : HG_EXIT_ERROR;
    }
    hg_error_t err;
    hg_error_clear(&err);
    hg_hgt_writer_t *w = hg_hgt_writer_open(o.output, &o.hgt, &err);
    hg_read_result_t res;
    int rc = w ? hg_read_file(o.input, hg_hgt_writer_sink(w), NULL, &res, &err) : err.code;
    if (rc && w && rc != HG_EFORMAT && rc != HG_EIO) {
        err = *hg_hgt_writer_error(w); /* the writer failed, not the reader */
    }
    if (rc) {
        if (w) {
            hg_hgt_writer_abort(w);
        }
        fprintf(stderr, "heapgate: %s\n", err.msg[0] ? err.msg : hg_strerror(rc));
        return HG_EXIT_ERROR;
    }
    if (res.truncated) {
        fprintf(stderr, "heapgate: warning: %s\n", res.warning);
    }
    if (hg_hgt_writer_close(w, &err)) {
        fprintf(stderr, "heapgate: %s\n", err.msg);
        return HG_EXIT_ERROR;
    }
    return HG_EXIT_PASS;
}
