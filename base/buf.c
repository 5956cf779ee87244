/* buf.c - growable, always NUL-terminated byte buffer. */
#include "base.h"

#include <stdio.h>
#include <string.h>

void hg_buf_init(hg_buf_t *b) {
    memset(b, 0, sizeof *b);
}

void hg_buf_free(hg_buf_t *b) {
    hg_free(b->data);
    hg_buf_init(b);
}

void hg_buf_reset(hg_buf_t *b) {
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

bool hg_buf_reserve(hg_buf_t *b, size_t extra) {
    if (b->failed) {
        return false;
    }
    if (b->len + extra + 1 <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *d = hg_realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void hg_buf_append(hg_buf_t *b, const void *data, size_t n) {
    if (!hg_buf_reserve(b, n)) {
        return;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void hg_buf_puts(hg_buf_t *b, const char *s) {
    hg_buf_append(b, s, strlen(s));
}

void hg_buf_putc(hg_buf_t *b, char c) {
    hg_buf_append(b, &c, 1);
}

void hg_buf_printf(hg_buf_t *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof small) {
        hg_buf_append(b, small, (size_t)n);
        return;
    }
    if (!hg_buf_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *hg_buf_take(hg_buf_t *b) {
    char *s = b->data;
    if (!s) {
        s = hg_strdup("");
    }
    hg_buf_init(b);
    return s;
}
