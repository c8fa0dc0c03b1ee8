// The TUN closed loop in C: the baseline the Java loop (io.dataplane.bench.TunLoop) is measured
// against. Both do the same work per packet with the same system calls:
//   read up to BATCH packets from the nonblocking TUN (poll when it has none),
//   rewrite each (TTL back to 64, destination flipped between two addresses routed into the TUN,
//   IPv4 header checksum recomputed), write each back; the kernel forwards it into the TUN again.
// INFLIGHT 64-byte UDP packets are injected at the start and circulate until the run ends.
//
// usage: tun_loop DEVICE SECONDS WARMUP_SECONDS INFLIGHT BATCH
// prints: pps=N (packets looped per second over SECONDS, after WARMUP_SECONDS)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PACKET_LEN 64
#define BUF_LEN 2048
#define MAX_BATCH 256

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t ipv4_checksum(const uint8_t *h, int len) {
    uint32_t sum = 0;
    for (int i = 0; i < len; i += 2) sum += (uint32_t)h[i] << 8 | h[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

// 64-byte IPv4/UDP packet 198.51.100.2:40000 -> 10.244.250.(1 + i % 2):9, UDP checksum 0.
static void build(uint8_t *p, int i) {
    memset(p, 0, PACKET_LEN);
    p[0] = 0x45;
    p[2] = 0; p[3] = PACKET_LEN;
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 17;
    p[12] = 198; p[13] = 51; p[14] = 100; p[15] = 2;
    p[16] = 10; p[17] = 244; p[18] = 250; p[19] = 1 + (i & 1);
    p[20] = 40000 >> 8; p[21] = 40000 & 0xff;
    p[22] = 0; p[23] = 9;
    p[24] = 0; p[25] = PACKET_LEN - 20;
    uint16_t c = ipv4_checksum(p, 20);
    p[10] = c >> 8; p[11] = c & 0xff;
}

// Returns 0 if the packet is not ours to loop (not IPv4/UDP).
static int rewrite(uint8_t *p, ssize_t len) {
    if (len < 28 || p[0] != 0x45 || p[9] != 17) return 0;
    p[8] = 64;
    p[19] ^= 3; // .1 <-> .2
    p[10] = 0; p[11] = 0;
    uint16_t c = ipv4_checksum(p, 20);
    p[10] = c >> 8; p[11] = c & 0xff;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s DEVICE SECONDS WARMUP_SECONDS INFLIGHT BATCH\n", argv[0]);
        return 2;
    }
    const char *dev = argv[1];
    double seconds = atof(argv[2]), warmup = atof(argv[3]);
    int inflight = atoi(argv[4]), batch = atoi(argv[5]);
    if (batch < 1 || batch > MAX_BATCH) { fprintf(stderr, "batch out of range\n"); return 2; }

    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { perror("open /dev/net/tun"); return 1; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("ioctl TUNSETIFF"); return 1; }

    // Attaching turns the carrier on, but the kernel activates the device's queueing discipline
    // only when its link watcher runs (up to a second later); packets sent before are dropped.
    // operstate turns "up" in the same step.
    char path[128], state[16] = "";
    snprintf(path, sizeof path, "/sys/class/net/%s/operstate", dev);
    for (int tries = 0; tries < 500 && strncmp(state, "up", 2) != 0; tries++) {
        FILE *f = fopen(path, "r");
        if (f) { if (!fgets(state, sizeof state, f)) state[0] = 0; fclose(f); }
        if (strncmp(state, "up", 2) != 0) usleep(10000);
    }

    static uint8_t bufs[MAX_BATCH][BUF_LEN];
    ssize_t lens[MAX_BATCH];
    for (int i = 0; i < inflight; i++) {
        build(bufs[0], i);
        if (write(fd, bufs[0], PACKET_LEN) != PACKET_LEN) { perror("inject"); return 1; }
    }

    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    double start = now(), measure_from = start + warmup, end = measure_from + seconds;
    long long looped = 0, at_measure_start = -1;
    double t;
    while ((t = now()) < end) {
        if (at_measure_start < 0 && t >= measure_from) at_measure_start = looped;
        int n = 0;
        while (n < batch) {
            ssize_t r = read(fd, bufs[n], BUF_LEN);
            if (r < 0) {
                if (errno == EAGAIN) break;
                if (errno == EINTR) continue;
                perror("read");
                return 1;
            }
            lens[n++] = r;
        }
        if (n == 0) {
            poll(&pfd, 1, 100);
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (!rewrite(bufs[i], lens[i])) continue;
            if (write(fd, bufs[i], lens[i]) == lens[i]) looped++;
        }
    }
    if (at_measure_start < 0) at_measure_start = 0;
    printf("pps=%.0f\n", (looped - at_measure_start) / seconds);
    close(fd);
    return 0;
}
