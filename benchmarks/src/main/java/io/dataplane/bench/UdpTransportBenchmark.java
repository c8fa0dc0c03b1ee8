package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.transport.netty.UdpTransport;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Datagrams per second through two UDP transports on 127.0.0.1, either the library's {@link
 * SocketTransport} ({@code transport=socket}: sendmmsg on the benchmark thread, recvmmsg on b's
 * receive thread) or Netty's epoll {@link UdpTransport} ({@code transport=netty}: ring, event loop,
 * sendmmsg; recvmmsg on b's event loop): the benchmark thread acquires a burst of pool buffers, sets
 * payload length and peer, and sends it through transport a; b receives them into its own pool and
 * a receiver releases them. One operation is one datagram.
 *
 * <p>The sender stays at most {@link #WINDOW} datagrams ahead of the receiver: past the receive
 * buffer the kernel drops datagrams, and a run that measures drops measures nothing. The
 * {@code delivered} counter is the honest rate (datagrams that reached b's receiver); {@code lost}
 * counts datagrams the kernel dropped anyway (given up after a stall). With {@code -prof gc},
 * {@code gc.alloc.rate.norm} is the bytes allocated per datagram by all threads, Netty's included.
 * {@code refused} counts datagrams the socket transport's sendmmsg did not get into a full send buffer.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar UdpTransportBenchmark -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class UdpTransportBenchmark extends StageAllocationProfiler.Window {
    /** Datagrams per send call: one sendmmsg (socket), or one ring offer and at most one wakeup of the event loop (netty). */
    public static final int BURST = 32;
    /** Datagrams in flight at most: well under a 4 MiB receive buffer even for 1400-byte payloads. */
    private static final int WINDOW = 512;
    private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private static final VarHandle RECEIVED;

    static {
        try {
            RECEIVED = MethodHandles.lookup().findVarHandle(UdpTransportBenchmark.class, "received", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** UDP payload bytes per datagram. */
    @Param({"64", "1400"})
    public int payload;

    /** Which transport: {@code socket} (the library's default) or {@code netty}. */
    @Param({"socket", "netty"})
    public String transport;

    private PacketPool poolA;
    private PacketPool poolB;
    private Transport a;
    private Transport b;
    private long refusedSeen;
    private final PacketBuffer[] burst = new PacketBuffer[BURST];
    private int portB;
    private long sent;
    /** Written by b's event loop only (release store), read by the benchmark thread. */
    @SuppressWarnings("unused")
    private volatile long received;

    /** Rates reported next to the primary result. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Delivery {
        /** Datagrams that reached b's receiver. */
        public long delivered;
        /** Datagrams the kernel dropped although the window should have prevented it. */
        public long lost;
        /** Datagrams a's send ring refused (released at once). */
        public long ringFull;
        /** Datagrams the kernel refused on a's sendmmsg (the socket transport's send buffer was full). */
        public long refused;
        long seenReceived;

        @Setup(Level.Iteration)
        public void reset() {
            delivered = 0;
            lost = 0;
            ringFull = 0;
            refused = 0;
        }
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        poolA = new PacketPool(8192);
        poolB = new PacketPool(8192);
        a = open(poolA);
        b = open(poolB);
        portB = b.localPort();
        a.start((batch, n) -> PacketPool.releaseAll(batch, 0, n));
        b.start((batch, n) -> {
            PacketPool.releaseAll(batch, 0, n);
            RECEIVED.setRelease(this, (long) RECEIVED.getOpaque(this) + n);
        });
    }

    private Transport open(PacketPool pool) throws IOException {
        UdpTransportConfig config = UdpTransportConfig.of(LOOPBACK, 0);
        return switch (transport) {
            case "socket" -> SocketTransport.udp(config, pool);
            case "netty" -> UdpTransport.open(config, pool);
            default -> throw new IllegalArgumentException("transport neither socket nor netty: transport=" + transport);
        };
    }

    @TearDown(Level.Trial)
    public void close() {
        a.close();
        b.close();
        if (poolA.outstanding() != 0 || poolB.outstanding() != 0) {
            throw new IllegalStateException("buffers still out after close: a=" + poolA.outstanding() + " b=" + poolB.outstanding());
        }
        if (a instanceof UdpTransport na && b instanceof UdpTransport nb && (na.outOfPoolAllocations() != 0 || nb.outOfPoolAllocations() != 0)) {
            throw new IllegalStateException("Netty allocated outside the pools: a=" + na.outOfPoolAllocations()
                    + " b=" + nb.outOfPoolAllocations());
        }
        poolA.close();
        poolB.close();
    }

    /** Sends one burst of {@link #BURST} datagrams, after waiting for the window to open. */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public void sendBurst(Delivery d) {
        long stalledSince = 0;
        long lastSeen = -1;
        long r;
        while (sent - (r = (long) RECEIVED.getAcquire(this)) > WINDOW - BURST) {
            if (r != lastSeen) {
                lastSeen = r;
                stalledSince = System.nanoTime();
            } else if (System.nanoTime() - stalledSince > STALL_NANOS) {
                d.lost += sent - r; // dropped by the kernel: stop waiting for them
                sent = r;
            }
            LockSupport.parkNanos(1_000);
        }
        int headroom = poolA.headroom();
        int n = poolA.acquire(burst, BURST);
        for (int i = 0; i < n; i++) burst[i].setData(headroom, payload).setPeer(LOOPBACK, portB);
        int accepted = a.send(burst, n);
        long refused = a.counters().dropped(DropReason.SEND_FAILED);
        sent += accepted - (refused - refusedSeen);
        d.refused += refused - refusedSeen;
        refusedSeen = refused;
        d.ringFull += n - accepted;
        d.delivered += r - d.seenReceived;
        d.seenReceived = r;
    }
}
