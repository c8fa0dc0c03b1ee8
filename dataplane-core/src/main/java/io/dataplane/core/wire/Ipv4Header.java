package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;
import static io.dataplane.core.wire.NetworkOrder.U8;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * A view of an IPv4 header (RFC 791) at an offset of a {@link MemorySegment}, re-pointed with
 * {@link #wrap} so one instance serves every packet of a worker.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (IHL - 5 words)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Flags: bit 0 reserved (must be 0), bit 1 DF (don't fragment), bit 2 MF (more fragments).
 * </pre>
 *
 * <p><b>Untrusted input.</b> Call {@link #validate(int)} once with the number of bytes the packet
 * has from the view's offset; when it returns {@link #VALID}, every accessor, the checksum methods
 * and {@link #payloadOffset()} stay within {@link #totalLength()} bytes, which are inside the
 * buffer. Accessors never check again: on an unvalidated view the segment's own bounds check is the
 * only guard. {@link #setVersion}, {@link #setIhl} and {@link #setTotalLength} invalidate an earlier
 * validation; no other setter does. A buffer that is about to be filled needs no validation.
 */
public final class Ipv4Header {
    /** Offset of version (high nibble) and IHL (low nibble). */
    public static final int VER_IHL = 0;
    /** Offset of DSCP (6 bits) and ECN (2 bits). */
    public static final int DSCP_ECN = 1;
    /** Offset of the total length (header and payload, bytes). */
    public static final int TOTAL_LEN = 2;
    /** Offset of the identification. */
    public static final int IDENT = 4;
    /** Offset of the flags (3 bits) and fragment offset (13 bits, 8-byte units). */
    public static final int FLAGS_FRAG = 6;
    /** Offset of the time to live. */
    public static final int TTL = 8;
    /** Offset of the protocol. */
    public static final int PROTOCOL = 9;
    /** Offset of the header checksum. */
    public static final int CHECKSUM = 10;
    /** Offset of the source address. */
    public static final int SRC_ADDR = 12;
    /** Offset of the destination address. */
    public static final int DST_ADDR = 16;
    /** Length of a header without options (IHL 5). */
    public static final int HEADER_LEN = DST_ADDR + 4;
    /** Length of a header with the most options (IHL 15). */
    public static final int MAX_HEADER_LEN = 60;
    /** Largest total length. */
    public static final int MAX_TOTAL_LEN = 0xffff;

    /** The only version this view accepts. */
    public static final int VERSION_4 = 4;
    /** Don't-fragment bit of the flags/fragment-offset word. */
    public static final int FLAG_DF = 0x4000;
    /** More-fragments bit of the flags/fragment-offset word. */
    public static final int FLAG_MF = 0x2000;
    /** Reserved (evil) bit of the flags/fragment-offset word. */
    public static final int FLAG_RESERVED = 0x8000;
    /** The fragment offset bits of the flags/fragment-offset word. */
    public static final int FRAG_OFFSET_MASK = 0x1fff;

    /** Protocol number of ICMP. */
    public static final int PROTO_ICMP = 1;
    /** Protocol number of IP-in-IP (flannel's ipip backend). */
    public static final int PROTO_IPIP = 4;
    /** Protocol number of TCP. */
    public static final int PROTO_TCP = 6;
    /** Protocol number of UDP. */
    public static final int PROTO_UDP = 17;

    /** What {@link #validate} and {@link #decrementTtl} return when all is well. */
    public static final int VALID = -1;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the header starting at {@code offset} of {@code segment}. */
    public Ipv4Header wrap(MemorySegment segment, long offset) {
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
     * Checks that the header and the packet it describes fit in {@code available} bytes from the
     * view's offset (fewer if the segment ends sooner). Never throws and never reads outside the
     * segment, for any bytes and any {@code available} (a negative one counts as 0). Does not verify
     * the checksum (see {@link #verifyChecksum()}).
     *
     * @return {@link #VALID} (-1) if the header may be read freely, otherwise the ordinal of
     *     {@link DropReason#TRUNCATED} (fewer than 20 bytes), {@link DropReason#NOT_IPV4} (version is
     *     not 4), {@link DropReason#BAD_IHL} (IHL below 5, or the header longer than the bytes
     *     available) or {@link DropReason#BAD_TOTAL_LENGTH} (total length below the header length or
     *     beyond the bytes available), checked in that order
     */
    public int validate(int available) {
        long limit = Bounds.limit(segment, offset, available);
        if (limit < HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        int verIhl = Byte.toUnsignedInt(segment.get(U8, offset + VER_IHL));
        if (verIhl >>> 4 != VERSION_4) return DropReason.NOT_IPV4.ordinal();
        int headerLen = (verIhl & 0x0f) * 4;
        if (headerLen < HEADER_LEN || headerLen > limit) return DropReason.BAD_IHL.ordinal();
        int totalLen = Short.toUnsignedInt(segment.get(U16, offset + TOTAL_LEN));
        if (totalLen < headerLen || totalLen > limit) return DropReason.BAD_TOTAL_LENGTH.ordinal();
        return VALID;
    }

    /** The version field. */
    public int version() {
        return Byte.toUnsignedInt(segment.get(U8, offset + VER_IHL)) >>> 4;
    }

    /** The IHL field: header length in 32-bit words. */
    public int ihl() {
        return segment.get(U8, offset + VER_IHL) & 0x0f;
    }

    /** The header length in bytes (IHL times 4). */
    public int headerLength() {
        return (segment.get(U8, offset + VER_IHL) & 0x0f) << 2;
    }

    /** The DSCP field (6 bits). */
    public int dscp() {
        return Byte.toUnsignedInt(segment.get(U8, offset + DSCP_ECN)) >>> 2;
    }

    /** The ECN field (2 bits). */
    public int ecn() {
        return segment.get(U8, offset + DSCP_ECN) & 0x03;
    }

    /** The total length field: header and payload in bytes. */
    public int totalLength() {
        return Short.toUnsignedInt(segment.get(U16, offset + TOTAL_LEN));
    }

    /** The payload length: total length minus header length. */
    public int payloadLength() {
        return totalLength() - headerLength();
    }

    /** Offset in {@link #segment()} where the payload (after options) starts. */
    public long payloadOffset() {
        return offset + headerLength();
    }

    /** The identification field. */
    public int identification() {
        return Short.toUnsignedInt(segment.get(U16, offset + IDENT));
    }

    /** The flags and fragment offset as one 16-bit word. */
    public int flagsAndFragmentOffset() {
        return Short.toUnsignedInt(segment.get(U16, offset + FLAGS_FRAG));
    }

    /** The DF (don't fragment) flag. */
    public boolean dontFragment() {
        return (flagsAndFragmentOffset() & FLAG_DF) != 0;
    }

    /** The MF (more fragments) flag. */
    public boolean moreFragments() {
        return (flagsAndFragmentOffset() & FLAG_MF) != 0;
    }

    /** The fragment offset in 8-byte units. */
    public int fragmentOffset() {
        return flagsAndFragmentOffset() & FRAG_OFFSET_MASK;
    }

    /** True if this packet is a fragment: MF set or a fragment offset other than 0. */
    public boolean isFragment() {
        return (flagsAndFragmentOffset() & (FLAG_MF | FRAG_OFFSET_MASK)) != 0;
    }

    /** True for the first fragment of a fragmented packet (MF set, offset 0): it holds the transport header. */
    public boolean isFirstFragment() {
        return (flagsAndFragmentOffset() & (FLAG_MF | FRAG_OFFSET_MASK)) == FLAG_MF;
    }

    /** True for a fragment after the first (offset other than 0): it holds no transport header. */
    public boolean isLaterFragment() {
        return (flagsAndFragmentOffset() & FRAG_OFFSET_MASK) != 0;
    }

    /** The time to live field. */
    public int ttl() {
        return Byte.toUnsignedInt(segment.get(U8, offset + TTL));
    }

    /** The protocol field. */
    public int protocol() {
        return Byte.toUnsignedInt(segment.get(U8, offset + PROTOCOL));
    }

    /** The header checksum field. */
    public int checksum() {
        return Short.toUnsignedInt(segment.get(U16, offset + CHECKSUM));
    }

    /** The source address (see {@link Ipv4Address}). */
    public int srcAddr() {
        return segment.get(U32, offset + SRC_ADDR);
    }

    /** The destination address (see {@link Ipv4Address}). */
    public int dstAddr() {
        return segment.get(U32, offset + DST_ADDR);
    }

    /** Offset in {@link #segment()} of the options ({@link #optionsLength()} bytes). */
    public long optionsOffset() {
        return offset + HEADER_LEN;
    }

    /** Length of the options in bytes (header length minus 20). */
    public int optionsLength() {
        return headerLength() - HEADER_LEN;
    }

    /** Sets the version, keeping the IHL; invalidates {@link #validate}. */
    public Ipv4Header setVersion(int version) {
        segment.set(U8, offset + VER_IHL, (byte) ((version << 4) | ihl()));
        return this;
    }

    /** Sets the IHL (header length in 32-bit words), keeping the version; invalidates {@link #validate}. */
    public Ipv4Header setIhl(int ihl) {
        segment.set(U8, offset + VER_IHL, (byte) ((version() << 4) | (ihl & 0x0f)));
        return this;
    }

    /** Sets version 4 and IHL in one write; invalidates {@link #validate}. */
    public Ipv4Header setVersion4AndIhl(int ihl) {
        segment.set(U8, offset + VER_IHL, (byte) ((VERSION_4 << 4) | (ihl & 0x0f)));
        return this;
    }

    /** Sets the DSCP (6 bits), keeping the ECN. */
    public Ipv4Header setDscp(int dscp) {
        segment.set(U8, offset + DSCP_ECN, (byte) ((dscp << 2) | ecn()));
        return this;
    }

    /** Sets the ECN (2 bits), keeping the DSCP. */
    public Ipv4Header setEcn(int ecn) {
        segment.set(U8, offset + DSCP_ECN, (byte) ((dscp() << 2) | (ecn & 0x03)));
        return this;
    }

    /** Sets the total length; invalidates {@link #validate}. */
    public Ipv4Header setTotalLength(int totalLength) {
        segment.set(U16, offset + TOTAL_LEN, (short) totalLength);
        return this;
    }

    /** Sets the identification. */
    public Ipv4Header setIdentification(int identification) {
        segment.set(U16, offset + IDENT, (short) identification);
        return this;
    }

    /** Sets the flags and fragment offset as one 16-bit word. */
    public Ipv4Header setFlagsAndFragmentOffset(int word) {
        segment.set(U16, offset + FLAGS_FRAG, (short) word);
        return this;
    }

    /** Sets or clears the DF flag. */
    public Ipv4Header setDontFragment(boolean df) {
        int w = flagsAndFragmentOffset();
        return setFlagsAndFragmentOffset(df ? w | FLAG_DF : w & ~FLAG_DF);
    }

    /** Sets or clears the MF flag. */
    public Ipv4Header setMoreFragments(boolean mf) {
        int w = flagsAndFragmentOffset();
        return setFlagsAndFragmentOffset(mf ? w | FLAG_MF : w & ~FLAG_MF);
    }

    /** Sets the fragment offset in 8-byte units (13 bits), keeping the flags. */
    public Ipv4Header setFragmentOffset(int fragmentOffset) {
        return setFlagsAndFragmentOffset((flagsAndFragmentOffset() & ~FRAG_OFFSET_MASK) | (fragmentOffset & FRAG_OFFSET_MASK));
    }

    /** Sets the time to live (the checksum is not updated; see {@link #decrementTtl}). */
    public Ipv4Header setTtl(int ttl) {
        segment.set(U8, offset + TTL, (byte) ttl);
        return this;
    }

    /** Sets the protocol. */
    public Ipv4Header setProtocol(int protocol) {
        segment.set(U8, offset + PROTOCOL, (byte) protocol);
        return this;
    }

    /** Sets the header checksum field. */
    public Ipv4Header setChecksum(int checksum) {
        segment.set(U16, offset + CHECKSUM, (short) checksum);
        return this;
    }

    /** Sets the source address. */
    public Ipv4Header setSrcAddr(int address) {
        segment.set(U32, offset + SRC_ADDR, address);
        return this;
    }

    /** Sets the destination address. */
    public Ipv4Header setDstAddr(int address) {
        segment.set(U32, offset + DST_ADDR, address);
        return this;
    }

    /** The header checksum the header should carry (over {@link #headerLength()} bytes, the field counted as 0). */
    public int computeChecksum() {
        int headerLen = headerLength();
        if (headerLen == HEADER_LEN) return InternetChecksum.ipv4HeaderChecksum(segment, offset);
        // With options: sum the whole header in one pass, then take the field back out (adding its
        // complement); exact, since a header whose version nibble is 4 is never all zero.
        int s = InternetChecksum.sum(segment, offset, headerLen);
        return InternetChecksum.finish(InternetChecksum.add(s, ~checksum()));
    }

    /** True if the header checksum verifies (the header, field included, sums to 0xffff). */
    public boolean verifyChecksum() {
        int headerLen = headerLength();
        // A constant length lets C2 fold the sum to the three reads a 20-byte header needs.
        int s = headerLen == HEADER_LEN
                ? InternetChecksum.sum(segment, offset, HEADER_LEN)
                : InternetChecksum.sum(segment, offset, headerLen);
        return s == 0xffff;
    }

    /** Computes the header checksum and writes it into the field. */
    public Ipv4Header fillChecksum() {
        return setChecksum(computeChecksum());
    }

    /**
     * Decrements the TTL the way a router forwards a packet, updating the checksum incrementally
     * (RFC 1624) instead of summing the header again. A packet whose TTL is 0 or 1 must not be
     * forwarded; then nothing is written.
     *
     * @return {@link #VALID} (-1) if the TTL was decremented, else the ordinal of
     *     {@link DropReason#TTL_EXPIRED}
     */
    public int decrementTtl() {
        // TTL, protocol and checksum are the 32-bit word at offset 8: one read, one write.
        int word = segment.get(U32, offset + TTL);
        if (word >>> 24 < 2) return DropReason.TTL_EXPIRED.ordinal();
        // RFC 1624 with m = TTL/protocol word, m' = m - 0x0100: ~m + m' is always 0xfeff.
        int checksum = InternetChecksum.finish(InternetChecksum.fold((long) (~word & 0xffff) + 0xfeff));
        segment.set(U32, offset + TTL, ((word >>> 16) - 0x0100) << 16 | checksum);
        return VALID;
    }

    @Override
    public String toString() {
        if (segment == null) return "Ipv4Header[unwrapped]";
        return "Ipv4Header[" + Ipv4Address.toString(srcAddr()) + " -> " + Ipv4Address.toString(dstAddr())
                + " proto=" + protocol() + " ttl=" + ttl() + " len=" + totalLength() + " ihl=" + ihl() + "]";
    }
}
