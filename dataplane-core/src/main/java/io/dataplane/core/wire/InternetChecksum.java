package io.dataplane.core.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of the
 * data taken as big-endian 16-bit words, an odd last byte padded with a zero byte.
 *
 * <p>Two kinds of value appear here. A <em>sum</em> is a partial one's complement sum folded to
 * 16 bits ({@code 0..0xffff}); sums of adjacent ranges combine with {@link #add} as long as every
 * range but the last has an even length. A <em>checksum</em> is what goes into a header field:
 * {@link #finish} of a sum, computed while the field itself counted as zero.
 *
 * <p>{@link #sum} reads the data in little-endian order and swaps the folded result once at the
 * end: the one's complement sum commutes with byte swapping (RFC 1071 section 2(B)), so the
 * per-word byte swaps that big-endian reads would cost are not needed. The data is added as
 * unsigned 32-bit words into 64-bit accumulators, so carries are kept rather than lost and folded
 * in once (end-around carry) at the end; the accumulators cannot overflow for any {@code int}
 * length. Its main loop is the plainest form, one 32-bit word a turn into one accumulator: C2
 * vectorizes that loop (superword), which hand-unrolled forms with several accumulators keep it
 * from doing; on JDK 25 it sums 1400 bytes about twice as fast as eight loads a turn into four
 * accumulators (benchmarks/README.md). The loop lives in its own method and the last 0-31 bytes
 * are read without a loop, so that {@link #sum} stays small enough for C2 to inline into header
 * code and folds to a few reads for a constant length.
 */
public final class InternetChecksum {
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long LOW32 = 0xffff_ffffL;

    /** IP protocol number of UDP, for the pseudo-header. */
    private static final int PROTOCOL_UDP = 17;

    private InternetChecksum() {}

    /** The one's complement sum of {@code length} bytes at {@code offset}, folded to 16 bits. */
    public static int sum(MemorySegment segment, long offset, int length) {
        return sum(segment, offset, length, 0);
    }

    /**
     * The one's complement sum of {@code length} bytes at {@code offset} added to the partial sum
     * {@code initial} (a previous range of even length, or a pseudo-header), folded to 16 bits.
     *
     * @throws IndexOutOfBoundsException if the range is not inside {@code segment}
     */
    public static int sum(MemorySegment segment, long offset, int length, int initial) {
        // One check for the whole range; every read below stays inside it.
        Objects.checkFromIndexSize(offset, length, segment.byteSize());
        long a0 = 0;
        long a1 = 0;
        long i = offset;
        if (length >= 32) {
            a0 = sumBlocks(segment, offset, length >>> 5);
            i += length & ~31;
        }
        // Up to 31 bytes left (all of an IPv4 header), read by the bits of the count rather than in a
        // loop: straight-line code, which C2 folds to the few reads needed when the length is constant.
        if ((length & 16) != 0) {
            long w = segment.get(LE64, i);
            long x = segment.get(LE64, i + 8);
            a0 += (w & LOW32) + (x & LOW32);
            a1 += (w >>> 32) + (x >>> 32);
            i += 16;
        }
        if ((length & 8) != 0) {
            long w = segment.get(LE64, i);
            a0 += w & LOW32;
            a1 += w >>> 32;
            i += 8;
        }
        if ((length & 4) != 0) {
            a0 += Integer.toUnsignedLong(segment.get(LE32, i));
            i += 4;
        }
        if ((length & 2) != 0) {
            a1 += Short.toUnsignedInt(segment.get(LE16, i));
            i += 2;
        }
        if ((length & 1) != 0) {
            // Little-endian: the odd last byte is the low half of its (zero-padded) word.
            a0 += Byte.toUnsignedInt(segment.get(ValueLayout.JAVA_BYTE, i));
        }
        int swapped = Short.toUnsignedInt(Short.reverseBytes((short) fold(a0 + a1)));
        return fold((long) swapped + (initial & 0xffff));
    }

    /**
     * The unfolded little-endian sum of {@code blocks} 32-byte blocks at {@code offset}. Kept apart
     * from {@link #sum} so that one stays small enough for C2 to inline into header code, where
     * short ranges are the rule.
     */
    private static long sumBlocks(MemorySegment segment, long offset, int blocks) {
        long a = 0;
        // One zero-extended 32-bit word a turn into one accumulator, counted by an int: the shape
        // C2's superword turns into widening vector loads and adds with one reduction after the loop.
        for (int k = 0, words = blocks << 3; k < words; k++) {
            a += Integer.toUnsignedLong(segment.get(LE32, offset + 4L * k));
        }
        return a;
    }

    /**
     * The checksum of the 20-byte IPv4 header at {@code offset} with its checksum field (bytes 10
     * and 11) counted as zero: three reads, no loop, no second pass over the field. The common
     * case of {@link Ipv4Header#computeChecksum()}.
     */
    static int ipv4HeaderChecksum(MemorySegment segment, long offset) {
        long w = segment.get(LE64, offset);
        // Bytes 8..15 little-endian: bytes 10 and 11, the checksum field, are bits 16..31.
        long x = segment.get(LE64, offset + 8) & ~0xffff_0000L;
        long y = Integer.toUnsignedLong(segment.get(LE32, offset + 16));
        int folded = fold((w & LOW32) + (w >>> 32) + (x & LOW32) + (x >>> 32) + y);
        return finish(Short.toUnsignedInt(Short.reverseBytes((short) folded)));
    }

    /** The one's complement sum of two partial sums. */
    public static int add(int sum1, int sum2) {
        return fold((long) (sum1 & 0xffff) + (sum2 & 0xffff));
    }

    /** Folds a 64-bit accumulator of 16-bit words to a 16-bit one's complement sum (end-around carry). */
    public static int fold(long accumulator) {
        long s = (accumulator & LOW32) + (accumulator >>> 32);
        s = (s & LOW32) + (s >>> 32);
        int x = (int) s;
        x = (x & 0xffff) + (x >>> 16);
        return (x & 0xffff) + (x >>> 16);
    }

    /** The checksum field value of a sum: its one's complement. */
    public static int finish(int sum) {
        return ~sum & 0xffff;
    }

    /** The checksum of {@code length} bytes at {@code offset}, the checksum field counted as zero. */
    public static int checksum(MemorySegment segment, long offset, int length) {
        return finish(sum(segment, offset, length, 0));
    }

    /**
     * Updates {@code checksum} after a 16-bit word of the data changed from {@code oldWord} to
     * {@code newWord}, without summing the data again (RFC 1624 equation 3:
     * {@code HC' = ~(~HC + ~m + m')}). Agrees with a full recomputation unless all data is zero.
     */
    public static int update(int checksum, int oldWord, int newWord) {
        return finish(fold((long) (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)));
    }

    /** {@link #update} for a 32-bit field (an address): both of its 16-bit words at once. */
    public static int update32(int checksum, int oldValue, int newValue) {
        long s = (long) (~checksum & 0xffff)
                + (~oldValue >>> 16) + (~oldValue & 0xffff)
                + (newValue >>> 16) + (newValue & 0xffff);
        return finish(fold(s));
    }

    /**
     * The sum of the IPv4 pseudo-header that UDP and TCP checksums cover (RFC 768): source and
     * destination address, zero, protocol, and the transport length.
     */
    public static int pseudoHeaderSum(int srcAddr, int dstAddr, int protocol, int length) {
        long s = (long) (srcAddr >>> 16) + (srcAddr & 0xffff) + (dstAddr >>> 16) + (dstAddr & 0xffff)
                + (protocol & 0xff) + (length & 0xffff);
        return fold(s);
    }

    /**
     * The UDP checksum of the {@code udpLength} bytes (header and payload) at {@code offset}, as it
     * is transmitted: whatever the checksum field holds is left out, and a computed 0 is sent as
     * {@code 0xffff} because 0 means "no checksum" (RFC 768).
     */
    public static int udpChecksum(MemorySegment segment, long offset, int udpLength, int srcAddr, int dstAddr) {
        int pseudo = pseudoHeaderSum(srcAddr, dstAddr, PROTOCOL_UDP, udpLength);
        // Ports and length, then the payload: the checksum field at bytes 6..7 is skipped.
        int s = sum(segment, offset, 6, pseudo);
        s = sum(segment, offset + 8, udpLength - 8, s);
        int checksum = finish(s);
        return checksum == 0 ? 0xffff : checksum;
    }

    /**
     * True if the UDP datagram of {@code udpLength} bytes at {@code offset} carries no checksum
     * (field 0) or one that verifies against the pseudo-header of {@code srcAddr} and {@code dstAddr}.
     */
    public static boolean udpChecksumValid(MemorySegment segment, long offset, int udpLength, int srcAddr, int dstAddr) {
        if (segment.get(NetworkOrder.U16, offset + 6) == 0) return true;
        int pseudo = pseudoHeaderSum(srcAddr, dstAddr, PROTOCOL_UDP, udpLength);
        return sum(segment, offset, udpLength, pseudo) == 0xffff;
    }
}
