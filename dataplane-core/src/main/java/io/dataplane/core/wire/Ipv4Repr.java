package io.dataplane.core.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The fields of an IPv4 header as values, for the slow path, templates and tests. The header
 * checksum is not a field: {@link #emit} computes it, and the total length is derived from
 * {@link #payloadLength}. The reserved flag bit is not kept (it must be 0, RFC 791).
 *
 * @param dscp differentiated services code point, 0-63
 * @param ecn explicit congestion notification, 0-3
 * @param identification 0-65535
 * @param dontFragment the DF flag
 * @param moreFragments the MF flag
 * @param fragmentOffset in 8-byte units, 0-8191
 * @param ttl time to live, 0-255
 * @param protocol 0-255 (see {@link Ipv4Header#PROTO_UDP} and friends)
 * @param srcAddr source address (see {@link Ipv4Address})
 * @param dstAddr destination address
 * @param options the option bytes, a multiple of 4 up to 40 (empty for none); copied in and out
 * @param payloadLength bytes after the header; header plus payload at most 65535
 */
public record Ipv4Repr(int dscp, int ecn, int identification, boolean dontFragment, boolean moreFragments,
        int fragmentOffset, int ttl, int protocol, int srcAddr, int dstAddr, byte[] options, int payloadLength) {

    private static final byte[] NO_OPTIONS = new byte[0];

    /** Checks every field's range; throws {@link IllegalArgumentException} naming the field and value. */
    public Ipv4Repr {
        check("dscp", dscp, 63);
        check("ecn", ecn, 3);
        check("identification", identification, 0xffff);
        check("fragmentOffset", fragmentOffset, Ipv4Header.FRAG_OFFSET_MASK);
        check("ttl", ttl, 255);
        check("protocol", protocol, 255);
        options = options == null || options.length == 0 ? NO_OPTIONS : options.clone();
        if (options.length % 4 != 0 || options.length > Ipv4Header.MAX_HEADER_LEN - Ipv4Header.HEADER_LEN) {
            throw new IllegalArgumentException("IPv4 options length not a multiple of 4 up to 40: options.length=" + options.length);
        }
        int headerLen = Ipv4Header.HEADER_LEN + options.length;
        if (payloadLength < 0 || payloadLength > Ipv4Header.MAX_TOTAL_LEN - headerLen) {
            throw new IllegalArgumentException("IPv4 payloadLength out of range: payloadLength=" + payloadLength
                    + " (0-" + (Ipv4Header.MAX_TOTAL_LEN - headerLen) + " with a " + headerLen + "-byte header)");
        }
    }

    private static void check(String field, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException("IPv4 " + field + " out of range: " + field + "=" + value + " (0-" + max + ")");
        }
    }

    /** A plain header without options: DSCP/ECN 0, identification 0, DF set, as Linux sends with PMTU discovery. */
    public static Ipv4Repr of(int srcAddr, int dstAddr, int protocol, int ttl, int payloadLength) {
        return new Ipv4Repr(0, 0, 0, true, false, 0, ttl, protocol, srcAddr, dstAddr, NO_OPTIONS, payloadLength);
    }

    /** Reads every field of a header that passed {@link Ipv4Header#validate}. */
    public static Ipv4Repr parse(Ipv4Header header) {
        byte[] options = header.optionsLength() == 0 ? NO_OPTIONS
                : header.segment().asSlice(header.optionsOffset(), header.optionsLength()).toArray(ValueLayout.JAVA_BYTE);
        return new Ipv4Repr(header.dscp(), header.ecn(), header.identification(), header.dontFragment(),
                header.moreFragments(), header.fragmentOffset(), header.ttl(), header.protocol(), header.srcAddr(),
                header.dstAddr(), options, header.payloadLength());
    }

    /** Writes every field, the options and the header checksum into {@code header}'s {@link #headerLength()} bytes. */
    public void emit(Ipv4Header header) {
        header.setVersion4AndIhl(headerLength() / 4)
                .setDscp(dscp)
                .setEcn(ecn)
                .setTotalLength(totalLength())
                .setIdentification(identification)
                .setFlagsAndFragmentOffset((dontFragment ? Ipv4Header.FLAG_DF : 0) | (moreFragments ? Ipv4Header.FLAG_MF : 0) | fragmentOffset)
                .setTtl(ttl)
                .setProtocol(protocol)
                .setSrcAddr(srcAddr)
                .setDstAddr(dstAddr);
        if (options.length > 0) {
            MemorySegment.copy(options, 0, header.segment(), ValueLayout.JAVA_BYTE, header.optionsOffset(), options.length);
        }
        header.fillChecksum();
    }

    /** The option bytes (a copy). */
    @Override
    public byte[] options() {
        return options.clone();
    }

    /** Header length in bytes: 20 plus the options. */
    public int headerLength() {
        return Ipv4Header.HEADER_LEN + options.length;
    }

    /** Total length in bytes: header plus payload. */
    public int totalLength() {
        return headerLength() + payloadLength;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ipv4Repr r && dscp == r.dscp && ecn == r.ecn && identification == r.identification
                && dontFragment == r.dontFragment && moreFragments == r.moreFragments
                && fragmentOffset == r.fragmentOffset && ttl == r.ttl && protocol == r.protocol
                && srcAddr == r.srcAddr && dstAddr == r.dstAddr && Arrays.equals(options, r.options)
                && payloadLength == r.payloadLength;
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(srcAddr) * 31 + Integer.hashCode(dstAddr);
        h = h * 31 + (protocol << 16 | identification);
        h = h * 31 + (ttl << 24 | dscp << 2 | ecn);
        h = h * 31 + fragmentOffset + (dontFragment ? 0x4000 : 0) + (moreFragments ? 0x2000 : 0);
        return (h * 31 + Arrays.hashCode(options)) * 31 + payloadLength;
    }

    @Override
    public String toString() {
        return "Ipv4Repr[" + Ipv4Address.toString(srcAddr) + " -> " + Ipv4Address.toString(dstAddr) + " protocol=" + protocol
                + " ttl=" + ttl + " dscp=" + dscp + " ecn=" + ecn + " id=" + identification + " df=" + dontFragment
                + " mf=" + moreFragments + " fragOffset=" + fragmentOffset + " options=" + HexFormat.of().formatHex(options)
                + " payloadLength=" + payloadLength + "]";
    }
}
