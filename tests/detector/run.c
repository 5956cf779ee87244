/* run.c - see run.h. */
#include "run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char scratch[256];

const char *scratch_dir(void) {
    if (!scratch[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/hg-e2e-XXXXXX");
        cr_assert_not_null(mkdtemp(scratch));
    }
    return scratch;
}

void scratch_cleanup(void) {
    if (scratch[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
        cr_assert_eq(system(cmd), 0);
        scratch[0] = '\0';
    }
}

char *scratch_path(const char *name) {
    char *p = malloc(512);
    snprintf(p, 512, "%s/%s", scratch_dir(), name);
    return p;
}

char *scratch_write(const char *name, const char *text) {
    char *p = scratch_path(name);
    FILE *fp = fopen(p, "wb");
    cr_assert_not_null(fp);
    fwrite(text, 1, strlen(text), fp);
    fclose(fp);
    return p;
}

char *read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap + 1);
    while ((k = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(fp);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}

run_result_t run_heapgate(const char *const *args) {
    char out[] = "/tmp/hg-out-XXXXXX", err[] = "/tmp/hg-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err);
    cr_assert(fo >= 0 && fe >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[64] = {HG_BINARY_DIR "/heapgate"};
        for (int i = 0; args[i] && i < 62; i++) {
            argv[i + 1] = args[i];
        }
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    close(fo);
    close(fe);
    run_result_t r = {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), NULL, NULL, 0};
    r.out = read_file(out, &r.out_len);
    r.err = read_file(err, NULL);
    unlink(out);
    unlink(err);
    return r;
}

void run_free(run_result_t *r) {
    free(r->out);
    free(r->err);
}
