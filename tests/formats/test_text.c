/* test_text.c - tests of the text trace reader (hg_text_read, docs/text-format.md).
 *
 * A recording sink keeps everything the reader delivered (with copies of the strings) and the
 * order of the callbacks as a string of letters, so each test compares field by field. Errors
 * are a parameterized table: input, exact "LINE:COL", and a piece of the message. */
#include "formats.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the recording sink ------------------------------------------------------------------ */

#define MAXREC 256

typedef struct rec_process {
    hg_process_info_t info;
    char name[128], cmd[256];
} rec_process_t;

typedef struct rec_module {
    hg_module_info_t info;
    char path[256], pdb[64];
    uint8_t build_id[64];
} rec_module_t;

typedef struct rec_stack {
    uint32_t id, n;
    uint64_t frames[HG_MAX_FRAMES];
} rec_stack_t;

typedef struct recorder {
    char order[4096]; /* T trace, P process, M module, S stack, E event, A stats */
    size_t calls;
    long stop_at; /* return HG_ESTOP at this call (1-based); 0: never */
    hg_trace_info_t trace;
    char trace_format[16];
    hg_event_t ev[MAXREC];
    size_t nev;
    rec_process_t proc[16];
    size_t nproc;
    rec_module_t mod[16];
    size_t nmod;
    rec_stack_t stack[16];
    size_t nstack;
    hg_alloc_stats_t stats[16];
    size_t nstats;
    uint64_t progress_calls, progress_last, progress_total;
} recorder_t;

static recorder_t R;

static int note(char c) {
    if (R.calls < sizeof R.order - 1) {
        R.order[R.calls] = c;
    }
    R.calls++;
    return R.stop_at && (long)R.calls == R.stop_at ? HG_ESTOP : 0;
}

static void copy_str(char *dst, size_t cap, const char **field) {
    if (*field) {
        snprintf(dst, cap, "%s", *field);
        *field = dst;
    }
}

static int on_trace(void *ctx, const hg_trace_info_t *t) {
    (void)ctx;
    R.trace = *t;
    copy_str(R.trace_format, sizeof R.trace_format, &R.trace.format);
    return note('T');
}

static int on_process(void *ctx, const hg_process_info_t *p) {
    (void)ctx;
    rec_process_t *rp = &R.proc[R.nproc++ % 16];
    rp->info = *p;
    copy_str(rp->name, sizeof rp->name, &rp->info.name);
    copy_str(rp->cmd, sizeof rp->cmd, &rp->info.cmdline);
    return note('P');
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    (void)ctx;
    rec_module_t *rm = &R.mod[R.nmod++ % 16];
    rm->info = *m;
    copy_str(rm->path, sizeof rm->path, &rm->info.path);
    copy_str(rm->pdb, sizeof rm->pdb, &rm->info.pdb_name);
    if (m->build_id) {
        memcpy(rm->build_id, m->build_id, m->build_id_len);
        rm->info.build_id = rm->build_id;
    }
    return note('M');
}

static int on_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    (void)ctx;
    rec_stack_t *rs = &R.stack[R.nstack++ % 16];
    rs->id = id;
    rs->n = n;
    memcpy(rs->frames, frames, n * sizeof *frames);
    return note('S');
}

static int on_event(void *ctx, const hg_event_t *ev) {
    (void)ctx;
    R.ev[R.nev++ % MAXREC] = *ev;
    return note('E');
}

static int on_stats(void *ctx, const hg_alloc_stats_t *s) {
    (void)ctx;
    R.stats[R.nstats++ % 16] = *s;
    return note('A');
}

static const hg_sink_ops_t ops = {on_trace, on_process, on_module, on_stack, on_event, on_stats};

static void on_progress(void *ud, uint64_t done, uint64_t total) {
    (void)ud;
    cr_expect(done >= R.progress_last, "progress went backwards");
    R.progress_calls++;
    R.progress_last = done;
    R.progress_total = total;
}

static hg_error_t ERR;
static hg_read_result_t RES;

/* Reads n bytes of text through a recorder; returns hg_text_read's result. */
static int read_n(const char *text, size_t n) {
    R.progress_calls = R.progress_last = R.progress_total = 0;
    FILE *fp = fmemopen((void *)text, n, "rb");
    cr_assert_not_null(fp);
    hg_read_options_t opt = {.progress = on_progress};
    hg_error_clear(&ERR);
    int rc = hg_text_read(fp, "t.txt", n, (hg_sink_t){&ops, NULL}, &opt, &RES, &ERR);
    fclose(fp);
    return rc;
}

static int read_text(const char *text) {
    return read_n(text, strlen(text));
}

/* Reads text that must be valid. */
static void ok(const char *text) {
    int rc = read_text(text);
    cr_assert_eq(rc, 0, "rc %d: %s", rc, ERR.msg);
}

static void reset(void) {
    memset(&R, 0, sizeof R);
    hg_mem_fail_after(-1);
}

TestSuite(text, .init = reset);

/* ---- header, trace info, layout ---------------------------------------------------------- */

Test(text, minimal_trace_sends_trace_once_with_defaults) {
    ok("hgtrace 1\n");
    cr_expect_str_eq(R.order, "T");
    cr_expect_str_eq(R.trace.format, "text");
    cr_expect_eq(R.trace.start_wall_ns, 0);
    cr_expect_eq(R.trace.duration_hint_ns, 0);
    cr_expect_eq(R.trace.pointer_size, 0);
    cr_expect(R.trace.lost_counts_known);
    cr_expect_eq(RES.format, HG_FMT_TEXT);
    cr_expect(!RES.truncated);
    cr_expect_eq(RES.bytes_read, 10);
}

Test(text, trace_directive_sets_every_field) {
    ok("hgtrace 1\n"
       "trace pointer-size=4 start-wall=2026-01-01T00:00:00.25Z\n"
       "trace lost-counts=unknown duration=1.5m\n"
       "0 mark value=1\n");
    cr_expect_str_eq(R.order, "TE");
    cr_expect_eq(R.trace.pointer_size, 4);
    cr_expect_eq(R.trace.start_wall_ns, 1767225600250000000ULL);
    cr_expect(!R.trace.lost_counts_known);
    cr_expect_eq(R.trace.duration_hint_ns, 90000000000ULL);
}

Test(text, start_wall_handles_leap_years_and_fractions) {
    ok("hgtrace 1\ntrace start-wall=2024-02-29T23:59:59.123456789Z\n");
    cr_expect_eq(R.trace.start_wall_ns, 1709251199123456789ULL);
    ok("hgtrace 1\ntrace start-wall=1970-01-01T00:00:00Z\n");
    cr_expect_eq(R.trace.start_wall_ns, 0);
}

Test(text, comments_blank_lines_bom_and_crlf) {
    ok("\xef\xbb\xbf# a comment before the header\r\n"
       "\r\n"
       "   \t\r\n"
       "hgtrace 1   # version\r\n"
       "process pid=1 name=a#b   # '#' inside a value is text\r\n"
       "\t0 alloc pid=1 addr=0x10 size=8\t# trailing comment\r\n");
    cr_expect_str_eq(R.order, "TPE");
    cr_expect_str_eq(R.proc[0].info.name, "a#b");
    cr_expect_eq(R.ev[0].addr, 0x10);
}

Test(text, bom_does_not_shift_columns) {
    cr_expect_eq(read_text("\xef\xbb\xbfhgtrace 3\n"), HG_EFORMAT);
    cr_expect_str_eq(ERR.msg, "t.txt:1:9: unsupported text trace version '3' (this heapgate "
                              "reads version 1)");
}

Test(text, last_line_without_newline_is_read) {
    ok("hgtrace 1\n0 alloc pid=1 addr=1 size=2\n1 free pid=1 addr=1");
    cr_expect_str_eq(R.order, "TEE");
    cr_expect_eq(R.ev[1].kind, HG_EV_FREE);
    cr_expect(!RES.truncated);
}

Test(text, bad_last_line_without_newline_is_an_error) {
    cr_expect_eq(read_text("hgtrace 1\n0 alloc pid=1 addr=1 si"), HG_EFORMAT);
    cr_expect_str_eq(ERR.msg, "t.txt:2:22: unexpected word 'si' (alloc takes pid=, tid=, "
                              "heap=, addr=, size=, source=, stack=, mmapped)");
}

/* ---- events, field by field -------------------------------------------------------------- */

Test(text, alloc_with_every_key) {
    ok("hgtrace 1\n"
       "1.5ms alloc pid=100 tid=7 heap=0x1f0000 addr=0x21a0f40 size=2K source=lfh stack=3 "
       "mmapped\n");
    const hg_event_t *e = &R.ev[0];
    cr_expect_eq(e->kind, HG_EV_ALLOC);
    cr_expect_eq(e->ts_ns, 1500000);
    cr_expect_eq(e->pid, 100);
    cr_expect_eq(e->tid, 7);
    cr_expect_eq(e->heap, 0x1f0000);
    cr_expect_eq(e->addr, 0x21a0f40);
    cr_expect_eq(e->size, 2048);
    cr_expect_eq(e->source, HG_SOURCE_LFH);
    cr_expect_eq(e->stack_id, 3);
    cr_expect_eq(e->flags, HG_EVF_MMAPPED);
    cr_expect_eq(e->old_addr, 0);
    cr_expect_eq(e->old_size, 0);
}

Test(text, alloc_defaults) {
    ok("hgtrace 1\n0 alloc pid=1 addr=16 size=0\n");
    const hg_event_t *e = &R.ev[0];
    cr_expect_eq(e->ts_ns, 0);
    cr_expect_eq(e->tid, 0);
    cr_expect_eq(e->heap, 0);
    cr_expect_eq(e->source, HG_SOURCE_NA);
    cr_expect_eq(e->stack_id, 0);
    cr_expect_eq(e->flags, 0);
    cr_expect_eq(e->size, 0);
}

Test(text, realloc_with_and_without_old_size) {
    ok("hgtrace 1\n"
       "2s realloc pid=1 tid=2 heap=3 addr=0x200 size=64 old=0x100 old-size=32 source=main "
       "stack=9\n"
       "3s realloc pid=1 addr=0x300 size=128 old=0x200\n");
    const hg_event_t *e = &R.ev[0];
    cr_expect_eq(e->kind, HG_EV_REALLOC);
    cr_expect_eq(e->ts_ns, 2000000000);
    cr_expect_eq(e->heap, 3);
    cr_expect_eq(e->addr, 0x200);
    cr_expect_eq(e->size, 64);
    cr_expect_eq(e->old_addr, 0x100);
    cr_expect_eq(e->old_size, 32);
    cr_expect_eq(e->flags, HG_EVF_OLD_SIZE);
    cr_expect_eq(e->source, HG_SOURCE_MAIN);
    cr_expect_eq(e->stack_id, 9);
    cr_expect_eq(R.ev[1].flags, 0);
    cr_expect_eq(R.ev[1].old_size, 0);
    cr_expect_eq(R.ev[1].old_addr, 0x200);
}

Test(text, free_heap_create_destroy_end) {
    ok("hgtrace 1\n"
       "1 heap-create pid=5 tid=6 heap=0xa0000\n"
       "2 free pid=5 heap=0xa0000 addr=0xa0010 source=slow stack=4 mmapped\n"
       "3 heap-destroy pid=5 heap=0xa0000\n"
       "4 end pid=5 tid=6\n");
    cr_expect_str_eq(R.order, "TEEEE");
    cr_expect_eq(R.ev[0].kind, HG_EV_HEAP_CREATE);
    cr_expect_eq(R.ev[0].heap, 0xa0000);
    cr_expect_eq(R.ev[0].tid, 6);
    cr_expect_eq(R.ev[1].kind, HG_EV_FREE);
    cr_expect_eq(R.ev[1].addr, 0xa0010);
    cr_expect_eq(R.ev[1].source, HG_SOURCE_SLOW);
    cr_expect_eq(R.ev[1].stack_id, 4);
    cr_expect_eq(R.ev[1].flags, HG_EVF_MMAPPED);
    cr_expect_eq(R.ev[2].kind, HG_EV_HEAP_DESTROY);
    cr_expect_eq(R.ev[2].ts_ns, 3000000000ULL);
    cr_expect_eq(R.ev[3].kind, HG_EV_PROCESS_END);
    cr_expect_eq(R.ev[3].pid, 5);
}

Test(text, start_with_metadata_sends_process_first) {
    ok("hgtrace 1\n"
       "0.5 start pid=42 tid=43 name=app.exe cmd=\"app.exe --x\" pointer-size=4 "
       "allocator=windows parent=1\n"
       "0.6 start pid=44\n");
    cr_expect_str_eq(R.order, "TPEE");
    const hg_process_info_t *p = &R.proc[0].info;
    cr_expect_eq(p->pid, 42);
    cr_expect_eq(p->parent_pid, 1);
    cr_expect_str_eq(p->name, "app.exe");
    cr_expect_str_eq(p->cmdline, "app.exe --x");
    cr_expect_eq(p->pointer_size, 4);
    cr_expect_eq(p->allocator, HG_ALLOCATOR_WINDOWS);
    cr_expect_eq(R.ev[0].kind, HG_EV_PROCESS_START);
    cr_expect_eq(R.ev[0].pid, 42);
    cr_expect_eq(R.ev[0].tid, 43);
    cr_expect_eq(R.ev[0].ts_ns, 500000000);
    cr_expect_eq(R.ev[1].pid, 44);
}

Test(text, lost_and_mark_are_trace_wide) {
    ok("hgtrace 1\ndefault pid=9\n1 lost events=10 buffers=2\n2 lost buffers=1\n"
       "3 mark value=0xffffffffffffffff\n");
    cr_expect_eq(R.ev[0].kind, HG_EV_LOST);
    cr_expect_eq(R.ev[0].size, 10);
    cr_expect_eq(R.ev[0].old_size, 2);
    cr_expect_eq(R.ev[0].pid, 0);
    cr_expect_eq(R.ev[1].size, 0);
    cr_expect_eq(R.ev[1].old_size, 1);
    cr_expect_eq(R.ev[2].kind, HG_EV_MARKER);
    cr_expect_eq(R.ev[2].addr, UINT64_MAX);
    cr_expect_eq(R.ev[2].pid, 0);
}

Test(text, stats_go_to_the_stats_callback) {
    ok("hgtrace 1\n"
       "250ms stats pid=3 arena=1M in-use=0x1000 free=10 mmapped=2KiB rss=1G\n"
       "300ms stats pid=3 rss=5\n");
    cr_expect_str_eq(R.order, "TAA");
    const hg_alloc_stats_t *s = &R.stats[0];
    cr_expect_eq(s->pid, 3);
    cr_expect_eq(s->ts_ns, 250000000);
    cr_expect_eq(s->arena_bytes, 1048576);
    cr_expect_eq(s->in_use_bytes, 4096);
    cr_expect_eq(s->free_bytes, 10);
    cr_expect_eq(s->mmapped_bytes, 2048);
    cr_expect_eq(s->rss_bytes, 1ULL << 30);
    cr_expect_eq(R.stats[1].arena_bytes, 0);
    cr_expect_eq(R.stats[1].rss_bytes, 5);
}

Test(text, source_names_and_numbers) {
    ok("hgtrace 1\ndefault pid=1\n"
       "0 alloc addr=1 size=1 source=lookaside\n0 alloc addr=2 size=1 source=lfh\n"
       "0 alloc addr=3 size=1 source=main\n0 alloc addr=4 size=1 source=slow\n"
       "0 alloc addr=5 size=1 source=invalid\n0 alloc addr=6 size=1 source=segment\n"
       "0 alloc addr=7 size=1 source=255\n0 alloc addr=8 size=1 source=0\n");
    const uint8_t want[] = {1, 2, 3, 4, 5, 6, 255, 0};
    for (size_t i = 0; i < sizeof want; i++) {
        cr_expect_eq(R.ev[i].source, want[i], "event %zu", i);
    }
}

Test(text, time_units) {
    ok("hgtrace 1\n"
       "0 mark value=0\n100ns mark value=1\n3us mark value=2\n1.5ms mark value=3\n"
       "2s mark value=4\n2 mark value=5\n0.5m mark value=6\n1.123456789123s mark value=7\n"
       ".25 mark value=8\n1 mark value=9\n");
    const uint64_t want[] = {0,          100,         3000,       1500000,   2000000000,
                             2000000000, 30000000000, 1123456789, 250000000, 1000000000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_expect_eq(R.ev[i].ts_ns, want[i], "event %zu: %llu", i,
                     (unsigned long long)R.ev[i].ts_ns);
    }
}

Test(text, numbers_decimal_hex_and_suffixes) {
    ok("hgtrace 1\ndefault pid=0xffffffff\n"
       "0 alloc addr=0XFFFFFFFFFFFFFFFF size=18446744073709551615\n"
       "0 alloc addr=007 size=3K\n0 alloc addr=1 size=2M\n0 alloc addr=1 size=1G\n"
       "0 alloc addr=1 size=4KiB\n0 alloc addr=1 size=0x10\n");
    cr_expect_eq(R.ev[0].pid, UINT32_MAX);
    cr_expect_eq(R.ev[0].addr, UINT64_MAX);
    cr_expect_eq(R.ev[0].size, UINT64_MAX);
    cr_expect_eq(R.ev[1].addr, 7);
    cr_expect_eq(R.ev[1].size, 3072);
    cr_expect_eq(R.ev[2].size, 2ULL << 20);
    cr_expect_eq(R.ev[3].size, 1ULL << 30);
    cr_expect_eq(R.ev[4].size, 4096);
    cr_expect_eq(R.ev[5].size, 16);
}

Test(text, time_going_backwards_is_accepted) {
    ok("hgtrace 1\n5 mark value=1\n1 mark value=2\n");
    cr_expect_eq(R.ev[0].ts_ns, 5000000000ULL);
    cr_expect_eq(R.ev[1].ts_ns, 1000000000ULL);
}

/* ---- defaults ---------------------------------------------------------------------------- */

Test(text, default_directive_fills_pid_tid_heap) {
    ok("hgtrace 1\n"
       "default pid=10 tid=11 heap=0x12\n"
       "0 alloc addr=1 size=1\n"
       "0 alloc pid=20 tid=21 heap=0x22 addr=2 size=1\n"
       "default pid=30\n"
       "0 free addr=1\n"
       "process name=x\n"
       "0 heap-create\n");
    cr_expect_eq(R.ev[0].pid, 10);
    cr_expect_eq(R.ev[0].tid, 11);
    cr_expect_eq(R.ev[0].heap, 0x12);
    cr_expect_eq(R.ev[1].pid, 20);
    cr_expect_eq(R.ev[1].tid, 21);
    cr_expect_eq(R.ev[1].heap, 0x22);
    cr_expect_eq(R.ev[2].pid, 30);
    cr_expect_eq(R.ev[2].tid, 11);
    cr_expect_eq(R.ev[2].heap, 0x12);
    cr_expect_eq(R.proc[0].info.pid, 30);
    cr_expect_eq(R.ev[3].kind, HG_EV_HEAP_CREATE);
    cr_expect_eq(R.ev[3].heap, 0x12);
}

Test(text, default_does_not_send_anything) {
    ok("hgtrace 1\ndefault pid=1\n");
    cr_expect_str_eq(R.order, "T");
}

/* ---- metadata ---------------------------------------------------------------------------- */

Test(text, process_with_quoted_strings) {
    ok("hgtrace 1\n"
       "process pid=100 name=\"my app.exe\" cmd=\"C:\\Program Files\\app.exe \\\"x\\\" \\\\ \" "
       "pointer-size=8 allocator=glibc parent=1\n"
       "process pid=101 name=\"\" cmd=caf\xc3\xa9\n"
       "process pid=102\n");
    const hg_process_info_t *p = &R.proc[0].info;
    cr_expect_eq(p->pid, 100);
    cr_expect_str_eq(p->name, "my app.exe");
    cr_expect_str_eq(p->cmdline, "C:\\Program Files\\app.exe \"x\" \\ ");
    cr_expect_eq(p->pointer_size, 8);
    cr_expect_eq(p->allocator, HG_ALLOCATOR_GLIBC);
    cr_expect_eq(p->parent_pid, 1);
    cr_expect_str_eq(R.proc[1].info.name, "");
    cr_expect_str_eq(R.proc[1].info.cmdline, "caf\xc3\xa9");
    cr_expect_null(R.proc[2].info.name);
    cr_expect_null(R.proc[2].info.cmdline);
    cr_expect_eq(R.proc[2].info.pointer_size, 0);
    cr_expect_eq(R.proc[2].info.allocator, HG_ALLOCATOR_UNKNOWN);
}

Test(text, module_with_pdb_identity) {
    ok("hgtrace 1\n"
       "module pid=4 base=0x7ffb3c5e0000 size=0x1f8000 path=C:\\Windows\\System32\\ntdll.dll "
       "pdb=ntdll.pdb guid=3F2A9C1E-58B7-4D0A-9E61-0C4B7D2E1A95 age=2 timestamp=0x5f000000 "
       "at=1ms\n");
    const hg_module_info_t *m = &R.mod[0].info;
    const uint8_t guid[16] = {0x1e, 0x9c, 0x2a, 0x3f, 0xb7, 0x58, 0x0a, 0x4d,
                              0x9e, 0x61, 0x0c, 0x4b, 0x7d, 0x2e, 0x1a, 0x95};
    cr_expect_eq(m->pid, 4);
    cr_expect(!m->unload);
    cr_expect_eq(m->base, 0x7ffb3c5e0000);
    cr_expect_eq(m->size, 0x1f8000);
    cr_expect_eq(m->ts_ns, 1000000);
    cr_expect_str_eq(m->path, "C:\\Windows\\System32\\ntdll.dll");
    cr_expect_str_eq(m->pdb_name, "ntdll.pdb");
    cr_expect_arr_eq(m->pdb_guid, guid, 16);
    cr_expect_eq(m->pdb_age, 2);
    cr_expect_eq(m->pe_timestamp, 0x5f000000);
    cr_expect_null(m->build_id);
    cr_expect_eq(m->build_id_len, 0);
}

Test(text, module_with_build_id_and_braced_guid) {
    ok("hgtrace 1\n"
       "module pid=1 base=0x400000 size=64K path=/usr/bin/app build-id=00ff10Ab\n"
       "module pid=1 base=0x500000 size=1 path=x.dll pdb=x.pdb "
       "guid={00112233-4455-6677-8899-aabbccddeeff} age=1\n");
    const hg_module_info_t *m = &R.mod[0].info;
    const uint8_t id[4] = {0x00, 0xff, 0x10, 0xab};
    cr_expect_eq(m->size, 65536);
    cr_expect_eq(m->ts_ns, 0);
    cr_expect_eq(m->build_id_len, 4);
    cr_expect_arr_eq(m->build_id, id, 4);
    cr_expect_null(m->pdb_name);
    const uint8_t guid[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                              0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    cr_expect_arr_eq(R.mod[1].info.pdb_guid, guid, 16);
}

Test(text, unload) {
    ok("hgtrace 1\ndefault pid=8\nunload base=0x400000 at=2.5s\n");
    const hg_module_info_t *m = &R.mod[0].info;
    cr_expect(m->unload);
    cr_expect_eq(m->pid, 8);
    cr_expect_eq(m->base, 0x400000);
    cr_expect_eq(m->ts_ns, 2500000000ULL);
    cr_expect_null(m->path);
}

/* ---- stacks ------------------------------------------------------------------------------ */

Test(text, stack_forms_and_definition_after_use) {
    ok("hgtrace 1\n"
       "0 alloc pid=1 addr=1 size=1 stack=7\n"
       "stack 7 0x401000 0x402000 4198400\n"
       "stack id=4294967295 frames=0x1,2,0x3\n");
    cr_expect_str_eq(R.order, "TESS");
    cr_expect_eq(R.stack[0].id, 7);
    cr_expect_eq(R.stack[0].n, 3);
    cr_expect_eq(R.stack[0].frames[0], 0x401000);
    cr_expect_eq(R.stack[0].frames[1], 0x402000);
    cr_expect_eq(R.stack[0].frames[2], 4198400);
    cr_expect_eq(R.stack[1].id, UINT32_MAX);
    cr_expect_eq(R.stack[1].n, 3);
    cr_expect_eq(R.stack[1].frames[1], 2);
}

/* "stack ID F F ..." (or the keyword form) with n frames 0x1000, 0x1001, ... */
static char *stack_line(uint32_t id, int n, bool keyword) {
    char *s = malloc(32 + (size_t)n * 20);
    int len = keyword ? sprintf(s, "hgtrace 1\nstack id=%u frames=", id)
                      : sprintf(s, "hgtrace 1\nstack %u", id);
    for (int i = 0; i < n; i++) {
        const char *sep = !keyword ? " " : i ? "," : "";
        len += sprintf(s + len, "%s%#x", sep, 0x1000 + i);
    }
    strcpy(s + len, "\n");
    return s;
}

Test(text, stack_with_max_frames) {
    for (int keyword = 0; keyword < 2; keyword++) {
        char *s = stack_line(3, HG_MAX_FRAMES, keyword);
        R.nstack = 0;
        ok(s);
        cr_expect_eq(R.stack[0].n, HG_MAX_FRAMES);
        cr_expect_eq(R.stack[0].frames[HG_MAX_FRAMES - 1], 0x1000 + HG_MAX_FRAMES - 1);
        free(s);
    }
}

Test(text, stack_with_too_many_frames) {
    char *s = stack_line(3, HG_MAX_FRAMES + 1, false);
    cr_expect_eq(read_text(s), HG_EFORMAT);
    cr_expect(strstr(ERR.msg, "t.txt:2:") == ERR.msg, "%s", ERR.msg);
    cr_expect(strstr(ERR.msg, "stack has more than 256 frames"), "%s", ERR.msg);
    free(s);
    s = stack_line(3, HG_MAX_FRAMES + 1, true);
    cr_expect_eq(read_text(s), HG_EFORMAT);
    cr_expect(strstr(ERR.msg, "frames= expects"), "%s", ERR.msg);
    free(s);
}

Test(text, many_stacks_and_a_late_duplicate) {
    size_t cap = 1000 * 24 + 64;
    char *s = malloc(cap);
    size_t n = (size_t)sprintf(s, "hgtrace 1\n");
    for (int i = 1; i <= 1000; i++) {
        n += (size_t)sprintf(s + n, "stack %d %#x\n", i * 7919, i);
    }
    ok(s);
    cr_expect_eq(R.nstack, 1000);
    sprintf(s + n, "stack %d 1\n", 500 * 7919);
    cr_expect_eq(read_text(s), HG_EFORMAT);
    cr_expect_str_eq(ERR.msg, "t.txt:1002:7: stack 3959500 is already defined on line 501");
    free(s);
}

/* ---- errors ------------------------------------------------------------------------------ */

/* Arrays, not pointers: Criterion runs each case in a new process where the parent's
 * pointers would not be valid. */
typedef struct err_case {
    char input[256];
    char where[16]; /* "LINE:COL" */
    char msg[128];  /* a piece of the message */
} err_case_t;

#define H "hgtrace 1\n"

ParameterizedTestParameters(text, errors) {
    static err_case_t cases[] = {
        {"", "1:1", "end of input before the header 'hgtrace 1'"},
        {"# c\n\n", "3:1", "end of input before the header"},
        {"hgtrace 2\n", "1:9", "unsupported text trace version '2'"},
        {"hgtrace 1.0\n", "1:9", "unsupported text trace version '1.0'"},
        {"hgtrace\n", "1:8", "expected a version number after 'hgtrace'"},
        {"hgtrace v=1\n", "1:9", "expected a version number"},
        {"hgtrace 1 x\n", "1:11", "unexpected text after 'hgtrace 1'"},
        {"0 alloc pid=1\n", "1:1", "expected the header 'hgtrace 1' first, got '0'"},
        {H "hgtrace 1\n", "2:1", "the 'hgtrace' header may appear only once"},
        {H "proces pid=1\n", "2:1", "expected an event time or one of process, module"},
        {H "pid=1 alloc\n", "2:1", "expected an event time or one of"},
        {H "0 allocate pid=1\n", "2:3", "unknown event kind 'allocate' (expected alloc,"},
        {H "0\n", "2:2", "expected an event kind after the time"},
        {H "0 kind=alloc\n", "2:3", "unknown event kind 'kind=alloc'"},
        {H "1x alloc pid=1 addr=1 size=1\n", "2:1", "expected an event time like 1.5ms"},
        {H "1.5h mark value=1\n", "2:1", "expected an event time"},
        {H "1. mark value=1\n", "2:1", "expected an event time"},
        {H "99999999999 mark value=1\n", "2:1", "expected an event time"},
        {H "0 alloc pid=1 addr=1 size=1 color=red\n", "2:29", "unknown key 'color' (alloc takes"},
        {H "0 free pid=1 addr=1 size=1\n", "2:21", "free does not take size= (it takes pid="},
        {H "0 alloc pid=1 addr=1 size=1 junk\n", "2:29", "unexpected word 'junk'"},
        {H "0 alloc pid=1 addr=1 addr=2 size=1\n", "2:22",
         "duplicate key addr= (first given at column 15)"},
        {H "0 alloc pid=1 addr=1\n", "2:3", "alloc needs size="},
        {H "0 alloc addr=1 size=1\n", "2:3", "alloc needs pid= (or an earlier 'default pid=N'"},
        {H "0 realloc pid=1 addr=1 size=1\n", "2:3", "realloc needs old="},
        {H "0 heap-create pid=1\n", "2:3", "heap-create needs heap= (or an earlier 'default"},
        {H "0 mark\n", "2:3", "mark needs value="},
        {H "0 lost\n", "2:3", "lost needs at least one of events=, buffers="},
        {H "0 lost pid=1 events=1\n", "2:8", "lost does not take pid="},
        {H "0 stats pid=1\n", "2:3",
         "stats needs at least one of mmapped=, arena=, in-use=, free=, rss="},
        {H "0 stats pid=1 mmapped\n", "2:15", "expected mmapped=VALUE"},
        {H "0 alloc pid=1 addr=1 size=1 mmapped=1\n", "2:36", "mmapped is a flag"},
        {H "0 alloc pid=1 addr=zz size=1\n", "2:20",
         "addr= expects a 64-bit number (decimal or 0x-hex), got \"zz\""},
        {H "0 alloc pid=1 addr=0x size=1\n", "2:20", "addr= expects"},
        {H "0 alloc pid=1 addr=-1 size=1\n", "2:20", "addr= expects"},
        {H "0 alloc pid=1 addr=18446744073709551616 size=1\n", "2:20", "addr= expects"},
        {H "0 alloc pid=1 addr=0x10000000000000000 size=1\n", "2:20", "addr= expects"},
        {H "0 alloc pid=4294967296 addr=1 size=1\n", "2:13",
         "pid= expects a number from 0 to 4294967295"},
        {H "0 alloc pid=1 addr=1 size=1.5K\n", "2:27", "size= expects a byte count"},
        {H "0 alloc pid=1 addr=1 size=16777216T\n", "2:27", "size= expects a byte count"},
        {H "0 alloc pid=1 addr=1 size=17179869184G\n", "2:27", "size= expects"},
        {H "0 alloc pid=1 addr=1 size=1 source=256\n", "2:36", "source= expects 0-255 or one"},
        {H "0 alloc pid=1 addr=1 size=1 source=LFH\n", "2:36", "source= expects"},
        {H "0 alloc pid=1 addr=1 size=1 stack=0\n", "2:35",
         "stack= expects a stack id from 1 to 4294967295"},
        {H "0 alloc pid=1 addr=1 size=1 stack=4294967296\n", "2:35", "stack= expects"},
        {H "0 alloc pid=1 addr=\n", "2:20", "expected a value after 'addr='"},
        {H "0 alloc =1\n", "2:9", "expected a key before '='"},
        {H "process pid=1 name=\"abc\n", "2:20", "unterminated quoted value"},
        {H "process pid=1 name=\"a\\\"\n", "2:20", "unterminated quoted value"},
        {H "process pid=1 name=\"a\"b\n", "2:23", "expected a space after the closing quote"},
        {H "process pid=1 name=a\"b\n", "2:21", "a quote may only open a value"},
        {H "process \"x\"\n", "2:9", "a quote may only open a value"},
        {H "process pid=1 name=\xff\n", "2:20", "name= is not valid UTF-8 (byte 0xff)"},
        {H "process pid=1 name=\"ab\xc3\"\n", "2:23", "name= is not valid UTF-8 (byte 0xc3)"},
        {H "process pid=1 cmd=\xed\xa0\x80\n", "2:19", "cmd= is not valid UTF-8"},
        {H "process pid=1 pointer-size=6\n", "2:28", "pointer-size= expects 4 or 8"},
        {H "process pid=1 allocator=jemalloc\n", "2:25",
         "allocator= expects windows, glibc or unknown"},
        {H "process pid=1 tid=2\n", "2:15", "process does not take tid="},
        {H "0 alloc pid=1 addr=1 size=1\x01\n", "2:28", "control character 0x01"},
        {H "0 alloc pid=1\raddr=1 size=1\n", "2:14", "carriage return inside a line"},

        {H "0 mark value=1\ntrace pointer-size=8\n", "3:1",
         "'trace' lines must come before the first event"},
        {H "process pid=1\ntrace pointer-size=8\n", "3:1", "'trace' lines must come before"},
        {H "trace duration=1\ntrace lost-counts=known duration=2\n", "3:25",
         "trace setting given twice"},
        {H "trace\n", "2:1", "trace needs at least one of pointer-size=, start-wall="},
        {H "trace lost-counts=maybe\n", "2:19", "lost-counts= expects known or unknown"},
        {H "trace start-wall=2026-02-30T00:00:00Z\n", "2:18",
         "start-wall= expects a UTC time like 2026-01-01T00:00:00Z"},
        {H "trace start-wall=2026-01-01T00:00:00\n", "2:18", "start-wall= expects"},
        {H "trace start-wall=2026-01-01T24:00:00Z\n", "2:18", "start-wall= expects"},
        {H "trace start-wall=1969-12-31T23:59:59Z\n", "2:18", "start-wall= expects"},
        {H "trace start-wall=2026-01-01T00:00:00.Z\n", "2:18", "start-wall= expects"},
        {H "trace duration=5h\n", "2:16", "duration= expects a time like 1.5ms"},
        {H "trace pointer-size=16\n", "2:20", "pointer-size= expects 4 or 8"},
        {H "default\n", "2:1", "default needs at least one of pid=, tid=, heap="},
        {H "default pid=1 addr=2\n", "2:15", "default does not take addr="},
        {H "stack\n", "2:1", "stack needs an id and frames"},
        {H "stack 5\n", "2:1", "stack needs at least one frame"},
        {H "stack 0 1\n", "2:7", "stack expects a stack id from 1 to 4294967295 first"},
        {H "stack x 1\n", "2:7", "stack expects a stack id"},
        {H "stack 5 1\nstack 5 2\n", "3:7", "stack 5 is already defined on line 2"},
        {H "stack 5 1\nstack id=5 frames=2\n", "3:7", "stack 5 is already defined on line 2"},
        {H "stack 1 0x1 id=3\n", "2:13", "expected a frame address (form: stack ID FRAME...)"},
        {H "stack 1 0x1 zz\n", "2:13", "expected a frame address (decimal or 0x-hex)"},
        {H "stack id=1 frames=1,,2\n", "2:21", "frames= expects comma-separated frame"},
        {H "stack id=1 frames=1,\n", "2:21", "frames= expects"},
        {H "stack id=1\n", "2:1", "stack needs frames="},
        {H "stack frames=1\n", "2:1", "stack needs id="},
        {H "stack id=0 frames=1\n", "2:10", "id= expects a stack id from 1"},
        {H "module pid=1 base=1 size=1\n", "2:1", "module needs path="},
        {H "module pid=1 base=1 path=a\n", "2:1", "module needs size="},
        {H "module pid=1 base=1 size=1 path=a guid=00112233-4455-6677-8899-aabbccddeeff\n", "2:35",
         "pdb=, guid= and age= go together (missing pdb=)"},
        {H "module pid=1 base=1 size=1 path=a pdb=a.pdb age=1\n", "2:35",
         "pdb=, guid= and age= go together (missing guid=)"},
        {H "module pid=1 base=1 size=1 path=a pdb=a.pdb guid=0011223344556677\n", "2:50",
         "guid= expects a GUID like"},
        {H "module pid=1 base=1 size=1 path=a pdb=a.pdb guid=0011223g-4455-6677-8899-aabbccddeeff"
           " age=1\n",
         "2:50", "guid= expects a GUID"},
        {H "module pid=1 base=1 size=1 path=a build-id=abc\n", "2:44",
         "build-id= expects an even number of hex digits"},
        {H "module pid=1 base=1 size=1 path=a build-id=xy\n", "2:44", "build-id= expects"},
        {H "module pid=1 base=1 size=1 path=a build-id=0000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
           "000000000000\n",
         "2:44", "build-id= expects an even number of hex digits (at most 64 bytes)"},
        {H "module pid=1 base=1 size=1 path=a timestamp=0x100000000\n", "2:45",
         "timestamp= expects a number from 0"},
        {H "module pid=1 base=1 size=1 path=a at=soon\n", "2:38", "at= expects a time"},
        {H "unload pid=1 base=1\n", "2:1", "unload needs at="},
        {H "unload pid=1 base=1 at=1 size=2\n", "2:26", "unload does not take size="},
    };
    return cr_make_param_array(err_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(err_case_t *c, text, errors) {
    int rc = read_text(c->input);
    cr_assert_eq(rc, HG_EFORMAT, "input \"%s\": rc %d", c->input, rc);
    cr_expect_eq(ERR.code, HG_EFORMAT);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "t.txt:%s: ", c->where);
    cr_expect(strncmp(ERR.msg, prefix, strlen(prefix)) == 0, "input \"%s\": want %s, got %s",
              c->input, prefix, ERR.msg);
    cr_expect(strstr(ERR.msg, c->msg) != NULL, "input \"%s\": want \"%s\" in %s", c->input, c->msg,
              ERR.msg);
}

Test(text, nul_byte_is_an_error) {
    static const char text[] = H "0 alloc pid=1\0 addr=1 size=1\n";
    cr_expect_eq(read_n(text, sizeof text - 1), HG_EFORMAT);
    cr_expect_str_eq(ERR.msg, "t.txt:2:14: control character 0x00 (only tab and space separate)");
}

/* ---- long lines and big inputs ----------------------------------------------------------- */

/* text = filler lines of about before bytes, then "# xxx..." of exactly comment_len bytes,
 * then "0 mark value=7\n". Returns the line number of the long line via *long_line. */
static char *long_line_text(size_t before, size_t comment_len, const char *eol, size_t *len,
                            size_t *long_line) {
    char *s = malloc(before + comment_len + 64);
    size_t n = (size_t)sprintf(s, "hgtrace 1\n");
    *long_line = 2;
    while (n < before) {
        n += (size_t)sprintf(s + n, "0 mark value=1\n");
        (*long_line)++;
    }
    s[n++] = '#';
    memset(s + n, 'x', comment_len - 1);
    n += comment_len - 1;
    n += (size_t)sprintf(s + n, "%s0 mark value=7\n", eol);
    *len = n;
    return s;
}

Test(text, line_of_exactly_the_limit_is_accepted) {
    const char *eols[] = {"\n", "\r\n"};
    for (size_t before = 0; before < 400000; before += 250000) {
        for (int e = 0; e < 2; e++) {
            size_t len, line;
            char *s = long_line_text(before, 65536, eols[e], &len, &line);
            memset(&R, 0, sizeof R);
            int rc = read_n(s, len);
            cr_expect_eq(rc, 0, "before %zu eol %d: %s", before, e, ERR.msg);
            cr_expect_eq(R.ev[(R.nev - 1) % MAXREC].addr, 7);
            free(s);
        }
    }
}

Test(text, line_over_the_limit_is_an_error) {
    const char *eols[] = {"\n", "\r\n", ""};
    for (size_t before = 0; before < 400000; before += 250000) {
        for (int e = 0; e < 3; e++) {
            size_t len, line;
            char *s = long_line_text(before, 65537 + (e == 2 ? 100000 : 0), eols[e], &len, &line);
            cr_expect_eq(read_n(s, len), HG_EFORMAT);
            char want[128];
            snprintf(want, sizeof want, "t.txt:%zu:65537: line is longer than 65536 bytes", line);
            cr_expect_str_eq(ERR.msg, want);
            free(s);
        }
    }
}

/* The size hint only sizes the first buffer: wrong or missing hints must not matter. */
static int read_hinted(const char *text, size_t n, uint64_t hint) {
    FILE *fp = fmemopen((void *)text, n, "rb");
    hg_error_clear(&ERR);
    int rc = hg_text_read(fp, "t.txt", hint, (hg_sink_t){&ops, NULL}, NULL, &RES, &ERR);
    fclose(fp);
    return rc;
}

Test(text, size_hint_wrong_or_missing) {
    const uint64_t hints[] = {0, 1, 5000, 1ULL << 40};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        size_t len, line;
        char *s = long_line_text(300000, 65536, "\r\n", &len, &line);
        memset(&R, 0, sizeof R);
        cr_expect_eq(read_hinted(s, len, hints[i]), 0, "hint %zu: %s", i, ERR.msg);
        cr_expect_eq(R.ev[(R.nev - 1) % MAXREC].addr, 7);
        cr_expect_eq(RES.bytes_read, len);
        free(s);
        s = long_line_text(10, 65537, "\n", &len, &line);
        cr_expect_eq(read_hinted(s, len, hints[i]), HG_EFORMAT);
        cr_expect_str_eq(ERR.msg, "t.txt:2:65537: line is longer than 65536 bytes");
        free(s);
    }
}

Test(text, out_of_memory_when_growing_the_buffer) {
    size_t len, line;
    char *s = long_line_text(10, 10000, "\n", &len, &line);
    hg_mem_fail_after(2);
    int rc = read_hinted(s, len, 1);
    hg_mem_fail_after(-1);
    cr_expect_eq(rc, HG_ENOMEM);
    cr_expect_str_eq(ERR.msg, "t.txt:2: out of memory for a line");
    cr_expect_eq(hg_mem_stats().live_bytes, 0);
    free(s);
}

Test(text, big_input_reports_progress_and_bytes) {
    size_t len, line;
    char *s = long_line_text(1000000, 10, "\n", &len, &line);
    int rc = read_n(s, len);
    cr_assert_eq(rc, 0, "%s", ERR.msg);
    cr_expect_eq(RES.bytes_read, len);
    cr_expect_gt(R.progress_calls, 3);
    cr_expect_eq(R.progress_last, len);
    cr_expect_eq(R.progress_total, len);
    cr_expect_eq(R.nev, line - 2 + 1);
    free(s);
}

/* ---- the sink, memory, and the demo ------------------------------------------------------ */

Test(text, sink_error_stops_reading_and_is_returned) {
    R.stop_at = 3;
    int rc = read_text("hgtrace 1\n0 mark value=1\n1 mark value=2\n2 mark value=3\n");
    cr_expect_eq(rc, HG_ESTOP);
    cr_expect_eq(R.calls, 3);
    cr_expect_eq(ERR.code, HG_ESTOP);
    cr_expect(strncmp(ERR.msg, "t.txt:3: ", 9) == 0, "%s", ERR.msg);
}

Test(text, sink_error_in_trace_callback) {
    R.stop_at = 1;
    cr_expect_eq(read_text("hgtrace 1\n"), HG_ESTOP);
    cr_expect_str_eq(R.order, "T");
}

Test(text, sink_error_in_process_of_start) {
    R.stop_at = 2;
    cr_expect_eq(read_text("hgtrace 1\n0 start pid=1 name=a\n"), HG_ESTOP);
    cr_expect_str_eq(R.order, "TP");
}

Test(text, null_callbacks_are_skipped) {
    static const hg_sink_ops_t none = {0};
    const char *text = "hgtrace 1\nprocess pid=1\nmodule pid=1 base=1 size=1 path=a\nstack 1 1\n"
                       "0 alloc pid=1 addr=1 size=1\n0 stats pid=1 rss=1\n";
    FILE *fp = fmemopen((void *)text, strlen(text), "rb");
    int rc = hg_text_read(fp, "t.txt", 0, (hg_sink_t){&none, NULL}, NULL, &RES, &ERR);
    fclose(fp);
    cr_expect_eq(rc, 0, "%s", ERR.msg);
}

Test(text, out_of_memory_is_reported_and_clean) {
    for (long n = 0; n < 3; n++) {
        hg_mem_fail_after(n);
        int rc = read_text("hgtrace 1\nstack 1 1\n");
        hg_mem_fail_after(-1);
        cr_expect_eq(rc, HG_ENOMEM, "fail after %ld: rc %d", n, rc);
        cr_expect_eq(ERR.code, HG_ENOMEM);
    }
    cr_expect_eq(hg_mem_stats().live_bytes, 0);
}

Test(text, reader_frees_its_memory) {
    ok("hgtrace 1\nstack 1 1\nstack 2 2\n");
    cr_expect_eq(hg_mem_stats().live_bytes, 0);
    cr_expect_eq(read_text("hgtrace 1\nstack 1 1\nstack 1 2\n"), HG_EFORMAT);
    cr_expect_eq(hg_mem_stats().live_bytes, 0);
}

static char *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    return buf;
}

Test(text, demo_example_parses) {
    size_t len;
    char *s = slurp(HG_SOURCE_DIR "/examples/demo.txt", &len);
    int rc = read_n(s, len);
    cr_assert_eq(rc, 0, "%s", ERR.msg);
    cr_expect_eq(R.nproc, 2);
    cr_expect_str_eq(R.proc[1].info.name, "report.exe");
    cr_expect_eq(R.nstack, 7);
    cr_expect_eq(R.trace.pointer_size, 8);
    size_t leak = 0;
    for (size_t i = 0; i < R.nev && i < MAXREC; i++) {
        leak += R.ev[i].kind == HG_EV_ALLOC && R.ev[i].stack_id == 11;
    }
    cr_expect_eq(leak, 24);
    free(s);
}

Test(text, docs_first_example_parses) {
    size_t len;
    char *s = slurp(HG_SOURCE_DIR "/docs/text-format.md", &len);
    s[len] = '\0';
    char *start = strstr(s, "```\nhgtrace 1\n");
    cr_assert_not_null(start, "no example in docs/text-format.md");
    start += 4;
    char *end = strstr(start, "```");
    cr_assert_not_null(end);
    int rc = read_n(start, (size_t)(end - start));
    cr_assert_eq(rc, 0, "%s", ERR.msg);
    cr_expect_str_eq(R.order, "TPMSEEEE");
    cr_expect_eq(R.ev[3].kind, HG_EV_PROCESS_END);
    free(s);
}
