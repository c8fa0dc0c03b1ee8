package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Ipv4HeaderTest {
    /** The inner IPv4 header of frame 1 of kernel-vxlan-flannel1-ping.pcap (tshark agrees field by field). */
    static final byte[] GOLDEN = Bytes.of(
            0x45,             // version 4, IHL 5 (20 bytes)
            0x00,             // DSCP 0, ECN 0
            0x00, 0x54,       // total length 84
            0x9f, 0x0f,       // identification 0x9f0f
            0x40, 0x00,       // flags DF, fragment offset 0
            0x40,             // TTL 64
            0x01,             // protocol ICMP
            0x82, 0xb0,       // header checksum
            0x0a, 0xf4, 0x01, 0x01,  // source 10.244.1.1
            0x0a, 0xf4, 0x02, 0x01); // destination 10.244.2.1
    static final int GOLDEN_TOTAL = 84;
    static final Ipv4Repr GOLDEN_REPR = new Ipv4Repr(0, 0, 0x9f0f, true, false, 0, 64, Ipv4Header.PROTO_ICMP,
            Ipv4Address.parse("10.244.1.1"), Ipv4Address.parse("10.244.2.1"), new byte[0], 64);

    /** An IGMPv3 report header with the Router Alert option (RFC 2113); checksum summed by hand. */
    static final byte[] GOLDEN_OPTIONS = Bytes.of(
            0x46,             // version 4, IHL 6 (24 bytes)
            0xc0,             // DSCP 48 (CS6), ECN 0
            0x00, 0x20,       // total length 32
            0x00, 0x00,       // identification 0
            0x40, 0x00,       // flags DF, fragment offset 0
            0x01,             // TTL 1
            0x02,             // protocol IGMP
            0x42, 0x00,       // header checksum
            0xc0, 0x00, 0x02, 0x01,  // source 192.0.2.1
            0xe0, 0x00, 0x00, 0x16,  // destination 224.0.0.22
            0x94, 0x04, 0x00, 0x00); // option: Router Alert, length 4, value 0
    static final Ipv4Repr GOLDEN_OPTIONS_REPR = new Ipv4Repr(48, 0, 0, true, false, 0, 1, 2,
            Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("224.0.0.22"), Bytes.of(0x94, 0x04, 0x00, 0x00), 8);

    private static final int TRUNCATED = DropReason.TRUNCATED.ordinal();

    private static MemorySegment packet(byte[] header, int totalLength, int offset) {
        MemorySegment s = MemorySegment.ofArray(new byte[offset + totalLength]);
        MemorySegment.copy(header, 0, s, ValueLayout.JAVA_BYTE, offset, header.length);
        return s;
    }

    @Test
    void deconstruct() {
        Ipv4Header ip = new Ipv4Header().wrap(packet(GOLDEN, GOLDEN_TOTAL, 0), 0);
        assertEquals(Ipv4Header.VALID, ip.validate(GOLDEN_TOTAL));
        assertEquals(4, ip.version());
        assertEquals(5, ip.ihl());
        assertEquals(20, ip.headerLength());
        assertEquals(0, ip.dscp());
        assertEquals(0, ip.ecn());
        assertEquals(84, ip.totalLength());
        assertEquals(64, ip.payloadLength());
        assertEquals(20, ip.payloadOffset());
        assertEquals(0x9f0f, ip.identification());
        assertTrue(ip.dontFragment());
        assertFalse(ip.moreFragments());
        assertEquals(0, ip.fragmentOffset());
        assertFalse(ip.isFragment());
        assertEquals(64, ip.ttl());
        assertEquals(Ipv4Header.PROTO_ICMP, ip.protocol());
        assertEquals(0x82b0, ip.checksum());
        assertEquals("10.244.1.1", Ipv4Address.toString(ip.srcAddr()));
        assertEquals("10.244.2.1", Ipv4Address.toString(ip.dstAddr()));
        assertEquals(0, ip.optionsLength());
        assertTrue(ip.verifyChecksum());
        assertEquals(0x82b0, ip.computeChecksum());
    }

    @Test
    void construct() {
        MemorySegment s = MemorySegment.ofArray(new byte[20]);
        new Ipv4Header().wrap(s, 0)
                .setVersion4AndIhl(5)
                .setDscp(0)
                .setEcn(0)
                .setTotalLength(84)
                .setIdentification(0x9f0f)
                .setDontFragment(true)
                .setTtl(64)
                .setProtocol(Ipv4Header.PROTO_ICMP)
                .setSrcAddr(Ipv4Address.parse("10.244.1.1"))
                .setDstAddr(Ipv4Address.parse("10.244.2.1"))
                .fillChecksum();
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void parse() {
        Ipv4Header ip = new Ipv4Header().wrap(packet(GOLDEN, GOLDEN_TOTAL, 0), 0);
        assertEquals(GOLDEN_REPR, Ipv4Repr.parse(ip));
        assertEquals(84, GOLDEN_REPR.totalLength());
    }

    @Test
    void emit() {
        MemorySegment s = MemorySegment.ofArray(new byte[20]);
        s.fill((byte) 0x5a); // emit writes every byte: leftovers must not show
        GOLDEN_REPR.emit(new Ipv4Header().wrap(s, 0));
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void headerWithOptionsDeconstructsParsesAndEmits() {
        Ipv4Header ip = new Ipv4Header().wrap(packet(GOLDEN_OPTIONS, 32, 0), 0);
        assertEquals(Ipv4Header.VALID, ip.validate(32));
        assertEquals(6, ip.ihl());
        assertEquals(24, ip.headerLength());
        assertEquals(4, ip.optionsLength());
        assertEquals(48, ip.dscp());
        assertEquals(8, ip.payloadLength());
        assertEquals(24, ip.payloadOffset());
        assertTrue(ip.verifyChecksum());
        assertEquals(0x4200, ip.computeChecksum());
        assertEquals(GOLDEN_OPTIONS_REPR, Ipv4Repr.parse(ip));

        MemorySegment out = MemorySegment.ofArray(new byte[24]);
        out.fill((byte) 0xa5);
        GOLDEN_OPTIONS_REPR.emit(new Ipv4Header().wrap(out, 0));
        assertArrayEquals(GOLDEN_OPTIONS, out.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void worksAtAnOddOffsetOffHeap() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = Bytes.offHeap(arena, GOLDEN, 15, GOLDEN_TOTAL - 20);
            Ipv4Header ip = new Ipv4Header().wrap(s, 15);
            assertEquals(Ipv4Header.VALID, ip.validate(GOLDEN_TOTAL));
            assertEquals(GOLDEN_REPR, Ipv4Repr.parse(ip));
            assertTrue(ip.verifyChecksum());
            assertEquals(35, ip.payloadOffset());
        }
    }

    @Test
    void truncatedHeader() {
        for (int n = 0; n < 20; n++) {
            Ipv4Header ip = new Ipv4Header().wrap(MemorySegment.ofArray(java.util.Arrays.copyOf(GOLDEN, n)), 0);
            assertEquals(TRUNCATED, ip.validate(n), "length " + n);
            assertEquals(TRUNCATED, ip.validate(GOLDEN_TOTAL), "segment shorter than available, length " + n);
        }
        Ipv4Header ip = new Ipv4Header().wrap(packet(GOLDEN, GOLDEN_TOTAL, 0), 0);
        assertEquals(TRUNCATED, ip.validate(-1));
        assertEquals(TRUNCATED, ip.validate(Integer.MIN_VALUE));
        assertEquals(TRUNCATED, new Ipv4Header().wrap(packet(GOLDEN, GOLDEN_TOTAL, 0), 70).validate(84));
        assertEquals(TRUNCATED, new Ipv4Header().wrap(packet(GOLDEN, GOLDEN_TOTAL, 0), 85).validate(84));
        assertEquals(TRUNCATED, new Ipv4Header().wrap(packet(GOLDEN, GOLDEN_TOTAL, 0), -1).validate(84));
    }

    @Test
    void wrongVersion() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        for (int version : new int[] {0, 1, 5, 6, 15}) {
            ip.setVersion(version);
            assertEquals(DropReason.NOT_IPV4.ordinal(), ip.validate(GOLDEN_TOTAL), "version " + version);
        }
        ip.setVersion(4);
        assertEquals(Ipv4Header.VALID, ip.validate(GOLDEN_TOTAL));
    }

    @Test
    void impossibleHeaderLengths() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        for (int ihl = 0; ihl < 5; ihl++) {
            ip.setIhl(ihl);
            assertEquals(DropReason.BAD_IHL.ordinal(), ip.validate(GOLDEN_TOTAL), "IHL " + ihl);
        }
        // IHL 15 is 60 bytes: fine in 84 bytes, beyond the buffer in 40.
        ip.setIhl(15);
        assertEquals(Ipv4Header.VALID, ip.validate(GOLDEN_TOTAL));
        assertEquals(DropReason.BAD_IHL.ordinal(), ip.validate(40));
        assertEquals(DropReason.BAD_IHL.ordinal(), new Ipv4Header().wrap(s.asSlice(0, 40), 0).validate(GOLDEN_TOTAL));
    }

    @Test
    void impossibleTotalLengths() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), ip.validate(83), "total length beyond the bytes");
        assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), new Ipv4Header().wrap(s.asSlice(0, 83), 0).validate(84),
                "total length beyond the segment");
        ip.setTotalLength(19);
        assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), ip.validate(GOLDEN_TOTAL), "below the header");
        ip.setIhl(6).setTotalLength(23);
        assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), ip.validate(GOLDEN_TOTAL), "below IHL*4");
        ip.setTotalLength(24);
        assertEquals(Ipv4Header.VALID, ip.validate(GOLDEN_TOTAL), "header only, no payload");
        ip.setIhl(5).setTotalLength(0);
        assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), ip.validate(GOLDEN_TOTAL));
        ip.setTotalLength(0xffff);
        assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), ip.validate(GOLDEN_TOTAL));
        // Trailing bytes after the packet (Ethernet padding) are fine.
        ip.setTotalLength(60);
        assertEquals(Ipv4Header.VALID, ip.validate(GOLDEN_TOTAL));
    }

    @Test
    void validateNeverThrowsAndValidMeansEverythingIsReadable() {
        SplittableRandom random = new SplittableRandom(791);
        Ipv4Header ip = new Ipv4Header();
        for (int round = 0; round < 200_000; round++) {
            byte[] bytes = new byte[random.nextInt(80)];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) random.nextInt(256);
            if (bytes.length > 0 && random.nextBoolean()) bytes[0] = (byte) (0x40 | (bytes[0] & 0x0f));
            if (bytes.length > 3 && random.nextBoolean()) {
                bytes[2] = 0;
                bytes[3] = (byte) random.nextInt(bytes.length + 1);
            }
            int available = random.nextInt(4) == 0 ? random.nextInt() : random.nextInt(bytes.length + 2);
            ip.wrap(MemorySegment.ofArray(bytes), 0);
            int verdict = ip.validate(available);
            if (verdict == Ipv4Header.VALID) {
                assertTrue(ip.totalLength() <= Math.min(available, bytes.length));
                assertTrue(ip.headerLength() >= 20 && ip.headerLength() <= ip.totalLength());
                ip.computeChecksum();
                ip.verifyChecksum();
                Ipv4Repr.parse(ip);
            } else {
                DropReason reason = DropReason.of(verdict);
                assertTrue(reason == DropReason.TRUNCATED || reason == DropReason.NOT_IPV4
                        || reason == DropReason.BAD_IHL || reason == DropReason.BAD_TOTAL_LENGTH, reason::toString);
            }
        }
    }

    @Test
    void checksumDetectsCorruption() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        for (int i = 0; i < 20; i++) {
            byte b = s.get(ValueLayout.JAVA_BYTE, i);
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (b ^ 0x10));
            assertFalse(ip.verifyChecksum(), "flipped a bit of byte " + i);
            s.set(ValueLayout.JAVA_BYTE, i, b);
        }
        ip.setTtl(7);
        assertFalse(ip.verifyChecksum());
        ip.fillChecksum();
        assertTrue(ip.verifyChecksum());
    }

    @Test
    void computeChecksumAgreesWithTheReferenceWithAndWithoutOptions() {
        SplittableRandom random = new SplittableRandom(1071);
        for (int round = 0; round < 50_000; round++) {
            int ihl = round % 2 == 0 ? 5 : 5 + random.nextInt(11);
            byte[] bytes = new byte[ihl * 4 + 3];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) random.nextInt(256);
            int at = random.nextInt(4); // odd offsets too
            bytes[at] = (byte) (0x40 | ihl);
            Ipv4Header ip = new Ipv4Header().wrap(MemorySegment.ofArray(bytes), at);
            int field = ip.checksum();
            byte[] zeroed = java.util.Arrays.copyOfRange(bytes, at, at + ihl * 4);
            zeroed[10] = 0;
            zeroed[11] = 0;
            int expected = ~InternetChecksumTest.referenceSum(zeroed, 0, zeroed.length) & 0xffff;
            assertEquals(expected, ip.computeChecksum(), "IHL " + ihl);
            assertEquals(field, ip.checksum(), "computing leaves the field alone");
            assertEquals(InternetChecksumTest.referenceSum(bytes, at, ihl * 4) == 0xffff, ip.verifyChecksum());
            ip.fillChecksum();
            assertTrue(ip.verifyChecksum());
        }
    }

    @Test
    void decrementTtlUpdatesTheChecksumIncrementally() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        for (int ttl = 64; ttl > 1; ttl--) {
            assertEquals(Ipv4Header.VALID, ip.decrementTtl());
            assertEquals(ttl - 1, ip.ttl());
            assertEquals(Ipv4Header.PROTO_ICMP, ip.protocol());
            assertEquals(ip.computeChecksum(), ip.checksum(), "ttl " + (ttl - 1));
            assertTrue(ip.verifyChecksum());
        }
        byte[] before = s.toArray(ValueLayout.JAVA_BYTE);
        assertEquals(DropReason.TTL_EXPIRED.ordinal(), ip.decrementTtl());
        ip.setTtl(0).fillChecksum();
        before = s.toArray(ValueLayout.JAVA_BYTE);
        assertEquals(DropReason.TTL_EXPIRED.ordinal(), ip.decrementTtl());
        assertArrayEquals(before, s.toArray(ValueLayout.JAVA_BYTE), "an expired packet is left as it was");
    }

    @Test
    void decrementTtlAgreesWithRecomputeOnRandomHeaders() {
        SplittableRandom random = new SplittableRandom(1624);
        MemorySegment s = MemorySegment.ofArray(new byte[20]);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        for (int round = 0; round < 50_000; round++) {
            for (int i = 0; i < 20; i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
            ip.setVersion4AndIhl(5).setTtl(2 + random.nextInt(254)).fillChecksum();
            assertEquals(Ipv4Header.VALID, ip.decrementTtl());
            assertEquals(ip.computeChecksum(), ip.checksum());
        }
    }

    @Test
    void fragmentFlags() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        ip.setDontFragment(false).setMoreFragments(true).setFragmentOffset(0);
        assertEquals(0x2000, ip.flagsAndFragmentOffset());
        assertTrue(ip.isFragment());
        assertTrue(ip.isFirstFragment());
        assertFalse(ip.isLaterFragment());

        ip.setFragmentOffset(185); // 1480 bytes in
        assertEquals(0x20b9, ip.flagsAndFragmentOffset());
        assertTrue(ip.moreFragments());
        assertEquals(185, ip.fragmentOffset());
        assertTrue(ip.isFragment());
        assertFalse(ip.isFirstFragment());
        assertTrue(ip.isLaterFragment());

        ip.setMoreFragments(false); // the last fragment
        assertEquals(0x00b9, ip.flagsAndFragmentOffset());
        assertTrue(ip.isFragment());
        assertTrue(ip.isLaterFragment());

        ip.setFragmentOffset(0).setDontFragment(true);
        assertEquals(0x4000, ip.flagsAndFragmentOffset());
        assertFalse(ip.isFragment());
        assertFalse(ip.isFirstFragment());
        ip.setFragmentOffset(0x1fff);
        assertEquals(0x5fff, ip.flagsAndFragmentOffset());
        assertTrue(ip.dontFragment());

        Ipv4Repr r = new Ipv4Repr(0, 0, 1, false, true, 185, 64, 17, 1, 2, null, 8);
        MemorySegment out = MemorySegment.ofArray(new byte[20]);
        r.emit(new Ipv4Header().wrap(out, 0));
        assertEquals(r, Ipv4Repr.parse(new Ipv4Header().wrap(out, 0)));
        assertEquals(0x20b9, new Ipv4Header().wrap(out, 0).flagsAndFragmentOffset());
    }

    @Test
    void settersKeepNeighbouringBits() {
        MemorySegment s = packet(GOLDEN, GOLDEN_TOTAL, 0);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        ip.setDscp(46).setEcn(3);
        assertEquals(46, ip.dscp());
        assertEquals(3, ip.ecn());
        assertEquals(0xbb, Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, 1)));
        ip.setEcn(1);
        assertEquals(46, ip.dscp());
        ip.setIhl(7);
        assertEquals(4, ip.version());
        ip.setVersion(6);
        assertEquals(7, ip.ihl());
    }

    @Test
    void reprRejectsOutOfRangeFieldsNamingThem() {
        int a = 1;
        assertEquals("IPv4 ttl out of range: ttl=256 (0-255)",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Repr(0, 0, 0, false, false, 0, 256, 1, a, a, null, 0)).getMessage());
        assertEquals("IPv4 dscp out of range: dscp=64 (0-63)",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Repr(64, 0, 0, false, false, 0, 1, 1, a, a, null, 0)).getMessage());
        assertEquals("IPv4 fragmentOffset out of range: fragmentOffset=8192 (0-8191)",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Repr(0, 0, 0, false, false, 8192, 1, 1, a, a, null, 0)).getMessage());
        assertEquals("IPv4 payloadLength out of range: payloadLength=65516 (0-65515 with a 20-byte header)",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Repr.of(a, a, 1, 64, 65516)).getMessage());
        assertEquals("IPv4 options length not a multiple of 4 up to 40: options.length=3",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Repr(0, 0, 0, false, false, 0, 1, 1, a, a, new byte[3], 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Ipv4Repr(0, 0, 0, false, false, 0, 1, 1, a, a, new byte[44], 0));
        assertEquals(65515, Ipv4Repr.of(a, a, 1, 64, 65515).payloadLength());
    }

    @Test
    void reprCopiesItsOptions() {
        byte[] options = Bytes.of(1, 1, 1, 0);
        Ipv4Repr r = new Ipv4Repr(0, 0, 0, false, false, 0, 1, 1, 1, 1, options, 0);
        options[0] = 7;
        assertEquals(1, r.options()[0]);
        r.options()[0] = 7;
        assertEquals(1, r.options()[0]);
        assertEquals(r, new Ipv4Repr(0, 0, 0, false, false, 0, 1, 1, 1, 1, Bytes.of(1, 1, 1, 0), 0));
        assertEquals(r.hashCode(), new Ipv4Repr(0, 0, 0, false, false, 0, 1, 1, 1, 1, Bytes.of(1, 1, 1, 0), 0).hashCode());
    }
}
