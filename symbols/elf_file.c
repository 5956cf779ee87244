/* elf_file.c - one ELF file opened read-only for the DWARF backend, and the facts that identify
 * it and place it in memory.
 *
 * Files are opened with O_NONBLOCK and must be regular files (a FIFO or a device at a recorded
 * path must not hang or be read), then handed to libelf with ELF_C_READ_MMAP, so a large
 * debug file costs address space, not memory. The build-id is the NT_GNU_BUILD_ID note, read
 * by libdwelf's dwelf_elf_gnu_build_id (elfutils libdwelf.h), which validates the note.
 *
 * Placement: a trace records a module's base as the address where the file's offset 0 is
 * mapped (the start of its first mapping minus that mapping's file offset, as
 * /proc/PID/maps shows it). A loadable segment is mapped so that p_vaddr - p_offset is the
 * same distance for every byte (System V ABI, "Program Loading": p_vaddr and p_offset are
 * congruent modulo the page size), so the first PT_LOAD's p_vaddr - p_offset is the ELF
 * virtual address of file offset 0, and vaddr = (addr - base) + (p_vaddr - p_offset). This
 * is 0 for PIE executables and shared libraries as linked today, 0x400000 for a classic
 * non-PIE x86-64 executable. */
#include "dwarf_priv.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PHDRS 65535 /* PN_XNUM - 1: more is a damaged or hostile file */

static void elf_library_init(void) {
    static bool done;
    if (!done) {
        elf_version(EV_CURRENT);
        done = true;
    }
}

static void read_build_id(hg__elf_file_t *f) {
    const void *id = NULL;
    ssize_t n = dwelf_elf_gnu_build_id(f->elf, &id);
    if (n > 0 && id) {
        f->build_id = id;
        f->build_id_len = (size_t)n;
    }
}

/* A read-only descriptor of path when it is a regular file, else -1. */
static int open_regular(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int hg__elf_open(const char *path, hg__elf_file_t *f) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    elf_library_init();
    int fd = open_regular(path);
    if (fd < 0) {
        return HG_EIO;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    GElf_Ehdr eh;
    if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
        elf_end(elf);
        close(fd);
        return HG_EFORMAT;
    }
    f->fd = fd;
    f->elf = elf;
    read_build_id(f);
    return 0;
}

void hg__elf_close(hg__elf_file_t *f) {
    if (f->elf) {
        elf_end(f->elf);
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

bool hg__elf_build_id_is(const hg__elf_file_t *f, const uint8_t *id, size_t len) {
    return f->build_id && f->build_id_len == len && memcmp(f->build_id, id, len) == 0;
}

/* .debug_info, or .zdebug_info (the older GNU compression, which libdw also reads). */
static bool is_debug_info(const char *name) {
    return name && (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0);
}

bool hg__elf_has_dwarf(Elf *elf) {
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) {
        return false;
    }
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS && sh.sh_size > 0 &&
            is_debug_info(elf_strptr(elf, shstrndx, sh.sh_name))) {
            return true;
        }
    }
    return false;
}

uint64_t hg__elf_vaddr_shift(Elf *elf) {
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0) {
        return 0;
    }
    for (size_t i = 0; i < n && i < MAX_PHDRS; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
            return ph.p_vaddr - ph.p_offset;
        }
    }
    return 0;
}
