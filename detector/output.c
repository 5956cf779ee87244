/* output.c - writes the report to every -o destination (or the default stream), each in its
 * format and optionally gzip-compressed. Files are written under temporary names and renamed
 * only when every output was written, so a failed run leaves no half-written report. */
#include "detector_priv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool want_color(const hg_analyze_opts_t *o, FILE *stream) {
    if (strcmp(o->color, "always") == 0) {
        return true;
    }
    return stream && strcmp(o->color, "auto") == 0 && isatty(fileno(stream)) && !getenv("NO_COLOR");
}

static int write_default(const hg_analyze_opts_t *o, const hg_report_t *r, FILE *stream,
                         hg_error_t *err) {
    hg_out_t *out = hg_out_stream(stream, stream == stderr ? "<stderr>" : "<stdout>", false, err);
    if (!out) {
        return err->code ? err->code : HG_ENOMEM;
    }
    hg_write_options_t wo = o->write;
    wo.color = want_color(o, stream);
    int format = o->format >= 0 ? o->format : HG_RF_TEXT;
    int rc = hg_report_write(r, (hg_report_format_t)format, &wo, out);
    if (rc) {
        hg_out_abort(out);
        return hg_error_set(err, rc, "format %s is not available",
                            hg_report_format_name((hg_report_format_t)format));
    }
    return hg_out_commit(out, err);
}

static void abort_all(hg_out_t **outs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (outs[i]) {
            hg_out_abort(outs[i]);
        }
    }
}

int hg__write_outputs(const hg_analyze_opts_t *o, const hg_report_t *r, FILE *default_stream,
                      hg_error_t *err) {
    if (o->noutputs == 0) {
        return write_default(o, r, default_stream, err);
    }
    hg_out_t *outs[HG_MAX_OUTPUTS] = {0};
    hg_write_options_t wo = o->write;
    wo.color = strcmp(o->color, "always") == 0;
    for (size_t i = 0; i < o->noutputs; i++) {
        const hg_output_spec_t *spec = &o->outputs[i];
        outs[i] = hg_out_open(spec->path, spec->gzip, err);
        int rc = outs[i] ? hg_report_write(r, (hg_report_format_t)spec->format, &wo, outs[i])
                         : (err->code ? err->code : HG_ENOMEM);
        if (rc) {
            abort_all(outs, o->noutputs);
            return rc;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < o->noutputs; i++) {
        hg_error_t e;
        int one = hg_out_commit(outs[i], &e);
        outs[i] = NULL;
        if (one && !rc) {
            rc = one;
            *err = e;
        }
    }
    return rc;
}
