/* internal.h - what the report writers share and nothing outside reports/ may use: noting a
 * failure on an output, UTF-8 decoding and JSON string escaping (JSON, SARIF and HTML writers
 * all need it). Names are hg__report_*; the public API is report.h. */
#ifndef HG_REPORTS_INTERNAL_H
#define HG_REPORTS_INTERNAL_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records a failure that is not a failed write (HG_ENOMEM while a writer formatted something)
 * so hg_out_commit reports it and leaves nothing under the final name. The first failure
 * wins; later writes to o are dropped. */
void hg__report_out_fail(hg_out_t *o, int code);
/* Whether anything written to o has failed so far (writers may stop early). */
bool hg__report_out_failed(const hg_out_t *o);

/* Decodes the UTF-8 sequence at p (NUL-terminated string): returns its length 1..4 and sets
 * *cp, or returns 0 when the bytes at p are not valid UTF-8 (overlong forms, surrogates, code
 * points above U+10FFFF, a truncated sequence). Never reads past a NUL. */
size_t hg__report_utf8_decode(const unsigned char *p, uint32_t *cp);

/* Writes s as a JSON string literal, quotes included: '"' and '\' escaped, control characters
 * (and DEL) as \u00XX, each byte that is not part of valid UTF-8 as \ufffd. NULL writes null. */
void hg__report_json_string(hg_out_t *o, const char *s);

#endif
