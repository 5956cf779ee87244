/* suppress.c - suppressions in LeakSanitizer's syntax: one "leak:PATTERN" per line, '#'
 * comments, blank lines ignored. A site is suppressed when PATTERN matches the function name,
 * the source file name or the module name of any of its frames (LeakSanitizer documentation,
 * "Suppressions"). Patterns follow the sanitizers' template rules: '*' matches any sequence,
 * a leading '^' or trailing '$' anchors the match, otherwise it matches anywhere.
 * Built-in rules (label "runtime") mark what the C/C++ runtimes keep for the whole process:
 * shown in reports, never gated. */
#include "detector_priv.h"

#include <errno.h>
#include <string.h>

typedef struct rule {
    char *pattern; /* without "leak:" */
    bool builtin;
} rule_t;

struct hg_suppressions {
    rule_t *v;
    size_t n;
};

hg_suppressions_t *hg__suppressions_new(void) {
    return hg_calloc(1, sizeof(hg_suppressions_t));
}

void hg__suppressions_free(hg_suppressions_t *s) {
    for (size_t i = 0; s && i < s->n; i++) {
        hg_free(s->v[i].pattern);
    }
    if (s) {
        hg_free(s->v);
        hg_free(s);
    }
}

int hg__suppressions_add(hg_suppressions_t *s, const char *pattern, bool builtin) {
    rule_t *v = hg_realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v) {
        return HG_ENOMEM;
    }
    s->v = v;
    s->v[s->n].pattern = hg_strdup(pattern);
    s->v[s->n].builtin = builtin;
    return s->v[s->n].pattern ? (s->n++, 0) : HG_ENOMEM;
}

/* Matches templ[ti..] at str[si..]: '*' any sequence, '$' at the very end anchors the end. */
static bool match_here(const char *t, const char *s) {
    if (*t == '\0') {
        return true;
    }
    if (t[0] == '$' && t[1] == '\0') {
        return *s == '\0';
    }
    if (*t == '*') {
        for (;; s++) {
            if (match_here(t + 1, s)) {
                return true;
            }
            if (*s == '\0') {
                return false;
            }
        }
    }
    return *s && *s == *t && match_here(t + 1, s + 1);
}

bool hg__template_match(const char *templ, const char *str) {
    if (!templ || !str) {
        return false;
    }
    if (templ[0] == '^') {
        return match_here(templ + 1, str);
    }
    for (const char *s = str;; s++) {
        if (match_here(templ, s)) {
            return true;
        }
        if (*s == '\0') {
            return false;
        }
    }
}

static char *trim(char *line) {
    while (*line == ' ' || *line == '\t') {
        line++;
    }
    size_t n = strlen(line);
    while (n && strchr(" \t\r\n", line[n - 1])) {
        line[--n] = '\0';
    }
    return line;
}

static int load_line(hg_suppressions_t *s, char *line, const char *path, unsigned lineno,
                     hg_error_t *err) {
    char *l = trim(line);
    if (*l == '\0' || *l == '#') {
        return 0;
    }
    if (strncmp(l, "leak:", 5) != 0 || !*trim(l + 5)) {
        return hg_error_set(err, HG_EFORMAT,
                            "%s:%u:1: expected 'leak:PATTERN' (LeakSanitizer syntax), got '%.60s'",
                            path, lineno, l);
    }
    return hg__suppressions_add(s, trim(l + 5), false);
}

int hg__suppressions_load(hg_suppressions_t *s, const char *path, hg_error_t *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        return hg_error_set(err, HG_EIO, "%s: cannot open suppressions: %s", path, strerror(errno));
    }
    char line[4096];
    unsigned lineno = 0;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            rc = hg_error_set(err, HG_EFORMAT, "%s:%u: line longer than %zu bytes", path, lineno,
                              sizeof line - 1);
        } else {
            rc = load_line(s, line, path, lineno, err);
        }
    }
    fclose(fp);
    return rc == HG_ENOMEM ? hg_error_set(err, rc, "%s: out of memory", path) : rc;
}

static bool rule_matches(const rule_t *r, const hg_rsite_t *site) {
    for (size_t i = 0; i < site->nframes; i++) {
        const hg_rframe_t *f = &site->frames[i];
        if (hg__template_match(r->pattern, f->function) ||
            hg__template_match(r->pattern, f->file) || hg__template_match(r->pattern, f->module)) {
            return true;
        }
    }
    return false;
}

static hg_rsuppression_t *summary_for(hg_report_t *r, const rule_t *rule) {
    for (size_t i = 0; i < r->nsuppressions; i++) {
        if (r->suppressions[i].builtin == rule->builtin &&
            strcmp(r->suppressions[i].pattern + 5, rule->pattern) == 0) {
            return &r->suppressions[i];
        }
    }
    hg_rsuppression_t *s = hg_report_add_suppression(r);
    if (!s) {
        return NULL;
    }
    size_t n = strlen(rule->pattern) + 6;
    s->pattern = hg_malloc(n);
    if (s->pattern) {
        snprintf(s->pattern, n, "leak:%s", rule->pattern);
    }
    s->builtin = rule->builtin;
    return s->pattern ? s : NULL;
}

static int suppress_site(hg_report_t *r, hg_rsite_t *site, const rule_t *rule) {
    hg_rsuppression_t *sum = summary_for(r, rule);
    char *by = hg_strdup(rule->pattern);
    if (!sum || !by) {
        hg_free(by);
        return HG_ENOMEM;
    }
    site->suppressed_by = by;
    site->runtime = rule->builtin;
    uint64_t bytes = site->totals.leaked_bytes + site->totals.outstanding_bytes;
    uint64_t blocks = site->totals.leaked_blocks + site->totals.outstanding_blocks;
    sum->sites++;
    sum->bytes += bytes;
    sum->blocks += blocks;
    r->suppressed_sites++;
    r->suppressed.leaked_bytes += site->totals.leaked_bytes;
    r->suppressed.leaked_blocks += site->totals.leaked_blocks;
    r->suppressed.outstanding_bytes += site->totals.outstanding_bytes;
    r->suppressed.outstanding_blocks += site->totals.outstanding_blocks;
    r->suppressed.released_by_destroy_bytes += site->totals.released_by_destroy_bytes;
    r->suppressed.released_by_destroy_blocks += site->totals.released_by_destroy_blocks;
    return 0;
}

int hg__suppressions_apply(const hg_suppressions_t *s, hg_report_t *r) {
    for (size_t k = 0; k < s->n; k++) {
        if (!summary_for(r, &s->v[k])) { /* every rule is listed, matched or not */
            return HG_ENOMEM;
        }
    }
    for (size_t i = 0; i < r->nsites; i++) {
        hg_rsite_t *site = &r->sites[i];
        for (size_t k = 0; !site->suppressed_by && k < s->n; k++) {
            if (rule_matches(&s->v[k], site)) {
                int rc = suppress_site(r, site, &s->v[k]);
                if (rc) {
                    return rc;
                }
            }
        }
    }
    hg__report_totals(r);
    return 0;
}
