package io.dataplane.ipip;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes of the ipip backend exchanging traffic through core's Pipeline over the in-memory network. */
class IpipPipelineTest {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    static final int MTU = 1480;

    @TempDir
    Path stateDir;
    final FakeNetwork network = new FakeNetwork();
    final List<FakeNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        for (FakeNode n : nodes) n.close();
    }

    FakeNode node(int i) throws Exception {
        PacketPool pool = new PacketPool(512);
        BackendContext ctx = new BackendContext(NetConf.of(NETWORK, BackendConf.defaults(BackendType.IPIP)), subnet(i), underlay(i),
                "flannel.ipip", MTU, pool, stateDir);
        FakeNode n = FakeNode.start("tun" + i, pool, IpipBackend.open(ctx, IpipOptions.defaults().withTransports(network::attach)), MTU);
        nodes.add(n);
        return n;
    }

    static Ipv4Prefix subnet(int i) {
        return Ipv4Prefix.parse("10.244." + i + ".0/24");
    }

    static int underlay(int i) {
        return Ipv4Address.parse("192.0.2." + i);
    }

    static int pod(int i, int host) {
        return Ipv4Address.parse("10.244." + i + "." + host);
    }

    static void connect(FakeNode a, FakeNode b) {
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());
    }

    static byte[] take(FakeNode n) throws InterruptedException {
        byte[] p = n.tun().awaitWritten(Duration.ofSeconds(5));
        assertNotNull(p, "nothing arrived at " + n.tun().name());
        return p;
    }

    /** An IP-in-IP datagram as node {@code from} would send {@code inner} (outer header from the tunnel's own rules). */
    static byte[] ipip(int from, int to, byte[] inner) {
        byte[] frame = new byte[20 + inner.length];
        System.arraycopy(inner, 0, frame, 20, inner.length);
        new Ipv4Header().wrap(MemorySegment.ofArray(frame), 0).setVersion4AndIhl(5).setTotalLength(frame.length).setTtl(64)
                .setProtocol(Ipv4Header.PROTO_IPIP).setSrcAddr(from).setDstAddr(to).fillChecksum();
        return frame;
    }

    @Test
    void pingBothWaysArrivesUntouched() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        for (int seq = 1; seq <= 20; seq++) {
            byte[] request = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 0x4242, seq, 56);
            a.tun().inject(request);
            assertArrayEquals(request, take(b), "request " + seq + ": IP-in-IP leaves the inner packet as it is");
            byte[] reply = TestPackets.echoReplyTo(request);
            b.tun().inject(reply);
            assertArrayEquals(reply, take(a), "reply " + seq);
        }
        await(() -> a.stats().ingressPackets() == 20 && b.stats().ingressPackets() == 20, "ingress counters");
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal());
    }

    @Test
    void badDatagramsUnderLoadAreCountedAndGoodTrafficGoesOn() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        int stranger = Ipv4Address.parse("192.0.2.99");
        byte[] good = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 1, 1, 56);
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        byte[] wrongProtocol = ipip(underlay(1), underlay(2), good);
        wrongProtocol[9] = Ipv4Header.PROTO_UDP;
        new Ipv4Header().wrap(MemorySegment.ofArray(wrongProtocol), 0).fillChecksum();
        bad.put(DropReason.IPIP_BAD_OUTER, wrongProtocol);
        byte[] badOuterChecksum = ipip(underlay(1), underlay(2), good);
        badOuterChecksum[10] ^= 0x55;
        bad.put(DropReason.BAD_CHECKSUM, badOuterChecksum);
        bad.put(DropReason.TRUNCATED, new byte[] {0x45, 0, 0, 10});
        byte[] expired = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 0, 1, 1, 8);
        bad.put(DropReason.TTL_EXPIRED, ipip(underlay(1), underlay(2), expired));
        byte[] v6 = ipip(underlay(1), underlay(2), good);
        v6[20] = 0x60;
        bad.put(DropReason.NOT_IPV4, v6);

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        Thread sender = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 2, sent.incrementAndGet() & 0xffff, 56));
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            for (int round = 0; round < 10; round++) {
                assertTrue(b.transport().inject(ipip(stranger, underlay(2), good), stranger, 0));
                for (byte[] d : bad.values()) assertTrue(b.transport().inject(d, underlay(1), 0));
            }
            await(() -> b.dropped(DropReason.UNKNOWN_PEER) == 10, "unknown peer drops");
            for (DropReason r : bad.keySet()) await(() -> b.dropped(r) == 10, r + " drops");
        } finally {
            running.set(false);
            sender.join();
        }
        await(() -> b.stats().ingressPackets() == sent.get(), "every good packet delivered");
        assertEquals(10L * (bad.size() + 1), b.stats().droppedTotal(), "nothing else dropped");
        int delivered = 0;
        while (b.tun().awaitWritten(Duration.ofMillis(50)) != null) delivered++;
        assertEquals(sent.get(), delivered);
    }

    @Test
    void aRemovedPeerGetsNothingMoreAndOthersGoOn() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        FakeNode c = node(3);
        connect(a, b);
        connect(a, c);
        a.tun().inject(TestPackets.udp(pod(1, 5), pod(2, 7), 64, 40000, 1, 32));
        a.tun().inject(TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, 1, 32));
        take(b);
        take(c);
        a.backend().removePeer(subnet(2));
        a.tun().inject(TestPackets.udp(pod(1, 5), pod(2, 7), 64, 40000, 2, 32));
        a.tun().inject(TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, 2, 32));
        take(c);
        await(() -> a.dropped(DropReason.NO_ROUTE) == 1, "the removed peer's packet dropped as NO_ROUTE");
        assertEquals(null, b.tun().awaitWritten(Duration.ofMillis(100)));
        // B still knows A, but A no longer takes B's datagrams.
        b.tun().inject(TestPackets.udp(pod(2, 7), pod(1, 5), 64, 40000, 3, 32));
        await(() -> a.dropped(DropReason.UNKNOWN_PEER) == 1, "B's datagram dropped as from an unknown peer");
    }
}
