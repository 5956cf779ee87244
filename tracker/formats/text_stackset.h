/* text_stackset.h - private to the text trace reader: the set of stack ids defined so far, with
 * the line that defined each, so a second definition of an id is reported with both lines. */
#ifndef HG_TEXT_STACKSET_H
#define HG_TEXT_STACKSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct hg__text_stackset {
    uint32_t *ids;   /* 0 = empty slot (stack ids start at 1) */
    uint64_t *lines; /* line of the definition */
    size_t cap;      /* power of two, or 0 */
    size_t count;
} hg__text_stackset_t;

/* An empty set; owns nothing until the first add. */
void hg__text_stackset_init(hg__text_stackset_t *s);
void hg__text_stackset_free(hg__text_stackset_t *s);
/* Adds id (>= 1) defined on line. Returns 1 when added, 0 when id was already there (*prev_line
 * = its line; nothing changes), HG_ENOMEM when growing failed (the set is unchanged). */
int hg__text_stackset_add(hg__text_stackset_t *s, uint32_t id, uint64_t line, uint64_t *prev_line);

#endif
