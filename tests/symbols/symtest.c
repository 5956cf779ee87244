/* symtest.c - see symtest.h. */
#include "symtest.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <fcntl.h>
#include <gelf.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *symtest_prog(const char *name) {
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", SYMTEST_PROG_DIR, name);
    return b;
}

const char *symtest_base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Splits line at '|' into at most max fields (in place); returns the count. */
static int split(char *line, char **f, int max) {
    int n = 0;
    line[strcspn(line, "\n")] = '\0';
    for (char *p = line; n < max; p++) {
        f[n++] = p;
        p = strchr(p, '|');
        if (!p) {
            break;
        }
        *p = '\0';
    }
    return n;
}

static void parse_line(symtest_run_t *r, char *line) {
    char *f[40];
    int n = split(line, f, 40);
    if (strcmp(f[0], "module") == 0 && n == 4 && r->nmodules < 32) {
        symtest_module_t *m = &r->modules[r->nmodules++];
        snprintf(m->path, sizeof m->path, "%s", f[1]);
        m->base = strtoull(f[2], NULL, 0);
        m->size = strtoull(f[3], NULL, 0);
    } else if (strcmp(f[0], "cap") == 0 && n == 6 && r->ncaps < 64) {
        symtest_cap_t *c = &r->caps[r->ncaps++];
        snprintf(c->func, sizeof c->func, "%s", f[1]);
        snprintf(c->outer, sizeof c->outer, "%s", f[3]);
        c->line = atoi(f[2]);
        c->outer_line = atoi(f[4]);
        c->addr = strtoull(f[5], NULL, 0);
    } else if (strcmp(f[0], "stack") == 0) {
        for (int i = 1; i < n && r->nstack < 32; i++) {
            r->stack[r->nstack++] = strtoull(f[i], NULL, 0);
        }
    } else if (strcmp(f[0], "leak") == 0 && n == 3) {
        snprintf(r->leak_func, sizeof r->leak_func, "%s", f[1]);
        r->leak_line = atoi(f[2]);
    }
}

symtest_run_t *symtest_run(const char *name) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' 2>&1", symtest_prog(name));
    FILE *fp = popen(cmd, "r");
    cr_assert_not_null(fp, "cannot run %s", name);
    symtest_run_t *r = calloc(1, sizeof *r);
    char line[8192];
    while (fgets(line, sizeof line, fp)) {
        parse_line(r, line);
    }
    int st = pclose(fp);
    cr_assert_eq(st, 0, "%s exited with status %d", name, st);
    cr_assert(r->nmodules > 0 && r->ncaps > 0, "%s printed no report", name);
    return r;
}

const symtest_module_t *symtest_module(const symtest_run_t *r, const char *name) {
    for (int i = 0; i < r->nmodules; i++) {
        if (strcmp(symtest_base_name(r->modules[i].path), name) == 0) {
            return &r->modules[i];
        }
    }
    return NULL;
}

/* ---- ELF facts, read with libelf independently of the code under test ---- */

static void read_sections(Elf *elf, symtest_elf_t *out) {
    size_t shstrndx;
    cr_assert_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if (name && strcmp(name, ".text") == 0) {
            out->text_lo = sh.sh_addr;
            out->text_hi = sh.sh_addr + sh.sh_size;
        }
        if (sh.sh_type == SHT_NOTE) {
            Elf_Data *d = elf_getdata(scn, NULL);
            GElf_Nhdr nh;
            size_t off = 0, name_off, desc_off;
            while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
                if (nh.n_type == NT_GNU_BUILD_ID && nh.n_descsz <= sizeof out->build_id) {
                    memcpy(out->build_id, (char *)d->d_buf + desc_off, nh.n_descsz);
                    out->build_id_len = nh.n_descsz;
                }
            }
        }
    }
}

void symtest_elf_read(const char *path, symtest_elf_t *out) {
    memset(out, 0, sizeof *out);
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0, "cannot open %s", path);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    cr_assert_not_null(elf, "%s: not ELF", path);
    size_t n = 0;
    elf_getphdrnum(elf, &n);
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
            out->shift = ph.p_vaddr - ph.p_offset;
            break;
        }
    }
    read_sections(elf, out);
    elf_end(elf);
    close(fd);
}

bool symtest_need_tool(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    if (system(cmd) == 0) {
        return true;
    }
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        cr_assert_fail("%s is missing (scripts/deps.sh test installs it)", tool);
    }
    cr_skip_test("%s is missing: install it (scripts/deps.sh test)", tool);
    return false;
}

/* ---- the oracle ---- */

static void copy_str(char *dst, size_t cap, json_t *v) {
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static void oracle_entry(json_t *j, symtest_oresult_t *r) {
    json_t *syms = json_object_get(j, "Symbol");
    r->n = (int)json_array_size(syms);
    r->frames = calloc(r->n ? (size_t)r->n : 1, sizeof *r->frames);
    for (int i = 0; i < r->n; i++) {
        json_t *f = json_array_get(syms, (size_t)i);
        symtest_oframe_t *o = &r->frames[i];
        copy_str(o->function, sizeof o->function, json_object_get(f, "FunctionName"));
        copy_str(o->file, sizeof o->file, json_object_get(f, "FileName"));
        o->line = (int)json_integer_value(json_object_get(f, "Line"));
        o->column = (int)json_integer_value(json_object_get(f, "Column"));
    }
}

symtest_oresult_t *symtest_oracle(const char *obj, const uint64_t *vaddrs, size_t n) {
    char in[4096], out[4096], cmd[12800];
    snprintf(in, sizeof in, "%s/oracle.in", symtest_scratch());
    snprintf(out, sizeof out, "%s/oracle.out", symtest_scratch());
    FILE *fp = fopen(in, "w");
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "0x%llx\n", (unsigned long long)vaddrs[i]);
    }
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "llvm-symbolizer --output-style=JSON --no-demangle --obj='%s' < '%s' > '%s'", obj, in,
             out);
    cr_assert_eq(system(cmd), 0, "%s failed", cmd);
    symtest_oresult_t *r = calloc(n ? n : 1, sizeof *r);
    fp = fopen(out, "r");
    static char line[1 << 20];
    for (size_t i = 0; i < n && fgets(line, sizeof line, fp); i++) {
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        cr_assert_not_null(j, "oracle output line %zu: %s", i + 1, err.text);
        oracle_entry(j, &r[i]);
        json_decref(j);
    }
    fclose(fp);
    return r;
}

void symtest_oracle_free(symtest_oresult_t *r, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(r[i].frames);
    }
    free(r);
}

hg_symbolizer_t *symtest_symbolizer(bool demangle, const char *symbol_path, const char *path,
                                    uint64_t base) {
    hg_sym_options_t opt;
    hg_sym_options_init(&opt);
    opt.demangle = demangle;
    opt.symbol_path = symbol_path;
    hg_error_t err;
    hg_symbolizer_t *s = hg_sym_open(&opt, &err);
    cr_assert_not_null(s);
    hg_sym_module_t m = {.base = base, .size = 1ull << 32, .path = path};
    cr_assert_eq(hg_sym_add_module(s, 0, &m), 0);
    return s;
}

/* ---- files ---- */

static char scratch[256];

const char *symtest_scratch(void) {
    if (!scratch[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/hg-symtest-XXXXXX");
        cr_assert_not_null(mkdtemp(scratch));
    }
    return scratch;
}

void symtest_cleanup(void) {
    if (scratch[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
        cr_assert_eq(system(cmd), 0);
        scratch[0] = '\0';
    }
}

const char *symtest_build_id_root(const char *name) {
    static char root[4096];
    char dst[4096], src[4096];
    symtest_elf_t e;
    symtest_elf_read(symtest_prog(name), &e);
    cr_assert(e.build_id_len >= 2, "%s has no build-id", name);
    snprintf(root, sizeof root, "%s/root", symtest_scratch());
    int n = snprintf(dst, sizeof dst, "%s/.build-id/%02x/", root, e.build_id[0]);
    for (size_t i = 1; i < e.build_id_len; i++) {
        n += snprintf(dst + n, sizeof dst - (size_t)n, "%02x", e.build_id[i]);
    }
    snprintf(dst + n, sizeof dst - (size_t)n, ".debug");
    snprintf(src, sizeof src, "%s.debug", symtest_prog(name));
    symtest_copy(src, dst);
    return root;
}

void symtest_copy(const char *src, const char *dst) {
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'", dst, src, dst);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}
