package io.dataplane.tun.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.TcpSuperPackets;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * IPIP frames built with the core's headers round-trip between two namespaces joined by a veth
 * pair over raw IP sockets for protocol 4, with and without IP_HDRINCL.
 */
class RawIpSocketTest {
    private static final int IPIP = Ipv4Header.PROTO_IPIP;
    private static final int UNDERLAY_A = Ipv4Address.parse("192.0.2.1");
    private static final int UNDERLAY_B = Ipv4Address.parse("192.0.2.2");
    private static final int POD_A = Ipv4Address.parse("10.244.1.1");
    private static final int POD_B = Ipv4Address.parse("10.244.2.1");
    private Hosts hosts;
    private NetNamespace nsA;
    private NetNamespace nsB;
    private PacketPool pool;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        nsA = hosts.namespace("dprawa");
        nsB = hosts.namespace("dprawb");
        Hosts.veth(nsA, UNDERLAY_A, nsB, UNDERLAY_B);
        pool = new PacketPool(128);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            assertEquals(0, pool.outstanding(), "buffers still out");
        } finally {
            pool.close();
            hosts.close();
        }
    }

    /** Writes an inner IPv4/ICMP echo request with identifier {@code id} at the buffer's offset. */
    private static void innerEcho(PacketBuffer b, int src, int dst, int id) {
        int icmpLen = 8 + 16;
        b.setLength(Ipv4Header.HEADER_LEN + icmpLen);
        MemorySegment s = b.segment();
        Ipv4Header ip = new Ipv4Header().wrap(s, b.offset());
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_ICMP, 64, icmpLen).emit(ip);
        Icmpv4Header icmp = new Icmpv4Header().wrap(s, ip.payloadOffset());
        icmp.setType(Icmpv4Header.TYPE_ECHO_REQUEST).setCode(0).setIdentifier(id).setSequence(1);
        for (int i = 0; i < 16; i++) s.set(ValueLayout.JAVA_BYTE, icmp.payloadOffset() + i, (byte) (id + i));
        icmp.fillChecksum(icmpLen);
    }

    /** Receives exactly {@code expected} datagrams from {@code socket}; checks each inner echo, returns the ids. */
    private Set<Integer> receiveEchoes(RawIpSocket socket, int expected, int type, int from, int innerSrc, int innerDst,
            java.util.function.Consumer<PacketBuffer> onEach) throws Exception {
        Set<Integer> ids = new HashSet<>();
        PacketBuffer[] batch = new PacketBuffer[8];
        Ipv4Header ip = new Ipv4Header();
        Ipv4Header outer = new Ipv4Header();
        Icmpv4Header icmp = new Icmpv4Header();
        while (ids.size() < expected) {
            int got = pool.acquire(batch, 8);
            int n = receiveWithTimeout(socket, batch, got);
            try {
                assertTrue(n > 0, "received " + ids.size() + " of " + expected);
                for (int i = 0; i < n; i++) {
                    PacketBuffer b = batch[i];
                    assertEquals(from, b.peerAddress());
                    assertEquals(pool.headroom() + 20, b.offset(), "data starts past the outer header");
                    outer.wrap(b.segment(), pool.headroom());
                    assertEquals(IPIP, outer.protocol());
                    assertEquals(from, outer.srcAddr());
                    ip.wrap(b.segment(), b.offset());
                    assertEquals(Ipv4Header.VALID, ip.validate(b.length()));
                    assertTrue(ip.verifyChecksum());
                    assertEquals(innerSrc, ip.srcAddr());
                    assertEquals(innerDst, ip.dstAddr());
                    icmp.wrap(b.segment(), ip.payloadOffset());
                    assertEquals(Icmpv4Header.VALID, icmp.validate(ip.payloadLength()));
                    assertEquals(type, icmp.type());
                    assertTrue(icmp.verifyChecksum(ip.payloadLength()), "ICMP checksum");
                    ids.add(icmp.identifier());
                    if (onEach != null) onEach.accept(b);
                }
            } finally {
                PacketPool.releaseAll(batch, 0, got);
            }
        }
        return ids;
    }

    private static int receiveWithTimeout(RawIpSocket socket, PacketBuffer[] batch, int count) throws Exception {
        CompletableFuture<Integer> f = CompletableFuture.supplyAsync(() -> {
            try {
                return socket.receive(batch, count);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            socket.close();
            return f.get(1, TimeUnit.SECONDS);
        }
    }

    @Test
    void ipipEchoRoundTripsBetweenNamespaces() throws Exception {
        int count = 40;
        try (RawIpSocket a = nsA.call(() -> RawIpSocket.open(IPIP, 16, false));
                RawIpSocket b = nsB.call(() -> RawIpSocket.open(IPIP, 16, false))) {
            PacketBuffer[] out = new PacketBuffer[count];
            assertEquals(count, pool.acquire(out, count));
            try {
                for (int i = 0; i < count; i++) {
                    innerEcho(out[i], POD_A, POD_B, i);
                    out[i].setPeer(UNDERLAY_B, 0);
                }
                assertEquals(count, a.send(out, count), "sent");
                for (PacketBuffer p : out) assertTrue(p.isOwned(), "send released a buffer");
            } finally {
                PacketPool.releaseAll(out, 0, count);
            }

            // B answers each inner echo in place: swap inner addresses, type 0, back to the outer source.
            PacketBuffer[] reply = new PacketBuffer[1];
            Set<Integer> atB = receiveEchoes(b, count, 8, UNDERLAY_A, POD_A, POD_B, p -> {
                Ipv4Header ip = new Ipv4Header().wrap(p.segment(), p.offset());
                ip.setSrcAddr(POD_B).setDstAddr(POD_A).fillChecksum();
                new Icmpv4Header().wrap(p.segment(), ip.payloadOffset()).setType(Icmpv4Header.TYPE_ECHO_REPLY).fillChecksum(ip.payloadLength());
                reply[0] = p;
                try {
                    assertEquals(1, b.send(reply, 1));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(count, atB.size());
            Set<Integer> atA = receiveEchoes(a, count, 0, UNDERLAY_B, POD_B, POD_A, null);
            assertEquals(atB, atA);
        }
    }

    @Test
    void headerIncludedSendCarriesTheCallersOuterHeader() throws Exception {
        try (RawIpSocket a = nsA.call(() -> RawIpSocket.open(IPIP, 8, true));
                RawIpSocket b = nsB.call(() -> RawIpSocket.open(IPIP, 8, false))) {
            assertTrue(a.headerIncluded());
            PacketBuffer p = pool.acquire();
            try {
                // Inner packet behind a 20-byte outer header the test writes itself, TTL 33 to recognize it.
                p.setData(pool.headroom() + 20, 0);
                innerEcho(p, POD_A, POD_B, 7);
                int innerLen = p.length();
                assertTrue(p.prepend(20));
                Ipv4Repr.of(UNDERLAY_A, UNDERLAY_B, IPIP, 33, innerLen).emit(new Ipv4Header().wrap(p.segment(), p.offset()));
                p.setPeer(UNDERLAY_B, 0);
                assertEquals(1, a.send(new PacketBuffer[] {p}, 1));
            } finally {
                p.release();
            }
            Ipv4Header outer = new Ipv4Header();
            Set<Integer> ids = receiveEchoes(b, 1, 8, UNDERLAY_A, POD_A, POD_B, q -> {
                outer.wrap(q.segment(), pool.headroom());
                assertEquals(33, outer.ttl(), "the outer header is the one the sender wrote");
            });
            assertEquals(Set.of(7), ids);
        }
    }

    @Test
    void headerIncludedSendCutsASuperPacketIntoItsSegments() throws Exception {
        try (RawIpSocket a = nsA.call(() -> RawIpSocket.open(IPIP, 8, true));
                RawIpSocket b = nsB.call(() -> RawIpSocket.open(IPIP, 64, false, true));
                PacketPool big = new PacketPool(2, 65536 + 256, 128)) {
            assertTrue(a.sendsSuperPackets());
            PacketBuffer p = big.acquire();
            List<byte[]> expected;
            try {
                // 20 segments of 1000 bytes and one of 123, behind one outer header the way the ipip encapsulation writes it.
                int innerLen = 20 + 32 + 20 * 1000 + 123;
                p.put(TcpSuperPackets.tcpPacket(innerLen, 5000, 3));
                assertTrue(p.prepend(20));
                Ipv4Repr.of(UNDERLAY_A, UNDERLAY_B, IPIP, 33, innerLen).emit(new Ipv4Header().wrap(p.segment(), p.offset()));
                p.setPeer(UNDERLAY_B, 0).setGsoSize(1000).setGsoPrefix(20);
                expected = TcpSuperPackets.segmentsOf(p);
                assertEquals(1, a.send(new PacketBuffer[] {p}, 1), "the super-packet counts as one, sent whole");
            } finally {
                p.release();
            }
            assertEquals(21, expected.size());
            PacketBuffer[] batch = new PacketBuffer[8];
            Ipv4Header outer = new Ipv4Header();
            int got = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (got < expected.size() && System.nanoTime() < deadline) {
                int held = pool.acquire(batch, batch.length);
                try {
                    int n = b.receiveNow(batch, held);
                    for (int i = 0; i < n; i++, got++) {
                        byte[] d = batch[i].toByteArray();
                        byte[] want = expected.get(got);
                        assertEquals(want.length, d.length, "datagram " + got);
                        outer.wrap(batch[i].segment(), batch[i].offset());
                        assertEquals(d.length, outer.totalLength(), "the kernel wrote each datagram's total length");
                        assertTrue(outer.verifyChecksum(), "and its header checksum");
                        assertEquals(33, outer.ttl(), "the outer header is the one the sender wrote");
                        assertArrayEquals(Arrays.copyOfRange(want, 20, want.length), Arrays.copyOfRange(d, 20, d.length),
                                "segment " + got + " behind the outer header");
                    }
                    if (n == 0) Thread.sleep(1);
                } finally {
                    PacketPool.releaseAll(batch, 0, held);
                }
            }
            assertEquals(expected.size(), got, "segments received");
        }
    }

    @Test
    void refusedDatagramIsSkippedNotThrown() throws Exception {
        try (RawIpSocket a = nsA.call(() -> RawIpSocket.open(IPIP, 8, false))) {
            PacketBuffer[] out = new PacketBuffer[3];
            pool.acquire(out, 3);
            try {
                for (PacketBuffer p : out) innerEcho(p, POD_A, POD_B, 1);
                out[0].setPeer(UNDERLAY_B, 0);
                out[1].setPeer(Ipv4Address.parse("198.51.100.9"), 0); // no route in the namespace: ENETUNREACH
                out[2].setPeer(UNDERLAY_B, 0);
                assertEquals(2, a.send(out, 3));
            } finally {
                PacketPool.releaseAll(out, 0, 3);
            }
        }
    }

    @Test
    void closeWakesABlockedReceiver() throws Exception {
        RawIpSocket a = nsA.call(() -> RawIpSocket.open(IPIP, 8, false));
        PacketBuffer[] batch = new PacketBuffer[8];
        pool.acquire(batch, 8);
        CompletableFuture<Integer> r = new CompletableFuture<>();
        AtomicLong wokeAt = new AtomicLong();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                int n = a.receive(batch, 8);
                wokeAt.set(System.nanoTime());
                r.complete(n);
            } catch (Throwable e) {
                r.completeExceptionally(e);
            }
        });
        try {
            Thread.sleep(150);
            assertFalse(r.isDone());
            long start = System.nanoTime();
            a.close();
            assertEquals(RawIpSocket.CLOSED, (int) r.get(5, TimeUnit.SECONDS));
            long woke = wokeAt.get() - start;
            // A receiver close does not wake waits for good; a woken one runs as soon as it gets a CPU, which a
            // loaded machine may take 100 ms and more to give.
            assertTrue(woke < TimeUnit.SECONDS.toNanos(1), "receiver woke " + woke / 1000 + " us after close");
            t.join(1000);
            assertFalse(t.isAlive());
            assertEquals(RawIpSocket.CLOSED, a.send(batch, 1));
        } finally {
            PacketPool.releaseAll(batch, 0, 8);
        }
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RawIpSocket.open(300, 8, false));
        assertEquals("IP protocol out of range: protocol=300 (1-254)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RawIpSocket.open(IPIP, 0, false));
        assertTrue(e.getMessage().contains("batchSize=0"), e.getMessage());
    }
}
