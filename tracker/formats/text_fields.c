/* text_fields.c - the records and keys of the text trace format (docs/text-format.md) and the
 * parser that validates a line's key=value pairs.
 *
 * Two tables drive everything: keys (name and value type) and records (which keys a kind or
 * directive takes, which it requires, of which it needs at least one). A line's keys are looked
 * up only among those its record allows, so the common case is a handful of compares per key;
 * the full table is searched only to word an error. Values land in hg__text_fields_t, indexed
 * by key, with a bit mask of the keys seen, so nothing needs clearing between lines. */
#include "text_fields.h"

#include <stdio.h>
#include <string.h>

enum {
    T_U32,
    T_U64,
    T_BYTES,
    T_SOURCE,
    T_STACK,
    T_FLAG,
    T_STR,
    T_PTRSIZE,
    T_ALLOCATOR,
    T_HEXID,
    T_GUID,
    T_TIME,
    T_WALL,
    T_LOSTCOUNTS,
    T_FRAMES,
};

/* What each value type expects, for messages. */
static const char *const expected[] = {
    [T_U32] = "a number from 0 to 4294967295 (decimal or 0x-hex)",
    [T_U64] = "a 64-bit number (decimal or 0x-hex)",
    [T_BYTES] = "a byte count (decimal or 0x-hex; decimal may end in K, M, G, KiB, MiB, GiB)",
    [T_SOURCE] = "0-255 or one of lookaside, lfh, main, slow, invalid, segment",
    [T_STACK] = "a stack id from 1 to 4294967295",
    [T_FLAG] = "no value (it is a flag)",
    [T_STR] = "valid UTF-8 text",
    [T_PTRSIZE] = "4 or 8",
    [T_ALLOCATOR] = "windows, glibc or unknown",
    [T_HEXID] = "an even number of hex digits (at most 64 bytes)",
    [T_GUID] = "a GUID like 01234567-89ab-cdef-0123-456789abcdef",
    [T_TIME] = "a time like 1.5ms (a number with unit ns, us, ms, s or m; default s)",
    [T_WALL] = "a UTC time like 2026-01-01T00:00:00Z",
    [T_LOSTCOUNTS] = "known or unknown",
    [T_FRAMES] = "comma-separated frame addresses (at most 256)",
};

static const struct key_def {
    const char *name;
    uint8_t len;
    uint8_t type;
} keys[HG__TK_COUNT] = {
    [HG__TK_PID] = {"pid", 3, T_U32},
    [HG__TK_TID] = {"tid", 3, T_U32},
    [HG__TK_HEAP] = {"heap", 4, T_U64},
    [HG__TK_ADDR] = {"addr", 4, T_U64},
    [HG__TK_SIZE] = {"size", 4, T_BYTES},
    [HG__TK_OLD] = {"old", 3, T_U64},
    [HG__TK_OLD_SIZE] = {"old-size", 8, T_BYTES},
    [HG__TK_SOURCE] = {"source", 6, T_SOURCE},
    [HG__TK_STACK] = {"stack", 5, T_STACK},
    [HG__TK_MMAPPED] = {"mmapped", 7, T_FLAG}, /* bytes in "stats" */
    [HG__TK_NAME] = {"name", 4, T_STR},
    [HG__TK_CMD] = {"cmd", 3, T_STR},
    [HG__TK_POINTER_SIZE] = {"pointer-size", 12, T_PTRSIZE},
    [HG__TK_ALLOCATOR] = {"allocator", 9, T_ALLOCATOR},
    [HG__TK_PARENT] = {"parent", 6, T_U32},
    [HG__TK_EVENTS] = {"events", 6, T_U64},
    [HG__TK_BUFFERS] = {"buffers", 7, T_U64},
    [HG__TK_VALUE] = {"value", 5, T_U64},
    [HG__TK_ARENA] = {"arena", 5, T_BYTES},
    [HG__TK_IN_USE] = {"in-use", 6, T_BYTES},
    [HG__TK_FREE] = {"free", 4, T_BYTES},
    [HG__TK_RSS] = {"rss", 3, T_BYTES},
    [HG__TK_BASE] = {"base", 4, T_U64},
    [HG__TK_PATH] = {"path", 4, T_STR},
    [HG__TK_BUILD_ID] = {"build-id", 8, T_HEXID},
    [HG__TK_PDB] = {"pdb", 3, T_STR},
    [HG__TK_GUID] = {"guid", 4, T_GUID},
    [HG__TK_AGE] = {"age", 3, T_U32},
    [HG__TK_TIMESTAMP] = {"timestamp", 9, T_U32},
    [HG__TK_AT] = {"at", 2, T_TIME},
    [HG__TK_ID] = {"id", 2, T_STACK},
    [HG__TK_FRAMES] = {"frames", 6, T_FRAMES},
    [HG__TK_START_WALL] = {"start-wall", 10, T_WALL},
    [HG__TK_LOST_COUNTS] = {"lost-counts", 11, T_LOSTCOUNTS},
    [HG__TK_DURATION] = {"duration", 8, T_TIME},
};

/* ---- records ------------------------------------------------------------------------------ */

#define K(x)       HG__TEXT_BIT(HG__TK_##x)
#define EV_KEYS    (K(PID) | K(TID))
#define BLOCK_KEYS (EV_KEYS | K(HEAP) | K(ADDR) | K(SOURCE) | K(STACK) | K(MMAPPED))
#define META_KEYS  (K(NAME) | K(CMD) | K(POINTER_SIZE) | K(ALLOCATOR) | K(PARENT))
#define STATS_KEYS (K(ARENA) | K(IN_USE) | K(FREE) | K(MMAPPED) | K(RSS))
#define MODULE_KEYS                                                                                \
    (K(PID) | K(BASE) | K(SIZE) | K(PATH) | K(BUILD_ID) | K(PDB) | K(GUID) | K(AGE) |              \
     K(TIMESTAMP) | K(AT))
#define TRACE_KEYS (K(POINTER_SIZE) | K(START_WALL) | K(LOST_COUNTS) | K(DURATION))

static const hg__text_rec_t event_recs[] = {
    {"alloc", HG__TR_EVENT, HG_EV_ALLOC, BLOCK_KEYS | K(SIZE), K(PID) | K(ADDR) | K(SIZE), 0},
    {"free", HG__TR_EVENT, HG_EV_FREE, BLOCK_KEYS, K(PID) | K(ADDR), 0},
    {"realloc", HG__TR_EVENT, HG_EV_REALLOC, BLOCK_KEYS | K(SIZE) | K(OLD) | K(OLD_SIZE),
     K(PID) | K(ADDR) | K(SIZE) | K(OLD), 0},
    {"heap-create", HG__TR_EVENT, HG_EV_HEAP_CREATE, EV_KEYS | K(HEAP), K(PID) | K(HEAP), 0},
    {"heap-destroy", HG__TR_EVENT, HG_EV_HEAP_DESTROY, EV_KEYS | K(HEAP), K(PID) | K(HEAP), 0},
    {"start", HG__TR_START, HG_EV_PROCESS_START, EV_KEYS | META_KEYS, K(PID), 0},
    {"end", HG__TR_EVENT, HG_EV_PROCESS_END, EV_KEYS, K(PID), 0},
    {"lost", HG__TR_EVENT, HG_EV_LOST, K(EVENTS) | K(BUFFERS), 0, K(EVENTS) | K(BUFFERS)},
    {"mark", HG__TR_EVENT, HG_EV_MARKER, K(VALUE), K(VALUE), 0},
    {"stats", HG__TR_STATS, 0, K(PID) | STATS_KEYS, K(PID), STATS_KEYS},
};

static const hg__text_rec_t directive_recs[] = {
    {"process", HG__TR_PROCESS, 0, K(PID) | META_KEYS, K(PID), 0},
    {"module", HG__TR_MODULE, 0, MODULE_KEYS, K(PID) | K(BASE) | K(SIZE) | K(PATH), 0},
    {"unload", HG__TR_UNLOAD, 0, K(PID) | K(BASE) | K(AT), K(PID) | K(BASE) | K(AT), 0},
    {"stack", HG__TR_STACK, 0, K(ID) | K(FRAMES), K(ID) | K(FRAMES), 0},
    {"default", HG__TR_DEFAULT, 0, K(PID) | K(TID) | K(HEAP), 0, K(PID) | K(TID) | K(HEAP)},
    {"trace", HG__TR_TRACE, 0, TRACE_KEYS, 0, TRACE_KEYS},
};

static const hg__text_rec_t *find_in(const hg__text_rec_t *recs, size_t n, const char *word,
                                     size_t len) {
    for (size_t i = 0; i < n; i++) {
        if (recs[i].name[0] == word[0] && strncmp(recs[i].name, word, len) == 0 &&
            recs[i].name[len] == '\0') {
            return &recs[i];
        }
    }
    return NULL;
}

const hg__text_rec_t *hg__text_rec_find(const char *word, size_t len, bool event) {
    if (event) {
        return find_in(event_recs, sizeof event_recs / sizeof event_recs[0], word, len);
    }
    return find_in(directive_recs, sizeof directive_recs / sizeof directive_recs[0], word, len);
}

/* ---- messages ---------------------------------------------------------------------------- */

#define SHOWN 40 /* bytes of a bad value quoted in a message */

static int lowest_bit(uint64_t m) {
    return __builtin_ctzll(m);
}

static int key_type(const hg__text_rec_t *rec, int k) {
    return k == HG__TK_MMAPPED && rec->id == HG__TR_STATS ? T_BYTES : keys[k].type;
}

/* "pid=, tid=, heap=" for the keys in mask (flags without '='). */
static const char *key_list(const hg__text_rec_t *rec, uint64_t mask, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (; mask && n < cap; mask &= mask - 1) {
        int k = lowest_bit(mask);
        const char *fmt = key_type(rec, k) == T_FLAG ? "%s%s" : "%s%s=";
        n += (size_t)snprintf(buf + n, cap - n, fmt, n ? ", " : "", keys[k].name);
    }
    return buf;
}

static int find_any_key(const char *name, size_t len) {
    for (int k = 0; k < HG__TK_COUNT; k++) {
        if (keys[k].len == len && memcmp(keys[k].name, name, len) == 0) {
            return k;
        }
    }
    return -1;
}

static int fail_key(const hg__text_src_t *src, const hg__text_rec_t *rec,
                    const hg__text_tok_t *tok) {
    char list[400];
    key_list(rec, rec->allowed, list, sizeof list);
    int len = (int)(tok->key_len < SHOWN ? tok->key_len : SHOWN);
    if (!tok->val && find_any_key(tok->text, tok->key_len) < 0) {
        return hg__text_fail(src, tok->text, "unexpected word '%.*s' (%s takes %s)", len, tok->text,
                             rec->name, list);
    }
    if (find_any_key(tok->text, tok->key_len) < 0) {
        return hg__text_fail(src, tok->text, "unknown key '%.*s' (%s takes %s)", len, tok->text,
                             rec->name, list);
    }
    return hg__text_fail(src, tok->text, "%s does not take %.*s= (it takes %s)", rec->name, len,
                         tok->text, list);
}

static int fail_value(const hg__text_src_t *src, int k, int type, const hg__text_tok_t *tok) {
    int len = (int)(tok->val_len < SHOWN ? tok->val_len : SHOWN);
    return hg__text_fail(src, tok->val, "%s= expects %s, got \"%.*s%s\"", keys[k].name,
                         expected[type], len, tok->val, tok->val_len > SHOWN ? "..." : "");
}

/* ---- values ----------------------------------------------------------------------------- */

static int source_value(const char *s, size_t n, uint64_t *out) {
    /* indexed by value; 0 ("not applicable") has no name */
    static const char *const names[] = {NULL,   "lookaside", "lfh",    "main",
                                        "slow", "invalid",   "segment"};
    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++) {
        if (names[i][0] == s[0] && strncmp(names[i], s, n) == 0 && names[i][n] == '\0') {
            *out = i;
            return 0;
        }
    }
    return hg__text_parse_u64(s, n, out) == 0 && *out <= 255 ? 0 : HG__TEXT_BADSYNTAX;
}

/* Index of s[0..n) in the NULL-terminated list words, or -1. */
static int word_index(const char *s, size_t n, const char *const *words) {
    for (int i = 0; words[i]; i++) {
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0) {
            return i;
        }
    }
    return -1;
}

static int enum_value(int type, const char *s, size_t n, uint64_t *out) {
    static const char *const allocators[] = {"unknown", "windows", "glibc", NULL};
    static const char *const counts[] = {"unknown", "known", NULL};
    int i = word_index(s, n, type == T_ALLOCATOR ? allocators : counts);
    *out = (uint64_t)i;
    return i < 0 ? HG__TEXT_BADSYNTAX : 0;
}

static int number_value(int type, const char *s, size_t n, uint64_t *out) {
    int rc = type == T_BYTES ? hg__text_parse_bytes(s, n, out) : hg__text_parse_u64(s, n, out);
    if (rc == 0 && type == T_U32 && *out > UINT32_MAX) {
        return HG__TEXT_RANGE;
    }
    if (rc == 0 && type == T_STACK && (*out == 0 || *out > UINT32_MAX)) {
        return HG__TEXT_RANGE;
    }
    if (rc == 0 && type == T_PTRSIZE && *out != 4 && *out != 8) {
        return HG__TEXT_RANGE;
    }
    return rc;
}

static int frames_value(const char *s, size_t n, hg__text_fields_t *f, const char **bad) {
    const char *end = s + n;
    f->nframes = 0;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        *bad = s;
        if (f->nframes == HG_MAX_FRAMES ||
            hg__text_parse_u64(s, (size_t)(stop - s), &f->frames[f->nframes])) {
            return HG__TEXT_BADSYNTAX;
        }
        f->nframes++;
        s = stop + 1;
    }
    return 0;
}

static int string_value(const hg__text_src_t *src, int k, const hg__text_tok_t *tok,
                        hg__text_fields_t *f) {
    size_t ok = hg__text_utf8_check(tok->val, tok->val_len);
    if (ok != tok->val_len) {
        return hg__text_fail(src, tok->val + ok, "%s= is not valid UTF-8 (byte 0x%02x)",
                             keys[k].name, (unsigned)(unsigned char)tok->val[ok]);
    }
    f->str[k] = tok->val;
    return 0;
}

/* Parses tok's value as key k's type into f; 0 or a HG__TEXT_ error. */
static int typed_value(int type, int k, const hg__text_tok_t *tok, hg__text_fields_t *f) {
    const char *s = tok->val;
    size_t n = tok->val_len;
    switch (type) {
    case T_SOURCE:
        return source_value(s, n, &f->num[k]);
    case T_ALLOCATOR:
    case T_LOSTCOUNTS:
        return enum_value(type, s, n, &f->num[k]);
    case T_HEXID:
        return hg__text_parse_hex(s, n, f->build_id, sizeof f->build_id, &f->build_id_len);
    case T_GUID:
        return hg__text_parse_guid(s, n, f->guid);
    case T_TIME:
        return hg__text_parse_time(s, n, &f->num[k]);
    case T_WALL:
        return hg__text_parse_wall(s, n, &f->num[k]);
    default:
        return number_value(type, s, n, &f->num[k]);
    }
}

static int parse_value(const hg__text_src_t *src, const hg__text_rec_t *rec, int k,
                       const hg__text_tok_t *tok, hg__text_fields_t *f) {
    int type = key_type(rec, k);
    if (type == T_FLAG) {
        f->num[k] = 1;
        return tok->val ? hg__text_fail(src, tok->text + tok->key_len,
                                        "%s is a flag: write it without '='", keys[k].name)
                        : 0;
    }
    if (!tok->val) {
        return hg__text_fail(src, tok->text, "expected %s=VALUE", keys[k].name);
    }
    if (type == T_STR) {
        return string_value(src, k, tok, f);
    }
    if (type == T_FRAMES) {
        const char *bad = tok->val;
        return frames_value(tok->val, tok->val_len, f, &bad)
                   ? hg__text_fail(src, bad, "frames= expects %s", expected[T_FRAMES])
                   : 0;
    }
    return typed_value(type, k, tok, f) ? fail_value(src, k, type, tok) : 0;
}

/* ---- a line's fields --------------------------------------------------------------------- */

static int find_key(uint64_t allowed, const char *name, size_t len) {
    for (; allowed; allowed &= allowed - 1) {
        int k = lowest_bit(allowed);
        if (keys[k].len == len && keys[k].name[0] == name[0] &&
            memcmp(keys[k].name, name, len) == 0) {
            return k;
        }
    }
    return -1;
}

static int parse_token(const hg__text_src_t *src, const hg__text_rec_t *rec,
                       const hg__text_tok_t *tok, hg__text_fields_t *f) {
    int k = find_key(rec->allowed, tok->text, tok->key_len);
    if (k < 0) {
        return fail_key(src, rec, tok);
    }
    if (f->seen & HG__TEXT_BIT(k)) {
        return hg__text_fail(src, tok->text, "duplicate key %s= (first given at column %zu)",
                             keys[k].name, (size_t)(f->at[k] - src->line) + 1);
    }
    f->seen |= HG__TEXT_BIT(k);
    f->at[k] = tok->text;
    return parse_value(src, rec, k, tok, f);
}

static void apply_defaults(const hg__text_rec_t *rec, const hg__text_defaults_t *d,
                           hg__text_fields_t *f) {
    uint64_t fill = d->seen & rec->allowed & ~f->seen;
    for (; fill; fill &= fill - 1) {
        int k = lowest_bit(fill);
        f->num[k] = d->num[k];
        f->at[k] = NULL;
        f->seen |= HG__TEXT_BIT(k);
    }
}

static int fail_missing(const hg__text_src_t *src, const hg__text_rec_t *rec, const char *at,
                        int k) {
    if (k == HG__TK_PID) {
        return hg__text_fail(src, at, "%s needs pid= (or an earlier 'default pid=N' line)",
                             rec->name);
    }
    if (k == HG__TK_HEAP) {
        return hg__text_fail(src, at, "%s needs heap= (or an earlier 'default heap=H' line)",
                             rec->name);
    }
    return hg__text_fail(src, at, "%s needs %s=", rec->name, keys[k].name);
}

/* A PDB identity is name, GUID and age together (DbgID_RSDS). */
static int check_pdb(const hg__text_src_t *src, const hg__text_fields_t *f) {
    uint64_t id = K(PDB) | K(GUID) | K(AGE);
    uint64_t have = f->seen & id;
    if (have == 0 || have == id) {
        return 0;
    }
    int k = lowest_bit(have);
    return hg__text_fail(src, f->at[k], "pdb=, guid= and age= go together (missing %s=)",
                         keys[lowest_bit(id & ~have)].name);
}

static int check_record(const hg__text_src_t *src, const hg__text_rec_t *rec, const char *at,
                        const hg__text_fields_t *f) {
    uint64_t missing = rec->required & ~f->seen;
    if (missing) {
        return fail_missing(src, rec, at, lowest_bit(missing));
    }
    if (rec->any_of && !(f->seen & rec->any_of)) {
        char list[400];
        return hg__text_fail(src, at, "%s needs at least one of %s", rec->name,
                             key_list(rec, rec->any_of, list, sizeof list));
    }
    return rec->id == HG__TR_MODULE ? check_pdb(src, f) : 0;
}

int hg__text_parse_fields(hg__text_lex_t *lx, const hg__text_src_t *src, const hg__text_rec_t *rec,
                          const char *rec_at, const hg__text_defaults_t *dflt,
                          hg__text_fields_t *f) {
    hg__text_tok_t tok;
    int rc;
    f->seen = 0;
    while ((rc = hg__text_lex_next(lx, src, &tok)) > 0) {
        if ((rc = parse_token(src, rec, &tok, f)) < 0) {
            return rc;
        }
    }
    if (rc < 0) {
        return rc;
    }
    if (dflt) {
        apply_defaults(rec, dflt, f);
    }
    return check_record(src, rec, rec_at, f);
}

/* ---- stacks and times -------------------------------------------------------------------- */

/* True when the next token is key=value (the keyword form of "stack"). */
static bool next_has_eq(const hg__text_lex_t *lx) {
    const char *p = lx->p;
    while (p < lx->end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    for (; p < lx->end && *p != ' ' && *p != '\t'; p++) {
        if (*p == '=') {
            return true;
        }
    }
    return false;
}

static int positional_frame(const hg__text_src_t *src, const hg__text_tok_t *tok,
                            hg__text_fields_t *f) {
    if (tok->val) {
        return hg__text_fail(src, tok->text, "expected a frame address (form: stack ID FRAME...)");
    }
    if (f->nframes == HG_MAX_FRAMES) {
        return hg__text_fail(src, tok->text, "stack has more than %d frames", HG_MAX_FRAMES);
    }
    if (hg__text_parse_u64(tok->text, tok->len, &f->frames[f->nframes])) {
        return hg__text_fail(src, tok->text, "expected a frame address (decimal or 0x-hex)");
    }
    f->nframes++;
    return 0;
}

static int positional_id(const hg__text_src_t *src, const hg__text_tok_t *tok,
                         hg__text_fields_t *f) {
    if (number_value(T_STACK, tok->text, tok->len, &f->num[HG__TK_ID])) {
        return hg__text_fail(src, tok->text, "stack expects %s first", expected[T_STACK]);
    }
    f->seen = K(ID);
    f->at[HG__TK_ID] = tok->text;
    f->nframes = 0;
    return 0;
}

int hg__text_parse_stack(hg__text_lex_t *lx, const hg__text_src_t *src, const char *rec_at,
                         hg__text_fields_t *f) {
    if (next_has_eq(lx)) {
        return hg__text_parse_fields(lx, src, hg__text_rec_find("stack", 5, false), rec_at, NULL,
                                     f);
    }
    hg__text_tok_t tok;
    int rc = hg__text_lex_next(lx, src, &tok);
    if (rc <= 0) {
        return rc < 0 ? rc
                      : hg__text_fail(src, rec_at,
                                      "stack needs an id and frames "
                                      "(stack ID FRAME... or stack id=ID frames=F,F)");
    }
    if ((rc = positional_id(src, &tok, f)) < 0) {
        return rc;
    }
    while ((rc = hg__text_lex_next(lx, src, &tok)) > 0) {
        if ((rc = positional_frame(src, &tok, f)) < 0) {
            return rc;
        }
    }
    if (rc == 0 && f->nframes == 0) {
        return hg__text_fail(src, rec_at, "stack needs at least one frame");
    }
    return rc;
}

int hg__text_parse_event_time(const hg__text_src_t *src, const hg__text_tok_t *tok,
                              uint64_t *ts_ns) {
    if (!tok->val && hg__text_parse_time(tok->text, tok->len, ts_ns) == 0) {
        return 0;
    }
    int len = (int)(tok->len < SHOWN ? tok->len : SHOWN);
    return hg__text_fail(src, tok->text, "expected an event time like 1.5ms (%s), got \"%.*s\"",
                         "a number with unit ns, us, ms, s or m; default s", len, tok->text);
}
