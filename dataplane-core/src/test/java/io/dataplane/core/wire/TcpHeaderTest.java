package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.TcpSegment;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TcpHeaderTest {
    static final int SRC = Ipv4Address.parse("192.0.2.1");
    static final int DST = Ipv4Address.parse("192.0.2.2");
    /**
     * 192.0.2.1:40000 -> 192.0.2.2:5201, ACK|PSH, the timestamps option Linux sends, carrying "hi!".
     * Checksum by hand: pseudo-header c000+0201+c000+0202+0006+0023 = 1842c; header
     * 9c40+1451+1122+3344+5566+7788+8018+01f6 = 243f3; options 0101+080a+0a0b+0c0d+0102+0304 = 2329;
     * data 6869+2100 = 8969; together 474b1, folded 74b5, complement 8b4a.
     */
    static final byte[] GOLDEN = Bytes.of(
            0x9c, 0x40,             // source port 40000
            0x14, 0x51,             // destination port 5201
            0x11, 0x22, 0x33, 0x44, // sequence number
            0x55, 0x66, 0x77, 0x88, // acknowledgment number
            0x80,                   // data offset 8 (32 bytes), reserved 0
            0x18,                   // flags ACK|PSH
            0x01, 0xf6,             // window 502
            0x8b, 0x4a,             // checksum
            0x00, 0x00,             // urgent pointer
            0x01, 0x01, 0x08, 0x0a, // NOP, NOP, timestamps (kind 8, length 10)
            0x0a, 0x0b, 0x0c, 0x0d, // TSval
            0x01, 0x02, 0x03, 0x04, // TSecr
            'h', 'i', '!');         // payload

    @Test
    void deconstruct() {
        TcpHeader tcp = new TcpHeader().wrap(MemorySegment.ofArray(GOLDEN), 0);
        assertTrue(tcp.checkLen(GOLDEN.length));
        assertEquals(40000, tcp.srcPort());
        assertEquals(5201, tcp.dstPort());
        assertEquals(0x9c40_1451, tcp.ports());
        assertEquals(0x11223344, tcp.seqNum());
        assertEquals(0x55667788, tcp.ackNum());
        assertEquals(8, tcp.dataOffset());
        assertEquals(32, tcp.headerLength());
        assertEquals(TcpHeader.FLAG_ACK | TcpHeader.FLAG_PSH, tcp.flags());
        assertEquals(502, tcp.window());
        assertEquals(0x8b4a, tcp.checksum());
        assertEquals(0, tcp.urgentPointer());
        assertEquals(20, tcp.optionsOffset());
        assertEquals(12, tcp.optionsLength());
        assertEquals(32, tcp.payloadOffset());
        assertTrue(tcp.verifyChecksum(SRC, DST, GOLDEN.length));
        assertFalse(tcp.verifyChecksum(DST, Ipv4Address.parse("192.0.2.3"), GOLDEN.length), "the pseudo-header counts");
        assertFalse(tcp.verifyChecksum(SRC, DST, GOLDEN.length - 1), "the length counts");
        assertEquals(0x8b4a, tcp.computeChecksum(SRC, DST, GOLDEN.length));
    }

    @Test
    void construct() {
        byte[] bytes = new byte[GOLDEN.length];
        System.arraycopy(GOLDEN, 20, bytes, 20, GOLDEN.length - 20); // options and payload
        Arrays.fill(bytes, 0, 20, (byte) 0x33); // every header field must be written
        bytes[TcpHeader.DATA_OFFSET] = 0; // but the reserved bits beside the data offset are kept, not written
        new TcpHeader().wrap(MemorySegment.ofArray(bytes), 0)
                .setSrcPort(40000).setDstPort(5201).setSeqNum(0x11223344).setAckNum(0x55667788)
                .setDataOffset(8).setFlags(TcpHeader.FLAG_ACK | TcpHeader.FLAG_PSH).setWindow(502).setUrgentPointer(0)
                .fillChecksum(SRC, DST, bytes.length);
        assertArrayEquals(GOLDEN, bytes);
    }

    @Test
    void dataOffsetKeepsTheReservedBits() {
        MemorySegment s = MemorySegment.ofArray(Arrays.copyOf(GOLDEN, GOLDEN.length));
        s.set(ValueLayout.JAVA_BYTE, TcpHeader.DATA_OFFSET, (byte) 0x8f);
        TcpHeader tcp = new TcpHeader().wrap(s, 0).setDataOffset(15);
        assertEquals(0xff, Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, TcpHeader.DATA_OFFSET)));
        assertEquals(60, tcp.headerLength());
        assertEquals(TcpHeader.FLAG_ACK | TcpHeader.FLAG_PSH, tcp.flags(), "the flags byte is apart");
    }

    @Test
    void flagsAreTheRfcBitsOfByte13() {
        int[] flags = {TcpHeader.FLAG_FIN, TcpHeader.FLAG_SYN, TcpHeader.FLAG_RST, TcpHeader.FLAG_PSH,
            TcpHeader.FLAG_ACK, TcpHeader.FLAG_URG, TcpHeader.FLAG_ECE, TcpHeader.FLAG_CWR};
        for (int i = 0; i < flags.length; i++) assertEquals(1 << i, flags[i], "flag bit " + i);
    }

    @Test
    void truncated() {
        for (int n = 0; n < 20; n++) {
            TcpHeader tcp = new TcpHeader().wrap(MemorySegment.ofArray(Arrays.copyOf(GOLDEN, n)), 0);
            assertFalse(tcp.checkLen(n), "length " + n);
            assertFalse(tcp.checkLen(GOLDEN.length), "segment of " + n);
        }
        assertFalse(new TcpHeader().wrap(MemorySegment.ofArray(GOLDEN), 0).checkLen(-1));
        assertFalse(new TcpHeader().wrap(MemorySegment.ofArray(GOLDEN), GOLDEN.length + 1).checkLen(20), "offset beyond the segment");
    }

    @Test
    void impossibleDataOffsets() {
        MemorySegment s = MemorySegment.ofArray(Arrays.copyOf(GOLDEN, GOLDEN.length));
        TcpHeader tcp = new TcpHeader().wrap(s, 0);
        assertFalse(tcp.checkLen(31), "options beyond the IP payload");
        assertTrue(tcp.checkLen(32), "a header without payload");
        assertFalse(new TcpHeader().wrap(s.asSlice(0, 31), 0).checkLen(GOLDEN.length), "options beyond the segment");
        for (int words = 0; words < 5; words++) {
            tcp.setDataOffset(words);
            assertFalse(tcp.checkLen(GOLDEN.length), "data offset " + words);
        }
        tcp.setDataOffset(5);
        assertTrue(tcp.checkLen(20));
        tcp.setDataOffset(15);
        assertFalse(tcp.checkLen(GOLDEN.length), "60 bytes of header in 35");
    }

    @Test
    void checkLenNeverThrows() {
        SplittableRandom random = new SplittableRandom(9293);
        TcpHeader tcp = new TcpHeader();
        for (int round = 0; round < 100_000; round++) {
            byte[] bytes = new byte[random.nextInt(70)];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) random.nextInt(256);
            int available = random.nextInt(8) == 0 ? random.nextInt() : random.nextInt(80);
            tcp.wrap(MemorySegment.ofArray(bytes), 0);
            if (tcp.checkLen(available)) {
                assertTrue(tcp.headerLength() >= 20 && tcp.headerLength() <= Math.min(available, bytes.length));
                tcp.computeChecksum(SRC, DST, tcp.headerLength());
                assertEquals(tcp.payloadOffset(), tcp.optionsOffset() + tcp.optionsLength());
            }
        }
    }

    /** Segments of every shape built by the test's own RFC 1071 loop read back field for field, off heap behind IPv4 options. */
    @Test
    void readsWhatAnIndependentBuilderWrote() {
        SplittableRandom random = new SplittableRandom(793);
        TcpHeader tcp = new TcpHeader();
        try (Arena arena = Arena.ofConfined()) {
            for (int round = 0; round < 2_000; round++) {
                byte[] options = new byte[4 * random.nextInt(11)];
                byte[] payload = TcpSegment.pattern(round, random.nextInt(1500));
                TcpSegment seg = new TcpSegment(random.nextInt(), random.nextInt(), 0, 64, 0, TcpSegment.DF,
                        new byte[4 * random.nextInt(11)], random.nextInt(65536), random.nextInt(65536), random.nextInt(),
                        random.nextInt(), random.nextInt(256), random.nextInt(65536), random.nextInt(65536), options, payload);
                byte[] packet = seg.bytes();
                int at = 1 + random.nextInt(3);
                MemorySegment s = Bytes.offHeap(arena, packet, at, 0);
                int l4 = packet.length - seg.ipHeaderLength();
                tcp.wrap(s, at + seg.ipHeaderLength());
                assertTrue(tcp.checkLen(l4));
                assertEquals(seg.srcPort(), tcp.srcPort());
                assertEquals(seg.dstPort(), tcp.dstPort());
                assertEquals(seg.seq(), tcp.seqNum());
                assertEquals(seg.ack(), tcp.ackNum());
                assertEquals(seg.tcpHeaderLength(), tcp.headerLength());
                assertEquals(seg.flags(), tcp.flags());
                assertEquals(seg.window(), tcp.window());
                assertEquals(seg.urgent(), tcp.urgentPointer());
                assertTrue(tcp.verifyChecksum(seg.src(), seg.dst(), l4), seg.toString());
                int field = tcp.checksum();
                assertEquals(field, tcp.setChecksum(field ^ 0x5a5a).computeChecksum(seg.src(), seg.dst(), l4), "the field itself does not count");
            }
        }
    }
}
