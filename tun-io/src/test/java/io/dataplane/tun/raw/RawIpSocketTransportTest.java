package io.dataplane.tun.raw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.testing.Hosts;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A raw IP transport in datagram mode (IP_HDRINCL) between two namespaces joined by a veth pair:
 * the caller's outer header goes out as written (DF, TTL), the received datagram comes back whole
 * with its outer header in the data, refused datagrams are counted, and every buffer returns.
 */
class RawIpSocketTransportTest {
    private static final int IPIP = Ipv4Header.PROTO_IPIP;
    private static final int UNDERLAY_A = Ipv4Address.parse("192.0.2.1");
    private static final int UNDERLAY_B = Ipv4Address.parse("192.0.2.2");
    private static final int POD_A = Ipv4Address.parse("10.244.1.1");
    private static final int POD_B = Ipv4Address.parse("10.244.2.1");
    private Hosts hosts;
    private NetNamespace nsA;
    private NetNamespace nsB;
    private PacketPool poolA;
    private PacketPool poolB;
    private SocketTransport a;
    private SocketTransport b;
    private final BlockingQueue<Datagram> atB = new LinkedBlockingQueue<>();

    /** What B received: the data and the peer address. */
    private record Datagram(byte[] data, int peer) {}

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        nsA = hosts.namespace("dprta");
        nsB = hosts.namespace("dprtb");
        Hosts.veth(nsA, UNDERLAY_A, nsB, UNDERLAY_B);
        poolA = new PacketPool(256);
        poolB = new PacketPool(256);
    }

    private void open(int ringCapacity) throws Exception {
        open(RawIpTransportConfig.datagrams(IPIP, UNDERLAY_A).withSendOnCaller(false).withRingCapacity(ringCapacity));
    }

    private void open(RawIpTransportConfig configOfA) throws Exception {
        a = nsA.call(() -> SocketTransport.rawIp(configOfA, poolA));
        b = nsB.call(() -> SocketTransport.rawIp(RawIpTransportConfig.datagrams(IPIP, UNDERLAY_B).withBatchSize(8), poolB));
        // A only sends (sending works before start), so pool A counts exactly the datagrams in flight.
        b.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                atB.add(new Datagram(batch[i].toByteArray(), batch[i].peerAddress()));
                batch[i].release();
            }
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            if (a != null) a.close();
            if (b != null) b.close();
            assertEquals(0, poolA.outstanding(), "buffers of a still out after close");
            assertEquals(0, poolB.outstanding(), "buffers of b still out after close");
        } finally {
            poolA.close();
            poolB.close();
            hosts.close();
        }
    }

    /** An IPIP datagram to B: outer header (DF as given, TTL 33) in front of a 100-byte inner packet marked {@code mark}. */
    private PacketBuffer ipip(boolean df, int mark, int innerLength) {
        PacketBuffer p = poolA.acquire();
        assertNotNull(p, "pool a exhausted");
        int innerPayload = innerLength - Ipv4Header.HEADER_LEN;
        p.setData(poolA.headroom(), Ipv4Header.HEADER_LEN + innerLength);
        Ipv4Header outer = new Ipv4Header().wrap(p.segment(), p.offset());
        new Ipv4Repr(0, 0, 0, df, false, 0, 33, IPIP, UNDERLAY_A, UNDERLAY_B, null, innerLength).emit(outer);
        Ipv4Header inner = new Ipv4Header().wrap(p.segment(), outer.payloadOffset());
        new Ipv4Repr(0, 0, 0, df, false, 0, 64, 253, POD_A, POD_B, null, innerPayload).emit(inner);
        p.segment().set(ValueLayout.JAVA_BYTE, inner.payloadOffset(), (byte) mark);
        return p.setPeer(UNDERLAY_B, 0);
    }

    private byte[] next() throws InterruptedException {
        Datagram d = atB.poll(5, TimeUnit.SECONDS);
        assertNotNull(d, "nothing arrived within 5 s");
        assertEquals(UNDERLAY_A, d.peer(), "peer address is the outer source");
        return d.data();
    }

    @Test
    void outerHeaderGoesOutAsWrittenAndComesBackInTheData() throws Exception {
        open(64);
        assertEquals(1, a.send(new PacketBuffer[] {ipip(true, 7, 100)}, 1));
        byte[] d = next();
        assertEquals(120, d.length, "outer header and inner packet");
        PacketBuffer copy = poolB.acquire().put(d);
        try {
            Ipv4Header outer = new Ipv4Header().wrap(copy.segment(), copy.offset());
            assertEquals(Ipv4Header.VALID, outer.validate(copy.length()));
            assertTrue(outer.verifyChecksum());
            assertEquals(new Ipv4Repr(0, 0, 0, true, false, 0, 33, IPIP, UNDERLAY_A, UNDERLAY_B, null, 100), Ipv4Repr.parse(outer),
                    "DF, TTL, addresses as written; with DF the kernel keeps identification 0");
            Ipv4Header inner = new Ipv4Header().wrap(copy.segment(), outer.payloadOffset());
            assertEquals(Ipv4Header.VALID, inner.validate(100));
            assertEquals(POD_B, inner.dstAddr());
            assertEquals(7, copy.segment().get(ValueLayout.JAVA_BYTE, inner.payloadOffset()));
        } finally {
            copy.release();
        }
    }

    @Test
    void withoutDfTheKernelPicksIdentifications() throws Exception {
        open(64);
        PacketBuffer[] batch = new PacketBuffer[8];
        for (int i = 0; i < batch.length; i++) batch[i] = ipip(false, i, 60);
        assertEquals(8, a.send(batch, 8));
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            byte[] d = next();
            int id = (d[Ipv4Header.IDENT] & 0xff) << 8 | (d[Ipv4Header.IDENT + 1] & 0xff);
            assertEquals(0, d[Ipv4Header.FLAGS_FRAG] & 0x40, "DF stays clear");
            ids.add(id);
        }
        assertTrue(ids.size() > 1, "a written identification of 0 without DF gets the kernel's counter: " + ids);
    }

    @Test
    void refusedDatagramsAreCountedAndTheRestArrive() throws Exception {
        open(64);
        PacketBuffer tooBig = ipip(true, 2, 1490); // 1510 bytes: above the veth's MTU of 1500, EMSGSIZE
        PacketBuffer noRoute = ipip(true, 3, 60).setPeer(Ipv4Address.parse("198.51.100.9"), 0); // ENETUNREACH
        PacketBuffer[] batch = {ipip(true, 1, 60), tooBig, noRoute, ipip(true, 4, 60)};
        assertEquals(4, a.send(batch, 4));
        Set<Integer> marks = new HashSet<>();
        for (int i = 0; i < 2; i++) marks.add((int) next()[40]);
        assertEquals(Set.of(1, 4), marks);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        // The send thread counts a batch's refused datagrams, then releases the batch's buffers: wait for both.
        while ((a.counters().dropped(DropReason.SEND_FAILED) < 2 || poolA.outstanding() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(2, a.counters().dropped(DropReason.SEND_FAILED));
        assertEquals(0, poolA.outstanding(), "sent and refused buffers are back in the pool");
    }

    @Test
    void sendingOnTheCallerIsDoneWhenSendReturns() throws Exception {
        open(RawIpTransportConfig.datagrams(IPIP, UNDERLAY_A).withSendOnCaller(true));
        PacketBuffer tooBig = ipip(true, 2, 1490);
        PacketBuffer noRoute = ipip(true, 3, 60).setPeer(Ipv4Address.parse("198.51.100.9"), 0);
        PacketBuffer[] batch = {ipip(true, 1, 60), tooBig, noRoute, ipip(false, 4, 60)};
        assertEquals(4, a.send(batch, 4), "all taken; the refused ones are counted");
        assertEquals(2, a.counters().dropped(DropReason.SEND_FAILED), "counted before send returned");
        assertEquals(0, poolA.outstanding(), "every buffer back before send returned");
        Set<Integer> marks = new HashSet<>();
        for (int i = 0; i < 2; i++) marks.add((int) next()[40]);
        assertEquals(Set.of(1, 4), marks);
        a.close();
        PacketBuffer[] late = {ipip(true, 5, 60)};
        assertEquals(0, a.send(late, 1), "after close");
        assertEquals(0, poolA.outstanding());
    }

    @Test
    void fullSendRingReleasesWhatDoesNotFitAndNeverBlocks() throws Exception {
        open(2);
        int n = 200;
        PacketBuffer[] batch = new PacketBuffer[n];
        for (int i = 0; i < n; i++) batch[i] = ipip(true, i, 60);
        long start = System.nanoTime();
        int accepted = a.send(batch, n);
        long took = System.nanoTime() - start;
        assertTrue(accepted >= 2 && accepted < n, "accepted " + accepted + " of " + n + " into a ring of 2");
        assertTrue(took < TimeUnit.MILLISECONDS.toNanos(100), "send took " + took / 1000 + " us");
        for (int i = 0; i < n; i++) assertEquals(null, batch[i], "send clears the slots it took or released");
        for (int i = 0; i < accepted; i++) next();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (poolA.outstanding() != 0 && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(0, poolA.outstanding());
    }

    @Test
    void badConfigurationIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RawIpTransportConfig.datagrams(255, 0));
        assertEquals("IP protocol out of range: protocol=255 (1-254)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RawIpTransportConfig.datagrams(IPIP, 0).withRingCapacity(3));
        assertEquals("send ring capacity must be a power of two >= 2: ringCapacity=3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RawIpTransportConfig.payloads(IPIP, 0).withBatchSize(0));
        assertEquals("batch size out of range: batchSize=0 (1 to 1024)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RawIpTransportConfig.payloads(IPIP, 0).withSocketBuffers(-1, 0));
        assertEquals("receive buffer size negative: receiveBufferBytes=-1", e.getMessage());
    }
}
