package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpSegments} against segments this test builds field by field, as the kernel's
 * {@code tcp_gso_segment} would send them, with its own RFC 1071 checksum (not
 * {@link InternetChecksum}): every header byte, every payload slice, with and without the 22-byte
 * VXLAN prefix, then the wrap-arounds and every kind of super-packet that cannot be cut.
 */
class TcpSegmentsTest {
    private static final int BAD = DropReason.BAD_SUPER_PACKET.ordinal();
    private static final int SRC = Ipv4Address.parse("10.244.1.5");
    private static final int DST = Ipv4Address.parse("10.244.2.7");
    private static final int FIN = 0x01;
    private static final int PSH = 0x08;
    private static final int ACK = 0x10;
    private static final int CWR = 0x80;
    /** NOP, NOP, timestamps (kind 8, length 10): what Linux puts on every segment of a bulk transfer. */
    private static final byte[] TIMESTAMPS = Bytes.of(1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
    /** A 4-byte IPv4 option area: NOP, NOP, NOP, end of list. */
    private static final byte[] IP_NOPS = Bytes.of(1, 1, 1, 0);

    private final PacketPool pool = new PacketPool(4, 8192, 128);
    private final PacketPool small = new PacketPool(1, 128, 0); // data can end where the slot ends
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void poolsBack() {
        arena.close();
        assertEquals(0, pool.outstanding(), "buffers still out");
        assertEquals(0, small.outstanding(), "buffers still out");
        pool.close();
        small.close();
    }

    /** The fields a packet of this test is built from; the super-packet and each segment are one each. */
    private record Spec(byte[] prefix, byte[] ipOptions, int id, int seq, int flags, byte[] tcpOptions, byte[] payload) {
        Spec withPayload(byte[] p) {
            return new Spec(prefix, ipOptions, id, seq, flags, tcpOptions, p);
        }
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (i * 31 + (i >>> 8) + seed);
        return b;
    }

    private static byte[] vxlanPrefix() {
        // VXLAN header (flags I, VNI 1) and the inner Ethernet header: any 22 bytes are copied as they are.
        return Bytes.concat(Bytes.of(0x08, 0, 0, 0, 0, 0, 1, 0),
                Bytes.of(0x02, 0x42, 0x0a, 0xf4, 0x02, 0x00, 0x02, 0x42, 0x0a, 0xf4, 0x01, 0x00, 0x08, 0x00));
    }

    /**
     * The bytes of {@code s}: prefix, IPv4 (DSCP 0, ECT(0), DF, TTL 64), TCP 40000 -> 5201. With
     * {@code checksums} false both checksum fields hold junk, as in a super-packet from a TUN
     * (the kernel leaves the TCP checksum partial); otherwise they are summed here.
     */
    private static byte[] build(Spec s, boolean checksums) {
        int ihl = 20 + s.ipOptions().length;
        int thl = 20 + s.tcpOptions().length;
        int total = ihl + thl + s.payload().length;
        byte[] b = new byte[s.prefix().length + total];
        System.arraycopy(s.prefix(), 0, b, 0, s.prefix().length);
        int ip = s.prefix().length;
        b[ip] = (byte) (0x40 | ihl / 4);
        b[ip + 1] = 0x02;
        put16(b, ip + 2, total);
        put16(b, ip + 4, s.id());
        put16(b, ip + 6, 0x4000);
        b[ip + 8] = 64;
        b[ip + 9] = 6;
        put16(b, ip + 10, 0xdead);
        put32(b, ip + 12, SRC);
        put32(b, ip + 16, DST);
        System.arraycopy(s.ipOptions(), 0, b, ip + 20, s.ipOptions().length);
        int tcp = ip + ihl;
        put16(b, tcp, 40000);
        put16(b, tcp + 2, 5201);
        put32(b, tcp + 4, s.seq());
        put32(b, tcp + 8, 0x01020304);
        b[tcp + 12] = (byte) (thl / 4 << 4);
        b[tcp + 13] = (byte) s.flags();
        put16(b, tcp + 14, 0x1f5a);
        put16(b, tcp + 16, 0xbeef);
        put16(b, tcp + 18, 0);
        System.arraycopy(s.tcpOptions(), 0, b, tcp + 20, s.tcpOptions().length);
        System.arraycopy(s.payload(), 0, b, tcp + thl, s.payload().length);
        if (checksums) {
            put16(b, ip + 10, 0);
            put16(b, ip + 10, ~onesSum(b, ip, ihl, 0) & 0xffff);
            put16(b, tcp + 16, 0);
            int tcpLength = thl + s.payload().length;
            long pseudo = (SRC >>> 16) + (SRC & 0xffff) + (DST >>> 16) + (DST & 0xffff) + 6 + tcpLength;
            put16(b, tcp + 16, ~onesSum(b, tcp, tcpLength, pseudo) & 0xffff);
        }
        return b;
    }

    /** RFC 1071 the long way: big-endian words, an odd last byte padded with zero, carries folded at the end. */
    private static int onesSum(byte[] b, int from, int length, long initial) {
        long sum = initial;
        for (int i = 0; i < length; i += 2) {
            int hi = b[from + i] & 0xff;
            int lo = i + 1 < length ? b[from + i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        while (sum >>> 16 != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) sum;
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    /** Segment {@code i} of {@code s} cut at {@code mss}, as the kernel would send it. */
    private static byte[] expectedSegment(Spec s, int mss, int i) {
        int payload = s.payload().length;
        int n = (payload + mss - 1) / mss;
        int from = i * mss;
        int len = Math.min(mss, payload - from);
        int flags = s.flags();
        if (i != n - 1) flags &= ~(FIN | PSH);
        if (i != 0) flags &= ~CWR;
        byte[] slice = new byte[len];
        System.arraycopy(s.payload(), from, slice, 0, len);
        // Identification and sequence number wrap at 16 and 32 bits: int arithmetic and the puts' truncation do that.
        return build(new Spec(s.prefix(), s.ipOptions(), (s.id() + i) & 0xffff, s.seq() + i * mss, flags, s.tcpOptions(), slice),
                true);
    }

    private PacketBuffer superPacket(byte[] bytes, int mss) {
        return pool.acquire().put(bytes).setGsoSize(mss);
    }

    /**
     * Prepares {@code s} at {@code mss}, writes every segment's headers into a separate segment at an
     * odd offset followed by its payload slice, and compares each with {@link #expectedSegment}.
     */
    private void assertSegmentsAsTheKernelCutsThem(Spec s, int mss) {
        byte[] bytes = build(s, false);
        PacketBuffer p = superPacket(bytes, mss);
        try {
            TcpSegments segments = new TcpSegments();
            assertEquals(TcpSegments.VALID, segments.prepare(p, s.prefix().length));
            int n = (s.payload().length + mss - 1) / mss;
            int headers = s.prefix().length + 20 + s.ipOptions().length + 20 + s.tcpOptions().length;
            assertEquals(n, segments.segments());
            assertEquals(headers, segments.headerLength());
            assertEquals(mss, segments.mss());
            assertEquals(s.payload().length - (n - 1) * mss, segments.payloadLength(n - 1), "last segment's payload");
            MemorySegment out = arena.allocate(TcpSegments.MAX_HEADER_LENGTH + 8);
            for (int i = 0; i < n; i++) {
                out.fill((byte) 0x5a);
                segments.writeHeader(i, out, 3);
                byte[] got = Bytes.concat(Bytes.read(out, 3, headers),
                        Bytes.read(p.segment(), segments.payloadOffset(i), segments.payloadLength(i)));
                assertArrayEquals(expectedSegment(s, mss, i), got, "segment " + i + " of " + n);
                assertArrayEquals(Bytes.of(0x5a, 0x5a, 0x5a), Bytes.read(out, 0, 3), "nothing written before the offset");
                assertArrayEquals(Bytes.of(0x5a), Bytes.read(out, 3 + headers, 1), "nothing written after the headers");
            }
            assertArrayEquals(bytes, p.toByteArray(), "the super-packet itself is left as it was");
        } finally {
            p.release();
        }
    }

    private static Spec bulk(byte[] prefix, int payload) {
        return new Spec(prefix, new byte[0], 0x1234, 0x7a3b_0001, ACK | PSH | FIN | CWR, TIMESTAMPS, pattern(payload, 7));
    }

    @Test
    void segmentsAreTheKernelsWithoutPrefix() {
        assertSegmentsAsTheKernelCutsThem(bulk(new byte[0], 3 * 1000 + 123), 1000);
    }

    @Test
    void segmentsAreTheKernelsBehindAVxlanPrefix() {
        assertSegmentsAsTheKernelCutsThem(bulk(vxlanPrefix(), 3 * 1000 + 123), 1000);
    }

    @Test
    void oddSegmentSizeAndIpOptionsPutPayloadSlicesAtOddOffsets() {
        Spec s = new Spec(vxlanPrefix(), IP_NOPS, 0x0100, 0x10, ACK | PSH, TIMESTAMPS, pattern(5 * 999 + 1, 3));
        assertSegmentsAsTheKernelCutsThem(s, 999);
        assertSegmentsAsTheKernelCutsThem(s.withPayload(pattern(4 * 999, 11)), 999); // last one full size too
    }

    @Test
    void onePayloadNoLargerThanTheSegmentSizeIsOneSegmentWithEveryFlag() {
        Spec s = bulk(vxlanPrefix(), 1000);
        assertSegmentsAsTheKernelCutsThem(s, 1000);
        assertSegmentsAsTheKernelCutsThem(s, 1448);
        byte[] segment0 = expectedSegment(s, 1448, 0);
        assertEquals(ACK | PSH | FIN | CWR, segment0[22 + 20 + 13] & 0xff, "the only segment is first and last");
    }

    @Test
    void sequenceNumberWrapsPast2To32AndIdentificationPast65535() {
        Spec s = new Spec(new byte[0], new byte[0], 0xfffe, 0xffff_fc00, ACK | PSH, TIMESTAMPS, pattern(4 * 1000, 5));
        assertSegmentsAsTheKernelCutsThem(s, 1000);
        byte[] bytes = build(s, false);
        PacketBuffer p = superPacket(bytes, 1000);
        try {
            TcpSegments segments = new TcpSegments();
            assertEquals(TcpSegments.VALID, segments.prepare(p, 0));
            MemorySegment out = arena.allocate(TcpSegments.MAX_HEADER_LENGTH);
            int[] ids = {0xfffe, 0xffff, 0x0000, 0x0001};
            long[] seqs = {0xffff_fc00L, 0xffff_ffe8L, 976, 1976};
            for (int i = 0; i < 4; i++) {
                segments.writeHeader(i, out, 0);
                Ipv4Header ip = new Ipv4Header().wrap(out, 0);
                assertEquals(ids[i], ip.identification(), "identification of segment " + i);
                assertEquals(seqs[i], Integer.toUnsignedLong(out.get(NetworkOrder.U32, 20 + 4)), "sequence of segment " + i);
                assertTrue(ip.verifyChecksum(), "IPv4 checksum of segment " + i);
            }
        } finally {
            p.release();
        }
    }

    /** {@code prepare} of {@code bytes} as a super-packet of segment size {@code mss} behind {@code prefix} bytes. */
    private int prepare(byte[] bytes, int mss, int prefix) {
        PacketBuffer p = superPacket(bytes, mss);
        try {
            return new TcpSegments().prepare(p, prefix);
        } finally {
            p.release();
        }
    }

    @Test
    void superPacketsThatCannotBeCutAreBad() {
        Spec s = bulk(vxlanPrefix(), 3 * 1000 + 123);
        byte[] good = build(s, false);
        int ip = 22;
        int tcp = ip + 20;
        assertEquals(TcpSegments.VALID, prepare(good, 1000, 22));

        assertEquals(BAD, prepare(good, 0, 22), "no segment size");
        assertEquals(BAD, prepare(good, -1000, 22), "negative segment size");
        assertEquals(BAD, prepare(good, 1000, 23), "prefix beyond 22 bytes");
        assertEquals(BAD, prepare(good, 1000, -1), "negative prefix");

        byte[] udp = good.clone();
        udp[ip + 9] = 17;
        assertEquals(BAD, prepare(udp, 1000, 22), "UDP");
        byte[] moreFragments = good.clone();
        put16(moreFragments, ip + 6, 0x2000);
        assertEquals(BAD, prepare(moreFragments, 1000, 22), "MF set");
        byte[] laterFragment = good.clone();
        put16(laterFragment, ip + 6, 0x0010);
        assertEquals(BAD, prepare(laterFragment, 1000, 22), "fragment offset");
        byte[] notIpv4 = good.clone();
        notIpv4[ip] = 0x65;
        assertEquals(BAD, prepare(notIpv4, 1000, 22), "version 6");

        byte[] totalShort = good.clone();
        put16(totalShort, ip + 2, good.length - 22 - 1);
        assertEquals(BAD, prepare(totalShort, 1000, 22), "total length one short of the data");
        byte[] totalLong = good.clone();
        put16(totalLong, ip + 2, good.length - 22 + 1);
        assertEquals(BAD, prepare(totalLong, 1000, 22), "total length one beyond the data");
        assertEquals(BAD, prepare(good, 1000, 0), "prefix not counted: the IPv4 header is not where it says");

        for (int offset = 0; offset < 5; offset++) {
            byte[] shortOffset = good.clone();
            shortOffset[tcp + 12] = (byte) (offset << 4);
            assertEquals(BAD, prepare(shortOffset, 1000, 22), "TCP data offset " + offset);
        }
        // 10 bytes of payload after a 32-byte header: data offsets up to 10 (40 bytes, eating into the
        // payload) still leave some, 11..15 (44..60 bytes) reach beyond the packet.
        byte[] tiny = build(s.withPayload(pattern(10, 1)), false);
        assertEquals(TcpSegments.VALID, prepare(tiny, 1000, 22));
        byte[] headerIntoPayload = tiny.clone();
        headerIntoPayload[tcp + 12] = (byte) (10 << 4);
        assertEquals(TcpSegments.VALID, prepare(headerIntoPayload, 1000, 22), "a 40-byte header leaves 2 bytes of payload");
        for (int offset = 11; offset <= 15; offset++) {
            byte[] beyond = tiny.clone();
            beyond[tcp + 12] = (byte) (offset << 4);
            assertEquals(BAD, prepare(beyond, 1000, 22), "TCP data offset " + offset + " beyond the packet");
        }

        assertEquals(BAD, prepare(build(s.withPayload(new byte[0]), false), 1000, 22), "no payload");
        Spec bare = new Spec(new byte[0], new byte[0], 1, 1, ACK, new byte[0], new byte[0]);
        assertEquals(BAD, prepare(build(bare, false), 1000, 0), "a 20-byte TCP header and nothing after it");
        byte[] cutTcp = Arrays.copyOf(build(bare, false), 20 + 19);
        put16(cutTcp, 2, cutTcp.length);
        assertEquals(BAD, prepare(cutTcp, 1000, 0), "19 bytes of TCP header, total length agreeing");
        assertEquals(BAD, prepare(Arrays.copyOf(good, 10), 1000, 22), "data shorter than the prefix");
    }

    /**
     * The first {@code length} bytes of a good super-packet, placed so that the data ends where the
     * buffer's slot ends (any read past the data throws), with the total length as it was and with
     * it set to what is there: never an exception; bad unless headers and at least a byte of payload are all there.
     */
    @Test
    void truncatedSuperPacketsOfEveryLengthAreBadAndReadNothingBeyondTheData() {
        for (byte[] prefix : new byte[][] {new byte[0], vxlanPrefix()}) {
            byte[] good = build(bulk(prefix, 3 * 1000 + 123), false);
            int headers = prefix.length + 20 + 32;
            for (int length = 0; length <= 60; length++) {
                int total = prefix.length + length;
                for (boolean fixTotal : new boolean[] {false, true}) {
                    byte[] cut = Arrays.copyOf(good, total);
                    if (fixTotal && length >= 4) put16(cut, prefix.length + 2, length);
                    PacketBuffer p = small.acquire();
                    try {
                        p.setData(p.capacity() - total, 0).put(cut).setGsoSize(1000);
                        int r = new TcpSegments().prepare(p, prefix.length);
                        int expected = fixTotal && total > headers ? TcpSegments.VALID : BAD;
                        assertEquals(expected, r, "prefix " + prefix.length + ", " + length + " bytes from the IPv4 header, total length "
                                + (fixTotal ? "fixed" : "as it was"));
                    } finally {
                        p.release();
                    }
                }
            }
        }
    }
}
