package io.dataplane.core.pipeline;

import io.dataplane.bench.StageAllocationProfiler;
import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.vxlan.VtepConfig;
import io.dataplane.vxlan.VxlanEncapsulation;
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
 * The pipeline's two stages as the default path runs them ({@link Pipeline.TunWriter#RECEIVE_THREAD}:
 * TUN writes on the stage's own thread), one batch per invocation, with the VXLAN encapsulation
 * and 250 peers whose FDB entries carry their peer entries (each packet counts on its peer, as in
 * the node), over a device and a transport that take every packet and do nothing else:
 * <ul>
 *   <li>{@code egress}: a TUN read batch of 1400-byte IPv4 packets through {@link EgressStage}
 *       (header check, route lookup, encapsulation in place, one send of the batch);</li>
 *   <li>{@code ingress}: a received batch of VXLAN datagrams through {@link IngressStage}
 *       (validation, decapsulation in place, one TUN write of the batch);</li>
 *   <li>{@code ingressTrain}: the same datagrams as one train in one buffer, as UDP GRO hands them
 *       up (each decapsulated in place, the packets written as one {@code PacketTrain}).</li>
 * </ul>
 * Each pool is filled once at setup; an invocation takes a batch of buffers, resets their data
 * offset and length, and the stage hands them back through the sink, so nothing is copied per
 * packet and {@code -prof gc} shows what the stages allocate. In this package because the stages
 * are the pipeline's own classes, not API.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar PipelineStagesBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class PipelineStagesBenchmark extends StageAllocationProfiler.Window {
    private static final int PACKET_LEN = 1400;
    private static final int PEERS = 250;
    private static final MacAddress OUR_MAC = MacAddress.parse("66:b9:ad:e8:c0:88");
    private static final int PEER_PUBLIC_IP = Ipv4Address.parse("192.0.2.1");
    private static final int PEER_PORT = 41529;

    /** Packets per batch: the TUN's default batch. */
    @Param({"32"})
    public int batch;

    private PacketPool egressPool;
    private PacketPool ingressPool;
    private PacketPool trainPool;
    private EgressStage egress;
    private PeerEntry firstPeer; // the peer the egress batch goes to and the ingress batch comes from
    private IngressStage ingress;
    private PacketBuffer[] buffers;
    private int headroom;
    private int datagramLength;

    /** A device and a transport that take every packet and return it to its pool. */
    private static final class Sink implements TunnelDevice, Transport {
        private final Counters counters = new Counters();

        @Override public String name() { return "bench"; }
        @Override public int mtu() { return PACKET_LEN; }
        @Override public int read(PacketBuffer[] packets, int count) { throw new UnsupportedOperationException(); }
        @Override public int write(PacketBuffer[] packets, int count) { return count; } // the pipeline releases them
        @Override public void start(Receiver receiver) {}
        @Override public int localPort() { return 8472; }
        @Override public int batchSize() { return Pipeline.MAX_BATCH; }
        @Override public Counters counters() { return counters; }
        @Override public void close() {}

        @Override
        public int send(PacketBuffer[] packets, int count) {
            for (int i = 0; i < count; i++) packets[i].release();
            return count;
        }
    }

    /** Tables of 250 peers; a pool of packets for them and a pool of datagrams from one of them. */
    @Setup(Level.Trial)
    public void setUp() {
        RouteTable routes = new RouteTable();
        NeighborTable neighbors = new NeighborTable();
        Fdb fdb = new Fdb();
        PeerEntries entries = new PeerEntries();
        for (int i = 0; i < PEERS; i++) {
            Ipv4Prefix subnet = Ipv4Prefix.parse("10.244." + (i + 1) + ".0/24");
            MacAddress mac = new MacAddress(0x0200_0000_0000L + i);
            int endpoint = i == 0 ? PEER_PUBLIC_IP : Ipv4Address.parse("192.0.2." + (2 + i));
            fdb.add(mac, endpoint, entries.add(null, endpoint).id());
            neighbors.add(subnet.address(), mac);
            routes.add(subnet, subnet.address());
        }
        int ourAddress = Ipv4Address.parse("10.244.0.0");
        VxlanEncapsulation vtep = new VxlanEncapsulation(VtepConfig.of(OUR_MAC, ourAddress, 1450), neighbors, fdb, entries);
        firstPeer = entries.get(0);
        Sink sink = new Sink();
        PathState state = new PathState(sink.name());
        Object lock = new Object();
        Counters egressCounters = new Counters();
        Counters ingressCounters = new Counters();
        egress = new EgressStage(sink, vtep, routes, new TunOutput.Direct(sink, lock, egressCounters, state), egressCounters);
        ingress = new IngressStage(sink, vtep, new TunOutput.Direct(sink, lock, ingressCounters, state), ingressCounters);

        egressPool = new PacketPool(2 * batch);
        ingressPool = new PacketPool(2 * batch);
        headroom = egressPool.headroom();
        buffers = new PacketBuffer[batch];
        byte[] packet = packet(Ipv4Address.parse("10.244.0.5"), Ipv4Address.parse("10.244.1.7"));
        fillPool(egressPool, packet);

        // The peer's VTEP builds the datagram we receive.
        NeighborTable peerNeighbors = new NeighborTable();
        Fdb peerFdb = new Fdb();
        peerNeighbors.add(ourAddress, OUR_MAC);
        peerFdb.add(OUR_MAC, Ipv4Address.parse("192.0.2.250"));
        VxlanEncapsulation peer = new VxlanEncapsulation(VtepConfig.of(new MacAddress(0x0200_0000_0000L), Ipv4Address.parse("10.244.1.0"), 1450),
                peerNeighbors, peerFdb);
        PacketBuffer b = ingressPool.acquire().put(packet(Ipv4Address.parse("10.244.1.7"), Ipv4Address.parse("10.244.0.5")));
        if (peer.encap(b, ourAddress) != Encapsulation.FORWARD) throw new IllegalStateException("peer could not encapsulate");
        byte[] datagram = b.toByteArray();
        b.release();
        datagramLength = datagram.length;
        fillPool(ingressPool, datagram);
        trainPool = new PacketPool(2, 65536 + 1024 + headroom, headroom);
        java.io.ByteArrayOutputStream train = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < batch; i++) train.writeBytes(datagram);
        fillPool(trainPool, train.toByteArray());

        if (egress() != batch || egressCounters.egressPackets() != batch) throw new IllegalStateException("egress did not send the batch");
        if (firstPeer.sentPackets() != batch) throw new IllegalStateException("egress did not count on the peer: " + firstPeer.sentPackets());
        if (ingress() != batch || ingressCounters.ingressPackets() != batch) {
            throw new IllegalStateException("ingress did not write the batch: " + ingressCounters.droppedTotal() + " dropped");
        }
        if (ingressTrain() != 1 || ingressCounters.ingressPackets() != 2L * batch) {
            throw new IllegalStateException("ingress did not write the train: " + ingressCounters.droppedTotal() + " dropped");
        }
        if (firstPeer.receivedPackets() != 2L * batch) throw new IllegalStateException("ingress did not count on the peer: " + firstPeer.receivedPackets());
    }

    private static byte[] packet(int src, int dst) {
        byte[] packet = new byte[PACKET_LEN];
        for (int i = 0; i < packet.length; i++) packet[i] = (byte) (i * 31);
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_UDP, 64, PACKET_LEN - Ipv4Header.HEADER_LEN)
                .emit(new Ipv4Header().wrap(java.lang.foreign.MemorySegment.ofArray(packet), 0));
        return packet;
    }

    /** Writes {@code bytes} at the headroom of every buffer of {@code pool}, which keeps them across acquire and release. */
    private static void fillPool(PacketPool pool, byte[] bytes) {
        PacketBuffer[] all = new PacketBuffer[pool.capacity()];
        int n = pool.acquire(all, all.length);
        for (int i = 0; i < n; i++) all[i].put(bytes);
        PacketPool.releaseAll(all, 0, n);
    }

    /** One TUN read batch through the egress stage. */
    @Benchmark
    public int egress() {
        PacketBuffer[] in = buffers;
        int n = egressPool.acquire(in, batch);
        for (int i = 0; i < n; i++) in[i].setData(headroom, PACKET_LEN);
        return egress.forward(in, n);
    }

    /** One received batch through the ingress stage. */
    @Benchmark
    public int ingress() {
        PacketBuffer[] in = buffers;
        int n = ingressPool.acquire(in, batch);
        for (int i = 0; i < n; i++) in[i].setData(headroom, datagramLength).setPeer(PEER_PUBLIC_IP, PEER_PORT);
        int moved = ingress.forward(in, n);
        java.util.Arrays.fill(in, 0, n, null);
        return moved;
    }

    /** The same datagrams as one train in one buffer through the ingress stage. */
    @Benchmark
    public int ingressTrain() {
        PacketBuffer[] in = buffers;
        in[0] = trainPool.acquire().setData(headroom, batch * datagramLength).setPeer(PEER_PUBLIC_IP, PEER_PORT).setGsoSize(datagramLength);
        int moved = ingress.forward(in, 1);
        in[0] = null;
        return moved;
    }

    /** Frees the pools; every buffer must be back. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (egressPool.outstanding() != 0 || ingressPool.outstanding() != 0 || trainPool.outstanding() != 0) {
            throw new IllegalStateException("buffers still out");
        }
        egressPool.close();
        ingressPool.close();
        trainPool.close();
    }
}
