/* kill.c - leaks, waits long enough for the agent to send it, then dies by SIGKILL, which no
 * handler sees: the report keeps what arrived and says the trace is incomplete. Leaked: 88
 * bytes in 1 block. */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    void *p = malloc(88); /* LEAK: kill */
    struct timespec wait = {0, 400 * 1000 * 1000};
    nanosleep(&wait, NULL);
    if (p && write(1, "killing\n", 8) == 8) {
        raise(SIGKILL);
    }
    return 1;
}
