/* base.h - what every heapgate module shares: error codes and messages, the tool's own
 * allocation wrapper (counted, with failure injection for tests), a growable byte buffer and the
 * parsers for the command line's durations and byte counts. */
#ifndef HG_BASE_H
#define HG_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------------------------- */

/* Functions that can fail return 0 or one of these (negative) codes. */
enum {
    HG_OK = 0,
    HG_ENOMEM = -1,  /* out of memory */
    HG_EIO = -2,     /* a read or write failed (errno kept in the message) */
    HG_EFORMAT = -3, /* input is not what its format requires */
    HG_EUSAGE = -4,  /* wrong option or argument */
    HG_ELIMIT = -5,  /* a value beyond what heapgate accepts */
    HG_ESTOP = -6,   /* a callback asked to stop */
};

/* A short English description of an HG_E... code; never NULL. */
const char *hg_strerror(int code);

/* An error with its message: filled by the function that failed, read by whoever reports it.
 * The message names the file and the offset or line when the error is about input. */
typedef struct hg_error {
    int code;
    char msg[512];
} hg_error_t;

/* Sets err (when not NULL) to code and a printf-formatted message; returns code. */
int hg_error_set(hg_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hg_error_setv(hg_error_t *err, int code, const char *fmt, va_list ap);
void hg_error_clear(hg_error_t *err);

/* ---- the tool's own memory ---------------------------------------------------------------- */

/* Every allocation heapgate makes for itself goes through these, so it can report its own
 * memory and tests can make the N-th allocation fail. They return NULL on failure (never abort);
 * hg_free(NULL) is a no-op. Not thread-safe: heapgate's analysis runs on one thread. */
void *hg_malloc(size_t size_bytes);
void *hg_calloc(size_t count, size_t size_bytes);
void *hg_realloc(void *ptr, size_t size_bytes);
void hg_free(void *ptr);
char *hg_strdup(const char *s);
char *hg_strndup(const char *s, size_t n);

typedef struct hg_mem_stats {
    uint64_t live_bytes;
    uint64_t peak_bytes;
    uint64_t allocations;
} hg_mem_stats_t;

hg_mem_stats_t hg_mem_stats(void);
/* After n more successful allocations, every further one fails (n < 0: never fail). */
void hg_mem_fail_after(long n);

/* ---- growable buffer ---------------------------------------------------------------------- */

/* A byte buffer that grows as it is appended to. data is NUL-terminated after every append
 * (not counted in len). On allocation failure the buffer keeps what it had and sets failed. */
typedef struct hg_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} hg_buf_t;

void hg_buf_init(hg_buf_t *b);
void hg_buf_free(hg_buf_t *b);
void hg_buf_reset(hg_buf_t *b); /* len = 0, keeps the memory */
bool hg_buf_reserve(hg_buf_t *b, size_t extra);
void hg_buf_append(hg_buf_t *b, const void *data, size_t n);
void hg_buf_puts(hg_buf_t *b, const char *s);
void hg_buf_putc(hg_buf_t *b, char c);
void hg_buf_printf(hg_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the buffer's string (caller frees with hg_free); leaves b empty. */
char *hg_buf_take(hg_buf_t *b);

/* ---- parsers for the command line -------------------------------------------------------- */

/* A duration or time: a non-negative decimal number with an optional unit ns|us|ms|s|m
 * (default s), e.g. "1.5ms", "30", "2m". Returns 0 or HG_EUSAGE. */
int hg_parse_duration_ns(const char *s, uint64_t *out_ns);
/* A byte count: an integer with an optional suffix K|KiB|M|MiB|G|GiB (powers of 1024), or
 * B|k (1024 too). Returns 0 or HG_EUSAGE. */
int hg_parse_bytes(const char *s, uint64_t *out_bytes);
/* An unsigned integer, decimal or 0x-hex, with nothing after it. Returns 0 or HG_EUSAGE. */
int hg_parse_u64(const char *s, uint64_t *out);
/* Formats ns as a short human duration ("1.234 s", "15.0 ms"); returns buf. */
const char *hg_format_duration(uint64_t ns, char *buf, size_t cap);
/* Formats a byte count with a binary unit ("1.5 MiB", "312 B"); returns buf. */
const char *hg_format_bytes(uint64_t bytes, char *buf, size_t cap);

/* FNV-1a 64-bit over n bytes, continuing from h (start with HG_FNV_INIT). */
#define HG_FNV_INIT 0xcbf29ce484222325ULL
uint64_t hg_fnv1a(uint64_t h, const void *data, size_t n);

#endif
