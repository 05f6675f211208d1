/* bench/agi_floor.c: the least any FastAGI server can do per session, for bench/agi_latency.py
 * to measure what this machine's kernel allows before the control plane does anything.
 *
 *   agi_floor PORT
 *
 * Single-threaded epoll on 127.0.0.1:PORT: accept, read up to the blank line that ends the
 * header block, write one fixed EXEC MSet (a decision's worth of variables), read the reply
 * line, close. No parsing, no routing, no allocation beyond the connection. Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    int fd;
    int decided;
    size_t have;
    char buf[4096];
};

static const char DECISION[] =
    "EXEC MSet \"PBX_TENANT=1,PBX_DIAL=PJSIP/t1-100,PBX_RING_SECONDS=30,PBX_NOTICE=,PBX_AFTER=,PBX_ACTION=dial\"\n";

static void drop(struct conn *c) {
    close(c->fd);
    free(c);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&at, sizeof at) < 0 || listen(listener, 1024) < 0) {
        perror("agi_floor");
        return 1;
    }
    int epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    fprintf(stderr, "ready\n");
    struct epoll_event events[256];
    for (;;) {
        int ready = epoll_wait(epfd, events, 256, -1);
        for (int i = 0; i < ready; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            ssize_t got = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
            if (got <= 0) {
                drop(c);
                continue;
            }
            c->have += (size_t)got;
            if (!c->decided && memmem(c->buf, c->have, "\n\n", 2)) {
                (void)!write(c->fd, DECISION, sizeof DECISION - 1);
                c->decided = 1;
                c->have = 0;
            } else if (c->decided && memchr(c->buf, '\n', c->have)) {
                drop(c);
            } else if (c->have == sizeof c->buf) {
                drop(c);
            }
        }
    }
}
