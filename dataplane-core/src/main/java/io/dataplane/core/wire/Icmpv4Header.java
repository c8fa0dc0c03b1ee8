package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;
import static io.dataplane.core.wire.NetworkOrder.U8;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * A view of an ICMPv4 message (RFC 792) at an offset of a {@link MemorySegment}, re-pointed with
 * {@link #wrap}. The four bytes after the checksum mean different things per type:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Identifier          |        Sequence Number        |  echo request (8) / reply (0)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Data ...
 * +-+-+-+-+-
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           unused = 0          |         Next-Hop MTU          |  destination unreachable (3);
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  the MTU only with code 4,
 * |      Internet Header + 64 bits of Original Data Datagram      |  fragmentation needed (RFC 1191)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>The checksum covers the whole message, header and data, so its methods take the message
 * length (the IPv4 payload length).
 *
 * <p><b>Untrusted input.</b> Call {@link #validate(int)} once with the message length; after it
 * returns {@link #VALID} the header fields, and for error messages the quoted IPv4 header's first
 * 20 bytes and its IHL worth of bytes, are inside the buffer. {@link #setType} invalidates it.
 */
public final class Icmpv4Header {
    /** Offset of the type. */
    public static final int TYPE = 0;
    /** Offset of the code. */
    public static final int CODE = 1;
    /** Offset of the checksum. */
    public static final int CHECKSUM = 2;
    /** Offset of the rest of the header (32 bits whose meaning depends on the type). */
    public static final int REST_OF_HEADER = 4;
    /** Offset of the echo identifier. */
    public static final int IDENTIFIER = 4;
    /** Offset of the echo sequence number. */
    public static final int SEQUENCE = 6;
    /** Offset of the next-hop MTU of a fragmentation-needed message (RFC 1191). */
    public static final int NEXT_HOP_MTU = 6;
    /** Length of the header; error messages quote the original IPv4 header from here on. */
    public static final int HEADER_LEN = SEQUENCE + 2;

    /** Echo reply. */
    public static final int TYPE_ECHO_REPLY = 0;
    /** Destination unreachable. */
    public static final int TYPE_DEST_UNREACHABLE = 3;
    /** Source quench (deprecated, RFC 6633), an error message. */
    public static final int TYPE_SOURCE_QUENCH = 4;
    /** Redirect, an error message. */
    public static final int TYPE_REDIRECT = 5;
    /** Echo request. */
    public static final int TYPE_ECHO_REQUEST = 8;
    /** Time exceeded. */
    public static final int TYPE_TIME_EXCEEDED = 11;
    /** Parameter problem, an error message. */
    public static final int TYPE_PARAMETER_PROBLEM = 12;

    /** Destination unreachable: net unreachable. */
    public static final int CODE_NET_UNREACHABLE = 0;
    /** Destination unreachable: host unreachable. */
    public static final int CODE_HOST_UNREACHABLE = 1;
    /** Destination unreachable: protocol unreachable. */
    public static final int CODE_PROTOCOL_UNREACHABLE = 2;
    /** Destination unreachable: port unreachable. */
    public static final int CODE_PORT_UNREACHABLE = 3;
    /** Destination unreachable: fragmentation needed and DF set; carries the next-hop MTU. */
    public static final int CODE_FRAGMENTATION_NEEDED = 4;
    /** Time exceeded: TTL exceeded in transit. */
    public static final int CODE_TTL_EXCEEDED = 0;

    /** What {@link #validate} returns when all is well. */
    public static final int VALID = -1;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the message starting at {@code offset} of {@code segment}. */
    public Icmpv4Header wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    /** The segment this view reads. */
    public MemorySegment segment() {
        return segment;
    }

    /** The offset of the message in {@link #segment()}. */
    public long offset() {
        return offset;
    }

    /** True for the types that quote the datagram that caused them (3, 4, 5, 11, 12). */
    public static boolean isErrorType(int type) {
        return type == TYPE_DEST_UNREACHABLE || type == TYPE_SOURCE_QUENCH || type == TYPE_REDIRECT
                || type == TYPE_TIME_EXCEEDED || type == TYPE_PARAMETER_PROBLEM;
    }

    /**
     * Checks the message against {@code available} bytes from the view's offset (the ICMP message
     * length; fewer if the segment ends sooner): the 8-byte header, and for an error message a
     * quoted IPv4 header of version 4, IHL at least 5, all of it within the bytes available. The
     * quoted header's total length is not checked (it describes the original datagram, most of
     * which is cut off); a caller that needs the quoted transport ports checks for 8 more bytes.
     * Never throws and never reads outside the segment, for any bytes and any {@code available}
     * (a negative one counts as 0). Does not verify the checksum (see {@link #verifyChecksum}).
     *
     * @return {@link #VALID} (-1), or the ordinal of {@link DropReason#TRUNCATED} (fewer than 8
     *     bytes) or {@link DropReason#ICMP_BAD_QUOTE} (an error message without a whole quoted IPv4 header)
     */
    public int validate(int available) {
        long limit = Bounds.limit(segment, offset, available);
        if (limit < HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        if (!isErrorType(type())) return VALID;
        if (limit < HEADER_LEN + Ipv4Header.HEADER_LEN) return DropReason.ICMP_BAD_QUOTE.ordinal();
        int verIhl = Byte.toUnsignedInt(segment.get(U8, offset + HEADER_LEN));
        int quotedLen = (verIhl & 0x0f) * 4;
        if (verIhl >>> 4 != Ipv4Header.VERSION_4 || quotedLen < Ipv4Header.HEADER_LEN || HEADER_LEN + quotedLen > limit) {
            return DropReason.ICMP_BAD_QUOTE.ordinal();
        }
        return VALID;
    }

    /** The type. */
    public int type() {
        return Byte.toUnsignedInt(segment.get(U8, offset + TYPE));
    }

    /** The code. */
    public int code() {
        return Byte.toUnsignedInt(segment.get(U8, offset + CODE));
    }

    /** The checksum field. */
    public int checksum() {
        return Short.toUnsignedInt(segment.get(U16, offset + CHECKSUM));
    }

    /** The 32 bits after the checksum, whatever the type makes of them. */
    public int restOfHeader() {
        return segment.get(U32, offset + REST_OF_HEADER);
    }

    /** The echo identifier (echo request and reply). */
    public int identifier() {
        return Short.toUnsignedInt(segment.get(U16, offset + IDENTIFIER));
    }

    /** The echo sequence number (echo request and reply). */
    public int sequence() {
        return Short.toUnsignedInt(segment.get(U16, offset + SEQUENCE));
    }

    /** The next-hop MTU (destination unreachable, code 4; 0 from routers older than RFC 1191). */
    public int nextHopMtu() {
        return Short.toUnsignedInt(segment.get(U16, offset + NEXT_HOP_MTU));
    }

    /** True if this is an error message that quotes a datagram. */
    public boolean isError() {
        return isErrorType(type());
    }

    /** Offset in {@link #segment()} of the data: the echo data, or the quoted IPv4 header of an error. */
    public long payloadOffset() {
        return offset + HEADER_LEN;
    }

    /** Points {@code quoted} at the IPv4 header an error message quotes, and returns it. */
    public Ipv4Header quotedHeader(Ipv4Header quoted) {
        return quoted.wrap(segment, offset + HEADER_LEN);
    }

    /** Sets the type; invalidates {@link #validate}. */
    public Icmpv4Header setType(int type) {
        segment.set(U8, offset + TYPE, (byte) type);
        return this;
    }

    /** Sets the code. */
    public Icmpv4Header setCode(int code) {
        segment.set(U8, offset + CODE, (byte) code);
        return this;
    }

    /** Sets the checksum field. */
    public Icmpv4Header setChecksum(int checksum) {
        segment.set(U16, offset + CHECKSUM, (short) checksum);
        return this;
    }

    /** Sets the 32 bits after the checksum. */
    public Icmpv4Header setRestOfHeader(int rest) {
        segment.set(U32, offset + REST_OF_HEADER, rest);
        return this;
    }

    /** Sets the echo identifier. */
    public Icmpv4Header setIdentifier(int identifier) {
        segment.set(U16, offset + IDENTIFIER, (short) identifier);
        return this;
    }

    /** Sets the echo sequence number. */
    public Icmpv4Header setSequence(int sequence) {
        segment.set(U16, offset + SEQUENCE, (short) sequence);
        return this;
    }

    /** Sets the next-hop MTU (and leaves the unused half-word before it alone). */
    public Icmpv4Header setNextHopMtu(int mtu) {
        segment.set(U16, offset + NEXT_HOP_MTU, (short) mtu);
        return this;
    }

    /** The checksum the message of {@code length} bytes should carry (the field counted as 0). */
    public int computeChecksum(int length) {
        // Type and code, then everything after the field; both ranges start at even offsets.
        int s = InternetChecksum.sum(segment, offset, CHECKSUM);
        s = InternetChecksum.sum(segment, offset + REST_OF_HEADER, length - REST_OF_HEADER, s);
        return InternetChecksum.finish(s);
    }

    /** True if the checksum of the message of {@code length} bytes verifies. */
    public boolean verifyChecksum(int length) {
        return InternetChecksum.sum(segment, offset, length) == 0xffff;
    }

    /** Computes the checksum of the message of {@code length} bytes and writes it into the field. */
    public Icmpv4Header fillChecksum(int length) {
        return setChecksum(computeChecksum(length));
    }

    @Override
    public String toString() {
        if (segment == null) return "Icmpv4Header[unwrapped]";
        return "Icmpv4Header[type=" + type() + " code=" + code() + " rest=0x" + Integer.toHexString(restOfHeader()) + "]";
    }
}
