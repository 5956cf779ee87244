/* pdbtest.c - see pdbtest.h. */
#include "pdbtest.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *fixture(const char *name) {
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", PDB_FIXTURES, name);
    return p;
}

void require_fixtures(void) {
    char *done = fixture("app-O2.tsv");
    bool ready = access(done, R_OK) == 0;
    free(done);
    if (ready) {
        return;
    }
    const char *ci = getenv("CI");
    cr_assert(!(ci && strcmp(ci, "true") == 0),
              "PDB fixtures missing under CI=true (see the pdb_fixtures test's output)");
    cr_skip_test("PDB fixtures not built: clang, lld-link or llvm-symbolizer-16 missing");
}

uint8_t *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

void spit(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

void read_rsds(const char *exe, uint8_t guid[16], uint32_t *age) {
    size_t len;
    uint8_t *img = slurp(exe, &len);
    cr_assert_not_null(img, "%s", exe);
    for (size_t i = 0; i + 24 <= len; i++) {
        if (memcmp(img + i, "RSDS", 4) == 0) {
            memcpy(guid, img + i + 4, 16);
            *age = rd32(img + i + 20);
            free(img);
            return;
        }
    }
    cr_assert_fail("%s has no RSDS record", exe);
}

void key_of(const uint8_t g[16], uint32_t age, char key[41]) {
    snprintf(key, 41, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%X", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15], age);
}

void make_dirs(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

const char *base_name(const char *path) {
    const char *b = path;
    for (const char *p = path; *p; p++) {
        if (*p == '/' || *p == '\\') {
            b = p + 1;
        }
    }
    return b;
}

/* ---- the oracle ------------------------------------------------------------------------- */

static void parse_oracle_line(char *line, oracle_entry_t *e) {
    char *save = NULL, *tok = strtok_r(line, "\t\n", &save);
    e->rva = strtoull(tok, NULL, 16);
    e->nframes = 0;
    while ((tok = strtok_r(NULL, "\t\n", &save)) != NULL && e->nframes < 16) {
        oracle_frame_t *f = &e->frames[e->nframes++];
        f->function = strdup(tok);
        f->file = strdup(strtok_r(NULL, "\t\n", &save));
        f->line = (unsigned)strtoul(strtok_r(NULL, "\t\n", &save), NULL, 10);
    }
}

oracle_entry_t *oracle_load(const char *name, size_t *n) {
    char file[256];
    snprintf(file, sizeof file, "%s.tsv", name);
    char *path = fixture(file);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s", path);
    free(path);
    size_t cap = 1024;
    oracle_entry_t *v = malloc(cap * sizeof *v);
    char line[8192];
    *n = 0;
    while (fgets(line, sizeof line, fp)) {
        if (*n == cap) {
            v = realloc(v, (cap *= 2) * sizeof *v);
        }
        parse_oracle_line(line, &v[(*n)++]);
    }
    fclose(fp);
    return v;
}

void oracle_free(oracle_entry_t *e, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < e[i].nframes; j++) {
            free(e[i].frames[j].function);
            free(e[i].frames[j].file);
        }
    }
    free(e);
}

/* ---- the HTTP server -------------------------------------------------------------------- */

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static bool accepts(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* In the child: the server's only open files are /dev/null and the log, so no pipe of the
 * test runner is held open by it, and it dies with the test. */
static void exec_server(const char *dir, const char *log, const char *port) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int in = open("/dev/null", O_RDWR), err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(in, 1);
    dup2(err, 2);
    for (int fd = 3; fd < 1024; fd++) {
        close(fd);
    }
    execlp("python3", "python3", "-m", "http.server", port, "--bind", "127.0.0.1", "--directory",
           dir, (char *)NULL);
    _exit(127);
}

http_server_t http_start(const char *dir, const char *log) {
    http_server_t s = {0, free_port()};
    char port[16];
    snprintf(port, sizeof port, "%d", s.port);
    s.pid = fork();
    cr_assert(s.pid >= 0);
    if (s.pid == 0) {
        exec_server(dir, log, port);
    }
    for (int i = 0; i < 1200 && !accepts(s.port); i++) { /* up to 30 s on a loaded machine */
        usleep(25000);
    }
    if (!accepts(s.port)) {
        http_stop(&s);
        cr_assert_fail("python3 -m http.server did not start on port %d", s.port);
    }
    return s;
}

void http_stop(http_server_t *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

int count_in_file(const char *path, const char *text) {
    size_t len;
    char *buf = (char *)slurp(path, &len);
    int count = 0;
    if (buf) {
        buf[len] = '\0';
        for (char *p = buf; (p = strstr(p, text)) != NULL; p++) {
            count++;
        }
        free(buf);
    }
    return count;
}

/* ---- a minimal MSF walker (LLVM MsfFile.md), for damaging PDBs on purpose -------------- */

uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

size_t msf_dir_offset(const uint8_t *pdb, size_t len, size_t off) {
    uint32_t bs = rd32(pdb + 32), map = rd32(pdb + 52);
    size_t block = rd32(pdb + (size_t)map * bs + 4 * (off / bs));
    cr_assert_lt(block * bs + off % bs, len);
    return block * bs + off % bs;
}

static uint32_t dir_u32(const uint8_t *pdb, size_t len, size_t off) {
    return rd32(pdb + msf_dir_offset(pdb, len, off));
}

size_t msf_stream_offset(const uint8_t *pdb, size_t len, uint32_t index, size_t off) {
    uint32_t bs = rd32(pdb + 32), nstreams = dir_u32(pdb, len, 0);
    size_t list = 4 + 4 * (size_t)nstreams;
    for (uint32_t i = 0; i < index; i++) {
        uint32_t size = dir_u32(pdb, len, 4 + 4 * (size_t)i);
        list += size == 0xFFFFFFFFu ? 0 : 4 * (((size_t)size + bs - 1) / bs);
    }
    size_t block = dir_u32(pdb, len, list + 4 * (off / bs));
    return block * bs + off % bs;
}
