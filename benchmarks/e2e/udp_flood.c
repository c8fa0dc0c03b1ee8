/*
 * UDP small-datagram flood for benchmarks/e2e.sh: a sender that pushes SIZE-byte datagrams as fast
 * as sendmmsg takes them, and a receiver that counts what arrives with recvmmsg. The figure that
 * matters is the receiver's: datagrams delivered per second between its first and last arrival.
 *
 *   udp_flood send SRC_IP DST_IP PORT SECONDS SIZE [HEX]  prints "sent=N"; HEX: the payload's first
 *                                                         bytes (e.g. 01000000, a WireGuard initiation's type), the rest 0x5a
 *   udp_flood recv BIND_IP PORT SECONDS               prints "received=N seconds=S pps=P"
 *
 * The receiver stops SECONDS after its first datagram, or 1 s after its last one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int bound_socket(const char *ip, int port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    int size = 4 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) die("inet_pton");
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    return s;
}

static int flood(const char *src, const char *dst, int port, double seconds, int size, const char *hex) {
    int s = bound_socket(src, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, dst, &to.sin_addr) != 1) die("inet_pton");
    static char payload[65536];
    memset(payload, 0x5a, sizeof payload);
    for (int i = 0; hex != NULL && hex[2 * i] != 0 && hex[2 * i + 1] != 0 && i < (int)sizeof payload; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) die("HEX");
        payload[i] = (char)v;
    }
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = payload, .iov_len = size};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    long sent = 0;
    double end = now() + seconds;
    while (now() < end) {
        int r = sendmmsg(s, msgs, BATCH, 0);
        if (r > 0) sent += r;
        else if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN) die("sendmmsg");
    }
    printf("sent=%ld\n", sent);
    return 0;
}

static int count(const char *ip, int port, double seconds) {
    int s = bound_socket(ip, port);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static char bufs[BATCH][2048];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    long received = 0;
    double first = 0, last = 0, started = now();
    while (1) {
        int r = recvmmsg(s, msgs, BATCH, MSG_WAITFORONE, NULL);
        double t = now();
        if (r > 0) {
            if (received == 0) first = t;
            received += r;
            last = t;
        } else if (errno != EAGAIN && errno != EINTR) {
            die("recvmmsg");
        }
        if (received > 0 && (t - first > seconds || t - last > 1.0)) break;
        if (received == 0 && t - started > seconds + 10) break;
    }
    double span = last > first ? last - first : 0;
    printf("received=%ld seconds=%.3f pps=%.0f\n", received, span, span > 0 ? received / span : 0.0);
    return 0;
}

int main(int argc, char **argv) {
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "send") == 0) {
        return flood(argv[2], argv[3], atoi(argv[4]), atof(argv[5]), atoi(argv[6]), argc == 8 ? argv[7] : NULL);
    }
    if (argc == 5 && strcmp(argv[1], "recv") == 0) return count(argv[2], atoi(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: udp_flood send SRC_IP DST_IP PORT SECONDS SIZE [HEX] | recv BIND_IP PORT SECONDS\n");
    return 2;
}
