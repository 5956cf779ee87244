/* capture.h - what the symbolization test programs share: CAPTURE records the return address of
 * a call made on the macro's own line, with the function and line a symbolizer must report for
 * it, and print_captures writes them out with the program's module map for the tests to read:
 *
 *   module|PATH|BASE|SIZE                   one per loaded file (from /proc/self/maps)
 *   cap|FUNC|LINE|OUTER|OUTER_LINE|ADDR     OUTER "-" when FUNC is not inlined
 *   stack|ADDR|ADDR|...                     an allocation stack, the allocator's frame first
 *   leak|FUNC|LINE                          the frame a report must show on top of it
 *
 * BASE is where the file's offset 0 is mapped: the start of its first mapping minus that
 * mapping's file offset. A volatile store after each call keeps the compiler from turning it
 * into a tail call (which would leave no return address in the caller). */
#ifndef SYMPROG_CAPTURE_H
#define SYMPROG_CAPTURE_H

#ifdef __cplusplus
extern "C" {
/* Allocates with `alloc` (an expression) and records the allocation's stack on this line, as if
 * the allocator (`symbol`) had captured it. */
#define TRACED(symbol, func, alloc)                                                                \
    (symprog_stack(symprog_allocator(symbol), func, __LINE__), alloc)

#endif

extern volatile int symprog_sink;
extern int symprog_outer_line; /* the call line of the inline function being entered */

void symprog_capture(const char *func, int line, const char *outer, int outer_line);
void symprog_print(void);
/* Records an allocation stack: the allocator's address (inside it) and this call's stack. */
void symprog_stack(const void *allocator, const char *func, int line);
/* An address inside the allocator function `symbol`, as the loader resolved it. */
const void *symprog_allocator(const char *symbol);

#ifdef __cplusplus
}
/* Allocates with `alloc` (an expression) and records the allocation's stack on this line, as if
 * the allocator (`symbol`) had captured it. */
#define TRACED(symbol, func, alloc)                                                                \
    (symprog_stack(symprog_allocator(symbol), func, __LINE__), alloc)

#endif

#define CAPTURE(func)                                                                              \
    do {                                                                                           \
        symprog_capture(func, __LINE__, "-", 0);                                                   \
        symprog_sink++;                                                                            \
    } while (0)

/* In an always_inline function: `outer` is the function it is inlined into; the caller sets
 * symprog_outer_line on the line of the call (`symprog_outer_line = __LINE__, f();`). */
#define CAPTURE_INLINED(func, outer)                                                               \
    do {                                                                                           \
        symprog_capture(func, __LINE__, outer, symprog_outer_line);                                \
        symprog_sink++;                                                                            \
    } while (0)

/* Allocates with `alloc` (an expression) and records the allocation's stack on this line, as if
 * the allocator (`symbol`) had captured it. */
#define TRACED(symbol, func, alloc)                                                                \
    (symprog_stack(symprog_allocator(symbol), func, __LINE__), alloc)

#endif
