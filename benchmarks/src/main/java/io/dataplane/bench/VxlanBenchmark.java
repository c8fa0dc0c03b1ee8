package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
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
 * The per-packet cost of the userspace VTEP on a 1400-byte IPv4 packet in a pool buffer (goal at
 * most 20 ns each, 0 B/op):
 * <ul>
 *   <li>{@code encap}: the destination read from the packet, the route lookup (LPM), neighbor and
 *       FDB lookups, the 22 bytes of VXLAN and inner Ethernet written in front in place, the peer
 *       endpoint set; {@code encapRotatingPeers} the same to a different peer each time;</li>
 *   <li>{@code decap}: full validation of what a peer sent (known source, VXLAN flags and VNI,
 *       inner MAC and ethertype, inner IPv4 header and checksum, MTU) and the trim to the inner packet.</li>
 * </ul>
 * Each invocation first resets the buffer's data offset and length, so every one does the whole work
 * on the same bytes.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar VxlanBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class VxlanBenchmark extends StageAllocationProfiler.Window {
    private static final int PACKET_LEN = 1400;
    private static final MacAddress OUR_MAC = MacAddress.parse("66:b9:ad:e8:c0:88");

    /** Peers in the route, neighbor and FDB tables (subnets 10.244.1.0/24 and on). */
    @Param({"250"})
    public int peers;

    private PacketPool pool;
    private PacketBuffer egress;
    private PacketBuffer ingress;
    private RouteTable routes;
    private VxlanEncapsulation vtep;
    private final Ipv4Header ip = new Ipv4Header();
    private int headroom;
    private int ingressOffset;
    private int ingressLength;
    private int[] destinations;
    private int next;

    /** Tables of {@code peers} peers, one buffer holding a packet for a peer, one holding a peer's datagram to us. */
    @Setup(Level.Trial)
    public void setUp() {
        pool = new PacketPool(4);
        headroom = pool.headroom();
        routes = new RouteTable();
        NeighborTable neighbors = new NeighborTable();
        Fdb fdb = new Fdb();
        destinations = new int[peers];
        for (int i = 0; i < peers; i++) {
            Ipv4Prefix subnet = Ipv4Prefix.parse("10.244." + (i + 1) + ".0/24");
            MacAddress mac = new MacAddress(0x0200_0000_0000L + i);
            fdb.add(mac, Ipv4Address.parse("192.0." + (2 + i / 250) + "." + (1 + i % 250)));
            neighbors.add(subnet.address(), mac);
            routes.add(subnet, subnet.address());
            destinations[i] = subnet.address() + 7;
        }
        int ourAddress = Ipv4Address.parse("10.244.0.0");
        vtep = new VxlanEncapsulation(VtepConfig.of(OUR_MAC, ourAddress, 1450), neighbors, fdb);

        egress = pool.acquire();
        fill(egress, Ipv4Address.parse("10.244.0.5"), destinations[peers / 2]);

        // A peer's VTEP builds the datagram we receive: same tables seen from the other side.
        NeighborTable peerNeighbors = new NeighborTable();
        Fdb peerFdb = new Fdb();
        int peerPublicIp = Ipv4Address.parse("192.0.2.1");
        peerNeighbors.add(ourAddress, OUR_MAC);
        peerFdb.add(OUR_MAC, Ipv4Address.parse("192.0.2.250"));
        VxlanEncapsulation peer = new VxlanEncapsulation(VtepConfig.of(new MacAddress(0x0200_0000_0000L), Ipv4Address.parse("10.244.1.0"), 1450),
                peerNeighbors, peerFdb);
        ingress = pool.acquire();
        fill(ingress, Ipv4Address.parse("10.244.1.7"), Ipv4Address.parse("10.244.0.5"));
        if (peer.encap(ingress, ourAddress) != Encapsulation.FORWARD) throw new IllegalStateException("peer could not encapsulate");
        ingress.setPeer(peerPublicIp, 41529);
        ingressOffset = ingress.offset();
        ingressLength = ingress.length();
        check();
    }

    private static void fill(PacketBuffer p, int src, int dst) {
        byte[] packet = new byte[PACKET_LEN];
        for (int i = 0; i < packet.length; i++) packet[i] = (byte) (i * 31);
        p.put(packet);
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_UDP, 64, PACKET_LEN - Ipv4Header.HEADER_LEN).emit(new Ipv4Header().wrap(p.segment(), p.offset()));
    }

    /** Both benchmarks must do the whole work, not bail out early with a drop. */
    private void check() {
        if (encap() != Encapsulation.FORWARD) throw new IllegalStateException("encap did not forward");
        if (encapRotatingPeers() != Encapsulation.FORWARD) throw new IllegalStateException("encap to a rotating peer did not forward");
        if (decap() != Encapsulation.FORWARD) throw new IllegalStateException("decap did not forward: " + decap());
    }

    /** Route, neighbor and FDB lookup and the 22 header bytes, to one peer. */
    @Benchmark
    public int encap() {
        PacketBuffer p = egress;
        p.setData(headroom, PACKET_LEN);
        long hop = routes.lookup(ip.wrap(p.segment(), headroom).dstAddr());
        return vtep.encap(p, (int) hop);
    }

    /** As {@link #encap}, to the next of the peers each time (their table entries in turn). */
    @Benchmark
    public int encapRotatingPeers() {
        PacketBuffer p = egress;
        p.setData(headroom, PACKET_LEN);
        int i = next + 1;
        if (i == destinations.length) i = 0;
        next = i;
        ip.wrap(p.segment(), headroom).setDstAddr(destinations[i]);
        long hop = routes.lookup(destinations[i]);
        return vtep.encap(p, (int) hop);
    }

    /** Validation of a peer's datagram and the trim to the inner packet. */
    @Benchmark
    public int decap() {
        PacketBuffer p = ingress;
        p.setData(ingressOffset, ingressLength);
        return vtep.decap(p);
    }

    /** Returns the buffers and frees the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        egress.release();
        ingress.release();
        pool.close();
    }
}
