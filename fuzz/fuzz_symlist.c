/* fuzz_symlist.c - libFuzzer target for heapgate-symbolize's module and address list
 * (symbols/symlist.h).
 *
 * Each input is parsed with callbacks that check what they are handed (a module's size is not
 * 0 and it does not wrap, strings are terminated, lines count up), then resolved through a
 * symbolizer with no debug files, so every module registered is looked up. A failure must name
 * the list and a line; the parser's own allocations failing after a few must fail cleanly or
 * succeed, and free everything either way. Seeds: fuzz/corpus/symlist/. */
#include "symlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_symlist: check failed: %s\n", #c);                               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NAME "fuzz.txt"

typedef struct seen {
    hg_symbolizer_t *sym;
    size_t last_line, modules, addresses;
} seen_t;

static int on_module(void *ctx, const hg_sym_module_t *m) {
    seen_t *s = ctx;
    CHECK(m->size > 0 && m->base + m->size > m->base);
    CHECK(m->path && strlen(m->path) > 0);
    CHECK(!m->pdb_name || strlen(m->pdb_name) > 0);
    s->modules++;
    return hg_sym_add_module(s->sym, 0, m);
}

static int on_address(void *ctx, uint64_t addr, size_t line) {
    seen_t *s = ctx;
    CHECK(line > s->last_line);
    s->last_line = line;
    s->addresses++;
    hg_sym_frame_t f[4];
    CHECK(hg_sym_resolve(s->sym, 0, addr, 0, f, 4) == 1);
    return 0;
}

static void parse_once(const uint8_t *data, size_t size, bool oom) {
    uint64_t live = hg_mem_stats().live_bytes;
    hg_sym_options_t opt;
    hg_sym_options_init(&opt);
    opt.no_debug_files = true;
    opt.symbol_path = "";
    seen_t s = {hg_sym_open(&opt, NULL), 0, 0, 0};
    CHECK(s.sym);
    hg_error_t err;
    hg_error_clear(&err);
    hg_symlist_cb_t cb = {on_module, on_address, &s};
    if (oom) {
        hg_mem_fail_after((long)(size % 7));
    }
    int rc = hg_symlist_parse((const char *)data, size, NAME, &cb, &err);
    hg_mem_fail_after(-1);
    if (rc != 0) {
        CHECK(rc == HG_EFORMAT || (oom && rc == HG_ENOMEM));
        CHECK(rc == HG_ENOMEM || strncmp(err.msg, NAME ":", sizeof NAME) == 0);
    }
    hg_sym_close(s.sym);
    CHECK(hg_mem_stats().live_bytes == live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse_once(data, size, false);
    parse_once(data, size, true);
    return 0;
}
