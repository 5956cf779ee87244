/* test_run.c - end-to-end tests of `heapgate run` on the programs in progs/: exact leaked bytes
 * and blocks for each kind of leak and each way a program ends, the frame each leak is
 * reported at (when the build symbolizes DWARF), unchanged program output, environment and
 * exit status, forked and executed children, snapshots, --save, and usage errors. */
#include "agent_testlib.h"

#include "detector/run.h"
#include "symbols.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void teardown(void) {
    scratch_cleanup();
}

TestSuite(run, .fini = teardown);

/* ---- leaks known by construction ---------------------------------------------------------- */

/* Strings inline: Criterion's parameters cross into the test's process by copy. */
typedef struct leak_case {
    char name[16]; /* program in progs/ */
    char arg[16];  /* its argument: "", "@leaky" (libleaky.so), "@scratch" (a file) */
    int status;    /* its exit status (128 + signal) */
    long long bytes, blocks;
    char file[24], function[24], marker[16]; /* where the leak is, for the frame check */
    bool first_frame;                        /* ... and it is the site's first frame */
} leak_case_t;

static leak_case_t leak_cases[] = {
    {"plain", "", 0, 128, 2, "plain.c", "leak_two", "plain", true},
    {"loop", "", 0, 320, 10, "loop.c", "leak_loop", "loop", true},
    {"realloc", "", 0, 201080, 3, "realloc.c", "grow", "realloc", true},
    {"realloc", "", 0, 201080, 3, "realloc.c", "take", "reuse", true},
    {"aligned", "", 0, 734, 6, "aligned.c", "main", "calloc", true},
    {"threads", "", 0, 768, 16, "threads.c", "leak_in_thread", "thread", true},
    {"dlopen", "@leaky", 0, 77, 1, "leaky_lib.c", "leaky_make", "dlopen", true},
    {"cxx", "", 0, 173, 3, "cxx.cc", "leak_array", "cxx_array", true},
    {"cxx", "", 0, 173, 3, "cxx.cc", "leak_string", "cxx_string", false},
    {"signal", "", 0, 40, 1, "signal.c", "on_signal", "signal", true},
    {"fork", "", 0, 64, 1, "fork.c", "leak_in", "fork", true},
    {"abort", "", 134, 77, 1, "abort.c", "leak_then", "abort", true},
    {"segv", "", 139, 55, 1, "segv.c", "leak_then", "segv", true},
    {"exit_", "", 3, 33, 1, "exit_.c", "main", "_exit", true},
    {"closefds", "@scratch", 0, 21, 1, "closefds.c", "main", "closefds", true},
};

ParameterizedTestParameters(run, leaks) {
    return cr_make_param_array(leak_case_t, leak_cases, sizeof leak_cases / sizeof leak_cases[0]);
}

static json_t *run_case(const leak_case_t *c, proc_result_t *res) {
    char *scratch = scratch_path("prog-output.txt");
    const char *arg = !c->arg[0]                      ? NULL
                      : strcmp(c->arg, "@leaky") == 0 ? prog("libleaky.so")
                                                      : scratch;
    const char *argv[] = {prog(c->name), arg, NULL};
    json_t *j = heapgate_run((const char *[]){"--exit-status", "program", NULL}, argv, res);
    free(scratch);
    return j;
}

ParameterizedTest(leak_case_t *c, run, leaks) {
    proc_result_t res;
    json_t *j = run_case(c, &res);
    cr_expect_eq(res.status, c->status, "%s: status %d, stderr: %s", c->name, res.status, res.err);
    cr_expect_eq(jint(j, "leaked_bytes"), c->bytes, "%s: %lld bytes", c->name,
                 (long long)jint(j, "leaked_bytes"));
    cr_expect_eq(jint(j, "leaked_blocks"), c->blocks, "%s", c->name);
    cr_expect_eq(jint(j, "outstanding_bytes"), 0, "%s", c->name);
    cr_expect(json_is_false(json_object_get(j, "incomplete")), "%s", c->name);
    cr_expect_eq(json_array_size(json_object_get(j, "anomalies")), 0, "%s", c->name);
    json_t *procs = json_object_get(j, "processes");
    cr_assert_eq(json_array_size(procs), 1, "%s", c->name);
    json_t *p = json_array_get(procs, 0);
    cr_expect(json_is_true(json_object_get(p, "ended")), "%s", c->name);
    cr_expect(json_is_true(json_object_get(p, "traced_from_start")), "%s", c->name);
    cr_expect_str_eq(jstr(p, "allocator"), "glibc");
    json_decref(j);
    proc_free(&res);
}

/* The frame each leak is reported at: function, file and line (needs the DWARF backend). */
ParameterizedTestParameters(run, leak_frames) {
    return cr_make_param_array(leak_case_t, leak_cases, sizeof leak_cases / sizeof leak_cases[0]);
}

ParameterizedTest(leak_case_t *c, run, leak_frames) {
    if (!have_dwarf()) {
        cr_skip_test("no ELF/DWARF symbolization backend in this build (hg_sym_backends: '%s'); "
                     "frame checks run once symbols/dwarf.c is built",
                     hg_sym_backends());
    }
    proc_result_t res;
    json_t *j = run_case(c, &res);
    check_leak_frame(j, c->file, c->function, c->marker, c->first_frame);
    json_decref(j);
    proc_free(&res);
}

/* A leak through libc: strdup, and getline whose buffer size glibc picks (printed). */
Test(run, leaks_through_libc) {
    proc_result_t res;
    json_t *j = heapgate_run(NULL, (const char *[]){prog("libc"), NULL}, &res);
    const char *cap = strstr(res.out, "capacity ");
    cr_assert_not_null(cap, "output: %s", res.out);
    long long capacity = atoll(cap + 9);
    cr_assert_gt(capacity, 0);
    cr_expect_eq(jint(j, "leaked_bytes"), 16 + capacity);
    cr_expect_eq(jint(j, "leaked_blocks"), 2);
    if (have_dwarf()) {
        check_leak_frame(j, "libc.c", "main", "strdup", false);
        check_leak_frame(j, "libc.c", "main", "getline", false);
    }
    json_decref(j);
    proc_free(&res);
}

/* A process killed by SIGKILL: what its agent sent is reported; the trace is incomplete. */
Test(run, killed_process_keeps_what_arrived) {
    proc_result_t res;
    json_t *j = heapgate_run((const char *[]){"--exit-status", "program", NULL},
                             (const char *[]){prog("kill"), NULL}, &res);
    cr_expect_eq(res.status, 128 + SIGKILL);
    cr_expect_eq(jint(j, "leaked_bytes"), 88);
    cr_expect(json_is_true(json_object_get(j, "incomplete")));
    cr_expect_gt(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
    proc_free(&res);
}

/* ---- nothing of the agent shows in the program -------------------------------------------- */

static const char *same_output_progs[] = {"plain",  "loop", "threads", "cxx",   "fork",
                                          "signal", "libc", "exit_",   "abort", "segv"};

Test(run, program_output_and_status_are_unchanged) {
    for (size_t i = 0; i < sizeof same_output_progs / sizeof same_output_progs[0]; i++) {
        const char *argv[] = {prog(same_output_progs[i]), NULL};
        proc_result_t plain = run_argv(argv), traced;
        json_t *j = heapgate_run((const char *[]){"--exit-status", "program", NULL}, argv, &traced);
        cr_expect_str_eq(traced.out, plain.out, "%s", same_output_progs[i]);
        cr_expect_eq(traced.status, plain.status, "%s", same_output_progs[i]);
        json_decref(j);
        proc_free(&plain);
        proc_free(&traced);
    }
}

Test(run, environment_is_unchanged) {
    const char *argv[] = {"/usr/bin/env", NULL};
    proc_result_t plain = run_argv(argv), traced;
    json_t *j = heapgate_run(NULL, argv, &traced);
    cr_expect_str_eq(traced.out, plain.out);
    cr_expect_null(strstr(traced.out, "HEAPGATE_"));
    json_decref(j);
    proc_free(&plain);
    proc_free(&traced);
}

Test(run, closed_descriptors_and_redirected_stdout) {
    char *out = scratch_path("redirected.txt");
    proc_result_t res;
    json_t *j = heapgate_run(NULL, (const char *[]){prog("closefds"), out, NULL}, &res);
    char *text = read_file(out, NULL);
    cr_assert_not_null(text);
    cr_expect_str_eq(text, "closefds 1 1\n");
    cr_expect_eq(jint(j, "leaked_bytes"), 21);
    free(text);
    free(out);
    json_decref(j);
    proc_free(&res);
}

Test(run, exit_status_is_the_gate_unless_asked) {
    proc_result_t res;
    json_decref(heapgate_run(NULL, (const char *[]){prog("plain"), NULL}, &res));
    cr_expect_eq(res.status, 1, "a leak fails the default gate");
    proc_free(&res);
    json_decref(heapgate_run((const char *[]){"--max-leaked-bytes", "128", NULL},
                             (const char *[]){prog("plain"), NULL}, &res));
    cr_expect_eq(res.status, 0);
    proc_free(&res);
}

/* ---- children ----------------------------------------------------------------------------- */

Test(run, forked_children_followed_on_request) {
    proc_result_t res;
    json_t *j = heapgate_run((const char *[]){"--follow-children", NULL},
                             (const char *[]){prog("fork"), NULL}, &res);
    json_t *procs = json_object_get(j, "processes");
    cr_assert_eq(json_array_size(procs), 2);
    json_t *parent = json_array_get(procs, 0), *child = json_array_get(procs, 1);
    cr_expect_eq(jint(parent, "leaked_bytes"), 64);
    cr_expect_eq(jint(child, "leaked_bytes"), 32);
    cr_expect_eq(jint(child, "parent_pid"), jint(parent, "pid"));
    cr_expect(json_is_false(json_object_get(child, "traced_from_start")));
    cr_expect_eq(jint(j, "leaked_bytes"), 96, "top-level totals sum the processes");
    cr_expect_eq(jint(j, "leaked_blocks"), 2);
    json_decref(j);
    proc_free(&res);
}

Test(run, executed_programs_not_traced_unless_followed) {
    proc_result_t res;
    const char *argv[] = {prog("exec"), prog("plain"), NULL};
    json_t *j = heapgate_run(NULL, argv, &res);
    cr_expect_str_eq(res.out, "exec\nplain 1\n");
    cr_expect_eq(json_array_size(json_object_get(j, "processes")), 1);
    cr_expect_eq(jint(j, "leaked_bytes"), 10);
    json_decref(j);
    proc_free(&res);
    j = heapgate_run((const char *[]){"--follow-children", NULL}, argv, &res);
    json_t *procs = json_object_get(j, "processes");
    cr_assert_eq(json_array_size(procs), 2);
    cr_expect_str_eq(jstr(json_array_get(procs, 1), "name"), "plain");
    cr_expect_eq(jint(json_array_get(procs, 0), "pid"), jint(json_array_get(procs, 1), "pid"));
    cr_expect_eq(jint(j, "leaked_bytes"), 138);
    json_decref(j);
    proc_free(&res);
}

/* Children of vfork (and of posix_spawn and system(3), which start them with a vfork-like clone)
 * share the traced process's memory, and so its agent, until they exec or exit: the parent's
 * stream must go on intact. */
Test(run, spawned_children_leave_the_parent_stream_intact) {
    proc_result_t res;
    const char *argv[] = {prog("spawn"), prog("plain"), NULL};
    json_t *j = heapgate_run(NULL, argv, &res);
    cr_expect_str_eq(res.out, "plain 1\nplain 1\nshell\nspawn 0 0 9 0 1\n");
    cr_expect_eq(json_array_size(json_object_get(j, "processes")), 1);
    cr_expect_eq(jint(j, "leaked_bytes"), 23);
    cr_expect_eq(jint(j, "leaked_blocks"), 2);
    cr_expect(json_is_false(json_object_get(j, "incomplete")));
    cr_expect_eq(json_array_size(json_object_get(j, "anomalies")), 0);
    json_decref(j);
    proc_free(&res);
    j = heapgate_run((const char *[]){"--follow-children", NULL}, argv, &res);
    json_t *procs = json_object_get(j, "processes");
    cr_assert_geq(json_array_size(procs), 4, "spawn, plain twice and the shell");
    cr_expect_eq(jint(json_array_get(procs, 0), "leaked_bytes"), 23);
    int found = 0;
    for (size_t i = 1; i < json_array_size(procs); i++) {
        json_t *p = json_array_get(procs, i);
        if (strcmp(jstr(p, "name"), "plain") == 0) {
            found++;
            cr_expect_eq(jint(p, "leaked_bytes"), 128);
            cr_expect_eq(jint(p, "parent_pid"), jint(json_array_get(procs, 0), "pid"));
        }
    }
    cr_expect_eq(found, 2, "both runs of plain are traced");
    json_decref(j);
    proc_free(&res);
}

/* ---- options ------------------------------------------------------------------------------ */

Test(run, frame_pointer_unwinding_and_depth) {
    proc_result_t res;
    json_t *j = heapgate_run((const char *[]){"--unwind=fp", NULL},
                             (const char *[]){prog("plain"), NULL}, &res);
    cr_expect_eq(jint(j, "leaked_bytes"), 128);
    json_decref(j);
    proc_free(&res);
    j = heapgate_run((const char *[]){"--depth", "1", NULL}, (const char *[]){prog("plain"), NULL},
                     &res);
    json_t *sites = json_object_get(j, "sites");
    for (size_t i = 0; i < json_array_size(sites); i++) {
        cr_expect_leq(json_array_size(json_object_get(json_array_get(sites, i), "frames")), 1);
    }
    json_decref(j);
    proc_free(&res);
}

Test(run, saved_trace_analyzes_the_same) {
    char *saved = scratch_path("saved.hgt"), *again = scratch_path("again.json");
    proc_result_t res;
    json_t *live = heapgate_run((const char *[]){"--save", saved, NULL},
                                (const char *[]){prog("threads"), NULL}, &res);
    proc_free(&res);
    res =
        run_argv((const char *[]){HG_BINARY_DIR "/heapgate", "analyze", saved, "-o", again, NULL});
    cr_expect_eq(res.status, 1, "stderr: %s", res.err);
    json_t *j = json_load_file(again, 0, NULL);
    cr_assert_not_null(j);
    cr_expect_eq(jint(j, "leaked_bytes"), jint(live, "leaked_bytes"));
    cr_expect_eq(jint(j, "leaked_blocks"), jint(live, "leaked_blocks"));
    cr_expect_eq(json_array_size(json_object_get(j, "sites")),
                 json_array_size(json_object_get(live, "sites")));
    json_decref(j);
    json_decref(live);
    proc_free(&res);
    free(saved);
    free(again);
}

Test(run, usage_errors) {
    const char *bad[][6] = {
        {HG_BINARY_DIR "/heapgate", "run", NULL},
        {HG_BINARY_DIR "/heapgate", "run", "--unwind", "dwarf", "true", NULL},
        {HG_BINARY_DIR "/heapgate", "run", "--duration", "1s", "true", NULL},
        {HG_BINARY_DIR "/heapgate", "run", "--", "/nonexistent/program", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proc_result_t res = run_argv(bad[i]);
        cr_expect_eq(res.status, 2, "case %zu: %s", i, res.err);
        cr_expect_neq(strlen(res.err), 0);
        proc_free(&res);
    }
}

/* ---- snapshots ---------------------------------------------------------------------------- */

static json_int_t site_live_bytes(json_t *j, const char *snapshot) {
    json_t *sites = json_object_get(j, "sites");
    json_int_t most = 0;
    for (size_t i = 0; i < json_array_size(sites); i++) {
        json_t *s = json_array_get(sites, i);
        json_int_t b = jint(s, "leaked_bytes") + jint(s, "outstanding_bytes");
        most = b > most ? b : most;
    }
    cr_assert_gt(most, 0, "%s: no site with live bytes", snapshot);
    return most;
}

/* The blocks grow.c kept, from its output "grew N 1". */
static long long grown_bytes(const char *out) {
    const char *g = out ? strstr(out, "grew ") : NULL;
    cr_assert_not_null(g, "output: %s", out);
    return 1000LL * atoll(g + 5);
}

/* grow.c runs until heapgate has written its third snapshot. Between two snapshots the growing
 * site's bytes rise exactly when heapgate received events in between (the program then only
 * grows; the agent sends every 100 ms), and they rise over the whole run. */
Test(run, snapshots_show_growth) {
    char *third = scratch_path("report-snapshot-3.json");
    proc_result_t res;
    json_t *j = heapgate_run((const char *[]){"--snapshot-every", "300ms", NULL},
                             (const char *[]){prog("grow"), "3000", third, NULL}, &res);
    cr_expect_eq(jint(j, "leaked_bytes"), grown_bytes(res.out));
    json_int_t first = 0, previous = 0, events = 0;
    int n = 0;
    for (;; n++) {
        char name[64];
        snprintf(name, sizeof name, "report-snapshot-%d.json", n + 1);
        char *path = scratch_path(name);
        json_t *s = json_load_file(path, 0, NULL);
        free(path);
        if (!s) {
            break;
        }
        json_int_t bytes = site_live_bytes(s, name);
        json_int_t now = jint(json_object_get(s, "trace"), "events");
        if (n > 0 && now > events) {
            cr_expect_gt(bytes, previous, "%s: %lld after %lld", name, (long long)bytes,
                         (long long)previous);
        } else if (n > 0) {
            cr_expect_eq(bytes, previous, "%s: no events since the last snapshot", name);
        }
        cr_expect_eq(jint(s, "leaked_bytes"), 0, "the program runs: outstanding, not leaked");
        first = n == 0 ? bytes : first;
        previous = bytes;
        events = now;
        json_decref(s);
    }
    cr_expect_geq(n, 3, "%d snapshots", n);
    cr_expect_gt(previous, first, "the site grew from the first snapshot to the last");
    json_decref(j);
    proc_free(&res);
    free(third);
}

/* heapgate is ready once grow.c runs (it sets up its signals before starting the program);
 * grow.c goes on until the snapshot asked for is there. The snapshot shows the program running:
 * what it holds is outstanding, at most what it leaks in the end. */
Test(run, sigusr1_asks_for_a_snapshot) {
    char *report = scratch_path("r.json"), *snap = scratch_path("r-snapshot-1.json");
    const char *argv[] = {
        HG_BINARY_DIR "/heapgate", "run", "-o", report, "--", prog("grow"), "3000", snap, NULL};
    int in, out;
    pid_t pid = spawn_piped(argv, &in, &out, NULL);
    char *started = read_until(out, "growing\n", 60);
    cr_assert(strstr(started, "growing\n"), "the program did not start: %s", started);
    kill(pid, SIGUSR1);
    char *said = read_all(out);
    cr_expect_eq(wait_status(pid), 1);
    json_t *s = json_load_file(snap, 0, NULL);
    cr_assert_not_null(s, "no snapshot at %s", snap);
    json_t *final = json_load_file(report, 0, NULL);
    cr_assert_not_null(final, "no report at %s", report);
    cr_expect_eq(jint(final, "leaked_bytes"),
                 grown_bytes(strstr(started, "grew ") ? started : said));
    cr_expect_eq(jint(s, "leaked_bytes"), 0);
    cr_expect_leq(jint(s, "outstanding_bytes"), jint(final, "leaked_bytes"));
    json_t *p = json_array_get(json_object_get(s, "processes"), 0);
    cr_expect(!p || json_is_false(json_object_get(p, "ended")), "a snapshot of a running program");
    json_decref(s);
    json_decref(final);
    free(started);
    free(said);
    close(in);
    close(out);
    free(report);
    free(snap);
}

/* A release gate across runs: the leaks a baseline report already had pass; a program with
 * another leak site fails on it (--baseline implies --fail-on-new). Sites are matched by their
 * ASLR-stable identity, so the second run's different load addresses do not matter. */
Test(run, baseline_allows_known_leaks_and_fails_new_sites) {
    char *base = scratch_path("baseline.json");
    const char *save_base[] = {"-o", base, NULL};
    const char *argv_plain[] = {prog("plain"), NULL};
    proc_result_t res;
    json_t *first = heapgate_run(save_base, argv_plain, &res);
    cr_assert_eq(res.status, 1, "plain leaks: the default gate fails");
    proc_free(&res);
    json_decref(first);

    const char *with_base[] = {"--baseline", base, NULL};
    json_t *again = heapgate_run(with_base, argv_plain, &res);
    cr_expect_eq(res.status, 0, "the same leaks again pass: %s", res.err);
    proc_free(&res);
    json_decref(again);

    const char *argv_loop[] = {prog("loop"), NULL};
    json_t *other = heapgate_run(with_base, argv_loop, &res);
    cr_expect_eq(res.status, 1, "a new leak site fails");
    bool named = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(other, "gate"), "checks"), i, c) {
        named |= strcmp(jstr(c, "name"), "fail-on-new") == 0 &&
                 json_is_false(json_object_get(c, "passed"));
    }
    cr_expect(named, "the failing check is fail-on-new");
    proc_free(&res);
    json_decref(other);
    free(base);
}
