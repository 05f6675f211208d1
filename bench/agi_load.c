/* bench/agi_load.c: Asterisk's side of FastAGI, as a closed-loop load generator for
 * bench/agi_latency.py. The Python client costs ~0.24 ms of CPU per session, more than the
 * control plane it measures, and both share this machine's 2 cores; this one costs a few
 * microseconds, so the control plane's own limit shows.
 *
 *   agi_load PORT CONCURRENCY TOTAL LINE_WRITES [RATE] < blocks
 *
 * Closed loop: CONCURRENCY sessions always in flight. With RATE > 0, open loop instead:
 * sessions start at Poisson arrivals of RATE per second, however many are in flight (at most
 * CONCURRENCY), and each one's latency counts from when it was due, so a late start is
 * measured, not hidden.
 *
 * stdin: header blocks (each ending in a blank line) separated by NUL bytes; session n sends
 * block n % count. LINE_WRITES 1 writes a block one line per write(), as Asterisk does.
 * Every command is answered as Asterisk answers it: "200 result=0" to EXEC, "200 result=1"
 * to anything else, until the server closes.
 * stdout, one line per session: "<n> <connect->close ns> <PBX_ACTION or -> <commands>",
 * or "<n> error <errno>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct session {
    int fd;
    long n;
    long long started;
    int sent;
    int commands;
    size_t have;
    char action[64];
    char buf[8192];
};

static char *input;
static size_t *starts, *lengths;
static size_t blocks;
static struct sockaddr_in server;
static int line_writes;
static long next_n, total;
static int epfd;
static double rate;            /* open loop: arrivals per second; 0 = closed loop */
static struct session **idle;  /* open loop: free session slots */
static int idle_count;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void read_blocks(void) {
    size_t cap = 1 << 20, len = 0, got;
    input = malloc(cap);
    while ((got = fread(input + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) input = realloc(input, cap *= 2);
    }
    starts = malloc(sizeof(size_t) * (len + 1));
    lengths = malloc(sizeof(size_t) * (len + 1));
    size_t at = 0;
    while (at < len) {
        char *end = memchr(input + at, '\0', len - at);
        size_t stop = end ? (size_t)(end - input) : len;
        if (stop > at) {
            starts[blocks] = at;
            lengths[blocks++] = stop - at;
        }
        at = stop + 1;
    }
}

static int start_at(struct session *s, long long due);

static int start(struct session *s) {
    if (rate > 0) {  /* open loop: the slot waits for the next arrival */
        idle[idle_count++] = s;
        return 0;
    }
    return start_at(s, now_ns());
}

static int start_at(struct session *s, long long due) {
    if (next_n >= total) return 0;
    s->n = next_n++;
    s->sent = s->commands = 0;
    s->have = 0;
    strcpy(s->action, "-");
    s->started = due;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s->fd, (struct sockaddr *)&server, sizeof server) < 0 && errno != EINPROGRESS) {
        printf("%ld error %d\n", s->n, errno);
        close(s->fd);
        return start(s);
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = s};
    epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev);
    return 1;
}

static int finish(struct session *s, int error) {
    long long elapsed = now_ns() - s->started;
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    if (error)
        printf("%ld error %d\n", s->n, error);
    else
        printf("%ld %lld %s %d\n", s->n, elapsed, s->action, s->commands);
    return start(s);
}

static void send_block(struct session *s) {
    const char *block = input + starts[s->n % blocks];
    size_t len = lengths[s->n % blocks];
    if (!line_writes) {
        (void)!write(s->fd, block, len);
    } else {
        size_t at = 0;
        while (at < len) {
            const char *nl = memchr(block + at, '\n', len - at);
            size_t one = nl ? (size_t)(nl - block - at) + 1 : len - at;
            (void)!write(s->fd, block + at, one);
            at += one;
        }
    }
    s->sent = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void take_action(struct session *s, const char *from, const char *end) {
    size_t len = (size_t)(end - from);
    if (len >= sizeof s->action) len = sizeof s->action - 1;
    memcpy(s->action, from, len);
    s->action[len] = '\0';
}

/* One command line from the server: note PBX_ACTION, answer as Asterisk would. */
static void command(struct session *s, char *line, char *end) {
    s->commands++;
    if (!strncmp(line, "EXEC MSet ", 10)) {
        char *at = memmem(line, (size_t)(end - line), "PBX_ACTION=", 11);
        if (at) {
            char *stop = at + 11;
            while (stop < end && *stop != ',' && *stop != '"') stop++;
            take_action(s, at + 11, stop);
        }
        (void)!write(s->fd, "200 result=0\n", 13);
    } else {
        if (!strncmp(line, "SET VARIABLE PBX_ACTION ", 24)) {
            char *from = line + 24, *stop = end;
            if (*from == '"') from++;
            if (stop > from && stop[-1] == '"') stop--;
            take_action(s, from, stop);
        }
        (void)!write(s->fd, "200 result=1\n", 13);
    }
}

static int readable(struct session *s) {
    for (;;) {
        ssize_t got = read(s->fd, s->buf + s->have, sizeof s->buf - s->have);
        if (got == 0) return finish(s, 0);
        if (got < 0) {
            if (errno == EAGAIN) return 1;
            return finish(s, errno);
        }
        s->have += (size_t)got;
        char *line = s->buf, *nl;
        while ((nl = memchr(line, '\n', s->have - (size_t)(line - s->buf)))) {
            command(s, line, nl);
            line = nl + 1;
        }
        s->have -= (size_t)(line - s->buf);
        memmove(s->buf, line, s->have);
        if (s->have == sizeof s->buf) return finish(s, EMSGSIZE);
    }
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s PORT CONCURRENCY TOTAL LINE_WRITES [RATE] < blocks\n", argv[0]);
        return 2;
    }
    rate = argc == 6 ? atof(argv[5]) : 0.0;
    signal(SIGPIPE, SIG_IGN);  /* a reset peer is an error for its session, not the end of the run */
    int concurrency = atoi(argv[2]);
    total = atol(argv[3]);
    line_writes = atoi(argv[4]);
    read_blocks();
    if (!blocks || concurrency < 1) return 2;
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)atoi(argv[1]));
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    epfd = epoll_create1(0);
    struct session *sessions = calloc((size_t)concurrency, sizeof *sessions);
    for (int i = 0; i < concurrency; i++) sessions[i].fd = -1;
    int active = 0;
    idle = calloc((size_t)concurrency, sizeof *idle);
    for (int i = 0; i < concurrency; i++) active += start(&sessions[i]);
    unsigned short seed[3] = {4573, 1, 2};
    long long due = now_ns();
    struct epoll_event events[256];
    while (active > 0 || (rate > 0 && next_n < total)) {
        long long wait_ns = 10000000000LL;
        if (rate > 0) {
            long long now = now_ns();
            while (next_n < total && due <= now && idle_count > 0) {
                active += start_at(idle[--idle_count], due);
                due += (long long)(-log(1.0 - erand48(seed)) / rate * 1e9);
            }
            if (next_n < total && idle_count > 0) wait_ns = due > now ? due - now : 0;
        }
        struct timespec timeout = {wait_ns / 1000000000LL, wait_ns % 1000000000LL};
        int ready = epoll_pwait2(epfd, events, 256, &timeout, NULL);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0 || (ready == 0 && rate <= 0)) {  /* nothing for 10 s: report what is stuck */
            next_n = total;  /* so that finish() starts nothing new */
            for (int i = 0; i < concurrency; i++)
                if (sessions[i].fd >= 0) finish(&sessions[i], ETIMEDOUT);
            break;
        }
        for (int i = 0; i < ready; i++) {
            struct session *s = events[i].data.ptr;
            if (!s->sent && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    active -= !finish(s, err);
                    continue;
                }
                send_block(s);
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) active -= !readable(s);
        }
    }
    fflush(stdout);
    return 0;
}
