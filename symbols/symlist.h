/* symlist.h - the module and address list heapgate-symbolize reads: what a trace would record
 * about modules (base, size, path, PDB identity) and the addresses to resolve.
 *
 * Text, one item per line; blank lines and lines starting with '#' are ignored; fields are
 * separated by blanks; numbers are decimal or 0x-hex:
 *   module BASE SIZE PATH      a module loaded at BASE, SIZE bytes long; PATH is the rest of the
 *                              line (it may hold blanks): the image file as the trace recorded
 *   pdb GUID AGE NAME          the module's CodeView record (optional, after its module line):
 *                              GUID as {8-4-4-4-12} hex digits (braces and dashes optional),
 *                              AGE, and the PDB file name or path (the rest of the line)
 *   timestamp STAMP            the module's PE TimeDateStamp (optional): finds the image in a
 *                              symbol store when PATH is not a file here
 *   ADDRESS                    an address to resolve (in the modules listed before or after)
 * Windows line ends (\r\n) are accepted. */
#ifndef HG_SYMBOLS_SYMLIST_H
#define HG_SYMBOLS_SYMLIST_H

#include "symbols.h"

typedef struct hg_symlist_cb {
    /* A complete module (its pdb and timestamp lines read); strings live during the call. */
    int (*module)(void *ctx, const hg_sym_module_t *m);
    /* An address, with the line it is on. */
    int (*address)(void *ctx, uint64_t addr, size_t line);
    void *ctx;
} hg_symlist_cb_t;

/* Parses len bytes of text; name is used in messages ("NAME:LINE: ..."). Returns 0, HG_EFORMAT
 * (err names the line and what was expected), or what a callback returned when it was not 0. */
int hg_symlist_parse(const char *text, size_t len, const char *name, const hg_symlist_cb_t *cb,
                     hg_error_t *err);

/* Parses a GUID in text form into Windows in-memory byte order; 0 or HG_EFORMAT. */
int hg_symlist_parse_guid(const char *text, uint8_t guid[16]);

#endif
