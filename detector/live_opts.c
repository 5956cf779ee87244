/* live_opts.c - the options `heapgate run` and `heapgate attach` add to analyze's (README
 * "Command reference"): what the agent records and how the command ends. One table, as in
 * options.c; analyze's options are tried when a name is not one of these. */
#include "live.h"

#include <string.h>

typedef int (*live_fn)(hg_live_opts_t *o, const char *arg, hg_error_t *err);

typedef struct live_def {
    const char *name;
    bool takes_value;
    live_fn apply;
} live_def_t;

static int bad(hg_error_t *err, const char *name, const char *arg, const char *want) {
    return hg_error_set(err, HG_EUSAGE, "--%s: expected %s, got '%s'", name, want, arg ? arg : "");
}

static int opt_save(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    if (!*arg) {
        return bad(err, "save", arg, "a file name such as trace.hgt");
    }
    o->save_path = arg;
    return 0;
}

static int opt_depth(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    uint64_t v;
    if (hg_parse_u64(arg, &v) || v < 1 || v > 128) {
        return bad(err, "depth", arg, "a number of frames from 1 to 128");
    }
    o->depth = (uint32_t)v;
    return 0;
}

static int opt_unwind(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    if (strcmp(arg, "libunwind") && strcmp(arg, "fp")) {
        return bad(err, "unwind", arg, "libunwind or fp");
    }
    o->use_fp = strcmp(arg, "fp") == 0;
    return 0;
}

static int opt_follow(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    (void)arg;
    (void)err;
    o->follow = true;
    return 0;
}

static int opt_exit_status(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    if (strcmp(arg, "program") && strcmp(arg, "gate")) {
        return bad(err, "exit-status", arg, "program or gate");
    }
    o->exit_status_program = strcmp(arg, "program") == 0;
    return 0;
}

static int opt_time(const char *name, const char *arg, uint64_t *out, hg_error_t *err) {
    if (hg_parse_duration_ns(arg, out) || *out == 0) {
        return bad(err, name, arg, "a time above 0 such as 10s or 500ms");
    }
    return 0;
}

static int opt_snapshot_every(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    return opt_time("snapshot-every", arg, &o->snapshot_every_ns, err);
}

static int opt_duration(hg_live_opts_t *o, const char *arg, hg_error_t *err) {
    return opt_time("duration", arg, &o->duration_ns, err);
}

static const live_def_t table[] = {
    {"save", true, opt_save},
    {"depth", true, opt_depth},
    {"unwind", true, opt_unwind},
    {"follow-children", false, opt_follow},
    {"exit-status", true, opt_exit_status},
    {"snapshot-every", true, opt_snapshot_every},
    {"duration", true, opt_duration},
};

static const live_def_t *find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

void hg__live_opts_init(hg_live_opts_t *o) {
    memset(o, 0, sizeof *o);
    hg__analyze_opts_init(&o->analyze);
    o->depth = 32;
}

int hg__live_opt_arity(const char *name) {
    const live_def_t *d = find(name);
    return d ? d->takes_value : hg__analyze_opt_arity(name);
}

int hg__live_opt(hg_live_opts_t *o, const char *name, const char *arg, hg_error_t *err) {
    const live_def_t *d = find(name);
    return d ? d->apply(o, arg, err) : hg__analyze_opt(&o->analyze, name, arg, err);
}
