/* xperf_priv.h - private to the xperf text-dump reader (xperf_*.c): `xperf -i trace.etl -a
 * dumper` output (docs/etw-format.md §4.1). xperf_read.c reads lines and the header block;
 * xperf_rows.c turns data rows into events, processes, modules and stacks. */
#ifndef HG_FORMATS_XPERF_PRIV_H
#define HG_FORMATS_XPERF_PRIV_H

#include "etl_priv.h"

#define XPERF_MAX_FIELDS 64
#define XPERF_MAX_TYPES  64

/* What a column means, whatever the dump calls it (the alias table in xperf_read.c). */
typedef enum xperf_role {
    XR_NONE = 0,
    XR_TS,
    XR_PROCESS, /* "name.exe (1234)" */
    XR_PID,
    XR_TID,
    XR_HEAP,
    XR_SIZE,
    XR_ADDR,
    XR_OLD_ADDR,
    XR_OLD_SIZE,
    XR_SOURCE,
    XR_FRAME_NO,
    XR_FRAME, /* Image!Function */
    XR_PARENT,
    XR_CMDLINE,
    XR_BASE,
    XR_END,
    XR_FILE,
    XR_IMAGE_SIZE,
    XR_ROLE_MAX
} xperf_role_t;

typedef enum xperf_kind {
    XK_OTHER = 0,
    XK_HEAP_ALLOC,
    XK_HEAP_REALLOC,
    XK_HEAP_FREE,
    XK_HEAP_CREATE,
    XK_HEAP_DESTROY,
    XK_STACK,
    XK_PROCESS_START,
    XK_PROCESS_END,
    XK_PROCESS_DCSTART,
    XK_PROCESS_DCEND,
    XK_IMAGE_LOAD,
    XK_IMAGE_UNLOAD,
    XK_IMAGE_DCSTART,
    XK_IMAGE_DCEND,
} xperf_kind_t;

typedef struct xperf_type {
    char name[64]; /* as the header spells it, trimmed */
    xperf_kind_t kind;
    int col[XR_ROLE_MAX]; /* field index of each role (0 = absent; field 0 is the name) */
    int nfields;
} xperf_type_t;

typedef struct xperf_field {
    const char *s;
    size_t n;
} xperf_field_t;

typedef struct xperf_frame {
    uint64_t addr;
    char name[256]; /* Image!Function as written */
} xperf_frame_t;

typedef struct hg__xperf {
    const char *name;
    hg_sink_t sink;
    hg_error_t *err;
    const hg_read_options_t *opt;
    uint64_t line_no;
    xperf_type_t types[XPERF_MAX_TYPES];
    int ntypes;
    hg_trace_info_t trace;
    uint64_t lost_events, lost_buffers;
    bool trace_sent;
    hg__pending_t pending;
    hg_stack_interner_t *interner;
    hg__map_t named;     /* hash(pid, addr) of frames already named to the caller */
    hg__map_t synthetic; /* hash(Image!Function) -> synthetic address */
    uint64_t next_synthetic;
    /* the stack being gathered (one row per frame) */
    bool in_stack;
    uint64_t stack_ts;
    uint32_t stack_tid;
    xperf_frame_t *frames;
    uint32_t nframes;
} hg__xperf_t;

/* A data row, split into fields, of a type the header declared. Returns 0 or an error. */
int hg__xperf_row(hg__xperf_t *x, const xperf_type_t *t, const xperf_field_t *f, int nf);
/* The stack being gathered is complete (a non-Stack row or the end came). */
int hg__xperf_end_stack(hg__xperf_t *x);
/* Trace information, once, before the first event. */
int hg__xperf_send_trace(hg__xperf_t *x);
int hg__xperf_fail(hg__xperf_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An unsigned number: decimal or 0x-hex; false when the field is not one. */
bool hg__xperf_number(const xperf_field_t *f, uint64_t *v);

#endif
