package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UdpHeaderTest {
    static final int SRC = Ipv4Address.parse("192.0.2.1");
    static final int DST = Ipv4Address.parse("192.0.2.2");
    /**
     * 192.0.2.1:1234 -> 192.0.2.2:5678 carrying "hi!". Checksum by hand: pseudo-header
     * c000+0201+c000+0202+0011+000b = 1841f, header 04d2+162e+000b = 1b0b, data 6869+2100 = 8969;
     * 1841f+1b0b+8969 = 22893, folded 2895, complement d76a.
     */
    static final byte[] GOLDEN = Bytes.of(
            0x04, 0xd2,       // source port 1234
            0x16, 0x2e,       // destination port 5678
            0x00, 0x0b,       // length 11
            0xd7, 0x6a,       // checksum
            'h', 'i', '!');   // payload
    static final UdpRepr GOLDEN_REPR = new UdpRepr(1234, 5678, 3);

    @Test
    void deconstruct() {
        UdpHeader udp = new UdpHeader().wrap(MemorySegment.ofArray(GOLDEN), 0);
        assertEquals(UdpHeader.VALID, udp.validate(11));
        assertEquals(1234, udp.srcPort());
        assertEquals(5678, udp.dstPort());
        assertEquals(11, udp.length());
        assertEquals(3, udp.payloadLength());
        assertEquals(8, udp.payloadOffset());
        assertEquals(0xd76a, udp.checksum());
        assertTrue(udp.verifyChecksum(SRC, DST));
        assertFalse(udp.verifyChecksum(DST, Ipv4Address.parse("192.0.2.3")), "the pseudo-header counts");
        assertEquals(0xd76a, udp.computeChecksum(SRC, DST));
    }

    @Test
    void construct() {
        byte[] bytes = new byte[11];
        bytes[8] = 'h';
        bytes[9] = 'i';
        bytes[10] = '!';
        MemorySegment s = MemorySegment.ofArray(bytes);
        new UdpHeader().wrap(s, 0).setSrcPort(1234).setDstPort(5678).setLength(11).fillChecksum(SRC, DST);
        assertArrayEquals(GOLDEN, bytes);
    }

    @Test
    void parse() {
        assertEquals(GOLDEN_REPR, UdpRepr.parse(new UdpHeader().wrap(MemorySegment.ofArray(GOLDEN), 0)));
    }

    @Test
    void emit() {
        byte[] bytes = Arrays.copyOf(GOLDEN, GOLDEN.length);
        Arrays.fill(bytes, 0, 8, (byte) 0x33);
        GOLDEN_REPR.emit(new UdpHeader().wrap(MemorySegment.ofArray(bytes), 0), SRC, DST);
        assertArrayEquals(GOLDEN, bytes);

        GOLDEN_REPR.emit(new UdpHeader().wrap(MemorySegment.ofArray(bytes), 0));
        assertEquals(0, new UdpHeader().wrap(MemorySegment.ofArray(bytes), 0).checksum(), "emit without addresses sends no checksum");
        assertTrue(new UdpHeader().wrap(MemorySegment.ofArray(bytes), 0).verifyChecksum(SRC, DST));
    }

    @Test
    void truncated() {
        for (int n = 0; n < 8; n++) {
            UdpHeader udp = new UdpHeader().wrap(MemorySegment.ofArray(Arrays.copyOf(GOLDEN, n)), 0);
            assertEquals(DropReason.TRUNCATED.ordinal(), udp.validate(n), "length " + n);
            assertEquals(DropReason.TRUNCATED.ordinal(), udp.validate(11), "segment of " + n);
        }
        assertEquals(DropReason.TRUNCATED.ordinal(), new UdpHeader().wrap(MemorySegment.ofArray(GOLDEN), 0).validate(-1));
    }

    @Test
    void impossibleLengths() {
        MemorySegment s = MemorySegment.ofArray(Arrays.copyOf(GOLDEN, GOLDEN.length));
        UdpHeader udp = new UdpHeader().wrap(s, 0);
        assertEquals(DropReason.BAD_UDP_LENGTH.ordinal(), udp.validate(10), "length beyond the IP payload");
        assertEquals(DropReason.BAD_UDP_LENGTH.ordinal(), new UdpHeader().wrap(s.asSlice(0, 10), 0).validate(11), "beyond the segment");
        assertEquals(UdpHeader.VALID, udp.validate(20), "shorter than the IP payload is fine");
        for (int length : new int[] {0, 1, 7}) {
            udp.setLength(length);
            assertEquals(DropReason.BAD_UDP_LENGTH.ordinal(), udp.validate(11), "length " + length);
        }
        udp.setLength(8);
        assertEquals(UdpHeader.VALID, udp.validate(11), "no payload");
        udp.setLength(0xffff);
        assertEquals(DropReason.BAD_UDP_LENGTH.ordinal(), udp.validate(11));
    }

    @Test
    void validateNeverThrows() {
        SplittableRandom random = new SplittableRandom(768);
        UdpHeader udp = new UdpHeader();
        for (int round = 0; round < 100_000; round++) {
            byte[] bytes = new byte[random.nextInt(24)];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) random.nextInt(random.nextBoolean() ? 32 : 256);
            int available = random.nextInt(8) == 0 ? random.nextInt() : random.nextInt(30);
            udp.wrap(MemorySegment.ofArray(bytes), 0);
            if (udp.validate(available) == UdpHeader.VALID) {
                assertTrue(udp.length() <= Math.min(available, bytes.length));
                udp.verifyChecksum(SRC, DST);
                udp.computeChecksum(SRC, DST);
                UdpRepr.parse(udp);
            }
        }
    }

    @Test
    void reprRejectsOutOfRangeFields() {
        assertEquals("UDP dstPort out of range: dstPort=65536 (0-65535)",
                assertThrows(IllegalArgumentException.class, () -> new UdpRepr(1, 65536, 0)).getMessage());
        assertEquals("UDP payloadLength out of range: payloadLength=65528 (0-65527)",
                assertThrows(IllegalArgumentException.class, () -> new UdpRepr(1, 2, 65528)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new UdpRepr(-1, 2, 0));
    }

    @Test
    void checksumValuesSurviveALargeOffHeapDatagram() {
        SplittableRandom random = new SplittableRandom(1);
        byte[] bytes = new byte[8 + 1473];
        for (int i = 8; i < bytes.length; i++) bytes[i] = (byte) random.nextInt(256);
        MemorySegment s = MemorySegment.ofArray(bytes);
        UdpHeader udp = new UdpHeader().wrap(s, 0);
        new UdpRepr(8472, 8472, 1473).emit(udp, SRC, DST);
        assertTrue(udp.verifyChecksum(SRC, DST));
        s.set(ValueLayout.JAVA_BYTE, 700, (byte) (s.get(ValueLayout.JAVA_BYTE, 700) + 1));
        assertFalse(udp.verifyChecksum(SRC, DST));
    }
}
