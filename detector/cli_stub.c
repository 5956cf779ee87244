/* cli_stub.c - placeholder entry until the command line lands (removed by it). */
#include "detector.h"

#include <stdio.h>

int hg_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fputs("heapgate: not built yet\n", stderr);
    return HG_EXIT_ERROR;
}
