/* test_out.c - report destinations (reports/out.c): temporary file and rename, abort, direct
 * writes to non-regular files, write failures, gzip output read back with zlib, streams and
 * allocation failures. */
#include "internal.h"
#include "report_test.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;

static void setup(void) {
    dir = rt_mkdtemp();
}

static void teardown(void) {
    if (dir) {
        rt_rmtree(dir);
        free(dir);
    }
}

TestSuite(out, .init = setup, .fini = teardown);

/* The only entry in dir (malloc'd name), failing when there is not exactly one. */
static char *only_entry(void) {
    cr_assert_eq(rt_count_entries(dir), 1);
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) && (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)) {
    }
    cr_assert_not_null(e);
    char *name = strdup(e->d_name);
    closedir(d);
    return name;
}

static void write_pattern(hg_out_t *o, size_t bytes) {
    for (size_t i = 0; i < bytes / 16; i++) {
        hg_out_printf(o, "line %010zu\n", i);
    }
}

Test(out, regular_file_is_renamed_into_place_at_commit) {
    char *path = rt_path(dir, "report.txt");
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open(path, false, &err);
    cr_assert_not_null(o, "%s", err.msg);
    hg_out_puts(o, "hello\n");
    write_pattern(o, 100000); /* more than the buffer: the temporary file has data */
    cr_assert_eq(access(path, F_OK), -1, "target exists before commit");
    char *tmp = only_entry();
    cr_assert_eq(strncmp(tmp, ".report.txt.", 12), 0, "temporary file %s", tmp);
    cr_assert_eq(hg_out_commit(o, &err), 0, "%s", err.msg);
    size_t len;
    char *data = rt_read_file(path, &len);
    cr_assert_not_null(data);
    cr_assert_eq(len, 6 + 100000);
    cr_assert_eq(strncmp(data, "hello\nline 0000000000\n", 22), 0);
    cr_assert_eq(rt_count_entries(dir), 1, "temporary file left behind");
    free(data);
    free(tmp);
    free(path);
}

Test(out, new_file_gets_0644_less_umask) {
    char *path = rt_path(dir, "r.json");
    struct stat st;
    umask(027);
    hg_out_t *o = hg_out_open(path, false, NULL);
    hg_out_puts(o, "{}\n");
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
    free(path);
}

Test(out, existing_file_is_replaced_and_keeps_its_mode) {
    char *path = rt_path(dir, "r.txt");
    struct stat st;
    cr_assert(rt_write_file(path, "old contents\n", 13));
    chmod(path, 0600);
    hg_out_t *o = hg_out_open(path, false, NULL);
    hg_out_puts(o, "new\n");
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    char *data = rt_read_file(path, NULL);
    cr_assert_str_eq(data, "new\n");
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    free(data);
    free(path);
}

Test(out, abort_keeps_an_earlier_file_and_removes_the_temporary) {
    char *path = rt_path(dir, "r.txt");
    cr_assert(rt_write_file(path, "earlier\n", 8));
    hg_out_t *o = hg_out_open(path, false, NULL);
    cr_assert_not_null(o);
    write_pattern(o, 200000);
    cr_assert_eq(rt_count_entries(dir), 2);
    hg_out_abort(o);
    char *data = rt_read_file(path, NULL);
    cr_assert_str_eq(data, "earlier\n");
    cr_assert_eq(rt_count_entries(dir), 1);
    free(data);
    free(path);
}

Test(out, abort_of_a_new_file_leaves_nothing) {
    char *path = rt_path(dir, "r.json.gz");
    hg_out_t *o = hg_out_open(path, true, NULL);
    hg_out_puts(o, "x");
    hg_out_abort(o);
    hg_out_abort(NULL);
    cr_assert_eq(rt_count_entries(dir), 0);
    free(path);
}

Test(out, dev_null_is_written_directly) {
    struct stat st;
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open("/dev/null", false, &err);
    cr_assert_not_null(o, "%s", err.msg);
    write_pattern(o, 300000);
    cr_assert_eq(hg_out_commit(o, &err), 0, "%s", err.msg);
    cr_assert_eq(stat("/dev/null", &st), 0);
    cr_assert(S_ISCHR(st.st_mode), "/dev/null was replaced");
}

Test(out, dev_full_fails_at_commit_naming_the_path) {
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open("/dev/full", true, &err);
    cr_assert_not_null(o, "%s", err.msg);
    write_pattern(o, 300000);
    cr_assert_eq(hg_out_commit(o, &err), HG_EIO);
    cr_assert_eq(err.code, HG_EIO);
    cr_assert(strstr(err.msg, "/dev/full") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, strerror(ENOSPC)) != NULL, "%s", err.msg);
}

Test(out, small_write_to_dev_full_fails_too) {
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open("/dev/full", false, &err);
    hg_out_puts(o, "tiny");
    cr_assert_eq(hg_out_commit(o, &err), HG_EIO);
    cr_assert(strstr(err.msg, "/dev/full") != NULL, "%s", err.msg);
}

/* A regular file whose writes fail (file size limit): the temporary file is removed and the
 * earlier file at the target stays as it was. */
Test(out, failed_write_to_a_regular_file_leaves_nothing_new) {
    char *path = rt_path(dir, "big.txt");
    struct rlimit lim = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    hg_error_t err = {0};
    cr_assert(rt_write_file(path, "earlier\n", 8));
    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    hg_out_t *o = hg_out_open(path, false, &err);
    cr_assert_not_null(o, "%s", err.msg);
    write_pattern(o, 1 << 20);
    cr_assert_eq(hg_out_commit(o, &err), HG_EIO);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, strerror(EFBIG)) != NULL, "%s", err.msg);
    char *data = rt_read_file(path, NULL);
    cr_assert_str_eq(data, "earlier\n");
    cr_assert_eq(rt_count_entries(dir), 1, "temporary file left behind");
    free(data);
    free(path);
}

Test(out, missing_directory_fails_at_open_naming_the_path) {
    char *path = rt_path(dir, "no/such/dir/r.txt");
    hg_error_t err = {0};
    cr_assert_null(hg_out_open(path, false, &err));
    cr_assert_eq(err.code, HG_EIO);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    free(path);
}

Test(out, read_only_directory_fails_at_open) {
    if (geteuid() == 0) {
        teardown(); /* a skipped test does not run .fini */
        dir = NULL;
        cr_skip_test("root ignores directory permissions (covered by the /dev/full tests)");
    }
    char *sub = rt_path(dir, "ro"), *path = rt_path(sub, "r.txt");
    hg_error_t err = {0};
    cr_assert_eq(mkdir(sub, 0555), 0);
    cr_assert_null(hg_out_open(path, false, &err));
    cr_assert_eq(err.code, HG_EIO);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    chmod(sub, 0755);
    free(path);
    free(sub);
}

Test(out, directory_as_target_fails_at_open) {
    hg_error_t err = {0};
    cr_assert_null(hg_out_open(dir, false, &err));
    cr_assert_eq(err.code, HG_EIO);
    cr_assert(strstr(err.msg, dir) != NULL, "%s", err.msg);
}

Test(out, fifo_is_written_directly) {
    char *path = rt_path(dir, "pipe");
    char buf[64] = {0};
    cr_assert_eq(mkfifo(path, 0600), 0);
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    cr_assert_geq(rd, 0);
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open(path, false, &err);
    cr_assert_not_null(o, "%s", err.msg);
    hg_out_puts(o, "through the fifo\n");
    cr_assert_eq(rt_count_entries(dir), 1, "a temporary file was made for a FIFO");
    cr_assert_eq(hg_out_commit(o, &err), 0, "%s", err.msg);
    cr_assert_eq(read(rd, buf, sizeof buf - 1), 17);
    cr_assert_str_eq(buf, "through the fifo\n");
    close(rd);
    free(path);
}

Test(out, symlink_survives_and_its_target_is_replaced) {
    char *target = rt_path(dir, "real.txt"), *link = rt_path(dir, "link.txt");
    struct stat st;
    cr_assert(rt_write_file(target, "old\n", 4));
    cr_assert_eq(symlink("real.txt", link), 0);
    hg_out_t *o = hg_out_open(link, false, NULL);
    hg_out_puts(o, "new\n");
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the symlink was replaced by a file");
    char *data = rt_read_file(target, NULL);
    cr_assert_str_eq(data, "new\n");
    cr_assert_eq(rt_count_entries(dir), 2);
    free(data);
    free(link);
    free(target);
}

Test(out, stream_is_not_closed_by_commit) {
    FILE *fp = tmpfile();
    char buf[64] = {0};
    hg_out_t *o = hg_out_stream(fp, "<tmp>", false, NULL);
    hg_out_printf(o, "%s %d\n", "value", 42);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    cr_assert_geq(fputs("after\n", fp), 0);
    rewind(fp);
    cr_assert_eq(fread(buf, 1, sizeof buf - 1, fp), 15);
    cr_assert_str_eq(buf, "value 42\nafter\n");
    fclose(fp);
}

Test(out, failing_stream_reports_its_name) {
    FILE *fp = fopen("/dev/full", "w");
    hg_error_t err = {0};
    hg_out_t *o = hg_out_stream(fp, "<full stream>", false, NULL);
    write_pattern(o, 100000);
    cr_assert_eq(hg_out_commit(o, &err), HG_EIO);
    cr_assert(strstr(err.msg, "<full stream>") != NULL, "%s", err.msg);
    fclose(fp);
}

Test(out, null_stream_is_a_usage_error) {
    hg_error_t err = {0};
    cr_assert_null(hg_out_stream(NULL, "x", false, &err));
    cr_assert_eq(err.code, HG_EUSAGE);
}

Test(out, dash_means_stdout, .init = cr_redirect_stdout) {
    hg_out_t *o = hg_out_open("-", false, NULL);
    cr_assert_not_null(o);
    hg_out_puts(o, "to stdout\n");
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    cr_assert_eq(printf("still open\n"), 11);
    fflush(stdout);
    cr_assert_stdout_eq_str("to stdout\nstill open\n");
}

/* Text with incompressible stretches, longer than several buffers. */
static char *mixed_data(size_t n) {
    char *d = malloc(n);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        d[i] = (i / 4096) % 2 ? (char)x : "heapgate "[i % 9];
    }
    return d;
}

Test(out, gzip_output_reads_back_with_zlib) {
    char *path = rt_path(dir, "r.json.gz");
    size_t n = 700000, len = 0;
    char *data = mixed_data(n);
    hg_out_t *o = hg_out_open(path, true, NULL);
    hg_out_write(o, data, 1000);
    hg_out_write(o, data + 1000, n - 1000); /* one write larger than the buffer */
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    char *raw = rt_read_file(path, &len);
    cr_assert(len > 18 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b);
    char *back = rt_gunzip_file(path, &len);
    cr_assert_not_null(back, "not a valid gzip file");
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(back, data, n), 0);
    free(back);
    free(raw);
    free(data);
    free(path);
}

Test(out, empty_gzip_output_is_a_valid_gzip_file) {
    char *path = rt_path(dir, "empty.gz");
    size_t len = 1;
    hg_out_t *o = hg_out_open(path, true, NULL);
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    char *back = rt_gunzip_file(path, &len);
    cr_assert_not_null(back);
    cr_assert_eq(len, 0);
    free(back);
    free(path);
}

Test(out, printf_longer_than_the_buffer) {
    char *path = rt_path(dir, "long.txt");
    size_t n = 200000, len = 0;
    char *s = malloc(n + 1);
    memset(s, 'q', n);
    s[n] = '\0';
    hg_out_t *o = hg_out_open(path, false, NULL);
    hg_out_puts(o, "<");
    hg_out_printf(o, "%s|%d", s, 7);
    hg_out_printf(o, ">");
    cr_assert_eq(hg_out_commit(o, NULL), 0);
    char *data = rt_read_file(path, &len);
    cr_assert_eq(len, n + 4);
    cr_assert_eq(data[0], '<');
    cr_assert_eq(strcmp(data + n + 1, "|7>"), 0);
    free(data);
    free(s);
    free(path);
}

Test(out, allocation_failures_at_open_leave_nothing) {
    char *path = rt_path(dir, "r.json.gz");
    uint64_t live = hg_mem_stats().live_bytes;
    hg_out_t *o = NULL;
    long n;
    for (n = 0; n < 100 && !o; n++) {
        hg_error_t err = {0};
        hg_mem_fail_after(n);
        o = hg_out_open(path, true, &err);
        hg_mem_fail_after(-1);
        if (!o) {
            cr_assert_eq(err.code, HG_ENOMEM, "attempt %ld: %s", n, err.msg);
            cr_assert_eq(rt_count_entries(dir), 0, "attempt %ld left a file", n);
            cr_assert_eq(hg_mem_stats().live_bytes, live, "attempt %ld leaked", n);
        }
    }
    cr_assert_gt(n, 2, "open never allocated");
    cr_assert_not_null(o);
    hg_out_abort(o);
    cr_assert_eq(hg_mem_stats().live_bytes, live);
    free(path);
}

Test(out, failure_noted_by_a_writer_is_reported_at_commit) {
    char *path = rt_path(dir, "r.txt");
    hg_error_t err = {0};
    hg_out_t *o = hg_out_open(path, false, NULL);
    hg_out_puts(o, "partial");
    hg__report_out_fail(o, HG_ENOMEM); /* what a writer does when it runs out of memory */
    hg_out_puts(o, "dropped");
    cr_assert_eq(hg_out_commit(o, &err), HG_ENOMEM);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    cr_assert_eq(rt_count_entries(dir), 0);
    free(path);
}
