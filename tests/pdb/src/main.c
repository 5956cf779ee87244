/* main.c - test program for the PDB reader: the entry point (there is no C runtime: the image
 * is linked with /nodefaultlib /entry:start). */
#include "shapes.h"

static volatile int sink;

static int checksum(const point_t *pts, int n) {
    int c = 0;
    for (int i = 0; i < n; i++) {
        c = c * 31 + scaled(pts[i], i + 1);
    }
    return c;
}

int start(void) {
    point_t pts[8];
    for (int i = 0; i < 8; i++) {
        pts[i].x = i * 3 - sink;
        pts[i].y = 7 - i;
    }
    sink = walk(pts, 8);
    sink += perimeter(pts[1], pts[5]);
    sink += checksum(pts, 8);
    sink += generated_entry(sink);
    return sink;
}
