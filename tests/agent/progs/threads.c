/* threads.c - leaks in threads, and blocks freed by another thread than the one that allocated
 * them (cross-thread frees keep their arena: no wrong-heap anomaly). Each of 4 threads
 * allocates 8 blocks of 48 bytes, frees 4 and leaks 4; it also frees a block main allocated,
 * and main frees a block each thread allocated. Leaked: 4 * 4 * 48 = 768 bytes in 16 blocks. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4

typedef struct work {
    void *from_main;
    void *for_main;
} work_t;

__attribute__((noinline)) static void *leak_in_thread(void) {
    return malloc(48); /* LEAK: thread */
}

static void *worker(void *arg) {
    work_t *w = arg;
    void *keep[8];
    for (int i = 0; i < 8; i++) {
        keep[i] = leak_in_thread();
    }
    for (int i = 0; i < 8; i += 2) {
        free(keep[i]);
    }
    free(w->from_main);
    w->for_main = malloc(16);
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    work_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].from_main = malloc(24);
        pthread_create(&t[i], NULL, worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        free(w[i].for_main);
    }
    printf("threads done\n");
    return 0;
}
