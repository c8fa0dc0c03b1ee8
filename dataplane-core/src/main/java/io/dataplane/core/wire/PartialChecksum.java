package io.dataplane.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * TCP and UDP checksums over IPv4 as a sender's kernel leaves them when it defers the sum
 * ({@code CHECKSUM_PARTIAL}): the checksum field holds the folded sum of the pseudo-header only,
 * not complemented ({@code ~csum_tcpudp_magic(src, dst, len, proto, 0)} in
 * {@code __tcp_v4_send_check} and {@code udp4_hwcsum}), and whoever transmits the packet on a
 * device without checksum offload completes it ({@code skb_checksum_help}). Across a veth nobody
 * does: a kernel VXLAN or IPIP device there sends its inner packets so, and a tunnel endpoint
 * that takes them off the wire receives bytes whose checksum only says "not done yet".
 *
 * <p>{@link #field} recognizes such a packet from its headers alone: the field equals the
 * pseudo-header sum of the packet's addresses, protocol and transport length. A complete checksum
 * that happens to equal that value describes the same bytes, and completing it gives it back
 * unchanged; any other value (complete and valid, or simply wrong) is not partial and is left to
 * the receiver's own check. {@link #complete} then finishes the sum where nobody downstream will.
 */
public final class PartialChecksum {
    private PartialChecksum() {}

    /**
     * The offset, from {@code offset}, of the TCP or UDP checksum field of the IPv4 packet of
     * {@code length} bytes at {@code offset} if that field holds the partial (pseudo-header) sum;
     * -1 if it does not, or the packet is no unfragmented TCP or UDP over IPv4 whose headers fit.
     * Reads the IPv4 header and the field only. The transport header starts at the IPv4 header
     * length ({@code csum_start}); the field is {@link TcpHeader#CHECKSUM} or
     * {@link UdpHeader#CHECKSUM} further on ({@code csum_offset}).
     */
    public static int field(MemorySegment segment, long offset, int length) {
        if (length < Ipv4Header.HEADER_LEN || offset + length > segment.byteSize()) return -1;
        int verIhl = Byte.toUnsignedInt(segment.get(NetworkOrder.U8, offset + Ipv4Header.VER_IHL));
        int ihl = (verIhl & 0x0f) * 4;
        if ((verIhl >>> 4) != Ipv4Header.VERSION_4 || ihl < Ipv4Header.HEADER_LEN) return -1;
        int total = Short.toUnsignedInt(segment.get(NetworkOrder.U16, offset + Ipv4Header.TOTAL_LEN));
        int fragment = segment.get(NetworkOrder.U16, offset + Ipv4Header.FLAGS_FRAG) & (Ipv4Header.FLAG_MF | Ipv4Header.FRAG_OFFSET_MASK);
        if (total > length || fragment != 0) return -1;
        int protocol = Byte.toUnsignedInt(segment.get(NetworkOrder.U8, offset + Ipv4Header.PROTOCOL));
        int field;
        if (protocol == Ipv4Header.PROTO_TCP) {
            field = ihl + TcpHeader.CHECKSUM;
            if (total < ihl + TcpHeader.HEADER_LEN) return -1;
        } else if (protocol == Ipv4Header.PROTO_UDP) {
            field = ihl + UdpHeader.CHECKSUM;
            if (total < ihl + UdpHeader.HEADER_LEN) return -1;
        } else {
            return -1;
        }
        int value = Short.toUnsignedInt(segment.get(NetworkOrder.U16, offset + field));
        if (value == 0) return -1; // UDP: no checksum; TCP: a pseudo-header sum is never 0
        int pseudo = InternetChecksum.pseudoHeaderSum(segment.get(NetworkOrder.U32, offset + Ipv4Header.SRC_ADDR),
                segment.get(NetworkOrder.U32, offset + Ipv4Header.DST_ADDR), protocol, total - ihl);
        return value == pseudo ? field : -1;
    }

    /**
     * Completes a partial checksum as the kernel's {@code skb_checksum_help} does: the one's
     * complement sum of the bytes from {@code csumStart} to {@code end} (relative to
     * {@code offset}), the field at {@code csumStart + csumOffset} counting with the partial sum it
     * holds, complemented into that field; a result of 0 is written as {@code 0xffff} (the same
     * value in one's complement, and never "no checksum" for UDP).
     */
    public static void complete(MemorySegment segment, long offset, int csumStart, int csumOffset, int end) {
        int checksum = InternetChecksum.finish(InternetChecksum.sum(segment, offset + csumStart, end - csumStart));
        segment.set(NetworkOrder.U16, offset + csumStart + csumOffset, (short) (checksum == 0 ? 0xffff : checksum));
    }

    /**
     * Completes the partial checksum of the IPv4 packet at {@code offset} whose field
     * {@link #field} found at {@code field}, over the transport length the IPv4 header gives.
     */
    public static void complete(MemorySegment segment, long offset, int field) {
        int ihl = (segment.get(NetworkOrder.U8, offset + Ipv4Header.VER_IHL) & 0x0f) * 4;
        int total = Short.toUnsignedInt(segment.get(NetworkOrder.U16, offset + Ipv4Header.TOTAL_LEN));
        complete(segment, offset, ihl, field - ihl, total);
    }
}
