/* main.c - heapgate-symbolize: resolves addresses in Windows (and other) modules to function,
 * file and line with the symbolization backends of this build (symbols.h), from a module and
 * address list (symlist.h). The same program runs natively on Linux (heapgate's own PDB
 * reader) and on Windows (DbgHelp, or the PDB reader with --backend pdb).
 *
 * The whole list is read and checked before anything is printed: bad input gets a message
 * naming the file and line, exit status 2, and no output. Then each address gets one line:
 *   ADDRESS <tab> MODULE+0xOFFSET (or ??) then, per frame, innermost inline frame first,
 *   <tab> FUNCTION <tab> FILE <tab> LINE   (?? for what is unknown, line 0) */
#include "symbols.h"
#include "symlist.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define EXIT_BAD_INPUT 2
#define MAX_FRAMES     16

static const char usage[] =
    "usage: heapgate-symbolize [options] [LIST]\n"
    "Resolves the addresses of a module and address list (LIST, default standard input) to\n"
    "function, file and line; one tab-separated line per address: ADDRESS, MODULE+0xOFFSET, then\n"
    "FUNCTION, FILE, LINE per frame, innermost inline frame first.\n"
    "List lines: 'module BASE SIZE PATH', 'pdb GUID AGE NAME', 'timestamp STAMP', 'ADDRESS'.\n"
    "Options:\n"
    "  --symbol-path PATH  where debug files are looked for (_NT_SYMBOL_PATH syntax;\n"
    "                      default: $_NT_SYMBOL_PATH)\n"
    "  --backend NAME      use only this backend (see --backends)\n"
    "  --backends          print the backends of this build and exit\n"
    "  --no-demangle       print names as the debug information spells them\n"
    "  --quiet             do not print warnings about debug files\n"
    "  -h, --help          print this help and exit\n";

typedef struct input {
    hg_symbolizer_t *sym;
    uint64_t *addrs;
    size_t n, cap;
} input_t;

typedef struct args {
    hg_sym_options_t opt;
    const char *list;
} args_t;

static void on_warning(void *ctx, const char *msg) {
    (void)ctx;
    fprintf(stderr, "heapgate-symbolize: warning: %s\n", msg);
}

static int add_module(void *ctx, const hg_sym_module_t *m) {
    input_t *in = ctx;
    return hg_sym_add_module(in->sym, 0, m);
}

static int add_address(void *ctx, uint64_t addr, size_t line) {
    input_t *in = ctx;
    (void)line;
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 1024;
        uint64_t *grown = hg_realloc(in->addrs, cap * sizeof *grown);
        if (!grown) {
            return HG_ENOMEM;
        }
        in->addrs = grown;
        in->cap = cap;
    }
    in->addrs[in->n++] = addr;
    return 0;
}

/* The whole of path ("-" or NULL: standard input) in *text; 0 or HG_EIO/HG_ENOMEM (err set). */
static int read_all(const char *path, char **text, size_t *len, hg_error_t *err) {
    bool std_in = !path || strcmp(path, "-") == 0;
    FILE *fp = std_in ? stdin : fopen(path, "rb");
    if (!fp) {
        return hg_error_set(err, HG_EIO, "cannot open %s", path);
    }
    hg_buf_t b;
    hg_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        hg_buf_append(&b, chunk, n);
    }
    int rc = ferror(fp) ? hg_error_set(err, HG_EIO, "cannot read %s", std_in ? "stdin" : path)
             : b.failed ? hg_error_set(err, HG_ENOMEM, "out of memory reading the list")
                        : 0;
    if (!std_in) {
        fclose(fp);
    }
    *len = b.len;
    *text = rc == 0 ? hg_buf_take(&b) : NULL;
    hg_buf_free(&b);
    return rc;
}

static void print_address(hg_symbolizer_t *sym, uint64_t addr) {
    hg_sym_frame_t f[MAX_FRAMES];
    size_t n = hg_sym_resolve(sym, 0, addr, 0, f, MAX_FRAMES);
    printf("0x%" PRIx64, addr);
    if (f[0].module) {
        printf("\t%s+0x%" PRIx64, f[0].module, f[0].offset);
    } else {
        printf("\t??");
    }
    for (size_t i = 0; i < n; i++) {
        printf("\t%s\t%s\t%u", f[i].function ? f[i].function : "??", f[i].file ? f[i].file : "??",
               (unsigned)f[i].line);
    }
    putchar('\n');
}

/* Reads the list into sym and resolves every address; 0 or the error (err set, nothing printed
 * when the list is bad). */
static int run(const args_t *a, hg_error_t *err) {
    input_t in = {0};
    char *text = NULL;
    size_t len = 0;
    int rc = read_all(a->list, &text, &len, err);
    in.sym = rc == 0 ? hg_sym_open(&a->opt, err) : NULL;
    rc = rc == 0 && !in.sym ? err->code : rc;
    if (rc == 0) {
        hg_symlist_cb_t cb = {add_module, add_address, &in};
        rc = hg_symlist_parse(text, len, a->list ? a->list : "stdin", &cb, err);
        rc = rc == HG_ENOMEM ? hg_error_set(err, rc, "out of memory") : rc;
    }
    for (size_t i = 0; rc == 0 && i < in.n; i++) {
        print_address(in.sym, in.addrs[i]);
    }
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        rc = hg_error_set(err, HG_EIO, "cannot write the output");
    }
    hg_sym_close(in.sym);
    hg_free(in.addrs);
    hg_free(text);
    return rc;
}

/* Parses argv into a; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, args_t *a) {
    hg_sym_options_init(&a->opt);
    a->opt.on_warning = on_warning;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(s, "--backends") == 0) {
            printf("%s\n", hg_sym_backends());
            return 0;
        } else if (strcmp(s, "--symbol-path") == 0 && has_value) {
            a->opt.symbol_path = argv[++i];
        } else if (strcmp(s, "--backend") == 0 && has_value) {
            a->opt.backend = argv[++i];
        } else if (strcmp(s, "--no-demangle") == 0) {
            a->opt.demangle = false;
        } else if (strcmp(s, "--quiet") == 0) {
            a->opt.on_warning = NULL;
        } else if ((s[0] != '-' || strcmp(s, "-") == 0) && !a->list) {
            a->list = s;
        } else {
            fprintf(stderr, "heapgate-symbolize: unexpected argument '%s'\n%s", s, usage);
            return EXIT_BAD_INPUT;
        }
    }
    return -1;
}

int main(int argc, char **argv) {
    args_t a = {0};
    int status = parse_args(argc, argv, &a);
    if (status >= 0) {
        return status;
    }
    hg_error_t err;
    hg_error_clear(&err);
    if (run(&a, &err) != 0) {
        fprintf(stderr, "heapgate-symbolize: %s\n", err.msg);
        return EXIT_BAD_INPUT;
    }
    return 0;
}
