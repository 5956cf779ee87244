/* test_judy_win.c - the Judy subset of the Windows build (symbols/judy_win.c, symbols/win/Judy.h),
 * built natively against its own header, checked against a plain model: a sorted array of
 * keys for JudyL and a list of strings for JudyHS, through a pseudo-random sequence of inserts,
 * lookups and walks as the symbolizer makes them. */
#include "Judy.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS 3000

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static Word_t next_key(void) { /* xorshift64; keys spread wide and clustered near 0 */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % 4 == 0 ? (Word_t)(rng >> 40) % 512 : (Word_t)rng;
}

static int cmp_word(const void *a, const void *b) {
    Word_t x = *(const Word_t *)a, y = *(const Word_t *)b;
    return x < y ? -1 : x > y;
}

/* The model's answer to Last(index): the greatest key <= index, or false. */
static bool model_last(const Word_t *keys, size_t n, Word_t index, Word_t *out) {
    bool found = false;
    for (size_t i = 0; i < n && keys[i] <= index; i++) {
        *out = keys[i];
        found = true;
    }
    return found;
}

Test(judy_win, judyl_matches_a_sorted_array) {
    Pvoid_t array = NULL;
    Word_t *keys = calloc(KEYS, sizeof *keys);
    size_t n = 0;
    for (size_t i = 0; i < KEYS; i++) {
        Word_t k = next_key();
        PWord_t slot = (PWord_t)JudyLIns(&array, k, PJE0);
        cr_assert(slot && slot != PJERR);
        if (*slot == 0) {
            keys[n++] = k;
        }
        *slot = k ^ 0x5555; /* value: a function of the key */
    }
    qsort(keys, n, sizeof *keys, cmp_word);
    for (size_t i = 0; i < n; i++) {
        PWord_t slot = (PWord_t)JudyLGet(array, keys[i], PJE0);
        cr_assert(slot, "key %#llx lost", (unsigned long long)keys[i]);
        cr_assert_eq(*slot, keys[i] ^ 0x5555);
    }
    Word_t k = 0;
    size_t walked = 0;
    for (PWord_t v = (PWord_t)JudyLFirst(array, &k, PJE0); v;
         v = (PWord_t)JudyLNext(array, &k, PJE0)) {
        cr_assert_lt(walked, n);
        cr_assert_eq(k, keys[walked++]);
        cr_assert_eq(*v, k ^ 0x5555);
    }
    cr_assert_eq(walked, n);
    for (int i = 0; i < 2000; i++) {
        Word_t probe = next_key(), want, got = probe;
        bool has = model_last(keys, n, probe, &want);
        PWord_t v = (PWord_t)JudyLLast(array, &got, PJE0);
        cr_assert_eq(v != NULL, has, "Last(%#llx)", (unsigned long long)probe);
        if (has) {
            cr_assert_eq(got, want);
        }
    }
    JudyLFreeArray(&array, PJE0);
    cr_expect_null(array);
    k = 7;
    cr_expect_null(JudyLLast(array, &k, PJE0));
    cr_expect_null(JudyLFirst(array, &k, PJE0));
    free(keys);
}

Test(judy_win, judyhs_finds_each_string_once) {
    Pvoid_t strings = NULL;
    char text[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 1000; i++) {
            int len = snprintf(text, sizeof text, "%s-%d", i % 2 ? "file.c" : "function", i);
            PWord_t slot = (PWord_t)JudyHSIns(&strings, text, (Word_t)len, PJE0);
            cr_assert(slot && slot != PJERR);
            cr_assert_eq(*slot, round == 0 ? 0 : (Word_t)i + 1, "%s", text);
            *slot = (Word_t)i + 1;
        }
    }
    cr_expect_null(JudyHSGet(strings, "function-1", 10)); /* only "file.c-1" has 1 */
    PWord_t slot = (PWord_t)JudyHSGet(strings, "file.c-1", 8);
    cr_assert(slot);
    cr_expect_eq(*slot, 2);
    slot = (PWord_t)JudyHSIns(&strings, "", 0, PJE0);
    cr_assert_eq(*slot, 0);
    *slot = 99;
    cr_expect_eq(*(PWord_t)JudyHSGet(strings, "", 0), 99);
    JudyHSFreeArray(&strings, PJE0);
    cr_expect_null(strings);
}
