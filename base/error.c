/* error.c - error codes and the hg_error_t message carrier. */
#include "base.h"

#include <stdio.h>

const char *hg_strerror(int code) {
    switch (code) {
    case HG_OK:
        return "success";
    case HG_ENOMEM:
        return "out of memory";
    case HG_EIO:
        return "input/output error";
    case HG_EFORMAT:
        return "malformed input";
    case HG_EUSAGE:
        return "usage error";
    case HG_ELIMIT:
        return "value beyond limits";
    case HG_ESTOP:
        return "stopped";
    default:
        return "unknown error";
    }
}

int hg_error_setv(hg_error_t *err, int code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int hg_error_set(hg_error_t *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hg_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void hg_error_clear(hg_error_t *err) {
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
