package io.dataplane.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Icmpv4Repr;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The udp tunnel on its own: TTL as flannel's proxy, every bad input, and the ICMP net unreachable. */
class UdpEncapsulationTest {
    static final int TUN_ADDRESS = Ipv4Address.parse("10.244.0.0"); // the ICMP source: the network address
    static final int PEER = Ipv4Address.parse("192.0.2.2");
    static final int STRANGER = Ipv4Address.parse("198.51.100.7");
    static final int POD1 = Ipv4Address.parse("10.244.1.5");
    static final int POD2 = Ipv4Address.parse("10.244.2.7");
    static final int MTU = 1472;

    final PacketPool pool = new PacketPool(8);
    final AddressSet peers = new AddressSet();
    final PeerEntries entries = new PeerEntries();
    final PeerEntry peer = entries.add(null, PEER);
    final long[] clock = {1_000_000_000L};
    final UdpEncapsulation tunnel = new UdpEncapsulation(UdpTunnelConfig.of(TUN_ADDRESS, MTU), peers, entries, () -> clock[0]);

    UdpEncapsulationTest() {
        peers.add(PEER, peer.id());
    }

    @AfterEach
    void poolIsWhole() {
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    static int drop(DropReason reason) {
        return reason.ordinal();
    }

    /** {@code packet} with its TTL lowered by one and its header checksum computed afresh. */
    static byte[] decremented(byte[] packet) {
        byte[] copy = packet.clone();
        Ipv4Header ip = new Ipv4Header().wrap(MemorySegment.ofArray(copy), 0);
        ip.setTtl(ip.ttl() - 1).fillChecksum();
        return copy;
    }

    int run(byte[] bytes, int source, java.util.function.ToIntFunction<PacketBuffer> op, Consumer<PacketBuffer> check) {
        PacketBuffer p = pool.acquire().put(bytes);
        p.setPeer(source, 8285);
        try {
            int verdict = op.applyAsInt(p);
            check.accept(p);
            return verdict;
        } finally {
            p.release();
        }
    }

    int encap(byte[] packet, Consumer<PacketBuffer> check) {
        return run(packet, 0, p -> tunnel.encap(p, peer.id()), check);
    }

    int decap(byte[] datagram, int source, Consumer<PacketBuffer> check) {
        return run(datagram, source, tunnel::decap, check);
    }

    int decap(byte[] datagram) {
        return decap(datagram, PEER, p -> { });
    }

    int noRoute(byte[] packet, Consumer<PacketBuffer> check) {
        return run(packet, 0, tunnel::noRoute, check);
    }

    static Consumer<PacketBuffer> unchanged(byte[] packet) {
        return p -> assertArrayEquals(packet, p.toByteArray());
    }

    // ---- the wire format and the TTL ----

    @Test
    void headroomCoversTheIcmpErrorAndOverheadIsFlannels() {
        assertEquals(28, tunnel.headroom());
        assertEquals(28, tunnel.overhead());
    }

    @Test
    void theDatagramIsTheInnerPacketWithItsTtlDecremented() {
        for (int ttl : new int[] {2, 63, 64, 255}) {
            byte[] packet = TestPackets.echoRequest(POD1, POD2, ttl, 0x56cd, ttl, 56);
            assertEquals(Encapsulation.FORWARD, encap(packet, p -> {
                assertArrayEquals(decremented(packet), p.toByteArray(), "TTL " + ttl + ": RFC 1624 update agrees with a full checksum");
                assertEquals(pool.headroom(), p.offset(), "nothing in front: the socket writes outer IPv4 and UDP");
                assertEquals(PEER, p.peerAddress());
                assertEquals(8285, p.peerPort());
            }));
        }
    }

    @Test
    void ttlThatWouldReachZeroIsExpiredOnTheWayOutAsInFlannel() {
        for (int ttl : new int[] {0, 1}) {
            byte[] packet = TestPackets.echoRequest(POD1, POD2, ttl, 1, 1, 8);
            assertEquals(drop(DropReason.TTL_EXPIRED), encap(packet, unchanged(packet)), "TTL " + ttl);
        }
    }

    // ---- receiving ----

    @Test
    void receivedPacketsAreDecrementedAndTrimmed() {
        byte[] packet = TestPackets.echoRequest(POD2, POD1, 62, 1, 1, 56);
        assertEquals(Encapsulation.FORWARD, decap(packet, PEER, p -> assertArrayEquals(decremented(packet), p.toByteArray())));
        byte[] trailing = Arrays.copyOf(packet, packet.length + 5);
        assertEquals(Encapsulation.FORWARD, decap(trailing, PEER, p -> assertArrayEquals(decremented(packet), p.toByteArray())));
    }

    @Test
    void strangersAreTakenWhenConfiguredAsFlannelsProxyTakesThem() {
        UdpEncapsulation lenient = new UdpEncapsulation(UdpTunnelConfig.of(TUN_ADDRESS, MTU).withAcceptUnknownPeers(true), peers, entries);
        byte[] packet = TestPackets.echoRequest(POD2, POD1, 64, 1, 1, 56);
        assertEquals(Encapsulation.FORWARD, run(packet, STRANGER, lenient::decap, p -> { }));
        peers.remove(PEER);
        assertEquals(drop(DropReason.UNKNOWN_PEER), decap(packet, PEER, p -> { }), "a removed peer is a stranger");
    }

    // ---- no route: ICMP net unreachable ----

    /** The ICMP error flannel's proxy would write for {@code packet}, built from the Reprs. */
    static byte[] expectedUnreachable(byte[] packet) {
        Ipv4Header offender = new Ipv4Header().wrap(MemorySegment.ofArray(packet), 0);
        int quoted = Math.min(offender.totalLength(), offender.headerLength() + 8);
        byte[] error = new byte[28 + quoted];
        MemorySegment s = MemorySegment.ofArray(error);
        System.arraycopy(packet, 0, error, 28, quoted);
        Icmpv4Repr.destinationUnreachable(Icmpv4Header.CODE_NET_UNREACHABLE).emit(new Icmpv4Header().wrap(s, 20), 8 + quoted);
        new Ipv4Repr(0, 0, 0, false, false, 0, 64, Ipv4Header.PROTO_ICMP, TUN_ADDRESS, offender.srcAddr(), null, 8 + quoted)
                .emit(new Ipv4Header().wrap(s, 0));
        return error;
    }

    void assertUnreachable(byte[] packet) {
        assertEquals(Encapsulation.REPLY, noRoute(packet, p -> {
            byte[] got = p.toByteArray();
            assertArrayEquals(expectedUnreachable(packet), got);
            assertEquals(pool.headroom() - 28, p.offset(), "built in place, in the headroom");
            MemorySegment s = MemorySegment.ofArray(got);
            Ipv4Header ip = new Ipv4Header().wrap(s, 0);
            assertEquals(Ipv4Header.VALID, ip.validate(got.length));
            assertTrue(ip.verifyChecksum());
            Icmpv4Header icmp = new Icmpv4Header().wrap(s, 20);
            assertEquals(Icmpv4Header.VALID, icmp.validate(got.length - 20));
            assertTrue(icmp.verifyChecksum(got.length - 20));
            assertEquals(Icmpv4Header.TYPE_DEST_UNREACHABLE, icmp.type());
            assertEquals(Icmpv4Header.CODE_NET_UNREACHABLE, icmp.code());
            Ipv4Header quoted = icmp.quotedHeader(new Ipv4Header());
            assertArrayEquals(Arrays.copyOf(packet, quoted.headerLength()), Arrays.copyOfRange(got, 28, 28 + quoted.headerLength()),
                    "the offending header is quoted as it came, TTL and checksum untouched");
        }));
    }

    @Test
    void aPacketWithoutARouteIsAnsweredWithNetUnreachable() {
        assertUnreachable(TestPackets.udp(POD1, Ipv4Address.parse("10.99.0.1"), 63, 40000, 53, 100));
        assertUnreachable(TestPackets.echoRequest(POD1, Ipv4Address.parse("10.99.0.1"), 63, 7, 1, 56));
        // Exactly a header and 8 bytes, and shorter than that: the quote ends with the packet.
        assertUnreachable(TestPackets.echoRequest(POD1, Ipv4Address.parse("10.99.0.1"), 63, 7, 1, 0));
        assertUnreachable(TestPackets.udp(POD1, Ipv4Address.parse("10.99.0.1"), 63, 40000, 53, 0));
        byte[] four = Arrays.copyOf(TestPackets.udp(POD1, Ipv4Address.parse("10.99.0.1"), 63, 40000, 53, 0), 24);
        MemorySegment s = MemorySegment.ofArray(four);
        new Ipv4Header().wrap(s, 0).setTotalLength(24).fillChecksum();
        assertUnreachable(four);
        assertEquals(5, tunnel.unreachablesSent());
    }

    @Test
    void optionsAreQuotedWholeAndAFirstFragmentGetsAnError() {
        byte[] options = {(byte) 0x94, 0x04, 0x00, 0x00}; // router alert
        byte[] withOptions = new byte[24 + 8 + 20];
        MemorySegment s = MemorySegment.ofArray(withOptions);
        new Ipv4Repr(0, 0, 77, false, true, 0, 63, Ipv4Header.PROTO_UDP, POD1, Ipv4Address.parse("10.99.0.1"), options, 28)
                .emit(new Ipv4Header().wrap(s, 0));
        assertUnreachable(withOptions);
    }

    @Test
    void neverForIcmpErrorsLaterFragmentsOrNonUnicastSources() {
        int nowhere = Ipv4Address.parse("10.99.0.1");
        for (int type : new int[] {3, 4, 5, 11, 12}) {
            byte[] error = TestPackets.echoRequest(POD1, nowhere, 63, 1, 1, 28);
            error[20] = (byte) type;
            assertEquals(drop(DropReason.NO_ROUTE), noRoute(error, unchanged(error)), "ICMP type " + type);
        }
        byte[] later = TestPackets.udp(POD1, nowhere, 63, 1, 2, 100);
        new Ipv4Header().wrap(MemorySegment.ofArray(later), 0).setFlagsAndFragmentOffset(Ipv4Header.FLAG_MF | 185).fillChecksum();
        assertEquals(drop(DropReason.NO_ROUTE), noRoute(later, unchanged(later)), "a later fragment");
        for (String src : new String[] {"0.0.0.0", "127.0.0.1", "224.0.0.5", "240.0.0.1", "255.255.255.255"}) {
            byte[] packet = TestPackets.udp(Ipv4Address.parse(src), nowhere, 63, 1, 2, 10);
            assertEquals(drop(DropReason.NO_ROUTE), noRoute(packet, unchanged(packet)), "source " + src);
        }
        for (String dst : new String[] {"224.0.0.251", "239.1.2.3", "255.255.255.255"}) {
            byte[] packet = TestPackets.udp(POD1, Ipv4Address.parse(dst), 63, 1, 2, 10);
            assertEquals(drop(DropReason.NO_ROUTE), noRoute(packet, unchanged(packet)), "destination " + dst);
        }
        byte[] empty = Arrays.copyOf(TestPackets.echoRequest(POD1, nowhere, 63, 1, 1, 0), 20);
        new Ipv4Header().wrap(MemorySegment.ofArray(empty), 0).setTotalLength(20).fillChecksum();
        assertEquals(drop(DropReason.NO_ROUTE), noRoute(empty, unchanged(empty)), "ICMP without a type to judge");
        assertEquals(0, tunnel.unreachablesSent());
    }

    @Test
    void theRateLimitHoldsErrorsBackAsNoRouteDrops() {
        UdpEncapsulation limited = new UdpEncapsulation(UdpTunnelConfig.of(TUN_ADDRESS, MTU).withIcmpLimit(10, 3), peers, entries, () -> clock[0]);
        byte[] packet = TestPackets.udp(POD1, Ipv4Address.parse("10.99.0.1"), 63, 1, 2, 10);
        int[] verdicts = new int[5];
        for (int i = 0; i < 5; i++) verdicts[i] = run(packet, 0, limited::noRoute, p -> { });
        int noRoute = drop(DropReason.NO_ROUTE);
        assertArrayEquals(new int[] {Encapsulation.REPLY, Encapsulation.REPLY, Encapsulation.REPLY, noRoute, noRoute}, verdicts);
        assertEquals(3, limited.unreachablesSent());
        assertEquals(2, limited.unreachablesLimited());
        clock[0] += 99_000_000L;
        assertEquals(noRoute, run(packet, 0, limited::noRoute, unchanged(packet)), "a suppressed packet is left as it was");
        clock[0] += 1_000_000L;
        assertEquals(Encapsulation.REPLY, run(packet, 0, limited::noRoute, p -> { }), "100 ms later: one more");
        UdpEncapsulation silent = new UdpEncapsulation(UdpTunnelConfig.of(TUN_ADDRESS, MTU).withIcmpLimit(0, 1), peers, entries);
        assertEquals(noRoute, run(packet, 0, silent::noRoute, p -> { }), "rate 0: no ICMP errors at all");
    }

    @Test
    void noHeadroomForTheErrorIsNoRoom() {
        byte[] packet = TestPackets.udp(POD1, Ipv4Address.parse("10.99.0.1"), 63, 1, 2, 10);
        PacketBuffer p = pool.acquire();
        try {
            p.setData(27, 0).put(packet);
            assertEquals(drop(DropReason.NO_ROOM), tunnel.noRoute(p));
            assertArrayEquals(packet, p.toByteArray());
            p.setData(28, 0).put(packet);
            assertEquals(Encapsulation.REPLY, tunnel.noRoute(p));
            assertEquals(0, p.offset());
        } finally {
            p.release();
        }
    }
}
