/* test_symlist.c - heapgate-symbolize's module and address list (symbols/symlist.h) and the
 * command itself on Linux: what each line gives, which lines are refused and where, exit
 * status 2 with no output for a bad list, the output format without debug files. */
#include "symlist.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct got {
    hg_sym_module_t m[4];
    char path[4][256], pdb[4][256];
    size_t nmodules;
    uint64_t addr[8];
    size_t line[8], naddrs;
    int fail_with;
} got_t;

static int on_module(void *ctx, const hg_sym_module_t *m) {
    got_t *g = ctx;
    cr_assert_lt(g->nmodules, 4);
    size_t i = g->nmodules++;
    g->m[i] = *m;
    snprintf(g->path[i], sizeof g->path[i], "%s", m->path);
    snprintf(g->pdb[i], sizeof g->pdb[i], "%s", m->pdb_name ? m->pdb_name : "");
    return g->fail_with;
}

static int on_address(void *ctx, uint64_t addr, size_t line) {
    got_t *g = ctx;
    cr_assert_lt(g->naddrs, 8);
    g->addr[g->naddrs] = addr;
    g->line[g->naddrs++] = line;
    return 0;
}

static int parse(const char *text, got_t *g, hg_error_t *err) {
    hg_symlist_cb_t cb = {on_module, on_address, g};
    hg_error_clear(err);
    return hg_symlist_parse(text, strlen(text), "list.txt", &cb, err);
}

static const uint8_t want_guid[16] = {0x16, 0x79, 0xB0, 0xCD, 0x21, 0x2E, 0x5C, 0x88,
                                      0x4C, 0x4C, 0x44, 0x20, 0x50, 0x44, 0x42, 0x2E};

Test(symlist, reads_modules_identities_and_addresses) {
    const char *text = "# a trace's modules\n"
                       "module 0x140000000 0x9000 C:\\Program Files\\app\\app.exe\n"
                       "pdb {CDB07916-2E21-885C-4C4C-44205044422E} 3 C:\\build\\app.pdb\n"
                       "timestamp 0x6B07A95E\r\n"
                       "\n"
                       "0x140001000\n"
                       "module 4096 16 b.dll\n"
                       "   4100  \n";
    got_t g = {0};
    hg_error_t err;
    cr_assert_eq(parse(text, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(g.nmodules, 2);
    cr_expect_eq(g.m[0].base, 0x140000000ULL);
    cr_expect_eq(g.m[0].size, 0x9000);
    cr_expect_str_eq(g.path[0], "C:\\Program Files\\app\\app.exe");
    cr_expect_str_eq(g.pdb[0], "C:\\build\\app.pdb");
    cr_expect_arr_eq(g.m[0].pdb_guid, want_guid, 16);
    cr_expect_eq(g.m[0].pdb_age, 3);
    cr_expect_eq(g.m[0].pe_timestamp, 0x6B07A95E);
    cr_expect_eq(g.m[1].base, 4096);
    cr_expect_str_eq(g.pdb[1], "");
    cr_expect_eq(g.m[1].pe_timestamp, 0);
    cr_assert_eq(g.naddrs, 2);
    cr_expect_eq(g.addr[0], 0x140001000ULL);
    cr_expect_eq(g.line[0], 6);
    cr_expect_eq(g.addr[1], 4100);
    cr_expect_eq(g.line[1], 8);
}

Test(symlist, guid_with_or_without_braces_and_dashes) {
    const char *forms[] = {"{CDB07916-2E21-885C-4C4C-44205044422E}",
                           "cdb07916-2e21-885c-4c4c-44205044422e",
                           "CDB079162E21885C4C4C44205044422E"};
    for (size_t i = 0; i < 3; i++) {
        uint8_t guid[16];
        cr_assert_eq(hg_symlist_parse_guid(forms[i], guid), 0, "%s", forms[i]);
        cr_expect_arr_eq(guid, want_guid, 16, "%s", forms[i]);
    }
    const char *bad[] = {
        "{CDB07916-2E21-885C-4C4C-44205044422E", "CDB07916-2E21885C-4C4C-44205044422E0",
        "CDB079162E21885C4C4C44205044422",       "CDB079162E21885C4C4C44205044422EE",
        "GDB079162E21885C4C4C44205044422E",      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t guid[16];
        cr_expect_eq(hg_symlist_parse_guid(bad[i], guid), HG_EFORMAT, "%s", bad[i]);
    }
}

typedef struct bad_case {
    char text[96];
    char where[16]; /* "list.txt:N:" */
    char says[48];
} bad_case_t;

ParameterizedTestParameters(symlist, refuses_with_the_line) {
    static bad_case_t cases[] = {
        {"0x1000\nmodule 0x2000\n", "list.txt:2:", "expected 'module BASE SIZE PATH'"},
        {"module 0x1000 0x10\n", "list.txt:1:", "expected 'module BASE SIZE PATH'"},
        {"module 0x1000 0 a.exe\n", "list.txt:1:", "size is 0"},
        {"module 0xffffffffffffff00 0x1000 a.exe\n", "list.txt:1:", "beyond the address space"},
        {"\n\npdb CDB079162E21885C4C4C44205044422E 1 a.pdb\n", "list.txt:3:", "must follow"},
        {"module 1 1 a\npdb CDB079162E21885C4C4C44205044422 1 a.pdb\n", "list.txt:2:", "a GUID"},
        {"module 1 1 a\npdb CDB079162E21885C4C4C44205044422E 1\n", "list.txt:2:", "pdb GUID AGE"},
        {"module 1 1 a\npdb CDB079162E21885C4C4C44205044422E 0x100000000 a\n",
         "list.txt:2:", "age below 2^32"},
        {"module 1 1 a\ntimestamp 1 2\n", "list.txt:2:", "timestamp STAMP"},
        {"timestamp 1\n", "list.txt:1:", "must follow"},
        {"0x1000 0x2000\n", "list.txt:1:", "expected an address"},
        {"frobnicate\n", "list.txt:1:", "expected an address"},
        {"0x10000000000000000\n", "list.txt:1:", "expected an address"},
    };
    return cr_make_param_array(bad_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(bad_case_t *c, symlist, refuses_with_the_line) {
    got_t g = {0};
    hg_error_t err;
    cr_assert_eq(parse(c->text, &g, &err), HG_EFORMAT, "%s", c->text);
    cr_expect_eq(strncmp(err.msg, c->where, strlen(c->where)), 0, "%s", err.msg);
    cr_expect(strstr(err.msg, c->says), "%s", err.msg);
}

Test(symlist, refuses_nul_bytes_and_long_lines) {
    got_t g = {0};
    hg_error_t err;
    hg_symlist_cb_t cb = {on_module, on_address, &g};
    cr_assert_eq(hg_symlist_parse("0x10\n0x1\0\n", 10, "list.txt", &cb, &err), HG_EFORMAT);
    cr_expect_str_eq(err.msg, "list.txt:2: NUL byte in the line");
    char *text = malloc(5000);
    memset(text, '1', 4999);
    text[4999] = '\0';
    cr_assert_eq(parse(text, &g, &err), HG_EFORMAT);
    cr_expect_str_eq(err.msg, "list.txt:1: line longer than 4095 bytes");
    free(text);
}

Test(symlist, a_callback_error_stops_the_parse) {
    got_t g = {.fail_with = HG_ENOMEM};
    hg_error_t err;
    cr_assert_eq(parse("module 1 1 a\n0x1\n0x2\n", &g, &err), HG_ENOMEM);
    cr_expect_eq(g.naddrs, 0);
}

/* ---- the command --------------------------------------------------------------------------- */

typedef struct ran {
    int status;
    char out[4096], err[4096];
} ran_t;

static void slurp_fd(int fd, char *buf, size_t cap) {
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

static ran_t run_symbolize(const char *const *args) {
    char out[] = "/tmp/hg-sym-out-XXXXXX", err[] = "/tmp/hg-sym-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err);
    cr_assert(fo >= 0 && fe >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[16] = {HG_BINARY_DIR "/heapgate-symbolize"};
        for (int i = 0; args[i] && i < 14; i++) {
            argv[i + 1] = args[i];
        }
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    ran_t r;
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp_fd(fo, r.out, sizeof r.out);
    slurp_fd(fe, r.err, sizeof r.err);
    unlink(out);
    unlink(err);
    return r;
}

static char *write_list(const char *text) {
    static char path[] = "/tmp/hg-sym-list-XXXXXX";
    strcpy(path, "/tmp/hg-sym-list-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(symbolize_command, a_bad_list_exits_2_naming_the_line_and_prints_nothing) {
    char *list = write_list("module 0x1000 0x100 /nonexistent/a.exe\n0x1010\nnot-an-address\n");
    ran_t r = run_symbolize((const char *const[]){list, NULL});
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.out, "");
    char want[128];
    snprintf(want, sizeof want, "heapgate-symbolize: %s:3: expected an address", list);
    cr_expect_eq(strncmp(r.err, want, strlen(want)), 0, "%s", r.err);
    unlink(list);
}

Test(symbolize_command, without_debug_files_prints_module_and_offset) {
    char *list = write_list("module 0x1000 0x100 C:\\app\\a.exe\n0x1010\n0x5000\n");
    ran_t r = run_symbolize((const char *const[]){"--symbol-path", "", list, NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "0x1010\ta.exe+0x10\t??\t??\t0\n0x5000\t??\t??\t??\t0\n");
    unlink(list);
}

Test(symbolize_command, unknown_backend_and_arguments_exit_2) {
    char *list = write_list("0x1\n");
    ran_t r = run_symbolize((const char *const[]){"--backend", "nope", list, NULL});
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "no backend 'nope' in this build (it has: "), "%s", r.err);
    cr_expect(strstr(r.err, "pdb)\n"), "%s", r.err);
    cr_expect_str_eq(r.out, "");
    r = run_symbolize((const char *const[]){"--frobnicate", NULL});
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unexpected argument '--frobnicate'"), "%s", r.err);
    r = run_symbolize((const char *const[]){"/nonexistent/list.txt", NULL});
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "cannot open /nonexistent/list.txt"), "%s", r.err);
    unlink(list);
}

Test(symbolize_command, backends_and_help) {
    ran_t r = run_symbolize((const char *const[]){"--backends", NULL});
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "pdb"), "%s", r.out);
    r = run_symbolize((const char *const[]){"--help", NULL});
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: heapgate-symbolize"), "%s", r.out);
}
