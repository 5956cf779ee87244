/* text_fields.h - private to the text trace reader: the table of record kinds (event kinds and
 * directives) and keys of docs/text-format.md, and the parser that turns a line's key=value
 * tokens into validated fields. The reader (text_read.c) turns fields into sink calls. */
#ifndef HG_TEXT_FIELDS_H
#define HG_TEXT_FIELDS_H

#include "text_lex.h"
#include "tracker.h"

typedef enum hg__text_key {
    HG__TK_PID,
    HG__TK_TID,
    HG__TK_HEAP,
    HG__TK_ADDR,
    HG__TK_SIZE,
    HG__TK_OLD,
    HG__TK_OLD_SIZE,
    HG__TK_SOURCE,
    HG__TK_STACK,
    HG__TK_MMAPPED,
    HG__TK_NAME,
    HG__TK_CMD,
    HG__TK_POINTER_SIZE,
    HG__TK_ALLOCATOR,
    HG__TK_PARENT,
    HG__TK_EVENTS,
    HG__TK_BUFFERS,
    HG__TK_VALUE,
    HG__TK_ARENA,
    HG__TK_IN_USE,
    HG__TK_FREE,
    HG__TK_RSS,
    HG__TK_BASE,
    HG__TK_PATH,
    HG__TK_BUILD_ID,
    HG__TK_PDB,
    HG__TK_GUID,
    HG__TK_AGE,
    HG__TK_TIMESTAMP,
    HG__TK_AT,
    HG__TK_ID,
    HG__TK_FRAMES,
    HG__TK_START_WALL,
    HG__TK_LOST_COUNTS,
    HG__TK_DURATION,
    HG__TK_COUNT
} hg__text_key_t;

#define HG__TEXT_BIT(k) (UINT64_C(1) << (k))

typedef enum hg__text_rec_id {
    HG__TR_EVENT,   /* alloc, realloc, free, heap-create, heap-destroy, end, lost, mark */
    HG__TR_START,   /* process start: an event, and process metadata when given */
    HG__TR_STATS,   /* allocator statistics */
    HG__TR_PROCESS, /* directives from here on */
    HG__TR_MODULE,
    HG__TR_UNLOAD,
    HG__TR_STACK,
    HG__TR_DEFAULT,
    HG__TR_TRACE,
} hg__text_rec_id_t;

typedef struct hg__text_rec {
    const char *name;
    uint8_t id;                         /* hg__text_rec_id_t */
    uint8_t ev_kind;                    /* hg_event_kind_t for events, else 0 */
    uint64_t allowed, required, any_of; /* HG__TEXT_BIT masks of keys */
} hg__text_rec_t;

#define HG__TEXT_MAX_BUILD_ID 64 /* bytes */

/* The values of one line. Only keys in seen are valid (nothing is cleared between lines). */
typedef struct hg__text_fields {
    uint64_t seen;
    uint64_t num[HG__TK_COUNT];    /* numbers, enums, times, flags */
    const char *str[HG__TK_COUNT]; /* name, cmd, path, pdb: NUL-terminated, in the line */
    const char *at[HG__TK_COUNT];  /* where each key was written (NULL: from a default) */
    uint8_t guid[16];
    uint8_t build_id[HG__TEXT_MAX_BUILD_ID];
    uint32_t build_id_len;
    uint32_t nframes;
    uint64_t frames[HG_MAX_FRAMES];
} hg__text_fields_t;

/* Values set by "default" lines, filled in where a line leaves pid, tid or heap out. */
typedef struct hg__text_defaults {
    uint64_t seen; /* HG__TEXT_BIT(HG__TK_PID / TID / HEAP) */
    uint64_t num[HG__TK_HEAP + 1];
} hg__text_defaults_t;

/* The event kind (event == true) or directive named word[0..len), or NULL. */
const hg__text_rec_t *hg__text_rec_find(const char *word, size_t len, bool event);

/* Reads the rest of the line as key=value tokens of rec into f, fills in defaults (may be
 * NULL), and checks required keys and combinations. rec_at is the record word (for messages).
 * Returns 0 or HG_EFORMAT (message in src->err). */
int hg__text_parse_fields(hg__text_lex_t *lx, const hg__text_src_t *src, const hg__text_rec_t *rec,
                          const char *rec_at, const hg__text_defaults_t *dflt,
                          hg__text_fields_t *f);

/* Reads a stack definition after the word "stack": "ID FRAME..." or "id=ID frames=F,F,...".
 * Sets num[HG__TK_ID], at[HG__TK_ID] and the frames. Returns 0 or HG_EFORMAT. */
int hg__text_parse_stack(hg__text_lex_t *lx, const hg__text_src_t *src, const char *rec_at,
                         hg__text_fields_t *f);

/* Parses a time token (the first token of an event line). Returns 0 or HG_EFORMAT. */
int hg__text_parse_event_time(const hg__text_src_t *src, const hg__text_tok_t *tok,
                              uint64_t *ts_ns);

#endif
