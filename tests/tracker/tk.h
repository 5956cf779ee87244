/* tk.h - small helpers for tracker tests: feed events tersely, read results back. */
#ifndef HG_TESTS_TK_H
#define HG_TESTS_TK_H

#include "tracker.h"

hg_tracker_t *tk_new(void);
hg_tracker_t *tk_new_opt(const hg_tracker_options_t *opt);
void tk_start(hg_tracker_t *t, uint64_t ts, uint32_t pid);
void tk_end(hg_tracker_t *t, uint64_t ts, uint32_t pid);
void tk_alloc(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t addr,
              uint64_t size, uint32_t stack);
void tk_alloc_src(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t addr,
                  uint64_t size, uint32_t stack, uint8_t source);
void tk_free(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t addr);
void tk_realloc(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint64_t heap, uint64_t old_addr,
                uint64_t addr, uint64_t size, uint32_t stack);
void tk_heap(hg_tracker_t *t, uint64_t ts, uint32_t pid, uint8_t kind, uint64_t heap);
void tk_feed(hg_tracker_t *t, hg_event_t ev);
void tk_finish(hg_tracker_t *t);

/* Results of process index proc (0 = first visible). */
uint64_t tk_anomaly_count(const hg_tracker_t *t, size_t proc, int kind);
/* The aggregate of kind (first in key order); fails the test when absent. */
hg_anomaly_t tk_anomaly(const hg_tracker_t *t, size_t proc, int kind);
size_t tk_anomaly_kinds(const hg_tracker_t *t, size_t proc); /* distinct aggregates */
hg_site_stats_t tk_site(const hg_tracker_t *t, size_t proc, uint32_t stack);
hg_heap_summary_t tk_heap_summary(const hg_tracker_t *t, size_t proc, uint64_t handle);
hg_process_summary_t tk_process(const hg_tracker_t *t, size_t proc);

#endif
