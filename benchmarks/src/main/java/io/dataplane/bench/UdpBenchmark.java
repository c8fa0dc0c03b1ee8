package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.udp.UdpEncapsulation;
import io.dataplane.udp.UdpTunnelConfig;
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
 * The per-packet cost of flannel's udp backend on a 1400-byte IPv4 packet in a pool buffer (0 B/op);
 * the packet is the whole datagram, the socket writes the outer headers:
 * <ul>
 *   <li>{@code encap}: the route lookup (LPM), the peer's entry, the TTL decremented and the
 *       peer's endpoint set on the buffer;</li>
 *   <li>{@code decap}: a known-peer check, the inner header validated with its checksum, the TTL
 *       decremented and the trim to the inner packet.</li>
 * </ul>
 * Each invocation first resets the buffer's data offset and length and the TTL (with the checksum),
 * so every one does the whole work on the same bytes.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar UdpBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class UdpBenchmark extends StageAllocationProfiler.Window {
    private static final int PACKET_LEN = 1400;
    private static final int TTL = 64;

    /** Peers in the route table and the known-address set (subnets 10.244.1.0/24 and on). */
    @Param({"250"})
    public int peers;

    private PacketPool pool;
    private PacketBuffer egress;
    private PacketBuffer ingress;
    private RouteTable routes;
    private UdpEncapsulation tunnel;
    private final Ipv4Header ip = new Ipv4Header();
    private int headroom;
    private int peerAddress;

    /** Tables of {@code peers} peers, one buffer holding a packet for a peer, one holding a peer's datagram to us. */
    @Setup(Level.Trial)
    public void setUp() {
        pool = new PacketPool(4);
        headroom = pool.headroom();
        UnderlayPeers tables = new UnderlayPeers(peers);
        routes = tables.routes;
        tunnel = new UdpEncapsulation(UdpTunnelConfig.of(Ipv4Address.parse("10.244.0.0"), 1472), tables.known, tables.entries);
        peerAddress = tables.publicIps[0];
        egress = pool.acquire();
        UnderlayPeers.fill(egress, Ipv4Address.parse("10.244.0.5"), Ipv4Address.parse("10.244." + (peers / 2 + 1) + ".7"), PACKET_LEN);
        ingress = pool.acquire();
        UnderlayPeers.fill(ingress, Ipv4Address.parse("10.244.1.7"), Ipv4Address.parse("10.244.0.5"), PACKET_LEN);
        if (encap() != Encapsulation.FORWARD) throw new IllegalStateException("encap did not forward");
        if (decap() != Encapsulation.FORWARD) throw new IllegalStateException("decap did not forward: " + decap());
    }

    // The TTL back to 64 with its checksum: encap and decap each take one off.
    private void resetTtl(PacketBuffer p) {
        p.setData(headroom, PACKET_LEN);
        ip.wrap(p.segment(), headroom).setTtl(TTL).fillChecksum();
    }

    /** Route lookup, the peer's entry, the TTL and the endpoint. */
    @Benchmark
    public int encap() {
        PacketBuffer p = egress;
        resetTtl(p);
        long hop = routes.lookup(ip.dstAddr());
        return tunnel.encap(p, (int) hop);
    }

    /** Known-peer check, the inner header validated with its checksum, the TTL, the trim to the inner packet. */
    @Benchmark
    public int decap() {
        PacketBuffer p = ingress;
        resetTtl(p);
        p.setPeer(peerAddress, 8285);
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
