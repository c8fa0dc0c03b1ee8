package io.dataplane.ipip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Icmpv4Repr;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * IP-in-IP in place on pool buffers: the golden frame, each outer field's rule (DF, TTL, ECN,
 * identification), and every bad input on both sides under its own drop reason with the buffer
 * left to the caller.
 */
class IpipEncapsulationTest {
    static final int A = Ipv4Address.parse("192.0.2.1");
    static final int B = Ipv4Address.parse("192.0.2.2");
    static final int STRANGER = Ipv4Address.parse("192.0.2.99");
    static final int POD_A = Ipv4Address.parse("10.244.1.1");
    static final int POD_B = Ipv4Address.parse("10.244.2.1");
    static final int MTU = 1480;

    /**
     * The inner packet: ICMP echo request 10.244.1.1 -&gt; 10.244.2.1, TTL 63, DF, identification
     * 0x1234, echo id 0x4242 seq 1, data 00..0f. Checksums computed by an RFC 1071 reference outside this project.
     */
    static final byte[] INNER = HexFormat.ofDelimiter(" ").parseHex(
            "45 00 00 2c 12 34 40 00 3f 01 10 b4 0a f4 01 01 0a f4 02 01 "
            + "08 00 7d 7c 42 42 00 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
    /**
     * Its outer header from 192.0.2.1 to 192.0.2.2: version 4, IHL 5, DSCP/ECN 0, total length 64,
     * identification 0, DF (copied), TTL 64, protocol 4, checksum 0xb6b6.
     */
    static final byte[] OUTER = HexFormat.ofDelimiter(" ").parseHex("45 00 00 40 00 00 40 00 40 04 b6 b6 c0 00 02 01 c0 00 02 02");

    private PacketPool pool;
    private AddressSet peers;
    private PeerEntries entries;
    private int toB;
    private IpipEncapsulation tunnel;

    @BeforeEach
    void setUp() {
        pool = new PacketPool(16);
        peers = new AddressSet();
        entries = new PeerEntries();
        toB = entries.add(null, B).id();
        peers.add(B, toB);
        tunnel = new IpipEncapsulation(IpipTunnelConfig.of(A, MTU), peers, entries);
    }

    @AfterEach
    void tearDown() {
        assertEquals(0, pool.outstanding(), "buffers still out");
        pool.close();
    }

    /** The inner packet built from the core's Reprs (with the given DF, TTL, DSCP and ECN) in a fresh buffer at the headroom. */
    private PacketBuffer inner(boolean df, int ttl, int dscp, int ecn, int dataLength) {
        PacketBuffer p = pool.acquire();
        int icmpLength = Icmpv4Header.HEADER_LEN + dataLength;
        p.setLength(Ipv4Header.HEADER_LEN + icmpLength);
        MemorySegment s = p.segment();
        for (int i = 0; i < dataLength; i++) s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, p.offset() + 28 + i, (byte) i);
        Icmpv4Repr.echoRequest(0x4242, 1).emit(new Icmpv4Header().wrap(s, p.offset() + Ipv4Header.HEADER_LEN), icmpLength);
        new Ipv4Repr(dscp, ecn, 0x1234, df, false, 0, ttl, Ipv4Header.PROTO_ICMP, POD_A, POD_B, null, icmpLength)
                .emit(new Ipv4Header().wrap(s, p.offset()));
        return p;
    }

    private static Ipv4Repr outerOf(PacketBuffer p) {
        Ipv4Header outer = new Ipv4Header().wrap(p.segment(), p.offset());
        assertEquals(Ipv4Header.VALID, outer.validate(p.length()));
        assertTrue(outer.verifyChecksum(), "outer checksum");
        return Ipv4Repr.parse(outer);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    // ---- encapsulation ----

    @Test
    void encapBuildsTheGoldenFrameInPlace() {
        PacketBuffer p = inner(true, 63, 0, 0, 16);
        try {
            assertArrayEquals(INNER, p.toByteArray(), "inner packet from the Reprs");
            int innerOffset = p.offset();
            assertEquals(Encapsulation.FORWARD, tunnel.encap(p, toB));
            assertArrayEquals(concat(OUTER, INNER), p.toByteArray());
            assertEquals(innerOffset - 20, p.offset(), "the outer header sits in the headroom; the inner bytes never moved");
            assertEquals(B, p.peerAddress());
            assertEquals(0, p.peerPort());
            assertEquals(new Ipv4Repr(0, 0, 0, true, false, 0, 64, Ipv4Header.PROTO_IPIP, A, B, null, 44), outerOf(p));
        } finally {
            p.release();
        }
    }

    @Test
    void dfIsCopiedFromTheInnerHeader() {
        for (boolean df : new boolean[] {true, false}) {
            PacketBuffer p = inner(df, 63, 0, 0, 100);
            try {
                assertEquals(Encapsulation.FORWARD, tunnel.encap(p, toB));
                Ipv4Repr outer = outerOf(p);
                assertEquals(df, outer.dontFragment(), "outer DF for inner DF=" + df);
                assertFalse(outer.moreFragments());
                assertEquals(0, outer.fragmentOffset());
                assertEquals(0, outer.identification(), "identification 0: the kernel picks one for non-atomic datagrams");
            } finally {
                p.release();
            }
        }
    }

    @Test
    void outerTtlIs64ConfiguredOrInherited() {
        int[][] cases = {{IpipTunnelConfig.DEFAULT_OUTER_TTL, 64}, {9, 9}, {IpipTunnelConfig.INHERIT_TTL, 37}};
        for (int[] c : cases) {
            IpipEncapsulation t = new IpipEncapsulation(IpipTunnelConfig.of(A, MTU).withOuterTtl(c[0]), peers, entries);
            PacketBuffer p = inner(true, 37, 0, 0, 8);
            try {
                assertEquals(Encapsulation.FORWARD, t.encap(p, toB));
                assertEquals(c[1], outerOf(p).ttl(), "outerTtl=" + c[0]);
                assertEquals(37, new Ipv4Header().wrap(p.segment(), p.offset() + 20).ttl(), "the inner TTL is left alone");
            } finally {
                p.release();
            }
        }
    }

    @Test
    void outerEcnFollowsRfc6040AndDscpIsZero() {
        int[][] innerToOuter = {{0, 0}, {1, 1}, {2, 2}, {3, 2}}; // Not-ECT, ECT(1), ECT(0), CE -> ECT(0)
        for (int[] c : innerToOuter) {
            PacketBuffer p = inner(true, 63, 46, c[0], 8);
            try {
                assertEquals(Encapsulation.FORWARD, tunnel.encap(p, toB));
                Ipv4Repr outer = outerOf(p);
                assertEquals(c[1], outer.ecn(), "outer ECN for inner ECN " + c[0]);
                assertEquals(0, outer.dscp(), "DSCP 0, as flannel.ipip's tos 0");
            } finally {
                p.release();
            }
        }
    }

    @Test
    void encapRefusesWhatItMustNotWrap() {
        PacketBuffer ttl0 = inner(true, 0, 0, 0, 8);
        PacketBuffer big = inner(true, 63, 0, 0, MTU - 28 + 1);
        PacketBuffer fits = inner(true, 63, 0, 0, MTU - 28);
        PacketBuffer gso = inner(true, 63, 0, 0, 100).setGsoSize(50);
        PacketBuffer cramped = inner(true, 63, 0, 0, 8);
        try {
            byte[] before = ttl0.toByteArray();
            assertEquals(DropReason.TTL_EXPIRED.ordinal(), tunnel.encap(ttl0, toB));
            assertArrayEquals(before, ttl0.toByteArray(), "nothing written");
            assertEquals(DropReason.OVERSIZE.ordinal(), tunnel.encap(big, toB));
            assertEquals(Encapsulation.FORWARD, tunnel.encap(fits, toB));
            assertEquals(MTU + 20, fits.length(), "an MTU-sized packet makes an underlay-MTU-sized datagram");
            int gsoInner = gso.length();
            assertTrue(tunnel.encapsulatesSuperPackets());
            assertEquals(Encapsulation.FORWARD, tunnel.encap(gso, toB), "a super-packet is wrapped whole, for the socket to cut");
            assertEquals(gsoInner + 20, gso.length(), "one outer header in front of the whole super-packet");
            assertEquals(Ipv4Header.PROTO_IPIP, Byte.toUnsignedInt(gso.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, gso.offset() + 9)));
            cramped.setData(19, 0);
            cramped.put(INNER);
            assertEquals(DropReason.NO_ROOM.ordinal(), tunnel.encap(cramped, toB));
        } finally {
            for (PacketBuffer b : new PacketBuffer[] {ttl0, big, fits, gso, cramped}) b.release();
        }
    }

    @Test
    void encapTrimsBytesBeyondTheInnerTotalLength() {
        PacketBuffer p = inner(true, 63, 0, 0, 16);
        try {
            p.setLength(p.length() + 6);
            assertEquals(Encapsulation.FORWARD, tunnel.encap(p, toB));
            assertArrayEquals(concat(OUTER, INNER), p.toByteArray());
        } finally {
            p.release();
        }
    }

    // ---- decapsulation ----

    /** A received datagram: {@code bytes} as the data at the headroom, from {@code peer}. */
    private PacketBuffer received(byte[] bytes, int peer) {
        return pool.acquire().put(bytes).setPeer(peer, 0);
    }

    private int decap(byte[] bytes, int peer) {
        PacketBuffer p = received(bytes, peer);
        try {
            return tunnel.decap(p);
        } finally {
            p.release();
        }
    }

    /** The golden frame with {@code change} applied to a copy (offsets from the start of the outer header). */
    private static byte[] golden(java.util.function.Consumer<byte[]> change) {
        byte[] frame = concat(OUTER, INNER);
        change.accept(frame);
        return frame;
    }

    /** Fixes the IPv4 header checksum of the header at {@code at} after a change. */
    private static void fixChecksum(byte[] frame, int at) {
        MemorySegment s = MemorySegment.ofArray(frame);
        new Ipv4Header().wrap(s, at).fillChecksum();
    }

    @Test
    void decapUnwrapsTheGoldenFrame() {
        PacketBuffer p = received(concat(OUTER, INNER), B);
        try {
            int start = p.offset();
            assertEquals(Encapsulation.FORWARD, tunnel.decap(p));
            assertArrayEquals(INNER, p.toByteArray());
            assertEquals(start + 20, p.offset(), "decapsulation moves the offset, not the bytes");
        } finally {
            p.release();
        }
    }

    @Test
    void decapTrimsTrailingBytesToTheInnerTotalLength() {
        PacketBuffer p = received(concat(concat(OUTER, INNER), new byte[] {1, 2, 3, 4}), B);
        try {
            assertEquals(Encapsulation.FORWARD, tunnel.decap(p));
            assertArrayEquals(INNER, p.toByteArray());
        } finally {
            p.release();
        }
    }

    @Test
    void decapDropsInnerPacketsAboveTheMtu() {
        IpipEncapsulation small = new IpipEncapsulation(IpipTunnelConfig.of(A, 100), peers, entries);
        PacketBuffer p = inner(true, 63, 0, 0, 100 - 28);
        PacketBuffer q = inner(true, 63, 0, 0, 100 - 28 + 1);
        try {
            PeerEntries toA = new PeerEntries();
            int a = toA.add(null, A).id();
            IpipEncapsulation wide = new IpipEncapsulation(IpipTunnelConfig.of(B, 1480), new AddressSet(), toA);
            assertEquals(Encapsulation.FORWARD, wide.encap(p, a));
            assertEquals(Encapsulation.FORWARD, wide.encap(q, a));
            p.setPeer(B, 0);
            q.setPeer(B, 0);
            assertEquals(Encapsulation.FORWARD, small.decap(p));
            assertEquals(DropReason.OVERSIZE.ordinal(), small.decap(q));
        } finally {
            p.release();
            q.release();
        }
    }

    /** An inner TCP packet POD_B -&gt; POD_A with {@code payload} bytes, its checksum partial if {@code partial}. */
    private static byte[] tcp(int payload, boolean partial) {
        byte[] p = TcpSegment.of(POD_B, 5201, POD_A, 40000, 1, 1, new byte[0], TcpSegment.pattern(1, payload)).bytes();
        if (partial) {
            int pseudo = TcpSegment.pseudoHeaderSum(POD_B, POD_A, p.length - 20);
            p[36] = (byte) (pseudo >>> 8);
            p[37] = (byte) pseudo;
        }
        return p;
    }

    /** {@code inner} behind an outer header from B to A, as the raw socket takes it up. */
    private static byte[] fromB(byte[] inner) {
        byte[] outer = OUTER.clone();
        System.arraycopy(OUTER, 16, outer, 12, 4);
        System.arraycopy(OUTER, 12, outer, 16, 4);
        int total = outer.length + inner.length;
        outer[2] = (byte) (total >>> 8);
        outer[3] = (byte) total;
        fixChecksum(outer, 0);
        return concat(outer, inner);
    }

    @Test
    void aTcpSuperPacketThatGroJoinedForwardsWholeWithTheSegmentSizeOfTheMtu() {
        try (PacketPool large = new PacketPool(2, 16384, 128)) {
            byte[] inner = tcp(8000, true);
            PacketBuffer p = large.acquire().put(fromB(inner)).setPeer(B, 0);
            try {
                assertEquals(Encapsulation.FORWARD, tunnel.decap(p));
                assertArrayEquals(inner, p.toByteArray());
                assertEquals(MTU - 40, p.gsoSize(), "segments of the inner MTU");
            } finally {
                p.release();
            }
            // A complete checksum is no merged super-packet but an inner packet too large: OVERSIZE.
            PacketBuffer q = large.acquire().put(fromB(tcp(8000, false))).setPeer(B, 0);
            try {
                assertEquals(DropReason.OVERSIZE.ordinal(), tunnel.decap(q));
            } finally {
                q.release();
            }
        }
        PacketBuffer small = received(fromB(tcp(100, true)), B);
        try {
            assertEquals(Encapsulation.FORWARD, tunnel.decap(small));
            assertEquals(0, small.gsoSize(), "one packet");
        } finally {
            small.release();
        }
        assertEquals(1, tunnel.superPacketsReceived());
    }

    @Test
    void congestionMarkReachesAnEcnCapableInnerPacket() {
        PacketBuffer p = received(golden(f -> {
            f[1] = 3; // outer CE
            f[21] = 2; // inner ECT(0)
            fixChecksum(f, 0);
            fixChecksum(f, 20);
        }), B);
        try {
            assertEquals(Encapsulation.FORWARD, tunnel.decap(p));
            Ipv4Header inner = new Ipv4Header().wrap(p.segment(), p.offset());
            assertEquals(3, inner.ecn(), "CE copied inward");
            assertTrue(inner.verifyChecksum(), "checksum updated for the new ECN field");
        } finally {
            p.release();
        }
    }

    @Test
    void unknownPeersAreTakenWhenConfigured() {
        IpipEncapsulation open = new IpipEncapsulation(IpipTunnelConfig.of(A, MTU).withAcceptUnknownPeers(true), peers, entries);
        PacketBuffer p = received(concat(OUTER, INNER), STRANGER);
        try {
            assertEquals(Encapsulation.FORWARD, open.decap(p));
        } finally {
            p.release();
        }
    }

    @Test
    void configErrorsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpipTunnelConfig.of(A, MTU).withOuterTtl(256));
        assertEquals("outer TTL out of range: outerTtl=256 (1-255, or 0 to copy the inner TTL)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IpipTunnelConfig.of(A, 67));
        assertEquals("inner MTU out of range: innerMtu=67 (68-65515)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IpipTunnelConfig.of(0, MTU));
        assertEquals("local address missing: localAddress=0.0.0.0", e.getMessage());
        assertEquals(20, tunnel.headroom());
        assertEquals(20, tunnel.overhead());
    }
}
