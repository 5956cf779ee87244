/* Judy.h (Windows builds) - the part of the Judy array API that symbols/symbolizer.c uses, for
 * builds that have no libJudy (Debian ships none for mingw-w64). judy_win.c implements it with
 * hash tables; the names, types and semantics follow Judy's manual pages (JudyL(3), JudyHS(3)):
 * Get returns a pointer to the value word or NULL, Ins returns the value word (0 when new) or
 * PJERR when out of memory, First/Next/Last walk keys in ascending order, and a pointer returned
 * stays valid until the next insertion into the same array. Word_t is as wide as a pointer (on
 * Win64 Judy's own `unsigned long` would be 32 bits). */
#ifndef HG_WIN_JUDY_H
#define HG_WIN_JUDY_H

#include <stdint.h>

typedef uintptr_t Word_t, *PWord_t;
typedef void *Pvoid_t, **PPvoid_t;
typedef const void *Pcvoid_t;
typedef void *PJError_t;

#define PJE0  ((PJError_t)0)
#define PJERR ((Pvoid_t)(~(uintptr_t)0))

PPvoid_t JudyLGet(Pcvoid_t array, Word_t index, PJError_t err);
PPvoid_t JudyLIns(PPvoid_t array, Word_t index, PJError_t err);
/* The first index >= *index (First), > *index (Next), the last <= *index (Last). */
PPvoid_t JudyLFirst(Pcvoid_t array, Word_t *index, PJError_t err);
PPvoid_t JudyLNext(Pcvoid_t array, Word_t *index, PJError_t err);
PPvoid_t JudyLLast(Pcvoid_t array, Word_t *index, PJError_t err);
Word_t JudyLFreeArray(PPvoid_t array, PJError_t err);

PPvoid_t JudyHSGet(Pcvoid_t array, void *key, Word_t len);
PPvoid_t JudyHSIns(PPvoid_t array, void *key, Word_t len, PJError_t err);
Word_t JudyHSFreeArray(PPvoid_t array, PJError_t err);

#endif
