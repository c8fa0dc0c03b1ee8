package io.dataplane.core.wire;

/**
 * The fields of a UDP header as values. The length is derived from {@link #payloadLength}; the
 * checksum is not a field: {@link #emit(UdpHeader, int, int)} computes it over the payload already
 * in place, {@link #emit(UdpHeader)} sends none.
 *
 * @param srcPort source port, 0-65535
 * @param dstPort destination port, 0-65535
 * @param payloadLength bytes after the header, 0-65527
 */
public record UdpRepr(int srcPort, int dstPort, int payloadLength) {

    /** Checks every field's range; throws {@link IllegalArgumentException} naming the field and value. */
    public UdpRepr {
        if (srcPort < 0 || srcPort > 0xffff) throw new IllegalArgumentException("UDP srcPort out of range: srcPort=" + srcPort + " (0-65535)");
        if (dstPort < 0 || dstPort > 0xffff) throw new IllegalArgumentException("UDP dstPort out of range: dstPort=" + dstPort + " (0-65535)");
        if (payloadLength < 0 || payloadLength > 0xffff - UdpHeader.HEADER_LEN) {
            throw new IllegalArgumentException("UDP payloadLength out of range: payloadLength=" + payloadLength + " (0-65527)");
        }
    }

    /** Reads the fields of a header that passed {@link UdpHeader#validate}. */
    public static UdpRepr parse(UdpHeader header) {
        return new UdpRepr(header.srcPort(), header.dstPort(), header.payloadLength());
    }

    /** Writes ports and length, and checksum 0 ("none", allowed over IPv4 and what VXLAN senders may do). */
    public void emit(UdpHeader header) {
        header.setSrcPort(srcPort).setDstPort(dstPort).setLength(length()).setChecksum(UdpHeader.NO_CHECKSUM);
    }

    /**
     * Writes ports and length, and the checksum over the pseudo-header of {@code srcAddr} and
     * {@code dstAddr}, this header and the {@link #payloadLength} bytes after it, which must already
     * be in place.
     */
    public void emit(UdpHeader header, int srcAddr, int dstAddr) {
        header.setSrcPort(srcPort).setDstPort(dstPort).setLength(length()).fillChecksum(srcAddr, dstAddr);
    }

    /** The length field: header plus payload. */
    public int length() {
        return UdpHeader.HEADER_LEN + payloadLength;
    }
}
