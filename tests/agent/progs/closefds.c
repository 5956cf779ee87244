/* closefds.c - closes every descriptor but 0-2 (the agent's socket included), sends its
 * standard output to the file argv[1], then leaks and prints. Leaked: 21 bytes in 1 block. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        return 2;
    }
    for (int fd = 3; fd < 4096; fd++) {
        close(fd);
    }
    int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || dup2(out, 1) < 0) {
        return 3;
    }
    close(out);
    int spare = open("/dev/null", O_RDONLY); /* takes a low number the agent may have had */
    void *p = malloc(21);                    /* LEAK: closefds */
    printf("closefds %d %d\n", p != NULL, spare >= 0);
    return 0;
}
