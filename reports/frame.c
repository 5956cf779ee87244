/* frame.c - the one way every writer names a stack frame:
 *   "function (file:line)"       resolved with a source position
 *   "function (module+0x1a2b)"   resolved without one
 *   "module+0x1a2b"              unresolved, inside a known module (ASLR-stable)
 *   "0x7ffe12345678"             nothing covers the address
 * The strings are appended raw; each writer escapes or sanitizes for its own format. */
#include "report.h"

static void put_module_offset(const hg_rframe_t *f, hg_buf_t *out) {
    hg_buf_printf(out, "%s+0x%llx", f->module, (unsigned long long)f->offset);
}

static void put_position(const hg_rframe_t *f, hg_buf_t *out) {
    hg_buf_puts(out, f->file);
    if (f->line) {
        hg_buf_printf(out, ":%u", (unsigned)f->line);
    }
}

void hg_rframe_name(const hg_rframe_t *f, hg_buf_t *out) {
    if (f->function) {
        hg_buf_puts(out, f->function);
    } else if (f->module) {
        put_module_offset(f, out);
    } else {
        hg_buf_printf(out, "0x%llx", (unsigned long long)f->addr);
    }
}

void hg_rframe_format(const hg_rframe_t *f, hg_buf_t *out) {
    hg_rframe_name(f, out);
    if (!f->function) {
        return;
    }
    if (f->file) {
        hg_buf_puts(out, " (");
        put_position(f, out);
        hg_buf_putc(out, ')');
    } else if (f->module) {
        hg_buf_puts(out, " (");
        put_module_offset(f, out);
        hg_buf_putc(out, ')');
    }
}
