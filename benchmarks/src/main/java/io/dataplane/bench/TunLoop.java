package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.core.wire.UdpHeader;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.TunOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The TUN closed loop in Java, measured against the same loop in C
 * ({@code benchmarks/tun-loop/tun_loop.c}) by {@code benchmarks/tun-loop.sh}: read a batch of
 * 64-byte UDP packets from the TUN, rewrite each (TTL back to 64, destination flipped between two
 * addresses routed into the TUN, IPv4 checksum recomputed), write them back; the kernel forwards
 * them into the TUN again. {@code INFLIGHT} packets are injected at the start.
 *
 * <p>Not a JMH benchmark: the kernel's forwarding path sets the pace, so it runs as a plain loop
 * for a fixed time after a warmup, exactly like its C twin, and prints {@code pps=N}. The loop
 * allocates nothing: the buffers, the header view and the device's native scratch memory are
 * made before it starts.
 *
 * <p>usage: {@code TunLoop DEVICE SECONDS WARMUP_SECONDS INFLIGHT BATCH [io_uring]}; the device must
 * exist (the script makes it with {@code ip tuntap add}) in the namespace the JVM runs in. With
 * {@code io_uring} the device reads and writes its batches through io_uring ({@link TunOptions#ioUring()}).
 */
public final class TunLoop {
    private static final int PACKET_LEN = 64;

    private TunLoop() {}

    /** Runs the loop; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        if (args.length != 5 && !(args.length == 6 && args[5].equals("io_uring"))) {
            System.err.println("usage: TunLoop DEVICE SECONDS WARMUP_SECONDS INFLIGHT BATCH [io_uring]");
            System.exit(2);
        }
        String device = args[0];
        double seconds = Double.parseDouble(args[1]);
        double warmup = Double.parseDouble(args[2]);
        int inflight = Integer.parseInt(args[3]);
        int batch = Integer.parseInt(args[4]);

        try (PacketPool pool = new PacketPool(batch + 1);
                TunDevice tun = TunDevice.open(device, TunOptions.defaults().withBatchSize(batch).withIoUring(args.length == 6))) {
            if (args.length == 6 && !tun.ioUring()) throw new IllegalStateException("the kernel refuses io_uring here");
            PacketBuffer[] buffers = new PacketBuffer[batch];
            if (pool.acquire(buffers, batch) != batch) throw new IllegalStateException("pool too small");
            awaitOperstateUp(tun.name());
            inject(tun, pool, inflight);
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            loop(tun, buffers, batch, warmup); // same loop, not counted: lets the JIT compile it
            long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
            long cpuBefore = threads.getCurrentThreadCpuTime();
            long looped = loop(tun, buffers, batch, seconds);
            long cpu = threads.getCurrentThreadCpuTime() - cpuBefore;
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            System.out.printf("pps=%.0f%n", looped / seconds);
            // The loop thread's CPU time, user and system (the kernel's forwarding runs in its writes):
            // less sensitive than pps to other work on the machine.
            System.out.printf("cpu_ns_per_packet=%.0f%n", (double) cpu / Math.max(1, looped));
            System.out.printf("allocated=%d bytes in the measured loop (%d packets)%n", allocated, looped);
            PacketPool.releaseAll(buffers, 0, batch);
        }
    }

    // Attaching turns the carrier on, but the kernel activates the device's queueing discipline only
    // when its link watcher runs (up to a second later); packets sent before are dropped. operstate
    // turns "up" in the same step.
    private static void awaitOperstateUp(String device) throws Exception {
        Path operstate = Path.of("/sys/class/net", device, "operstate");
        for (int tries = 0; tries < 500; tries++) {
            if (Files.readString(operstate).startsWith("up")) return;
            Thread.sleep(10);
        }
    }

    // 64-byte IPv4/UDP packets 198.51.100.2:40000 -> 10.244.250.1 or .2 port 9, UDP checksum 0.
    private static void inject(TunDevice tun, PacketPool pool, int inflight) throws Exception {
        PacketBuffer b = pool.acquire();
        PacketBuffer[] one = {b};
        Ipv4Header ip = new Ipv4Header();
        int src = Ipv4Address.parse("198.51.100.2");
        for (int i = 0; i < inflight; i++) {
            b.setLength(PACKET_LEN);
            MemorySegment s = b.segment();
            s.asSlice(b.offset(), PACKET_LEN).fill((byte) 0);
            Ipv4Repr.of(src, Ipv4Address.parse("10.244.250." + (1 + (i & 1))), Ipv4Header.PROTO_UDP, 64, PACKET_LEN - 20)
                    .emit(ip.wrap(s, b.offset()));
            new UdpHeader().wrap(s, ip.payloadOffset()).setSrcPort(40000).setDstPort(9).setLength(PACKET_LEN - 20);
            if (tun.write(one, 1) != 1) throw new IllegalStateException("inject refused");
        }
        b.release();
    }

    private static long loop(TunDevice tun, PacketBuffer[] buffers, int batch, double seconds) throws Exception {
        Ipv4Header ip = new Ipv4Header();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long looped = 0;
        while (System.nanoTime() < end) {
            // Blocks in poll only when the TUN is empty, as the C loop does.
            int n = tun.read(buffers, batch);
            if (n == TunnelDevice.CLOSED) break;
            int m = 0;
            for (int i = 0; i < n; i++) {
                PacketBuffer b = buffers[i];
                if (rewrite(ip, b)) {
                    if (m != i) {
                        buffers[i] = buffers[m];
                        buffers[m] = b;
                    }
                    m++;
                }
            }
            int w = tun.write(buffers, m);
            if (w > 0) looped += w;
        }
        return looped;
    }

    // Same work as the C rewrite(): false if the packet is not ours to loop.
    private static boolean rewrite(Ipv4Header ip, PacketBuffer b) {
        MemorySegment s = b.segment();
        int off = b.offset();
        if (b.length() < 28 || s.get(ValueLayout.JAVA_BYTE, off) != 0x45 || s.get(ValueLayout.JAVA_BYTE, off + 9) != 17) return false;
        ip.wrap(s, off);
        ip.setTtl(64).setDstAddr(ip.dstAddr() ^ 3).fillChecksum();
        return true;
    }
}
