package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.ipip.IpipEncapsulation;
import io.dataplane.ipip.IpipTunnelConfig;
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
 * The per-packet cost of IP-in-IP on a 1400-byte IPv4 packet in a pool buffer (0 B/op):
 * <ul>
 *   <li>{@code encap}: the route lookup (LPM) and the 20-byte outer header written in front in
 *       place, DF and ECN taken from the inner header, checksum included;</li>
 *   <li>{@code decap}: a known-peer check, the outer and inner headers validated with both
 *       checksums, and the trim to the inner packet.</li>
 * </ul>
 * Each invocation first resets the buffer's data offset and length, so every one does the whole work
 * on the same bytes.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar IpipBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class IpipBenchmark extends StageAllocationProfiler.Window {
    private static final int PACKET_LEN = 1400;
    private static final int US = Ipv4Address.parse("192.0.2.250");

    /** Peers in the route table and the known-address set (subnets 10.244.1.0/24 and on). */
    @Param({"250"})
    public int peers;

    private PacketPool pool;
    private PacketBuffer egress;
    private PacketBuffer ingress;
    private RouteTable routes;
    private IpipEncapsulation tunnel;
    private final Ipv4Header ip = new Ipv4Header();
    private int headroom;
    private int ingressOffset;
    private int ingressLength;

    /** Tables of {@code peers} peers, one buffer holding a packet for a peer, one holding a peer's datagram to us. */
    @Setup(Level.Trial)
    public void setUp() {
        pool = new PacketPool(4);
        headroom = pool.headroom();
        UnderlayPeers tables = new UnderlayPeers(peers);
        routes = tables.routes;
        int[] publicIps = tables.publicIps;
        tunnel = new IpipEncapsulation(IpipTunnelConfig.of(US, 1480), tables.known, tables.entries);

        egress = pool.acquire();
        UnderlayPeers.fill(egress, Ipv4Address.parse("10.244.0.5"), Ipv4Address.parse("10.244." + (peers / 2 + 1) + ".7"), PACKET_LEN);

        // A peer's tunnel end builds the datagram we receive.
        PeerEntries peerEntries = new PeerEntries();
        int toUs = peerEntries.add(null, US).id();
        IpipEncapsulation peer = new IpipEncapsulation(IpipTunnelConfig.of(publicIps[0], 1480), new AddressSet(), peerEntries);
        ingress = pool.acquire();
        UnderlayPeers.fill(ingress, Ipv4Address.parse("10.244.1.7"), Ipv4Address.parse("10.244.0.5"), PACKET_LEN);
        if (peer.encap(ingress, toUs) != Encapsulation.FORWARD) throw new IllegalStateException("peer could not encapsulate");
        ingress.setPeer(publicIps[0], 0);
        ingressOffset = ingress.offset();
        ingressLength = ingress.length();
        if (encap() != Encapsulation.FORWARD) throw new IllegalStateException("encap did not forward");
        if (decap() != Encapsulation.FORWARD) throw new IllegalStateException("decap did not forward: " + decap());
    }

    /** Route lookup and the 20-byte outer header with its checksum. */
    @Benchmark
    public int encap() {
        PacketBuffer p = egress;
        p.setData(headroom, PACKET_LEN);
        long hop = routes.lookup(ip.wrap(p.segment(), headroom).dstAddr());
        return tunnel.encap(p, (int) hop);
    }

    /** Known-peer check, both headers validated with their checksums, the trim to the inner packet. */
    @Benchmark
    public int decap() {
        PacketBuffer p = ingress;
        p.setData(ingressOffset, ingressLength);
        return tunnel.decap(p);
    }

    /** Returns the buffers and frees the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        egress.release();
        ingress.release();
        pool.close();
    }
}
