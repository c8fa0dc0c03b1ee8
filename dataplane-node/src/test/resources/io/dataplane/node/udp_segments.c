/*
 * A pod that sends one UDP message which the kernel cuts into datagrams (UDP_SEGMENT, as QUIC
 * stacks send), and a pod that receives datagrams and prints each one's length and its first and
 * last byte. Built by the test that runs it.
 *
 *   udp_segments send SRC DST PORT SEGMENT COUNT   COUNT datagrams of SEGMENT bytes, the i-th filled with i+1
 *   udp_segments recv ADDR PORT COUNT TIMEOUT_MS   prints "ready", then "LEN FIRST LAST" per datagram
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static struct sockaddr_in address(const char *ip, int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", ip);
        exit(2);
    }
    return a;
}

static int send_message(char **argv) {
    struct sockaddr_in src = address(argv[2], 0), dst = address(argv[3], atoi(argv[4]));
    int segment = atoi(argv[5]), count = atoi(argv[6]);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *) &src, sizeof src) < 0) {
        perror("socket/bind");
        return 1;
    }
    size_t length = (size_t) segment * count;
    unsigned char *data = malloc(length);
    for (int i = 0; i < count; i++) memset(data + (size_t) i * segment, i + 1, segment);
    char control[CMSG_SPACE(sizeof(unsigned short))];
    memset(control, 0, sizeof control);
    struct iovec iov = {data, length};
    struct msghdr msg = {.msg_name = &dst, .msg_namelen = sizeof dst, .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(unsigned short));
    unsigned short size = (unsigned short) segment;
    memcpy(CMSG_DATA(c), &size, sizeof size);
    if (sendmsg(s, &msg, 0) != (ssize_t) length) {
        perror("sendmsg UDP_SEGMENT");
        return 1;
    }
    printf("sent %zu bytes as %d datagrams of %d\n", length, count, segment);
    return 0;
}

static int receive(char **argv) {
    struct sockaddr_in local = address(argv[2], atoi(argv[3]));
    int count = atoi(argv[4]), timeout = atoi(argv[5]);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *) &local, sizeof local) < 0) {
        perror("socket/bind");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    static unsigned char buffer[65536];
    for (int i = 0; i < count; i++) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, timeout) != 1) {
            printf("timeout after %d datagrams\n", i);
            return 1;
        }
        ssize_t n = recv(s, buffer, sizeof buffer, 0);
        if (n <= 0) {
            perror("recv");
            return 1;
        }
        printf("%zd %d %d\n", n, buffer[0], buffer[n - 1]);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "send") == 0) return send_message(argv);
    if (argc == 6 && strcmp(argv[1], "recv") == 0) return receive(argv);
    fprintf(stderr, "usage: %s send SRC DST PORT SEGMENT COUNT | recv ADDR PORT COUNT TIMEOUT_MS\n", argv[0]);
    return 2;
}
