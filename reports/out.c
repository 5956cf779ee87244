/* out.c - report destinations: a buffered writer over a FILE, optionally through zlib's deflate
 * in gzip framing, that puts a regular file in place only when all of it was written.
 *
 * hg_out_open decides once what kind of destination it has: "-" is stdout; a path that exists
 * and is not a regular file (/dev/null, a FIFO, a terminal) is opened and written directly;
 * anything else gets a temporary file from mkstemp beside the target (".name.XXXXXX", so the
 * rename stays on one file system), renamed over the target by hg_out_commit. A symlink to a
 * regular file is resolved first, so the link survives and its target is replaced.
 *
 * Writes collect in a 64 KiB buffer; a full buffer goes to the FILE, through deflate first when
 * compressing. The first failure (the errno of a write, or HG_ENOMEM noted by a writer) is
 * remembered and everything after it is dropped; hg_out_commit then reports it, removes the
 * temporary file and leaves whatever was at the target untouched. zlib allocates through
 * hg_malloc, so tests can make its allocations fail too. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define OUT_BUF 65536

struct hg_out {
    FILE *fp;
    bool owns_fp;
    char *name;   /* the destination as given, for messages */
    char *target; /* where the temporary file is renamed to; NULL when written directly */
    char *tmp;    /* the temporary file; NULL when written directly */
    bool gzip, z_ready;
    z_stream z;
    unsigned char *zbuf; /* deflate output, OUT_BUF bytes */
    int fail_code;       /* 0, HG_EIO or HG_ENOMEM: the first failure */
    int fail_errno;
    size_t len; /* bytes pending in buf */
    unsigned char buf[OUT_BUF];
};

/* ---- failures ----------------------------------------------------------------------------- */

static void fail(hg_out_t *o, int code, int errnum) {
    if (!o->fail_code) {
        o->fail_code = code;
        o->fail_errno = errnum ? errnum : EIO;
    }
}

void hg__report_out_fail(hg_out_t *o, int code) {
    fail(o, code, code == HG_ENOMEM ? ENOMEM : EIO);
}

bool hg__report_out_failed(const hg_out_t *o) {
    return o->fail_code != 0;
}

/* ---- zlib --------------------------------------------------------------------------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
    (void)opaque;
    return hg_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p) {
    (void)opaque;
    hg_free(p);
}

void hg__report_zlib_alloc(z_stream *zs) {
    zs->zalloc = z_alloc;
    zs->zfree = z_free;
    zs->opaque = Z_NULL;
}

/* windowBits 15 + 16 asks deflate for a gzip header and trailer (mtime 0: reproducible). */
static int gzip_init(hg_out_t *o) {
    o->zbuf = hg_malloc(OUT_BUF);
    if (!o->zbuf) {
        return HG_ENOMEM;
    }
    hg__report_zlib_alloc(&o->z);
    int rc = deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        return rc == Z_MEM_ERROR ? HG_ENOMEM : HG_EIO;
    }
    o->z_ready = true;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void sink(hg_out_t *o, const void *data, size_t n) {
    if (n == 0 || o->fail_code) {
        return;
    }
    errno = 0;
    if (fwrite(data, 1, n, o->fp) != n) {
        fail(o, HG_EIO, errno);
    }
}

/* Feeds n bytes (at most OUT_BUF) to deflate and writes what comes out; flush is Z_NO_FLUSH or
 * Z_FINISH. */
static void deflate_chunk(hg_out_t *o, const void *data, size_t n, int flush) {
    o->z.next_in = (Bytef *)data;
    o->z.avail_in = (uInt)n;
    for (;;) {
        o->z.next_out = o->zbuf;
        o->z.avail_out = OUT_BUF;
        int rc = deflate(&o->z, flush);
        if (rc == Z_STREAM_ERROR) {
            fail(o, HG_EIO, EIO);
            return;
        }
        sink(o, o->zbuf, OUT_BUF - o->z.avail_out);
        if (rc == Z_STREAM_END || (o->z.avail_out != 0 && flush != Z_FINISH) || o->fail_code) {
            return;
        }
    }
}

static void flush_buf(hg_out_t *o) {
    if (o->len && !o->fail_code) {
        if (o->gzip) {
            deflate_chunk(o, o->buf, o->len, Z_NO_FLUSH);
        } else {
            sink(o, o->buf, o->len);
        }
    }
    o->len = 0;
}

void hg_out_write(hg_out_t *o, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n > OUT_BUF - o->len) {
        size_t room = OUT_BUF - o->len;
        memcpy(o->buf + o->len, p, room);
        o->len = OUT_BUF;
        p += room;
        n -= room;
        flush_buf(o);
    }
    if (n) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    }
}

void hg_out_puts(hg_out_t *o, const char *s) {
    hg_out_write(o, s, strlen(s));
}

/* A formatted piece that did not fit in what was left of the buffer: n is its length. */
static void printf_slow(hg_out_t *o, int n, const char *fmt, va_list ap) {
    if (n < 0) {
        fail(o, HG_EIO, errno);
        return;
    }
    flush_buf(o);
    if ((size_t)n < OUT_BUF) {
        vsnprintf((char *)o->buf, OUT_BUF, fmt, ap);
        o->len = (size_t)n;
        return;
    }
    char *big = hg_malloc((size_t)n + 1);
    if (!big) {
        fail(o, HG_ENOMEM, ENOMEM);
        return;
    }
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    hg_out_write(o, big, (size_t)n);
    hg_free(big);
}

void hg_out_printf(hg_out_t *o, const char *fmt, ...) {
    size_t room = OUT_BUF - o->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)o->buf + o->len, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
        o->len += (size_t)n;
        return;
    }
    va_start(ap, fmt);
    printf_slow(o, n, fmt, ap);
    va_end(ap);
}

/* ---- opening ------------------------------------------------------------------------------ */

static void out_free(hg_out_t *o) {
    if (o->z_ready) {
        deflateEnd(&o->z);
    }
    hg_free(o->zbuf);
    hg_free(o->name);
    hg_free(o->target);
    hg_free(o->tmp);
    hg_free(o);
}

static hg_out_t *out_new(const char *name, bool gzip, hg_error_t *err) {
    hg_out_t *o = hg_calloc(1, sizeof *o);
    int rc = o ? 0 : HG_ENOMEM;
    if (o) {
        o->gzip = gzip;
        o->name = hg_strdup(name);
        rc = o->name ? 0 : HG_ENOMEM;
    }
    if (rc == 0 && gzip) {
        rc = gzip_init(o);
    }
    if (rc != 0) {
        hg_error_set(err, rc, "cannot write report to '%s': %s", name, hg_strerror(rc));
        if (o) {
            out_free(o);
        }
        return NULL;
    }
    return o;
}

hg_out_t *hg_out_stream(FILE *fp, const char *name, bool gzip, hg_error_t *err) {
    if (!fp) {
        hg_error_set(err, HG_EUSAGE, "no stream to write report '%s' to", name ? name : "?");
        return NULL;
    }
    hg_out_t *o = out_new(name ? name : "<stream>", gzip, err);
    if (o) {
        o->fp = fp;
    }
    return o;
}

/* The process umask, read without changing it for longer than the two calls (heapgate's
 * analysis runs on one thread). */
static mode_t current_umask(void) {
    mode_t m = umask(0);
    umask(m);
    return m;
}

/* The file a rename must replace: a symlink's resolved target (so the link survives), else
 * the path itself. NULL when out of memory. */
static char *rename_target(const char *path) {
    struct stat lst;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char *real = realpath(path, NULL);
        if (real) {
            char *copy = hg_strdup(real);
            free(real);
            return copy;
        }
    }
    return hg_strdup(path);
}

/* "dir/.name.XXXXXX" for target "dir/name" (mkstemp template). NULL when out of memory. */
static char *temp_template(const char *target) {
    const char *slash = strrchr(target, '/');
    size_t dir_len = slash ? (size_t)(slash - target) + 1 : 0;
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_append(&b, target, dir_len);
    hg_buf_printf(&b, ".%s.XXXXXX", target + dir_len);
    if (b.failed) {
        hg_buf_free(&b);
        return NULL;
    }
    return hg_buf_take(&b);
}

/* Creates the temporary file beside the target. An existing target's permission bits are
 * kept (as rewriting it in place would); a new file gets 0644 less the umask. */
static int open_temp(hg_out_t *o, const struct stat *existing, hg_error_t *err) {
    o->target = rename_target(o->name);
    o->tmp = o->target ? temp_template(o->target) : NULL;
    if (!o->tmp) {
        return hg_error_set(err, HG_ENOMEM, "cannot write report to '%s': out of memory", o->name);
    }
    int fd = mkostemp(o->tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        hg_free(o->tmp);
        o->tmp = NULL;
        return hg_error_set(err, HG_EIO, "cannot create a temporary file beside '%s': %s", o->name,
                            strerror(e));
    }
    mode_t mode = existing ? (existing->st_mode & 07777) : (0644 & ~current_umask());
    (void)fchmod(fd, mode);
    o->fp = fdopen(fd, "wb");
    if (!o->fp) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        return hg_error_set(err, e == ENOMEM ? HG_ENOMEM : HG_EIO,
                            "cannot write report to '%s': %s", o->name, strerror(e));
    }
    o->owns_fp = true;
    return 0;
}

static int open_direct(hg_out_t *o, hg_error_t *err) {
    o->fp = fopen(o->name, "wb");
    if (!o->fp) {
        return hg_error_set(err, HG_EIO, "cannot open '%s' for writing: %s", o->name,
                            strerror(errno));
    }
    o->owns_fp = true;
    return 0;
}

hg_out_t *hg_out_open(const char *path, bool gzip, hg_error_t *err) {
    if (strcmp(path, "-") == 0) {
        return hg_out_stream(stdout, "<stdout>", gzip, err);
    }
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT) {
        hg_error_set(err, HG_EIO, "cannot write report to '%s': %s", path, strerror(errno));
        return NULL;
    }
    hg_out_t *o = out_new(path, gzip, err);
    if (!o) {
        return NULL;
    }
    int rc = exists && !S_ISREG(st.st_mode) ? open_direct(o, err)
                                            : open_temp(o, exists ? &st : NULL, err);
    if (rc != 0) {
        out_free(o);
        return NULL;
    }
    return o;
}

/* ---- finishing ---------------------------------------------------------------------------- */

/* Writes out everything pending and closes what o owns; failures are noted in o. */
static void finish(hg_out_t *o) {
    flush_buf(o);
    if (o->gzip && o->z_ready && !o->fail_code) {
        deflate_chunk(o, NULL, 0, Z_FINISH);
    }
    errno = 0;
    if (fflush(o->fp) != 0) {
        fail(o, HG_EIO, errno);
    }
    if (o->owns_fp) {
        errno = 0;
        if (fclose(o->fp) != 0) {
            fail(o, HG_EIO, errno);
        }
        o->fp = NULL;
    }
}

static int report_failure(hg_out_t *o, hg_error_t *err) {
    if (o->tmp) {
        unlink(o->tmp);
    }
    if (o->fail_code == HG_ENOMEM) {
        return hg_error_set(err, HG_ENOMEM, "cannot write report to '%s': out of memory", o->name);
    }
    return hg_error_set(err, HG_EIO, "cannot write report to '%s': %s", o->name,
                        strerror(o->fail_errno));
}

static int put_in_place(hg_out_t *o, hg_error_t *err) {
    if (o->tmp && rename(o->tmp, o->target) != 0) {
        int e = errno;
        unlink(o->tmp);
        return hg_error_set(err, HG_EIO, "cannot rename '%s' to '%s': %s", o->tmp, o->target,
                            strerror(e));
    }
    return 0;
}

int hg_out_commit(hg_out_t *o, hg_error_t *err) {
    finish(o);
    int rc = o->fail_code ? report_failure(o, err) : put_in_place(o, err);
    out_free(o);
    return rc;
}

void hg_out_abort(hg_out_t *o) {
    if (!o) {
        return;
    }
    if (o->owns_fp) {
        fclose(o->fp);
    }
    if (o->tmp) {
        unlink(o->tmp);
    }
    out_free(o);
}
