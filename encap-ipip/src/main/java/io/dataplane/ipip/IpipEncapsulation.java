package io.dataplane.ipip;

import static io.dataplane.core.wire.NetworkOrder.U32;
import static io.dataplane.core.wire.NetworkOrder.U64;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.wire.InternetChecksum;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.PartialChecksum;
import io.dataplane.core.wire.TcpHeader;
import java.lang.foreign.MemorySegment;

/**
 * IP-in-IP (RFC 2003) as flannel's {@code ipip} backend puts it on the wire through its kernel
 * device {@code flannel.ipip}: an outer IPv4 header, protocol 4, in front of the inner IPv4
 * packet, nothing else.
 *
 * <pre>
 *  +---------------------------+
 *  |      Outer IP Header      |  20 bytes, protocol 4, our public IP -&gt; the peer's
 *  +---------------------------+
 *  |      Inner IP Header      |  as the pod sent it, untouched
 *  +---------------------------+
 *  |         IP Payload        |
 *  +---------------------------+
 * </pre>
 *
 * <h2>Encapsulation</h2>
 * {@link #encap} writes the 20-byte outer header into the headroom in front of the inner packet and
 * makes it part of the data; the transport sends the whole datagram with {@code IP_HDRINCL}
 * (datagram mode of {@code SocketTransport.rawIp}). Writing the header ourselves is what gives every packet
 * its own DF bit: a raw socket that lets the kernel write the header can only set DF for all
 * (IP_MTU_DISCOVER) and inner packets differ. The outer fields:
 * <ul>
 *   <li>DF copied from the inner header (RFC 2003 3.1; the kernel's ipip does the same when, as
 *       flanneld creates it, its own {@code pmtudisc} is off); MF and fragment offset 0;</li>
 *   <li>TTL {@link IpipTunnelConfig#outerTtl()}, 64 by default, or the inner TTL when 0 ("inherit",
 *       what {@code flannel.ipip} does);</li>
 *   <li>DSCP 0 (flannel.ipip's {@code tos} is 0) and ECN as RFC 6040's normal mode, which the
 *       kernel follows: the inner ECN field, except that CE becomes ECT(0);</li>
 *   <li>identification 0. An outer datagram with DF set is atomic, and RFC 6864 lets its
 *       identification be anything; for one without DF, the kernel's {@code raw_send_hdrinc}
 *       replaces a zero identification with its own per-destination counter, as it does for its
 *       ipip device, so fragmentable datagrams still get distinct ones;</li>
 *   <li>source our public IP, destination the public IP of the peer the route's value names; the checksum
 *       (the kernel computes it again on send, but the datagram is complete without it).</li>
 * </ul>
 * A packet with TTL 0 is not encapsulated (RFC 2003 3.1: the TUN never yields one, since the
 * kernel's forwarding drops TTL 1 before it, but a raw socket can write TTL 0), {@code TTL_EXPIRED};
 * one longer than the inner MTU is {@code OVERSIZE}, unless it is a TCP super-packet (gsoSize
 * set), which gets one outer header for the raw socket to repeat on each of its segments
 * ({@link #encapsulatesSuperPackets}); missing headroom is {@code NO_ROOM}. The inner TTL is left as it is: the kernel
 * already decremented it when it forwarded the packet into the TUN, as it does into flannel.ipip.
 *
 * <h2>Decapsulation</h2>
 * The data is the whole datagram (the transport keeps the outer header). In order:
 * {@code UNKNOWN_PEER} (the source is no peer's public IP, unless {@link
 * IpipTunnelConfig#acceptUnknownPeers()}; the same probe finds the peer's {@link PeerEntry}, which
 * the datagram carries on for the counters); the outer header as {@link Ipv4Header#validate} judges
 * it and its checksum ({@code BAD_CHECKSUM}); {@code IPIP_BAD_OUTER} for another protocol or a
 * fragment; the inner header within the outer payload, its checksum, {@code OVERSIZE} above the
 * inner MTU (but for a TCP super-packet, below), {@code TTL_EXPIRED} for an inner TTL of 0; and
 * RFC 6040's rule for a CE mark on the outer header: copied to an ECN-capable inner packet
 * (checksum updated), {@code ECN_CE_NOT_ECT} for one that is not. The data then becomes exactly
 * the inner packet ({@code FORWARD}); bytes beyond its total length are dropped, as the kernel
 * trims them.
 *
 * <h2>TCP super-packets on receive</h2>
 * A raw socket takes datagrams up as the kernel's IP stack delivers them, and that is after GRO:
 * where the underlay device merges received segments (a NIC with GRO, on by default, or a veth
 * with GRO and NAPI), the kernel's {@code ipip_gro_receive} joins IP-in-IP datagrams of one inner
 * TCP flow, and the socket receives one datagram of up to 64 KiB, outer and inner total lengths
 * and header checksums made whole, the inner TCP checksum partial ({@code tcp4_gro_complete}). A
 * kernel ipip peer on a veth sends its super-packets whole the same way. Such an inner packet
 * beyond the MTU that is TCP, not a fragment, with the partial checksum and payload beyond its
 * headers, forwards with {@link PacketBuffer#gsoSize()} set to the segment size the inner MTU
 * allows, and the TUN takes it as one super-packet ({@link #superPacketsReceived()}); any other
 * oversize packet is {@code OVERSIZE}.
 *
 * <h2>Threads</h2>
 * {@link #encap} runs on one thread (the pipeline's egress thread), {@link #decap} on one other
 * (the transport's); each has its own header views. Nothing allocates or throws on bad input.
 * {@link #encap} writes the outer header as three big-endian stores with a checksum summed from
 * the field values (the words that never change summed once at construction) rather than field by
 * field through a view: it is the whole per-packet cost of the tunnel on the way out.
 */
public final class IpipEncapsulation implements Encapsulation {
    /** ECN field: not ECN-capable transport. */
    static final int NOT_ECT = 0;
    /** ECN field: ECN-capable transport (0). */
    static final int ECT_0 = 2;
    /** ECN field: congestion experienced. */
    static final int CE = 3;
    /** Version 4 and IHL 5, the first byte of every outer header, as the high byte of its 16-bit word. */
    private static final int VERSION_IHL_WORD = 0x4500;

    private final IpipTunnelConfig config;
    private final AddressSet peers;
    private final PeerEntries entries;
    private final int localAddress;
    private final int innerMtu;
    private final int outerTtl;
    private final boolean acceptUnknownPeers;
    /** The one's complement sum of the outer header's words that are the same in every packet (RFC 1071). */
    private final int constantSum;
    // The egress thread's view (encap).
    private final Ipv4Header egressInner = new Ipv4Header();
    // The receive thread's views (decap).
    private final Ipv4Header ingressOuter = new Ipv4Header();
    private final Ipv4Header ingressInner = new Ipv4Header();
    private final TcpHeader ingressTcp = new TcpHeader();
    // Written by the receive thread only.
    private volatile long superPacketsReceived;

    /**
     * A tunnel end that sends to the peers in {@code entries} (a route's value is a peer's
     * {@linkplain PeerEntry#id() id}) and takes datagrams from the addresses in {@code peers}, each
     * carrying its peer's id (the control plane keeps both, see {@link IpipBackend}).
     */
    public IpipEncapsulation(IpipTunnelConfig config, AddressSet peers, PeerEntries entries) {
        if (config == null) throw new IllegalArgumentException("tunnel config missing: config=null");
        if (peers == null) throw new IllegalArgumentException("peer address set missing: peers=null");
        if (entries == null) throw new IllegalArgumentException("peer entries missing: entries=null");
        this.config = config;
        this.peers = peers;
        this.entries = entries;
        this.localAddress = config.localAddress();
        this.innerMtu = config.innerMtu();
        this.outerTtl = config.outerTtl();
        this.acceptUnknownPeers = config.acceptUnknownPeers();
        this.constantSum = InternetChecksum.fold((long) VERSION_IHL_WORD + Ipv4Header.PROTO_IPIP + (localAddress >>> 16) + (localAddress & 0xffff));
    }

    /** The configuration this tunnel end runs with. */
    public IpipTunnelConfig config() {
        return config;
    }

    /** 20: the outer IPv4 header {@link #encap} writes in front of the packet. */
    @Override
    public int headroom() {
        return Ipv4Header.HEADER_LEN;
    }

    /**
     * True: a TCP super-packet gets one outer header, which every segment repeats; the raw socket
     * that cuts it ({@code IP_HDRINCL}) has the kernel fill in each datagram's total length,
     * checksum and identification (0 here), so only the header's total length, written for the
     * whole, is not a segment's.
     */
    @Override
    public boolean encapsulatesSuperPackets() {
        return true;
    }

    /** 20: the outer IPv4 header. */
    @Override
    public int overhead() {
        return IpipTunnelConfig.OVERHEAD;
    }

    /**
     * Puts the outer header in front of the (validated) inner packet, for the peer whose id is
     * {@code nextHop}, to its public IP, with its entry set for the counters; see the class comment
     * for each field.
     *
     * @return {@link #FORWARD}, or the ordinal of {@code TTL_EXPIRED}, {@code OVERSIZE} or {@code
     *     NO_ROOM}, or of {@code NO_ROUTE} when the peer went while the packet was routed
     */
    @Override
    public int encap(PacketBuffer packet, int nextHop) {
        MemorySegment s = packet.segment();
        int o = packet.offset();
        Ipv4Header inner = egressInner.wrap(s, o);
        PeerEntry peer = entries.get(nextHop);
        if (peer == null || !peer.covers(inner.dstAddr())) return DropReason.NO_ROUTE.ordinal();
        int destination = peer.endpoint();
        int ttl = inner.ttl();
        if (ttl == 0) return DropReason.TTL_EXPIRED.ordinal();
        int innerLength = inner.totalLength();
        // A super-packet is cut into segments within the MTU after this; its length field is the kernel's to fill per datagram.
        if (innerLength > innerMtu && packet.gsoSize() == 0) return DropReason.OVERSIZE.ordinal();
        if (o < Ipv4Header.HEADER_LEN) return DropReason.NO_ROOM.ordinal();
        int df = inner.flagsAndFragmentOffset() & Ipv4Header.FLAG_DF;
        int ecn = inner.ecn();
        if (ecn == CE) ecn = ECT_0;
        int totalLength = Ipv4Header.HEADER_LEN + innerLength;
        int ttlWord = (outerTtl == IpipTunnelConfig.INHERIT_TTL ? ttl : outerTtl) << 8;
        int checksum = InternetChecksum.finish(InternetChecksum.fold(
                (long) constantSum + ecn + totalLength + df + ttlWord + (destination >>> 16) + (destination & 0xffff)));
        int h = o - Ipv4Header.HEADER_LEN;
        // Bytes 0-7: version/IHL, DSCP 0 and ECN, total length, identification 0, flags (DF) and offset 0.
        s.set(U64, h, (long) (VERSION_IHL_WORD | ecn) << 48 | (long) (totalLength & 0xffff) << 32 | df);
        // Bytes 8-15: TTL, protocol 4, checksum, source; bytes 16-19: destination.
        s.set(U64, h + Ipv4Header.TTL, (long) (ttlWord | Ipv4Header.PROTO_IPIP) << 48 | (long) checksum << 32 | Integer.toUnsignedLong(localAddress));
        s.set(U32, h + Ipv4Header.DST_ADDR, destination);
        packet.setData(h, totalLength);
        packet.setPeer(destination, 0).setPeerEntry(peer);
        return FORWARD;
    }

    /**
     * Validates the IP-in-IP datagram in {@code packet} (outer header included) and makes its data
     * the inner packet.
     *
     * @return {@link #FORWARD}, or a drop reason's ordinal, see the class comment
     */
    @Override
    public int decap(PacketBuffer packet) {
        int source = packet.peerAddress();
        int id = peers.peerId(source);
        if (id == AddressSet.ABSENT && !acceptUnknownPeers) return DropReason.UNKNOWN_PEER.ordinal();
        PeerEntry peer = entries.get(id);
        if (peer != null && peer.endpoint() == source) packet.setPeerEntry(peer);
        MemorySegment s = packet.segment();
        int o = packet.offset();
        Ipv4Header outer = ingressOuter.wrap(s, o);
        int bad = outer.validate(packet.length());
        if (bad != Ipv4Header.VALID) return bad;
        if (!outer.verifyChecksum()) return DropReason.BAD_CHECKSUM.ordinal();
        if (outer.protocol() != Ipv4Header.PROTO_IPIP || outer.isFragment()) return DropReason.IPIP_BAD_OUTER.ordinal();
        int outerHeaderLength = outer.headerLength();
        Ipv4Header inner = ingressInner.wrap(s, o + outerHeaderLength);
        bad = inner.validate(outer.totalLength() - outerHeaderLength);
        if (bad != Ipv4Header.VALID) return bad;
        if (!inner.verifyChecksum()) return DropReason.BAD_CHECKSUM.ordinal();
        int innerLength = inner.totalLength();
        int segment = 0;
        if (innerLength > innerMtu) {
            segment = superPacketSegment(inner, s, o + outerHeaderLength, innerLength);
            if (segment <= 0) return DropReason.OVERSIZE.ordinal();
        }
        if (inner.ttl() == 0) return DropReason.TTL_EXPIRED.ordinal();
        if (outer.ecn() == CE) {
            int innerEcn = inner.ecn();
            if (innerEcn == NOT_ECT) return DropReason.ECN_CE_NOT_ECT.ordinal();
            if (innerEcn != CE) markCongestion(inner);
        }
        packet.setData(o + outerHeaderLength, innerLength);
        packet.setGsoSize(segment);
        if (segment > 0) superPacketsReceived = superPacketsReceived + 1;
        return FORWARD;
    }

    /**
     * The segment size of the TCP super-packet of {@code totalLength} bytes at {@code at} (see the
     * class comment), or 0 if it is none: TCP, not a fragment, its checksum partial and payload
     * beyond its headers. Segments of {@link IpipTunnelConfig#innerMtu()} bytes: what the TUN's
     * kernel cuts it into if it has to.
     */
    private int superPacketSegment(Ipv4Header inner, MemorySegment s, int at, int totalLength) {
        if (inner.protocol() != Ipv4Header.PROTO_TCP || PartialChecksum.field(s, at, totalLength) < 0) return 0;
        int ihl = inner.headerLength();
        TcpHeader tcp = ingressTcp.wrap(s, at + ihl);
        if (!tcp.checkLen(totalLength - ihl)) return 0;
        int headers = ihl + tcp.headerLength();
        return headers < totalLength ? innerMtu - headers : 0;
    }

    /** Inner TCP super-packets decapsulated whole so far (see the class comment), each forwarded into the TUN as one. */
    public long superPacketsReceived() {
        return superPacketsReceived;
    }

    /** Sets the inner ECN field to CE, updating the checksum for the changed first 16-bit word (RFC 1624). */
    private static void markCongestion(Ipv4Header inner) {
        int oldWord = (Ipv4Header.VERSION_4 << 12) | (inner.ihl() << 8) | (inner.dscp() << 2) | inner.ecn();
        int newWord = oldWord | CE;
        inner.setEcn(CE).setChecksum(InternetChecksum.update(inner.checksum(), oldWord, newWord));
    }

    @Override
    public String toString() {
        return "IpipEncapsulation[" + config + "]";
    }
}
