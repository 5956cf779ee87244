/* fork.c - a parent and a forked child that both leak. Parent: 64 bytes in 1 block; child:
 * 32 bytes in 1 block (traced only with --follow-children). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void *leak_in(size_t n) {
    return malloc(n); /* LEAK: fork */
}

int main(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        void *c = leak_in(32);
        printf("child %d\n", c != NULL);
        exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    void *p = leak_in(64);
    printf("parent %d %d\n", p != NULL, WEXITSTATUS(st));
    return 0;
}
