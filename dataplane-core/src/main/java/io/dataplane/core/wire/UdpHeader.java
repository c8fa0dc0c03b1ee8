package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * A view of a UDP header (RFC 768) at an offset of a {@link MemorySegment}, re-pointed with
 * {@link #wrap}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Length             |           Checksum            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>Over IPv4 a checksum of 0 means "none"; a computed 0 is sent as {@code 0xffff}. The checksum
 * covers the IPv4 pseudo-header, so its methods take the source and destination address.
 *
 * <p><b>Untrusted input.</b> Call {@link #validate(int)} once with the bytes of the IP payload;
 * after it returns {@link #VALID}, {@link #length()} bytes from the offset are inside the buffer
 * and the accessors and checksum methods read freely. {@link #setLength} invalidates it.
 */
public final class UdpHeader {
    /** Offset of the source port. */
    public static final int SRC_PORT = 0;
    /** Offset of the destination port. */
    public static final int DST_PORT = 2;
    /** Offset of the length (header and payload). */
    public static final int LENGTH = 4;
    /** Offset of the checksum. */
    public static final int CHECKSUM = 6;
    /** Length of the header. */
    public static final int HEADER_LEN = CHECKSUM + 2;
    /** The checksum field value that means "no checksum". */
    public static final int NO_CHECKSUM = 0;

    /** What {@link #validate} returns when all is well. */
    public static final int VALID = -1;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the header starting at {@code offset} of {@code segment}. */
    public UdpHeader wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    /** The segment this view reads. */
    public MemorySegment segment() {
        return segment;
    }

    /** The offset of the header in {@link #segment()}. */
    public long offset() {
        return offset;
    }

    /**
     * Checks the header and the datagram it describes against {@code available} bytes from the
     * view's offset (the IP payload length; fewer if the segment ends sooner). Never throws and
     * never reads outside the segment, for any bytes and any {@code available} (a negative one
     * counts as 0). A datagram shorter than {@code available} is fine (the rest is padding). Does
     * not verify the checksum (see {@link #verifyChecksum}).
     *
     * @return {@link #VALID} (-1), or the ordinal of {@link DropReason#TRUNCATED} (fewer than 8
     *     bytes) or {@link DropReason#BAD_UDP_LENGTH} (length field below 8 or beyond the bytes available)
     */
    public int validate(int available) {
        long limit = Bounds.limit(segment, offset, available);
        if (limit < HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        int length = Short.toUnsignedInt(segment.get(U16, offset + LENGTH));
        if (length < HEADER_LEN || length > limit) return DropReason.BAD_UDP_LENGTH.ordinal();
        return VALID;
    }

    /** The source port. */
    public int srcPort() {
        return Short.toUnsignedInt(segment.get(U16, offset + SRC_PORT));
    }

    /** The destination port. */
    public int dstPort() {
        return Short.toUnsignedInt(segment.get(U16, offset + DST_PORT));
    }

    /** The length field: header and payload in bytes. */
    public int length() {
        return Short.toUnsignedInt(segment.get(U16, offset + LENGTH));
    }

    /** The checksum field (0: none). */
    public int checksum() {
        return Short.toUnsignedInt(segment.get(U16, offset + CHECKSUM));
    }

    /** Offset in {@link #segment()} where the payload starts. */
    public long payloadOffset() {
        return offset + HEADER_LEN;
    }

    /** The payload length: length field minus 8. */
    public int payloadLength() {
        return length() - HEADER_LEN;
    }

    /** Sets the source port. */
    public UdpHeader setSrcPort(int port) {
        segment.set(U16, offset + SRC_PORT, (short) port);
        return this;
    }

    /** Sets the destination port. */
    public UdpHeader setDstPort(int port) {
        segment.set(U16, offset + DST_PORT, (short) port);
        return this;
    }

    /** Sets the length field (header and payload); invalidates {@link #validate}. */
    public UdpHeader setLength(int length) {
        segment.set(U16, offset + LENGTH, (short) length);
        return this;
    }

    /** Sets the checksum field. */
    public UdpHeader setChecksum(int checksum) {
        segment.set(U16, offset + CHECKSUM, (short) checksum);
        return this;
    }

    /**
     * The checksum to transmit for {@link #length()} bytes under the pseudo-header of
     * {@code srcAddr} and {@code dstAddr}, whatever the field holds now ({@code 0xffff} for a
     * computed 0). The length must be at least 8 and inside the segment.
     */
    public int computeChecksum(int srcAddr, int dstAddr) {
        return InternetChecksum.udpChecksum(segment, offset, length(), srcAddr, dstAddr);
    }

    /** True if the checksum field is 0 (none) or verifies under the pseudo-header of {@code srcAddr} and {@code dstAddr}. */
    public boolean verifyChecksum(int srcAddr, int dstAddr) {
        return InternetChecksum.udpChecksumValid(segment, offset, length(), srcAddr, dstAddr);
    }

    /** Computes the checksum (see {@link #computeChecksum}) and writes it into the field. */
    public UdpHeader fillChecksum(int srcAddr, int dstAddr) {
        return setChecksum(computeChecksum(srcAddr, dstAddr));
    }

    @Override
    public String toString() {
        if (segment == null) return "UdpHeader[unwrapped]";
        return "UdpHeader[" + srcPort() + " -> " + dstPort() + " len=" + length() + " checksum=0x" + Integer.toHexString(checksum()) + "]";
    }
}
