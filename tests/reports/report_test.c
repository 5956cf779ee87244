/* report_test.c - helpers for the report writer tests (see report_test.h). */
#include "report_test.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

char *rt_mkdtemp(void) {
    char *dir = NULL;
    cr_assert(asprintf(&dir, "%s/report-tests.XXXXXX", HG_BINARY_DIR) > 0);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void rt_rmtree(const char *dir) {
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *rt_path(const char *dir, const char *name) {
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

size_t rt_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    size_t n = 0;
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

char *rt_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0, k;
    char *data = malloc(cap + 1);
    while ((k = fread(data + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            data = realloc(data, (cap *= 2) + 1);
        }
    }
    fclose(f);
    data[n] = '\0';
    if (len) {
        *len = n;
    }
    return data;
}

bool rt_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    return f ? (fclose(f) == 0 && ok) : false;
}

char *rt_gunzip_file(const char *path, size_t *len) {
    gzFile g = gzopen(path, "rb");
    if (!g) {
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *data = malloc(cap + 1);
    int k;
    while ((k = gzread(g, data + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)k;
        if (n == cap) {
            data = realloc(data, (cap *= 2) + 1);
        }
    }
    int err = gzclose(g);
    if (k < 0 || err != Z_OK) {
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

char *rt_render(const hg_report_t *r, hg_report_format_t f, const hg_write_options_t *opt,
                size_t *len) {
    char *dir = rt_mkdtemp(), *path = rt_path(dir, "out");
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open(path, false, &err);
    cr_assert_not_null(o, "%s", err.msg);
    cr_assert_eq(hg_report_write(r, f, opt, o), 0);
    cr_assert_eq(hg_out_commit(o, &err), 0, "%s", err.msg);
    char *data = rt_read_file(path, len);
    rt_rmtree(dir);
    free(path);
    free(dir);
    return data;
}

void rt_golden(const char *name, const char *data, size_t len) {
    char *golden = NULL, *actual = NULL;
    cr_assert(asprintf(&golden, "%s/tests/reports/golden/%s", HG_SOURCE_DIR, name) > 0);
    const char *update = getenv("HG_UPDATE_GOLDEN");
    if (update && strcmp(update, "1") == 0) {
        cr_assert(rt_write_file(golden, data, len), "cannot write %s", golden);
        free(golden);
        return;
    }
    size_t glen = 0;
    char *expected = rt_read_file(golden, &glen);
    cr_assert_not_null(expected, "missing golden file %s (run with HG_UPDATE_GOLDEN=1)", golden);
    bool same = glen == len && memcmp(expected, data, len) == 0;
    if (!same) {
        cr_assert(asprintf(&actual, "%s/%s.actual", HG_BINARY_DIR, name) > 0);
        rt_write_file(actual, data, len);
    }
    cr_assert(same, "output differs from %s: diff -u %s %s (HG_UPDATE_GOLDEN=1 to accept)", golden,
              golden, actual);
    free(expected);
    free(golden);
}

bool rt_valid_utf8(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        if (n == 0 || (size_t)(end - p) < n || (n == 2 && *p < 0xc2)) {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return false;
            }
        }
        p += n;
    }
    return true;
}
