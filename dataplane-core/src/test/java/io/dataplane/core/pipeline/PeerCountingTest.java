package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stages count on the peer entry the encapsulation sets: each packet sent and its bytes, the
 * packets the transport does not take as the peer's drops, what is received from the peer (a UDP
 * GRO train once for all its datagrams) and the bad datagrams from its address.
 */
class PeerCountingTest {
    static final int B = Ipv4Address.parse("192.0.2.2");
    static final int C = Ipv4Address.parse("192.0.2.3");
    static final int STRANGER = Ipv4Address.parse("198.51.100.9");
    static final int POD = Ipv4Address.parse("10.244.1.5");

    final PacketPool pool = new PacketPool(64);
    final PeerEntries entries = new PeerEntries();
    final PeerEntry b = entries.add(Ipv4Prefix.parse("10.244.2.0/24"), B);
    final PeerEntry c = entries.add(Ipv4Prefix.parse("10.244.3.0/24"), C);
    final AddressSet known = new AddressSet();
    final RouteTable routes = new RouteTable();
    final Counters counters = new Counters();
    final Sink sink = new Sink();

    PeerCountingTest() {
        known.add(B, b.id());
        known.add(C, c.id());
        routes.add(b.subnet(), b.id());
        routes.add(c.subnet(), c.id());
    }

    @AfterEach
    void everyBufferIsBack() {
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    /**
     * A tunnel that wraps nothing: encap sends to the peer whose id the route holds; decap takes
     * datagrams from known addresses, the first probe setting the peer entry, and drops an empty
     * one as TRUNCATED after that.
     */
    final class Tunnel implements Encapsulation {
        @Override public int headroom() { return 0; }
        @Override public int overhead() { return 0; }

        @Override
        public int encap(PacketBuffer p, int nextHop) {
            PeerEntry peer = entries.get(nextHop);
            p.setPeer(peer.endpoint(), 8285).setPeerEntry(peer);
            return FORWARD;
        }

        @Override
        public int decap(PacketBuffer p) {
            int id = known.peerId(p.peerAddress());
            if (id == AddressSet.ABSENT) return DropReason.UNKNOWN_PEER.ordinal();
            p.setPeerEntry(entries.get(id));
            return p.length() < 20 ? DropReason.TRUNCATED.ordinal() : FORWARD;
        }
    }

    /** A TUN and a transport that take everything but the packets past {@link #accept} of a send. */
    static final class Sink implements TunnelDevice, Transport {
        int accept = Integer.MAX_VALUE;
        final Counters counters = new Counters();

        @Override public String name() { return "peers0"; }
        @Override public int mtu() { return 1500; }
        @Override public int batchSize() { return Pipeline.MAX_BATCH; }
        @Override public int read(PacketBuffer[] packets, int count) { return 0; }
        @Override public int write(PacketBuffer[] packets, int count) { return count; }
        @Override public void start(Receiver receiver) {}
        @Override public int localPort() { return 8285; }
        @Override public Counters counters() { return counters; }
        @Override public void close() {}

        @Override
        public int send(PacketBuffer[] packets, int count) {
            int taken = Math.min(count, accept);
            for (int i = 0; i < count; i++) packets[i].release();
            return taken;
        }
    }

    private PacketBuffer packet(byte[] bytes) {
        return pool.acquire().put(bytes);
    }

    @Test
    void egressCountsEachPacketOnItsPeerAndWhatTheTransportRefusesAsItsDrop() {
        EgressStage egress = new EgressStage(sink, new Tunnel(), routes, new TunOutput.Direct(sink, new Object(), counters, new PathState("peers0")),
                counters);
        byte[] toB = TestPackets.udp(POD, Ipv4Address.parse("10.244.2.7"), 64, 40000, 1, 72);
        byte[] toC = TestPackets.udp(POD, Ipv4Address.parse("10.244.3.7"), 64, 40000, 1, 172);
        PacketBuffer[] batch = new PacketBuffer[Pipeline.MAX_BATCH];
        int n = 0;
        for (int i = 0; i < 5; i++) batch[n++] = packet(toB);
        for (int i = 0; i < 2; i++) batch[n++] = packet(toC);
        sink.accept = 6; // the last packet for C finds the send ring full
        long before = System.currentTimeMillis();
        assertEquals(7, egress.forward(batch, n));
        long after = System.currentTimeMillis();

        assertEquals(5, b.sentPackets());
        assertEquals(5L * toB.length, b.sentBytes());
        assertEquals(0, b.sentDrops());
        assertEquals(2, c.sentPackets());
        assertEquals(2L * toC.length, c.sentBytes());
        assertEquals(1, c.sentDrops(), "the packet the transport did not take is C's drop");
        assertEquals(1, counters.dropped(DropReason.RING_FULL));
        assertTrue(b.lastSentMillis() >= before && b.lastSentMillis() <= after);
        assertEquals(0, b.receivedPackets() + b.lastReceivedMillis(), "nothing received");
    }

    @Test
    void ingressCountsOnThePeerOfTheSourceAddressATrainOnceAndAStrangerOnNoOne() {
        IngressStage ingress = new IngressStage(sink, new Tunnel(), new TunOutput.Direct(sink, new Object(), counters, new PathState("peers0")),
                counters);
        byte[] fromB = TestPackets.udp(Ipv4Address.parse("10.244.2.7"), POD, 64, 40000, 1, 100);
        PacketBuffer[] batch = new PacketBuffer[Pipeline.MAX_BATCH];
        int n = 0;
        for (int i = 0; i < 3; i++) batch[n++] = packet(fromB).setPeer(B, 8285);
        batch[n++] = packet(new byte[10]).setPeer(B, 8285); // bad, from B
        batch[n++] = packet(fromB).setPeer(STRANGER, 8285);
        // A train of four datagrams from C, one of them bad, as UDP GRO hands them up.
        byte[] fromC = TestPackets.udp(Ipv4Address.parse("10.244.3.7"), POD, 64, 40000, 1, 100);
        ByteArrayOutputStream train = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) train.writeBytes(fromC);
        train.writeBytes(new byte[10]);
        batch[n++] = packet(train.toByteArray()).setPeer(C, 8285).setGsoSize(fromC.length);
        long before = System.currentTimeMillis();
        assertEquals(n, ingress.forward(batch, n));
        long after = System.currentTimeMillis();

        assertEquals(3, b.receivedPackets());
        assertEquals(3L * fromB.length, b.receivedBytes());
        assertEquals(1, b.receivedDrops(), "the bad datagram from B's address is B's drop");
        assertTrue(b.lastReceivedMillis() >= before && b.lastReceivedMillis() <= after);
        assertEquals(3, c.receivedPackets(), "the train's good datagrams");
        assertEquals(3L * fromC.length, c.receivedBytes());
        assertEquals(1, c.receivedDrops());
        assertEquals(1, counters.dropped(DropReason.UNKNOWN_PEER), "the stranger's datagram");
        assertEquals(2, counters.dropped(DropReason.TRUNCATED));
        assertEquals(0, b.sentPackets() + c.sentPackets());
    }
}
