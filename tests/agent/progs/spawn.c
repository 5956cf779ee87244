/* spawn.c - runs argv[1] with vfork and execv, then with posix_spawn, a shell command with
 * system(3) (both of which glibc starts with a vfork-like clone) and a vfork child whose exec
 * fails and which calls _exit: children that share the parent's memory until they exec or exit.
 * Leaks around them. Leaked by this image: 11 + 12 = 23 bytes in 2 blocks. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) {
        return 2;
    }
    void *before = malloc(11); /* LEAK: spawn */
    int st = 0, failed = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        execv(argv[1], (char *[]){argv[1], NULL});
        _exit(127);
    }
    waitpid(pid, &st, 0);
    pid = vfork();
    if (pid == 0) {
        execv("/nonexistent/program", (char *[]){"nothing", NULL});
        _exit(9);
    }
    waitpid(pid, &failed, 0);
    char *args[] = {argv[1], NULL};
    int rc = posix_spawn(&pid, argv[1], NULL, NULL, args, environ);
    if (rc == 0) {
        waitpid(pid, &st, 0);
    }
    int shell = system("echo shell");
    void *after = malloc(12);
    printf("spawn %d %d %d %d %d\n", rc, WEXITSTATUS(st), WEXITSTATUS(failed), WEXITSTATUS(shell),
           before != NULL && after != NULL);
    return 0;
}
