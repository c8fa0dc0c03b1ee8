package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InternetChecksumTest {

    /** RFC 1071 section 3, said the obvious way: big-endian 16-bit words, odd byte padded, carries folded at the end. */
    static int referenceSum(byte[] data, int offset, int length) {
        long sum = 0;
        int i = 0;
        for (; i + 1 < length; i += 2) sum += ((data[offset + i] & 0xff) << 8) | (data[offset + i + 1] & 0xff);
        if (i < length) sum += (data[offset + i] & 0xff) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) sum;
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        byte[] data = Bytes.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
        assertEquals(0xddf2, InternetChecksum.sum(MemorySegment.ofArray(data), 0, data.length));
        assertEquals(0x220d, InternetChecksum.checksum(MemorySegment.ofArray(data), 0, data.length));
    }

    @Test
    void oddLastByteIsTheHighHalfOfAZeroPaddedWord() {
        assertEquals(0xab00, InternetChecksum.sum(MemorySegment.ofArray(Bytes.of(0xab)), 0, 1));
        assertEquals(0x1234 + 0x5600, InternetChecksum.sum(MemorySegment.ofArray(Bytes.of(0x12, 0x34, 0x56)), 0, 3));
    }

    @Test
    void emptyRangeSumsToTheInitialValue() {
        MemorySegment s = MemorySegment.ofArray(new byte[4]);
        assertEquals(0, InternetChecksum.sum(s, 2, 0));
        assertEquals(0x1234, InternetChecksum.sum(s, 4, 0, 0x1234));
        assertEquals(0xffff, InternetChecksum.checksum(s, 0, 0));
    }

    @Test
    void carriesWrapAround() {
        byte[] ones = new byte[1501];
        Arrays.fill(ones, (byte) 0xff);
        MemorySegment s = MemorySegment.ofArray(ones);
        // All-ones words stay 0xffff (negative zero) however many are added.
        assertEquals(0xffff, InternetChecksum.sum(s, 0, 1500));
        assertEquals(0xffff, InternetChecksum.sum(s, 1, 1500));
        assertEquals(referenceSum(ones, 0, 1501), InternetChecksum.sum(s, 0, 1501));
        assertEquals(0x0002, InternetChecksum.add(0xffff, 0x0002));
        assertEquals(0xffff, InternetChecksum.fold(0xffffL * 1_000_003L));
    }

    @Test
    void rangeOutsideTheSegmentThrowsInsteadOfReadingIt() {
        MemorySegment s = MemorySegment.ofArray(new byte[20]);
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(s, 10, 11));
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(s, -1, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(s, 0, -2));
    }

    @Test
    void fastSumAgreesWithTheReferenceOnRandomData() {
        SplittableRandom random = new SplittableRandom(0x1071);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment off = arena.allocate(4096 + 64);
            byte[] data = new byte[4096 + 64];
            for (int round = 0; round < 20_000; round++) {
                int length = round < 200 ? round : random.nextInt(round % 10 == 0 ? 4096 : 80);
                int offset = random.nextInt(64);
                int kind = random.nextInt(8);
                for (int i = 0; i < length; i++) {
                    data[offset + i] = switch (kind) {
                        case 0 -> (byte) 0xff; // all ones: every add carries
                        case 1 -> 0;
                        case 2 -> (byte) (random.nextBoolean() ? 0xff : 0xfe);
                        default -> (byte) random.nextInt(256);
                    };
                }
                MemorySegment.copy(data, offset, off, ValueLayout.JAVA_BYTE, offset, length);
                int expected = referenceSum(data, offset, length);
                int initial = random.nextInt(0x10000);
                String where = "length=" + length + " offset=" + offset + " kind=" + kind;
                assertEquals(expected, InternetChecksum.sum(MemorySegment.ofArray(data), offset, length), "heap " + where);
                assertEquals(expected, InternetChecksum.sum(off, offset, length), "off-heap " + where);
                assertEquals(referenceAdd(expected, initial), InternetChecksum.sum(off, offset, length, initial), "initial " + where);
            }
        }
    }

    private static int referenceAdd(int a, int b) {
        int s = a + b;
        return (s & 0xffff) + (s >>> 16);
    }

    @Test
    void sumsOfEvenLengthRangesCombine() {
        SplittableRandom random = new SplittableRandom(7);
        byte[] data = new byte[999];
        for (int i = 0; i < data.length; i++) data[i] = (byte) random.nextInt(256);
        MemorySegment s = MemorySegment.ofArray(data);
        for (int cut = 0; cut < data.length; cut += 2) {
            int whole = InternetChecksum.sum(s, 0, data.length);
            int parts = InternetChecksum.sum(s, cut, data.length - cut, InternetChecksum.sum(s, 0, cut));
            assertEquals(whole, parts, "cut=" + cut);
        }
    }

    @Test
    void incrementalUpdateAgreesWithFullRecompute() {
        SplittableRandom random = new SplittableRandom(1624);
        byte[] data = new byte[40];
        MemorySegment s = MemorySegment.ofArray(data);
        for (int round = 0; round < 100_000; round++) {
            int length = 4 + 2 * random.nextInt(18);
            for (int i = 0; i < length; i++) data[i] = (byte) (random.nextInt(4) == 0 ? 0xff : random.nextInt(256));
            // Word 0 stays nonzero, so the data never becomes all zero: there (and only there) RFC 1624
            // gives 0x0000 where a recompute gives 0xffff. IPv4 headers and UDP pseudo-headers never are.
            data[0] |= 1;
            int field = 2 + 2 * random.nextInt(length / 2 - 1);
            s.set(U16, field, (short) 0);
            int checksum = InternetChecksum.checksum(s, 0, length);
            s.set(U16, field, (short) checksum);
            int word = 2 * random.nextInt(length / 2);
            if (word == field) continue;
            int oldWord = Short.toUnsignedInt(s.get(U16, word));
            int newWord = random.nextInt(8) == 0 ? 0xffff - oldWord : random.nextInt(0x10000);
            if (word == 0) newWord |= 0x0100;
            s.set(U16, word, (short) newWord);
            int incremental = InternetChecksum.update(checksum, oldWord, newWord);
            s.set(U16, field, (short) 0);
            assertEquals(InternetChecksum.checksum(s, 0, length), incremental,
                    "word " + word + " " + Integer.toHexString(oldWord) + " -> " + Integer.toHexString(newWord));
        }
    }

    @Test
    void incrementalUpdateOf32BitFieldAgreesWithFullRecompute() {
        SplittableRandom random = new SplittableRandom(32);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(20);
            for (int round = 0; round < 50_000; round++) {
                for (int i = 0; i < 20; i += 4) s.set(ValueLayout.JAVA_INT_UNALIGNED, i, random.nextInt());
                s.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x45);
                s.set(U16, 10, (short) 0);
                int checksum = InternetChecksum.checksum(s, 0, 20);
                int oldAddr = s.get(NetworkOrder.U32, 12);
                int newAddr = random.nextInt();
                s.set(NetworkOrder.U32, 12, newAddr);
                assertEquals(InternetChecksum.checksum(s, 0, 20), InternetChecksum.update32(checksum, oldAddr, newAddr));
            }
        }
    }

    @Test
    void udpChecksumOfAKnownDatagram() {
        // 192.0.2.1:1234 -> 192.0.2.2:5678, payload "hi!"; checksum worked out by hand:
        // pseudo c000+0201+c000+0202+0011+000b = 1841f, header 04d2+162e+000b, data 6869+2100
        // total 0x1841f+0x1b0b+0x8969 = 0x22893 -> 0x2895, complement 0xd76a.
        byte[] udp = Bytes.of(
                0x04, 0xd2, // source port 1234
                0x16, 0x2e, // destination port 5678
                0x00, 0x0b, // length 11
                0xd7, 0x6a, // checksum
                'h', 'i', '!');
        MemorySegment s = MemorySegment.ofArray(udp);
        int src = Ipv4Address.parse("192.0.2.1");
        int dst = Ipv4Address.parse("192.0.2.2");
        assertEquals(0xd76a, InternetChecksum.udpChecksum(s, 0, 11, src, dst));
        assertTrue(InternetChecksum.udpChecksumValid(s, 0, 11, src, dst));
        s.set(ValueLayout.JAVA_BYTE, 10, (byte) '?');
        assertEquals(false, InternetChecksum.udpChecksumValid(s, 0, 11, src, dst));
        s.set(U16, 6, (short) 0); // "no checksum" is always acceptable over IPv4
        assertTrue(InternetChecksum.udpChecksumValid(s, 0, 11, src, dst));
    }

    @Test
    void udpChecksumThatComputesToZeroIsSentAsAllOnes() {
        // Choose the last payload word so the datagram sums to 0xffff: the checksum would be 0.
        byte[] udp = Bytes.of(0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00);
        MemorySegment s = MemorySegment.ofArray(udp);
        int src = Ipv4Address.parse("192.0.2.1");
        int dst = Ipv4Address.parse("192.0.2.2");
        int partial = InternetChecksum.sum(s, 0, 10, InternetChecksum.pseudoHeaderSum(src, dst, 17, 10));
        s.set(U16, 8, (short) (0xffff - partial));
        assertEquals(0xffff, InternetChecksum.sum(s, 0, 10, InternetChecksum.pseudoHeaderSum(src, dst, 17, 10)));
        assertEquals(0xffff, InternetChecksum.udpChecksum(s, 0, 10, src, dst));
        s.set(U16, 6, (short) 0xffff);
        assertTrue(InternetChecksum.udpChecksumValid(s, 0, 10, src, dst));
    }

    @Test
    void udpChecksumIgnoresWhatTheFieldHolds() {
        byte[] udp = Bytes.of(0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0b, 0xaa, 0xbb, 'h', 'i', '!');
        assertEquals(0xd76a, InternetChecksum.udpChecksum(MemorySegment.ofArray(udp), 0,
                11, Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2")));
    }
}
