package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Trains through the core's real {@link Pipeline} between two fake nodes whose transports carry a
 * train whole (as UDP GSO on one end and GRO on the other do): a TCP super-packet read from A's TUN
 * reaches B's TUN as its segments; and trains handed to B's socket as if received, with a corrupt
 * message in the middle (dropped alone under its reason, the others delivered in order), a
 * keepalive at the end (taken, not written), handshake messages in a train (each handled on its
 * own), every buffer back at the end.
 */
class TrainPipelineTest {
    private static final int PORT = WireGuardDevice.DEFAULT_PORT;
    private static final int MTU = WireGuardConfig.DEFAULT_MTU;
    private static final int SRC = Ipv4Address.parse("10.244.1.5");
    private static final int DST = Ipv4Address.parse("10.244.2.7");

    private record Node(PacketPool pool, PacketPool superPackets, FakeTunnelDevice tun, FakeTransport transport, WireGuardDevice wg,
            Pipeline pipeline) {}

    private final FakeNetwork network = new FakeNetwork();
    private final List<Node> nodes = new ArrayList<>();
    private final NoisePrivateKey keyA = NoisePrivateKey.generate();
    private final NoisePrivateKey keyB = NoisePrivateKey.generate();

    private Node node(String underlay, String name, NoisePrivateKey key) throws Exception {
        PacketPool pool = new PacketPool(256);
        PacketPool superPackets = new PacketPool(64, 128 + 65536 + 1024 + new WireGuardBackendProvider().superPacketRoom(), 128);
        FakeTunnelDevice tun = new FakeTunnelDevice(name, MTU, 16);
        FakeTransport transport = network.attach(Ipv4Address.parse(underlay), PORT, superPackets);
        RouteTable allowedIps = new RouteTable();
        WireGuardDevice wg = new WireGuardDevice(WireGuardConfig.of(key), allowedIps, pool, p -> transport.send(new PacketBuffer[] {p}, 1));
        Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, transport, wg, allowedIps, pool).withTunPool(superPackets));
        Node n = new Node(pool, superPackets, tun, transport, wg, pipeline);
        nodes.add(n);
        return n;
    }

    @AfterEach
    void close() {
        for (Node n : nodes) {
            n.pipeline().close();
            n.wg().close();
            assertEquals(0, n.pool().outstanding() + n.superPackets().outstanding(), "buffers still out after close of " + n.tun().name());
            n.pool().close();
            n.superPackets().close();
        }
    }

    /** Two nodes, each the other's peer, with a session (a ping from A answered through B's TUN). */
    private Node[] twoNodesWithASession() throws Exception {
        Node a = node("192.0.2.1", "tun-a", keyA);
        Node b = node("192.0.2.2", "tun-b", keyB);
        a.wg().addPeer(PeerConfig.of(keyB.publicKey(), Ipv4Address.parse("192.0.2.2"), PORT, List.of(Ipv4Prefix.parse("10.244.2.0/24"))));
        b.wg().addPeer(PeerConfig.of(keyA.publicKey(), Ipv4Address.parse("192.0.2.1"), PORT, List.of(Ipv4Prefix.parse("10.244.1.0/24"))));
        byte[] ping = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 100, 1);
        a.tun().inject(ping);
        assertArrayEquals(ping, b.tun().awaitWritten(Duration.ofSeconds(10)), "the first packet, after the handshake");
        return new Node[] {a, b};
    }

    private static Counters.Snapshot stats(Node n) {
        List<Counters> all = new ArrayList<>(n.pipeline().counters());
        all.add(n.wg().counters());
        return Counters.Snapshot.of(all);
    }

    @Test
    void aSuperPacketFromTheTunArrivesAsItsSegments() throws Exception {
        Node[] ab = twoNodesWithASession();
        int mss = 1368;
        TcpSegment sp = TcpSegment.of(SRC, 40000, DST, 5201, 1000, 1, TcpSegment.timestamps(5, 6), TcpSegment.pattern(3, 20 * mss + 99));
        ab[0].tun().inject(sp.bytes(), mss);
        for (int i = 0; i < 21; i++) {
            byte[] got = ab[1].tun().awaitWritten(Duration.ofSeconds(10));
            assertNotNull(got, "segment " + i);
            byte[] payload = Arrays.copyOfRange(sp.payload(), i * mss, Math.min(sp.payload().length, (i + 1) * mss));
            TcpSegment s = TcpSegment.parse(got);
            assertArrayEquals(payload, s.payload(), "payload of segment " + i);
            assertEquals(1000 + i * mss, s.seq(), "sequence of segment " + i);
            assertTrue(TcpSegment.checksumsValid(got), "checksums of segment " + i);
        }
        assertEquals(1, ab[0].pipeline().superPacketsSent());
        // A packet is counted after the send or TUN write that handed it over returns.
        FakeNode.await(() -> stats(ab[0]).egressPackets() == 1 + 21 && stats(ab[1]).ingressPackets() == 1 + 21,
                "A's egress and B's ingress counts of 22");
        Counters.Snapshot sa = stats(ab[0]);
        Counters.Snapshot sb = stats(ab[1]);
        assertEquals(1 + 21, sa.egressPackets(), "A's egress: the ping and the 21 segments");
        assertEquals(1 + 21, sb.ingressPackets(), "B's ingress");
        assertEquals(0, sa.droppedTotal() + sb.droppedTotal(), "drops: " + sa + " " + sb);
    }

    @Test
    void aCorruptMessageInATrainIsDroppedAloneAndTheOthersDelivered() throws Exception {
        Node[] ab = twoNodesWithASession();
        Keypair kp = ab[0].wg().peer(keyB.publicKey()).current;
        byte[][] inner = new byte[5][];
        byte[][] messages = new byte[5][];
        for (int i = 0; i < 5; i++) {
            inner[i] = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 1000, 10 + i);
            messages[i] = seal(ab[0], kp, inner[i]);
        }
        messages[2][100] ^= 1; // the middle one: its tag no longer verifies
        byte[] keepalive = seal(ab[0], kp, new byte[0]);
        int from = Ipv4Address.parse("192.0.2.1");
        assertTrue(ab[1].transport().injectTrain(concat(messages[0], messages[1], messages[2], messages[3], messages[4], keepalive),
                messages[0].length, from, PORT));
        for (int i : new int[] {0, 1, 3, 4}) {
            assertArrayEquals(inner[i], ab[1].tun().awaitWritten(Duration.ofSeconds(10)), "message " + i + " of the train");
        }
        Counters.Snapshot sb = awaitDrops(ab[1], 1);
        assertEquals(1, sb.dropped(DropReason.WG_DECRYPT_FAILED), sb.toString());
        assertEquals(1, sb.droppedTotal(), sb.toString());
        assertEquals(0, ab[1].tun().writtenCount(), "the keepalive is taken, not written");

        // The same train again: every message a replay now, counted as such, nothing written.
        assertTrue(ab[1].transport().injectTrain(concat(messages[0], messages[1], messages[3], messages[4]), messages[0].length, from, PORT));
        sb = awaitDrops(ab[1], 5);
        assertEquals(4, sb.dropped(DropReason.WG_REPLAY), sb.toString());
        assertEquals(0, ab[1].tun().writtenCount());
    }

    @Test
    void handshakeMessagesInATrainAreEachHandled() throws Exception {
        Node[] ab = twoNodesWithASession();
        // Three initiations of the right size with a wrong mac1, received as one train: each dropped under its reason.
        byte[] initiation = new byte[MessageType.INITIATION_LEN];
        initiation[0] = MessageType.INITIATION;
        int from = Ipv4Address.parse("192.0.2.1");
        assertTrue(ab[1].transport().injectTrain(concat(initiation, initiation, initiation), initiation.length, from, PORT));
        Counters.Snapshot sb = awaitDrops(ab[1], 3);
        assertEquals(3, sb.dropped(DropReason.WG_BAD_MAC1), sb.toString());

        // A real initiation from A at the end of a train of data: answered, and the data still delivered.
        // (Past the flood interval after the first handshake's initiation, which B would refuse it within.)
        Thread.sleep(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(WireGuardTimings.DEFAULT.handshakeInitiationRate()) + 20);
        Keypair kp = ab[0].wg().peer(keyB.publicKey()).current;
        byte[] inner0 = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 300, 40);
        byte[] inner1 = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 300, 41);
        byte[] m0 = seal(ab[0], kp, inner0);
        byte[] m1 = seal(ab[0], kp, inner1);
        WireGuardPeer peerB = ab[0].wg().peer(keyB.publicKey());
        byte[] realInitiation;
        peerB.lock.lock();
        try {
            int index = ab[0].wg().indexTable().allocate(peerB);
            realInitiation = peerB.handshake.createInitiation(index, System.currentTimeMillis() * 1_000_000L + 1_000_000_000L);
            peerB.cookieGenerator.addMacs(realInitiation, System.nanoTime(), WireGuardTimings.DEFAULT);
        } finally {
            peerB.lock.unlock();
        }
        WireGuardPeer peerA = ab[1].wg().peer(keyA.publicKey());
        assertTrue(peerA.next == null, "the first session confirmed");
        kpOfB(ab[1]);
        assertTrue(m0.length > realInitiation.length, "the initiation is the train's shorter last datagram");
        assertTrue(ab[1].transport().injectTrain(concat(m0, m1, realInitiation), m0.length, from, PORT));
        assertArrayEquals(inner0, ab[1].tun().awaitWritten(Duration.ofSeconds(10)));
        assertArrayEquals(inner1, ab[1].tun().awaitWritten(Duration.ofSeconds(10)));
        // B answers the initiation from the train: as responder it holds the new keypair as next.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (peerA.next == null && peerA.current == kpOfB(ab[1]) && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(peerA.next != null || peerA.current != kpOfB(ab[1]),
                "the initiation in the train made a new session; B: " + stats(ab[1]) + ", A: " + stats(ab[0]));
        assertEquals(3, stats(ab[1]).droppedTotal(), stats(ab[1]).toString());
    }

    private Keypair firstKeypairOfB;

    /** B's keypair with A as it was before the initiation (remembered on first call). */
    private Keypair kpOfB(Node b) {
        if (firstKeypairOfB == null) firstKeypairOfB = b.wg().peer(keyA.publicKey()).current;
        return firstKeypairOfB;
    }

    /** {@code inner} sealed by A's device for B with the next counter of {@code kp}, as a message on the wire. */
    private static byte[] seal(Node a, Keypair kp, byte[] inner) {
        PacketBuffer p = a.pool().acquire();
        try {
            p.put(inner);
            TransportCodec.seal(kp, kp.nextSendCounter(), p, MTU);
            return p.toByteArray();
        } finally {
            p.release();
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private static Counters.Snapshot awaitDrops(Node n, int total) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Counters.Snapshot s = stats(n);
        while (s.droppedTotal() < total && System.nanoTime() < deadline) {
            Thread.sleep(10);
            s = stats(n);
        }
        return s;
    }
}
