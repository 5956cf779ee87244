/* shapes.h - test program for the PDB reader: inline helpers that end up inlined into callers
 * in several compilands (their lines are in this header). */
#ifndef SHAPES_H
#define SHAPES_H

typedef struct point {
    int x, y;
} point_t;

static inline int clamp(int v, int lo, int hi) {
    if (v < lo) {
        return lo;
    }
    if (v > hi) {
        return hi;
    }
    return v;
}

static inline __attribute__((always_inline)) int manhattan(point_t a, point_t b) {
    int dx = a.x - b.x;
    int dy = a.y - b.y;
    dx = dx < 0 ? -dx : dx;
    dy = dy < 0 ? -dy : dy;
    return clamp(dx + dy, 0, 1 << 20);
}

static inline __attribute__((always_inline)) int scaled(point_t a, int k) {
    point_t origin = {0, 0};
    return manhattan(a, origin) * k;
}

int area(point_t a, point_t b);
int perimeter(point_t a, point_t b);
int walk(const point_t *pts, int n);
int generated_entry(int seed);
void *memset(void *dst, int c, unsigned long long n);
void *memcpy(void *dst, const void *src, unsigned long long n);

#endif
