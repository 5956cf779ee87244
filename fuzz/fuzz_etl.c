/* fuzz_etl.c - libFuzzer target for the ETL reader (docs/etl-reader.md): the input is read as a
 * file through fmemopen and hg_etl_read, into a sink that reads every field it is handed (so
 * ASan sees a bad pointer or string) and folds them into a checksum. Seed and regression corpus:
 * fuzz/corpus/etl/ (files made by the test writer, tests/etl/etlw.c). */
#include "formats.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t sum;

static uint64_t text(const char *s) {
    return s ? strlen(s) : 0;
}

static int on_trace(void *ctx, const hg_trace_info_t *t) {
    (void)ctx;
    sum += text(t->format) + t->start_wall_ns + t->duration_hint_ns + t->pointer_size;
    return 0;
}

static int on_process(void *ctx, const hg_process_info_t *p) {
    (void)ctx;
    sum += p->pid + p->parent_pid + text(p->name) + text(p->cmdline) + p->pointer_size;
    return 0;
}

static int on_module(void *ctx, const hg_module_info_t *m) {
    (void)ctx;
    sum += m->pid + m->base + m->size + m->ts_ns + text(m->path) + text(m->pdb_name) + m->pdb_age +
           m->pe_timestamp + m->pdb_guid[15];
    return 0;
}

static int on_stack(void *ctx, uint32_t id, const uint64_t *frames, uint32_t n) {
    (void)ctx;
    sum += id;
    for (uint32_t i = 0; i < n; i++) {
        sum += frames[i];
    }
    return 0;
}

static int on_event(void *ctx, const hg_event_t *e) {
    (void)ctx;
    sum += e->kind + e->ts_ns + e->pid + e->tid + e->heap + e->addr + e->size + e->old_addr +
           e->old_size + e->stack_id + e->source;
    return 0;
}

static const hg_sink_ops_t ops = {.trace = on_trace,
                                  .process = on_process,
                                  .module = on_module,
                                  .stack = on_stack,
                                  .event = on_event};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0;
    }
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp) {
        return 0;
    }
    hg_sink_t sink = {&ops, NULL};
    hg_read_result_t res;
    hg_error_t err;
    (void)hg_etl_read(fp, "fuzz.etl", size, sink, NULL, &res, &err);
    fclose(fp);
    return 0;
}
