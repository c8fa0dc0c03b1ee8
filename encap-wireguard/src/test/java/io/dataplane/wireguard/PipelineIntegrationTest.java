package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The device in the core's real {@link Pipeline} (its three threads) between two fake nodes: the
 * allowed-IPs table is the pipeline's route table, the peer id its next hop, a timer thread ticks.
 * The shape the node integration will have, minus the kernel.
 */
class PipelineIntegrationTest {
    private static final int PORT = WireGuardDevice.DEFAULT_PORT;

    private record Node(PacketPool pool, FakeTunnelDevice tun, FakeTransport transport, RouteTable allowedIps,
            WireGuardDevice wg, Pipeline pipeline, Thread ticker) {}

    private final FakeNetwork network = new FakeNetwork();
    private final List<Node> nodes = new ArrayList<>();

    private Node node(String underlay, String name, NoisePrivateKey key) throws Exception {
        PacketPool pool = new PacketPool(512);
        FakeTunnelDevice tun = new FakeTunnelDevice(name, WireGuardConfig.DEFAULT_MTU, 16);
        FakeTransport transport = network.attach(Ipv4Address.parse(underlay), PORT, pool);
        RouteTable allowedIps = new RouteTable();
        WireGuardDevice wg = new WireGuardDevice(WireGuardConfig.of(key), allowedIps, pool,
                p -> transport.send(new PacketBuffer[] {p}, 1));
        Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, transport, wg, allowedIps, pool));
        Thread ticker = Thread.ofPlatform().name("wg-tick-" + name).daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                wg.tick();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Node n = new Node(pool, tun, transport, allowedIps, wg, pipeline, ticker);
        nodes.add(n);
        return n;
    }

    @AfterEach
    void close() throws InterruptedException {
        for (Node n : nodes) {
            n.ticker().interrupt();
            n.ticker().join();
            n.pipeline().close();
            n.wg().close();
            assertEquals(0, n.pool().outstanding(), "buffers still out after close of " + n.tun().name());
            n.pool().close();
        }
    }

    @Test
    void pingsCrossThePipelineThroughTheTunnelBothWays() throws Exception {
        NoisePrivateKey keyA = NoisePrivateKey.generate();
        NoisePrivateKey keyB = NoisePrivateKey.generate();
        Node a = node("192.0.2.1", "tun-a", keyA);
        Node b = node("192.0.2.2", "tun-b", keyB);
        a.wg().addPeer(PeerConfig.of(keyB.publicKey(), Ipv4Address.parse("192.0.2.2"), PORT, List.of(Ipv4Prefix.parse("10.244.2.0/24"))));
        b.wg().addPeer(PeerConfig.of(keyA.publicKey(), Ipv4Address.parse("192.0.2.1"), PORT, List.of(Ipv4Prefix.parse("10.244.1.0/24"))));

        // The first 50 wait in the staged queue for the handshake the first one starts.
        for (int i = 0; i < 50; i++) a.tun().inject(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 100 + i, i));
        for (int i = 0; i < 50; i++) {
            byte[] got = b.tun().awaitWritten(Duration.ofSeconds(10));
            assertNotNull(got, "packet " + i + " did not arrive");
            assertArrayEquals(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 100 + i, i), got);
        }
        for (int i = 0; i < 50; i++) b.tun().inject(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 1400, i));
        for (int i = 0; i < 50; i++) {
            byte[] got = a.tun().awaitWritten(Duration.ofSeconds(10));
            assertNotNull(got, "reply " + i + " did not arrive");
            assertArrayEquals(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 1400, i), got);
        }
        // A packet is counted into the TUN after the write that handed it over returns.
        FakeNode.await(() -> Counters.Snapshot.of(b.pipeline().counters()).ingressPackets() == 50, "B's ingress count of 50");
        Counters.Snapshot sa = Counters.Snapshot.of(a.pipeline().counters());
        Counters.Snapshot sb = Counters.Snapshot.of(b.pipeline().counters());
        assertEquals(0, sa.droppedTotal(), "A's pipeline drops");
        assertEquals(0, sb.droppedTotal(), "B's pipeline drops");
        assertEquals(0, a.wg().counters().droppedTotal() + b.wg().counters().droppedTotal());
        // Every packet counted once as egress, staged or not: the pipeline's and the device's counters together.
        List<Counters> allA = new java.util.ArrayList<>(a.pipeline().counters());
        allA.add(a.wg().counters());
        Counters.Snapshot egressA = Counters.Snapshot.of(allA);
        assertEquals(50, egressA.egressPackets(), "A's egress packets");
        assertEquals(50 * 100 + 49 * 50 / 2, egressA.egressBytes(), "A's egress bytes (inner)");
        assertEquals(50, sb.ingressPackets(), "B's ingress packets");
    }
}
