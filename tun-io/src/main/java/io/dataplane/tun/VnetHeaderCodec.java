package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.wire.InternetChecksum;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.NetworkOrder;
import io.dataplane.core.wire.PartialChecksum;
import io.dataplane.core.wire.TcpHeader;
import io.dataplane.core.wire.UdpHeader;
import java.lang.foreign.MemorySegment;

/**
 * Translates between what a {@link PacketBuffer} says about its packet (a super-packet's segment
 * size, {@link PacketBuffer#gsoSize()}) and the {@link VirtioNetHeader} in front of it on a TUN
 * descriptor, the kernel's {@code virtio_net_hdr_from_skb} and {@code virtio_net_hdr_to_skb} seen
 * from the other side; and completes partial checksums where no header can carry them. Kept beside
 * the device, as wireguard-go keeps {@code offload_linux.go} beside {@code tun_linux.go}: the
 * device moves bytes, this class decides what the header says.
 *
 * <p><b>Read</b> ({@link #decode}): the header sits in the {@link #length()} bytes in front of the
 * buffer's data. A GSO header makes the buffer a super-packet of its {@code gso_size}; its
 * NEEDS_CSUM stays for the segmenter. A single packet with NEEDS_CSUM has its checksum completed
 * here, so the packet handed on is valid.
 *
 * <p><b>Write</b> ({@link #encode}): a single packet gets a zero header, or NEEDS_CSUM at its
 * transport header if its TCP or UDP checksum is partial ({@link PartialChecksum}: what a kernel
 * sending across a veth leaves, and what {@code tun_get_user} turns back into
 * {@code CHECKSUM_PARTIAL}); a super-packet gets a GSO header (TCPV4 or UDP_L4 from the IPv4
 * protocol) with NEEDS_CSUM and the pseudo-header sum in its L4 checksum field, as the kernel
 * expects. Without a header ({@link #length()} 0) a partial checksum is completed in software,
 * since the TUN's kernel would otherwise drop the packet as corrupt.
 *
 * <p>The device keeps one instance for its reader and one for its writer; nothing allocates.
 */
final class VnetHeaderCodec {
    private final String device;
    private final int length;
    private final VirtioNetHeader header = new VirtioNetHeader();
    private final Ipv4Header ip = new Ipv4Header();
    private final TcpHeader tcp = new TcpHeader();

    /** A codec for the TUN {@code device} (named in errors), with or without a virtio_net_hdr on its descriptor. */
    VnetHeaderCodec(String device, boolean vnetHeader) {
        this.device = device;
        this.length = vnetHeader ? VirtioNetHeader.LENGTH : 0;
    }

    /** Bytes in front of every packet on the descriptor: the header's 10, or 0 without one. */
    int length() {
        return length;
    }

    /** Checks that {@code b}'s offset leaves room for the header in front of its data. */
    void checkHeadroom(PacketBuffer b) {
        int off = b.offset();
        if (off < length) {
            throw new IllegalArgumentException("buffer offset leaves no room for the virtio_net_hdr on " + device
                    + ": offset=" + off + " (need " + length + ")");
        }
    }

    /** After a read of {@code b}'s data: sets its GSO size from the header; completes a single packet's partial checksum. */
    void decode(PacketBuffer b) {
        if (length == 0) {
            b.setGsoSize(0); // a reused buffer may still say super-packet
            return;
        }
        MemorySegment s = b.segment();
        int off = b.offset();
        int len = b.length();
        VirtioNetHeader h = header.wrap(s, off - length);
        int gsoType = h.gsoType() & ~VirtioNetHeader.GSO_ECN;
        if (gsoType != VirtioNetHeader.GSO_NONE) {
            b.setGsoSize(h.gsoSize());
            return;
        }
        b.setGsoSize(0);
        if ((h.flags() & VirtioNetHeader.F_NEEDS_CSUM) != 0) {
            int start = h.csumStart();
            int csumOffset = h.csumOffset();
            if (start + csumOffset + 2 <= len) {
                PartialChecksum.complete(s, off, start, csumOffset, len);
                h.flags(h.flags() & ~VirtioNetHeader.F_NEEDS_CSUM);
            }
        }
    }

    /**
     * Before a write of {@code b}: writes the header in front of its data, or without one completes
     * a partial checksum. False if the packet cannot be written: a super-packet that is not TCP or
     * UDP over IPv4 whose headers fit.
     *
     * @throws IllegalArgumentException if {@code b}'s offset leaves no room for the header
     */
    boolean encode(PacketBuffer b) {
        MemorySegment s = b.segment();
        int off = b.offset();
        int len = b.length();
        if (length == 0) {
            int field = PartialChecksum.field(s, off, len);
            if (field >= 0) PartialChecksum.complete(s, off, field);
            return true;
        }
        checkHeadroom(b);
        int gsoSize = b.gsoSize();
        if (gsoSize == 0) {
            encodeSingle(b, s, off - length);
            return true;
        }
        VirtioNetHeader h = header.wrap(s, off - length);
        if (len < Ipv4Header.HEADER_LEN) return false;
        Ipv4Header v4 = ip.wrap(s, off);
        int ihl = v4.headerLength();
        if (v4.version() != Ipv4Header.VERSION_4 || ihl < Ipv4Header.HEADER_LEN) return false;
        int protocol = v4.protocol();
        int gsoType;
        int l4HeaderLen;
        int csumOffset;
        if (protocol == Ipv4Header.PROTO_TCP) {
            if (len < ihl + TcpHeader.HEADER_LEN) return false;
            gsoType = VirtioNetHeader.GSO_TCPV4;
            l4HeaderLen = tcp.wrap(s, off + ihl).headerLength();
            csumOffset = TcpHeader.CHECKSUM;
        } else if (protocol == Ipv4Header.PROTO_UDP) {
            if (len < ihl + UdpHeader.HEADER_LEN) return false;
            gsoType = VirtioNetHeader.GSO_UDP_L4;
            l4HeaderLen = UdpHeader.HEADER_LEN;
            csumOffset = UdpHeader.CHECKSUM;
        } else {
            return false;
        }
        // The kernel completes the checksum per segment from the pseudo-header sum over the whole L4 length.
        int pseudo = InternetChecksum.pseudoHeaderSum(v4.srcAddr(), v4.dstAddr(), protocol, len - ihl);
        s.set(NetworkOrder.U16, off + ihl + csumOffset, (short) pseudo);
        h.set(VirtioNetHeader.F_NEEDS_CSUM, gsoType, ihl + l4HeaderLen, gsoSize, ihl, csumOffset);
        return true;
    }

    /**
     * As {@link #encode} for a packet without a {@link PacketBuffer#gsoSize()}, with a header: the
     * header written at byte {@code at} of {@code to} (the packet's own headroom, or an area of its
     * own for a gathered write) instead of in front of the data.
     */
    void encodeSingle(PacketBuffer b, MemorySegment to, long at) {
        MemorySegment s = b.segment();
        int off = b.offset();
        int field = PartialChecksum.field(s, off, b.length());
        VirtioNetHeader h = header.wrap(to, at);
        if (field < 0) {
            h.clear();
        } else {
            int ihl = ip.wrap(s, off).headerLength();
            h.set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, field + 2, 0, ihl, field - ihl);
        }
    }

    /**
     * Writes the header of a TCP super-packet joined from segments of {@code mss} payload bytes
     * ({@link SegmentJoiner}) in front of {@code first}, whose IPv4 header has no options and whose
     * {@code headers} bytes of IPv4 and TCP header the joiner already rewrote for the whole.
     */
    void encodeJoined(PacketBuffer first, int headers, int mss) {
        header.wrap(first.segment(), first.offset() - length).set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4,
                headers, mss, Ipv4Header.HEADER_LEN, TcpHeader.CHECKSUM);
    }
}
