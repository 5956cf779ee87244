/* conn.c - the agent's end of the stream: a Unix stream socket in the abstract namespace
 * (unix(7)) whose name heapgate passes in the configuration. Each connection carries one .hgt
 * stream (docs/agent-stream.md): the file header, a preamble chunk (life.c), then chunks.
 *
 * Programs may close every descriptor they did not open, or reuse the number: the socket is
 * moved to a high descriptor, and before each use its identity (device and inode) is checked;
 * when it is no longer the agent's, the number is left alone (it belongs to the program now)
 * and a new connection is made, which heapgate joins to the same process. Writes use sendmsg
 * with MSG_NOSIGNAL so a vanished heapgate never raises SIGPIPE in the program, and restart
 * after signal interruptions. */
#include "agent.h"
#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define HIGH_FD 900 /* above the range programs usually close in a loop */

static char sock_name[100];
static int conn_fd = -1;
static dev_t conn_dev;
static ino_t conn_ino;

void hg__conn_set_name(const char *abstract_name) {
    size_t n = strnlen(abstract_name, sizeof sock_name - 1);
    memcpy(sock_name, abstract_name, n);
    sock_name[n] = '\0';
}

static bool still_ours(void) {
    struct stat st;
    return conn_fd >= 0 && fstat(conn_fd, &st) == 0 && st.st_dev == conn_dev &&
           st.st_ino == conn_ino;
}

int hg__conn_fd(void) {
    return still_ours() ? conn_fd : -1;
}

static int open_socket(void) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return -1;
    }
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(sock_name);
    memcpy(a.sun_path + 1, sock_name, n); /* sun_path[0] = 0: abstract namespace */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    int rc;
    while ((rc = connect(s, (struct sockaddr *)&a, len)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
        close(s);
        return -1;
    }
    int high = fcntl(s, F_DUPFD_CLOEXEC, HIGH_FD);
    if (high >= 0) {
        close(s);
        s = high;
    }
    return s;
}

/* Writes every byte of iov[0..n) (iov is consumed). */
static bool send_all(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t k = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return false;
        }
        while (n > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return true;
}

/* A new connection: the file header and the preamble chunk go first. */
static bool connect_new(void) {
    int s = open_socket();
    struct stat st;
    if (s < 0 || fstat(s, &st) != 0) {
        return false;
    }
    conn_fd = s;
    conn_dev = st.st_dev;
    conn_ino = st.st_ino;
    uint8_t header[20];
    hg__stream_file_header(header);
    hg__stream_reset();
    hg__chunk_clear(&hg__pre_chunk);
    hg__life_preamble(&hg__pre_chunk);
    struct iovec iov[2 + HG__STREAMS + 1] = {{header, sizeof header}};
    int n = 1 + hg__chunk_iov(&hg__pre_chunk, iov + 1);
    bool ok = send_all(conn_fd, iov, n);
    hg__chunk_sent(&hg__pre_chunk);
    return ok;
}

bool hg__conn_ensure(void) {
    if (still_ours()) {
        return true;
    }
    conn_fd = -1; /* the number, if open, is the program's now: never close it */
    return connect_new();
}

bool hg__conn_send(struct iovec *iov, int n) {
    return still_ours() && send_all(conn_fd, iov, n);
}

void hg__conn_close(void) {
    if (still_ours()) {
        close(conn_fd);
    }
    conn_fd = -1;
}
