package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.TunOptions;
import io.dataplane.tun.sys.IoUring;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

/**
 * What a TUN read that finds nothing costs the calling thread, in CPU ns: the plain device's
 * {@code readNow} (one {@code read} that returns EAGAIN), the io_uring device's {@code readNow},
 * and {@code io_uring_enter} with 1, 2, 4 and 16 such reads in the ring. A reader that has emptied
 * the kernel's queue pays this once more before it waits in {@code poll}; io_uring pays it per read
 * it submitted beyond the packets there were.
 *
 * <p>Not a JMH benchmark: it needs a TUN device, so root, and it measures the thread's CPU time
 * ({@code ThreadMXBean}) rather than wall time, which other processes on the machine stretch.
 *
 * <p>usage: {@code TunReadCost CALLS}, run in a network namespace of its own
 * ({@code ip netns exec NS java -cp benchmarks.jar io.dataplane.bench.TunReadCost 300000}); it
 * creates its device there, which goes when it exits.
 */
public final class TunReadCost {
    private static final int ROUNDS = 3;

    private TunReadCost() {}

    /** Runs the measurements; see the class comment for the argument. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: TunReadCost CALLS");
            System.exit(2);
        }
        int calls = Integer.parseInt(args[0]);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (boolean uring : new boolean[] {false, true}) {
            try (PacketPool pool = new PacketPool(8); TunDevice tun = TunDevice.open("dprc%d", TunOptions.defaults().withIoUring(uring))) {
                if (uring && !tun.ioUring()) throw new IllegalStateException("the kernel refuses io_uring here");
                PacketBuffer[] buffers = new PacketBuffer[4];
                if (pool.acquire(buffers, 4) != 4) throw new IllegalStateException("pool too small");
                try {
                    for (int r = 0; r < ROUNDS; r++) {
                        long c0 = mx.getCurrentThreadCpuTime();
                        for (int i = 0; i < calls; i++) {
                            if (tun.readNow(buffers, 4) != 0) throw new IllegalStateException("a packet on a device nobody routes to");
                        }
                        long c1 = mx.getCurrentThreadCpuTime();
                        System.out.printf("readNow, empty, %s: %.0f ns%n", uring ? "io_uring" : "plain", (c1 - c0) / (double) calls);
                    }
                } finally {
                    PacketPool.releaseAll(buffers, 0, 4);
                }
            }
        }
        try (TunDevice tun = TunDevice.open("dprc%d", TunOptions.defaults().withIoUring(false)); IoUring ring = IoUring.open(16);
                Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(65536, 64);
            int fd = tun.pollFd();
            for (int k : new int[] {1, 2, 4, 16}) {
                for (int r = 0; r < ROUNDS; r++) {
                    long c0 = mx.getCurrentThreadCpuTime();
                    for (int i = 0; i < calls; i++) {
                        for (int j = 0; j < k; j++) ring.prepareRead(fd, buffer.address(), 65536, j);
                        int n = ring.submitAndWait();
                        if (n != k || ring.result(0) >= 0) throw new IllegalStateException("expected " + k + " EAGAIN completions, got " + n);
                        ring.consumed();
                    }
                    long c1 = mx.getCurrentThreadCpuTime();
                    double perEnter = (c1 - c0) / (double) calls;
                    System.out.printf("io_uring_enter with %d empty reads: %.0f ns (%.0f ns a read)%n", k, perEnter, perEnter / k);
                }
            }
        }
    }
}
