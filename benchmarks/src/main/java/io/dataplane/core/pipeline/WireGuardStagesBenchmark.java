package io.dataplane.core.pipeline;

import io.dataplane.bench.StageAllocationProfiler;
import io.dataplane.bench.WireGuardPair;
import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.wireguard.TransportCipher;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The WireGuard data path through the pipeline's stages as the default path runs them, one TUN
 * read batch per invocation, between two devices in session ({@link WireGuardPair}: A at
 * 192.0.2.1 for 10.244.1.0/24, B at 192.0.2.2 for 10.244.2.0/24):
 * <ul>
 *   <li>{@code egress}: a batch of IPv4 packets of {@code inner} bytes from A's TUN through A's
 *       {@link EgressStage} (header check, allowed-IPs lookup, the device's encap: seal in place,
 *       endpoint set) into a transport that takes them and returns them to the pool;</li>
 *   <li>{@code egressIngress}: the same, into a transport that hands the sealed batch, as from A's
 *       endpoint, to B's {@link IngressStage} (the device's decap: index lookup, replay window,
 *       open in place, allowed source) and one TUN write of the batch: the whole path, TUN -&gt;
 *       seal -&gt; send -&gt; receive -&gt; open -&gt; TUN (ingress = egressIngress - egress).</li>
 * </ul>
 * {@code inner} 1420 is a full-size TCP segment at the TUN's MTU of 1420 (not a multiple of 16: the
 * padding stops at the MTU), 92 what a 64-byte UDP datagram makes. Each invocation takes a batch of
 * buffers, resets their data and writes the 20-byte IPv4 header again (sealing leaves ciphertext
 * where it was); the payload is whatever the buffer holds. {@code -prof gc} shows what the path
 * allocates per batch. {@link io.dataplane.bench.WireGuardBenchmark} is one packet through the
 * device alone. In this package because the stages are the pipeline's own classes, not API.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar WireGuardStagesBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class WireGuardStagesBenchmark extends StageAllocationProfiler.Window {
    private static final int POD_A = Ipv4Address.parse("10.244.1.5");
    private static final int POD_B = Ipv4Address.parse("10.244.2.7");

    /** The transport cipher of both devices: the default ({@code VECTOR}) and our scalar one. */
    @Param({"VECTOR", "SEGMENT"})
    public TransportCipher cipher;
    /** Inner packet length: a full-size TCP segment at MTU 1420, or a 64-byte UDP datagram's packet. */
    @Param({"1420", "92"})
    public int inner;
    /** Packets per batch: the TUN's default batch. */
    @Param({"32"})
    public int batch;

    private WireGuardPair pair;
    private EgressStage egress;
    private EgressStage egressToB;
    private Counters egressCounters;
    private Counters ingressCounters;
    private PacketBuffer[] buffers;
    private MemorySegment header;
    private int headroom;

    /** A TUN that takes every packet written (the pipeline releases them) and is never read. */
    private static final class TunSink implements TunnelDevice {
        @Override public String name() { return "bench"; }
        @Override public int mtu() { return 1420; }
        @Override public int batchSize() { return Pipeline.MAX_BATCH; }
        @Override public int read(PacketBuffer[] packets, int count) { throw new UnsupportedOperationException(); }
        @Override public int write(PacketBuffer[] packets, int count) { return count; }
        @Override public void close() {}
    }

    /** A transport whose sends either return the datagrams to their pool or hand them to {@code receiver} as from {@code from}. */
    private static final class Wire implements Transport {
        private final Counters counters = new Counters();
        private final IngressStage receiver;
        private final int from;

        Wire(IngressStage receiver, int from) {
            this.receiver = receiver;
            this.from = from;
        }

        @Override public void start(Receiver r) {}
        @Override public int localPort() { return WireGuardPair.PORT; }
        @Override public int batchSize() { return Pipeline.MAX_BATCH; }
        @Override public Counters counters() { return counters; }
        @Override public void close() {}

        @Override
        public int send(PacketBuffer[] packets, int count) {
            if (receiver == null) {
                PacketPool.releaseAll(packets, 0, count);
                return count;
            }
            for (int i = 0; i < count; i++) packets[i].setPeer(from, WireGuardPair.PORT);
            receiver.forward(packets, count);
            return count;
        }
    }

    /** The devices in session, A's egress stage twice (to the sink, to B) and B's ingress stage. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        pair = WireGuardPair.inSession(cipher);
        TunSink tun = new TunSink();
        PathState state = new PathState(tun.name());
        Object lock = new Object();
        egressCounters = new Counters();
        ingressCounters = new Counters();
        Counters replies = new Counters();
        IngressStage ingressB = new IngressStage(new Wire(null, 0), pair.b, new TunOutput.Direct(tun, lock, ingressCounters, state), ingressCounters);
        egress = new EgressStage(new Wire(null, 0), pair.a, pair.a.allowedIps(), new TunOutput.Direct(tun, lock, replies, state), egressCounters);
        egressToB = new EgressStage(new Wire(ingressB, WireGuardPair.ADDRESS_A), pair.a, pair.a.allowedIps(),
                new TunOutput.Direct(tun, lock, replies, state), egressCounters);

        headroom = pair.pool.headroom();
        buffers = new PacketBuffer[batch];
        header = MemorySegment.ofArray(new byte[Ipv4Header.HEADER_LEN]);
        Ipv4Repr.of(POD_A, POD_B, Ipv4Header.PROTO_UDP, 64, inner - Ipv4Header.HEADER_LEN).emit(new Ipv4Header().wrap(header, 0));

        if (egress() != batch || egressCounters.egressPackets() != batch) {
            throw new IllegalStateException("egress did not send the batch: " + egressCounters.droppedTotal() + " dropped");
        }
        if (egressIngress() != batch || ingressCounters.ingressPackets() != batch) {
            throw new IllegalStateException("ingress did not write the batch: " + ingressCounters.droppedTotal() + " dropped");
        }
    }

    /** A batch of packets from A's TUN: the IPv4 header written at the headroom of each. */
    private int read() {
        PacketBuffer[] in = buffers;
        int n = pair.pool.acquire(in, batch);
        for (int i = 0; i < n; i++) {
            PacketBuffer p = in[i].setData(headroom, inner);
            MemorySegment.copy(header, 0, p.segment(), p.offset(), Ipv4Header.HEADER_LEN);
        }
        return n;
    }

    /** One TUN read batch through A's egress stage: sealed and sent. */
    @Benchmark
    public int egress() {
        return egress.forward(buffers, read());
    }

    /** One TUN read batch through A's egress stage, B's ingress stage and B's TUN. */
    @Benchmark
    public int egressIngress() {
        return egressToB.forward(buffers, read());
    }

    /** Closes the devices; every buffer must be back. */
    @TearDown(Level.Trial)
    public void tearDown() {
        long dropped = egressCounters.droppedTotal() + ingressCounters.droppedTotal();
        pair.close();
        if (dropped != 0) throw new IllegalStateException("packets dropped: " + dropped);
    }
}
