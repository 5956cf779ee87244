/* geometry.c - test program for the PDB reader: global and static functions, inlined helpers. */
#include "shapes.h"

static int width(point_t a, point_t b) {
    int w = b.x - a.x;
    return w < 0 ? -w : w;
}

static int height(point_t a, point_t b) {
    int h = b.y - a.y;
    return h < 0 ? -h : h;
}

int area(point_t a, point_t b) {
    int w = width(a, b);
    int h = height(a, b);
    return clamp(w * h, 0, 1 << 30);
}

int perimeter(point_t a, point_t b) {
    int p = 2 * (width(a, b) + height(a, b));
    p += manhattan(a, b) - manhattan(b, a);
    return p;
}

__attribute__((noinline)) static int accumulate(const point_t *pts, int n, int k) {
    int sum = 0;
    for (int i = 0; i + 1 < n; i++) {
        sum += scaled(pts[i], k);
        sum -= manhattan(pts[i], pts[i + 1]);
    }
    return sum;
}

int walk(const point_t *pts, int n) {
    int total = accumulate(pts, n, 3);
    for (int i = 0; i < n; i++) {
        total += area(pts[0], pts[i]);
    }
    return total;
}
