/* test_attach.c - end-to-end tests of `heapgate attach` on progs/attach_target.c: a leak made
 * after attaching is reported exactly, blocks freed that were allocated before are no anomaly,
 * and the program carries on with unchanged output, after the process exits while traced and
 * after heapgate detaches. Needs gdb (scripts/deps.sh test): skipped without it, failed with
 * CI=true. */
#include "agent_testlib.h"

#include "detector/run.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(attach, .fini = teardown, .timeout = 180);

typedef struct session {
    pid_t target, heapgate;
    int target_in, target_out, hg_in, hg_out, hg_err;
    char *report;
} session_t;

static void say(int fd, const char *text) {
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Starts the target, waits for "ready", attaches heapgate (extra options) and waits until it
 * says it is attached. */
static void start(session_t *s, const char *const *extra) {
    const char *argv[] = {prog("attach_target"), NULL};
    s->target = spawn_piped(argv, &s->target_in, &s->target_out, NULL);
    char *ready = read_until(s->target_out, "ready\n", 30);
    cr_assert_str_eq(ready, "ready\n");
    free(ready);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)s->target);
    s->report = scratch_path("attach.json");
    const char *args[16] = {HG_BINARY_DIR "/heapgate", "attach", pid, "-o", s->report};
    int n = 5;
    for (int i = 0; extra && extra[i]; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
    s->heapgate = spawn_piped(args, &s->hg_in, &s->hg_out, &s->hg_err);
    char *said = read_until(s->hg_err, "attached to process", 60);
    cr_assert(strstr(said, "attached to process"), "heapgate said: %s", said);
    free(said);
}

static json_t *finish(session_t *s, int want_status) {
    char *rest = read_all(s->hg_err);
    int status = wait_status(s->heapgate);
    cr_assert_eq(status, want_status, "heapgate status %d: %s", status, rest);
    free(rest);
    json_t *j = json_load_file(s->report, 0, NULL);
    cr_assert_not_null(j, "no report");
    close(s->hg_in);
    close(s->hg_out);
    close(s->hg_err);
    free(s->report);
    return j;
}

static void end_target(session_t *s, const char *want_output) {
    close(s->target_in);
    char *out = read_all(s->target_out);
    cr_expect_str_eq(out, want_output);
    cr_expect_eq(wait_status(s->target), 0);
    close(s->target_out);
    free(out);
}

Test(attach, leak_after_attaching_until_the_process_exits) {
    if (!tool_or_skip("gdb")) {
        return;
    }
    session_t s;
    start(&s, NULL);
    say(s.target_in, "leak 333\nchurn\nquit\n");
    end_target(&s, "leaked 333\nchurned\nbye 1\n");
    json_t *j = finish(&s, 1);
    cr_expect_eq(jint(j, "leaked_bytes"), 333);
    cr_expect_eq(jint(j, "leaked_blocks"), 1);
    cr_expect_eq(json_array_size(json_object_get(j, "anomalies")), 0);
    json_t *p = json_array_get(json_object_get(j, "processes"), 0);
    cr_assert_not_null(p);
    cr_expect(json_is_true(json_object_get(p, "ended")));
    cr_expect(json_is_false(json_object_get(p, "traced_from_start")));
    if (have_dwarf()) {
        check_leak_frame(j, "attach_target.c", "attach_leak", "attach", true);
    }
    json_decref(j);
}

Test(attach, detach_leaves_the_process_running) {
    if (!tool_or_skip("gdb")) {
        return;
    }
    session_t s;
    start(&s, (const char *[]){"--duration", "1500ms", NULL});
    say(s.target_in, "leak 100\nchurn\n");
    json_t *j = finish(&s, 0); /* outstanding blocks are not gated by default */
    cr_expect_eq(jint(j, "outstanding_bytes"), 100);
    cr_expect_eq(jint(j, "outstanding_blocks"), 1);
    cr_expect_eq(jint(j, "leaked_bytes"), 0);
    cr_expect_eq(json_array_size(json_object_get(j, "anomalies")), 0);
    json_t *p = json_array_get(json_object_get(j, "processes"), 0);
    cr_expect(json_is_false(json_object_get(p, "ended")));
    say(s.target_in, "leak 7\nchurn\nquit\n");
    end_target(&s, "leaked 100\nchurned\nleaked 7\nchurned\nbye 2\n");
    json_decref(j);
}

Test(attach, usage_errors) {
    const char *bad[][6] = {
        {HG_BINARY_DIR "/heapgate", "attach", NULL},
        {HG_BINARY_DIR "/heapgate", "attach", "notapid", NULL},
        {HG_BINARY_DIR "/heapgate", "attach", "999999999", NULL},
        {HG_BINARY_DIR "/heapgate", "attach", "1", "--exit-status", "program"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proc_result_t res = run_argv(bad[i]);
        cr_expect_eq(res.status, 2, "case %zu: %s", i, res.err);
        proc_free(&res);
    }
}
