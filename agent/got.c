/* got.c - the hooks of `heapgate attach`. In a running process LD_PRELOAD no longer applies,
 * so, as heaptrack's injection does (heaptrack_inject.cpp), the agent rewrites the GOT entries
 * through which every loaded object calls the allocation functions: for each object
 * (dl_iterate_phdr), its dynamic section gives the symbol and string tables and the PLT and
 * data relocation tables (DT_JMPREL/DT_PLTRELSZ, DT_RELA/DT_RELASZ); each R_X86_64_JUMP_SLOT or
 * R_X86_64_GLOB_DAT relocation naming a hooked function has its slot pointed at the agent's
 * hook (System V x86-64 psABI §4.4, "Relocation Types"). Slots inside PT_GNU_RELRO were made
 * read-only after relocation: their page is made writable for the write and read-only again.
 *
 * glibc stores the dynamic section's addresses already relocated for most tags when it is
 * writable (elf/get-dynamic-info.h): a value below the load bias is relative and gets the bias
 * added. The agent itself and the dynamic linker (which calls malloc through pointers of its
 * own) are skipped. Every slot written is remembered with its old value, and detaching writes
 * the old values back where the hook is still in place. Objects loaded later are patched when
 * the helper's module scan sees them. */
#include "agent.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_SAVED   8192
#define MAX_PATCHED 1024

typedef struct saved {
    uintptr_t *slot;
    uintptr_t old, hook;
    bool relro;
} saved_t;

typedef struct object {
    uintptr_t bias;
    const ElfW(Sym) * symtab;
    const char *strtab;
    size_t strsz;
    const ElfW(Rela) * jmprel, *rela;
    size_t jmprel_bytes, rela_bytes;
    uintptr_t relro_lo, relro_hi;
} object_t;

static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static saved_t saved[MAX_SAVED];
static uint32_t nsaved;
static uintptr_t patched[MAX_PATCHED];
static uint32_t npatched;

/* The functions whose GOT entries get the agent's hooks. */
static const char *const hooked[] = {
    "malloc",
    "free",
    "calloc",
    "realloc",
    "reallocarray",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "malloc_usable_size",
    "dlclose",
    "_exit",
    "_Exit",
    "abort",
    "execve",
    "execv",
    "execvp",
    "execvpe",
    "fexecve",
    "execl",
    "execlp",
    "execle",
};

#define NHOOKS (sizeof hooked / sizeof hooked[0])
static void *hook_fn[NHOOKS];

/* The agent's own definitions: dlsym on the agent's handle looks in the agent first, whatever
 * the global scope binds the names to. */
static bool find_hooks(void) {
    Dl_info info;
    if (hook_fn[0]) {
        return true;
    }
    if (!dladdr((const void *)(uintptr_t)find_hooks, &info) || !info.dli_fname) {
        return false;
    }
    void *self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    for (size_t i = 0; self && i < NHOOKS; i++) {
        hook_fn[i] = dlsym(self, hooked[i]);
    }
    if (self) {
        dlclose(self);
    }
    return hook_fn[0] != NULL;
}

static void *hook_for(const char *name) {
    for (size_t i = 0; i < NHOOKS; i++) {
        if (strcmp(hooked[i], name) == 0) {
            return hook_fn[i];
        }
    }
    return NULL;
}

/* ---- reading an object -------------------------------------------------------------------- */

static uintptr_t relocated(uintptr_t bias, uintptr_t v) {
    return v < bias ? v + bias : v;
}

static void read_dynamic(object_t *o, const ElfW(Dyn) * d) {
    for (; d->d_tag != DT_NULL; d++) {
        uintptr_t v = relocated(o->bias, d->d_un.d_ptr);
        switch (d->d_tag) {
        case DT_SYMTAB:
            o->symtab = (const ElfW(Sym) *)v;
            break;
        case DT_STRTAB:
            o->strtab = (const char *)v;
            break;
        case DT_STRSZ:
            o->strsz = d->d_un.d_val;
            break;
        case DT_JMPREL:
            o->jmprel = (const ElfW(Rela) *)v;
            break;
        case DT_PLTRELSZ:
            o->jmprel_bytes = d->d_un.d_val;
            break;
        case DT_RELA:
            o->rela = (const ElfW(Rela) *)v;
            break;
        case DT_RELASZ:
            o->rela_bytes = d->d_un.d_val;
            break;
        default:
            break;
        }
    }
}

static bool read_object(const struct dl_phdr_info *info, object_t *o) {
    memset(o, 0, sizeof *o);
    o->bias = info->dlpi_addr;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)(o->bias + ph->p_vaddr);
        } else if (ph->p_type == PT_GNU_RELRO) {
            o->relro_lo = o->bias + ph->p_vaddr;
            o->relro_hi = o->relro_lo + ph->p_memsz;
        }
    }
    if (dyn) {
        read_dynamic(o, dyn);
    }
    return dyn && o->symtab && o->strtab;
}

static bool skipped(const char *name) {
    return strstr(name, "libheapgate-agent") || strstr(name, "/ld-linux") ||
           strstr(name, "linux-vdso") || strstr(name, "linux-gate");
}

/* ---- writing slots ------------------------------------------------------------------------ */

static void write_slot(uintptr_t *slot, uintptr_t value, bool relro) {
    long page = sysconf(_SC_PAGESIZE);
    void *start = (void *)((uintptr_t)slot & ~(uintptr_t)(page - 1));
    if (relro && mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0) {
        return;
    }
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (relro) {
        mprotect(start, (size_t)page, PROT_READ);
    }
}

static int patch_table(const object_t *o, const ElfW(Rela) * r, size_t bytes) {
    int n = 0;
    for (size_t i = 0; r && i < bytes / sizeof *r && nsaved < MAX_SAVED; i++) {
        uint32_t type = (uint32_t)ELF64_R_TYPE(r[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) {
            continue;
        }
        const ElfW(Sym) *sym = &o->symtab[ELF64_R_SYM(r[i].r_info)];
        void *hook = sym->st_name < o->strsz ? hook_for(o->strtab + sym->st_name) : NULL;
        uintptr_t *slot = (uintptr_t *)(o->bias + r[i].r_offset);
        if (!hook || *slot == (uintptr_t)hook) {
            continue;
        }
        bool relro = (uintptr_t)slot >= o->relro_lo && (uintptr_t)slot < o->relro_hi;
        saved[nsaved++] = (saved_t){slot, *slot, (uintptr_t)hook, relro};
        write_slot(slot, (uintptr_t)hook, relro);
        n++;
    }
    return n;
}

/* The objects loaded now: patched ones keep their key; slots of unloaded ones are forgotten. */
typedef struct current {
    uintptr_t key, lo, hi;
} current_t;

static current_t now_loaded[MAX_PATCHED];
static uint32_t nnow;

static bool was_patched(uintptr_t key) {
    for (uint32_t i = 0; i < npatched; i++) {
        if (patched[i] == key) {
            return true;
        }
    }
    return false;
}

static void note_loaded(const struct dl_phdr_info *info, uintptr_t key) {
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            lo = a < lo ? a : lo;
            hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
        }
    }
    if (nnow < MAX_PATCHED) {
        now_loaded[nnow++] = (current_t){key, lo, hi};
    }
}

static int on_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uintptr_t key = (uintptr_t)info->dlpi_phdr;
    object_t o;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (skipped(name)) {
        return 0;
    }
    bool known = was_patched(key);
    note_loaded(info, key);
    if (!known && read_object(info, &o)) {
        *(int *)data += patch_table(&o, o.jmprel, o.jmprel_bytes);
        *(int *)data += patch_table(&o, o.rela, o.rela_bytes);
    }
    return 0;
}

static bool still_loaded(const uintptr_t *slot) {
    for (uint32_t i = 0; i < nnow; i++) {
        if ((uintptr_t)slot >= now_loaded[i].lo && (uintptr_t)slot < now_loaded[i].hi) {
            return true;
        }
    }
    return false;
}

/* Keeps what describes objects still loaded (their memory may be reused otherwise). */
static void forget_unloaded(void) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < nsaved; i++) {
        if (still_loaded(saved[i].slot)) {
            saved[kept++] = saved[i];
        }
    }
    nsaved = kept;
    npatched = nnow;
    for (uint32_t i = 0; i < nnow; i++) {
        patched[i] = now_loaded[i].key;
    }
}

int hg__got_install(void) {
    int n = 0;
    hg__tls.internal++;
    pthread_mutex_lock(&got_lock);
    if (!find_hooks()) {
        pthread_mutex_unlock(&got_lock);
        hg__tls.internal--;
        return 0;
    }
    nnow = 0;
    dl_iterate_phdr(on_object, &n);
    forget_unloaded();
    pthread_mutex_unlock(&got_lock);
    hg__tls.internal--;
    return n;
}

static int collect_loaded(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    note_loaded(info, (uintptr_t)info->dlpi_phdr);
    return 0;
}

void hg__got_uninstall(void) {
    pthread_mutex_lock(&got_lock);
    nnow = 0;
    dl_iterate_phdr(collect_loaded, NULL);
    for (uint32_t i = nsaved; i-- > 0;) {
        if (still_loaded(saved[i].slot) && *saved[i].slot == saved[i].hook) {
            write_slot(saved[i].slot, saved[i].old, saved[i].relro);
        }
    }
    nsaved = 0;
    npatched = 0;
    pthread_mutex_unlock(&got_lock);
}
