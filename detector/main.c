/* main.c - the heapgate command's entry point. */
#include "detector.h"

int main(int argc, char **argv) {
    return hg_main(argc, argv);
}
