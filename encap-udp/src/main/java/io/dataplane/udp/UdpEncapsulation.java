package io.dataplane.udp;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.wire.IcmpErrorWriter;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Header;
import java.util.function.LongSupplier;

/**
 * flannel's {@code udp} backend on the wire: the inner IPv4 packet is the whole UDP payload, sent
 * to the peer's public IP at port 8285, and the packet-path rules of flannel's C proxy ({@code
 * proxy.c}), which this replaces.
 *
 * <h2>TTL, as flannel's proxy</h2>
 * The proxy decrements the TTL in both directions ({@code tun_to_udp} and {@code udp_to_tun}), with
 * an incremental checksum update (RFC 1624), and drops a packet whose TTL the decrement brings to 0,
 * that is one that arrives with TTL 1, without an ICMP time exceeded (a TODO in flannel). So do
 * {@link #encap} and {@link #decap}: {@link Ipv4Header#decrementTtl}, {@code TTL_EXPIRED}. One
 * difference: a packet arriving with TTL 0 wraps to 255 in flannel's C ({@code --ttl} on a byte)
 * and goes on; we drop it. With the kernel's forwarding into and out of the TUN, a packet loses 4
 * from its TTL between two pods of different nodes (2 with vxlan), as it does with flannel.
 *
 * <h2>No route: ICMP net unreachable</h2>
 * A packet read from the TUN that matches no route is answered, as flannel's proxy answers it, with
 * ICMP destination unreachable, code 0 (net unreachable), to the packet's source, written back
 * into the TUN. Its source is {@link UdpTunnelConfig#icmpSource()}, an overlay address no node owns,
 * where flannel's proxy uses the TUN's own address: the kernel drops a packet that comes in on the
 * TUN from one of its own addresses as a martian, so the pod never saw flannel's error. {@link #noRoute} builds it in place ({@link IcmpErrorWriter}): 28 bytes of new IPv4 and
 * ICMP header in the headroom in front of the offending packet, whose header and first 8 bytes of
 * payload stay where they are as the quoted datagram (RFC 792); lengths and both checksums are
 * filled in, {@code REPLY}. Never for (each dropped as {@code NO_ROUTE}):
 * <ul>
 *   <li>ICMP error messages (RFC 1122 3.2.2); flannel sends none for any ICMP, we do for echo
 *       requests and other queries, so that {@code ping} to an unknown subnet says why it fails;</li>
 *   <li>fragments other than the first (they carry no transport header to quote);</li>
 *   <li>a source that is not a unicast address (0.0.0.0, loopback, multicast, 240/4 and the
 *       broadcast address), or a multicast or broadcast destination (RFC 1812 4.3.2.7);</li>
 *   <li>more than {@link UdpTunnelConfig#icmpPerSecond()} a second after a burst of {@link
 *       UdpTunnelConfig#icmpBurst()} (a token bucket, as the kernel's {@code icmp_msgs_per_sec}).</li>
 * </ul>
 * The new header has TTL 64 (flannel's proxy uses 8; the error only travels from the TUN to a
 * local pod either way), identification 0, no DF. {@link #headroom()} asks the pool for the 28
 * bytes this needs; {@link #encap} itself writes nothing in front of the packet.
 *
 * <h2>Receiving</h2>
 * In order: {@code UNKNOWN_PEER} (the source address is no peer's public IP; flannel's proxy takes
 * any, as {@link UdpTunnelConfig#acceptUnknownPeers()} does; the same probe finds the peer's
 * {@link PeerEntry}, which the datagram carries on for the counters), the inner IPv4 header as {@link
 * Ipv4Header#validate} judges it, {@code BAD_CHECKSUM}, {@code OVERSIZE} (the packet or the
 * datagram longer than the TUN MTU),
 * {@code TTL_EXPIRED}; then the data is trimmed to the IPv4 total length, {@code FORWARD}.
 *
 * <h2>Threads</h2>
 * {@link #encap} and {@link #noRoute} run on one thread (the pipeline's egress thread), {@link
 * #decap} on one other (the transport's); each has its own header views. Nothing allocates or throws
 * on bad input.
 */
public final class UdpEncapsulation implements Encapsulation {
    /** Bytes of IPv4 and ICMP header that {@link #noRoute} puts in front of the offending packet. */
    public static final int ICMP_ERROR_HEADROOM = IcmpErrorWriter.HEADROOM;

    private final UdpTunnelConfig config;
    private final AddressSet peers;
    private final PeerEntries entries;
    private final LongSupplier nanoClock;
    private final TokenBucket icmpBucket;
    private final int port;
    private final int icmpSource;
    private final int innerMtu;
    private final boolean acceptUnknownPeers;
    // The egress thread's views (encap, noRoute).
    private final Ipv4Header egressIp = new Ipv4Header();
    private final IcmpErrorWriter icmpErrors = new IcmpErrorWriter();
    // The receive thread's view (decap).
    private final Ipv4Header ingressIp = new Ipv4Header();
    // Written by the egress thread only.
    private volatile long unreachablesSent;
    private volatile long unreachablesLimited;

    /**
     * A tunnel that sends to the peers in {@code entries} (a route's value is a peer's {@linkplain
     * PeerEntry#id() id}) and takes datagrams from the addresses in {@code peers}, each carrying its
     * peer's id (the control plane keeps both, see {@link UdpBackend}), limiting ICMP errors by
     * {@link System#nanoTime()}.
     */
    public UdpEncapsulation(UdpTunnelConfig config, AddressSet peers, PeerEntries entries) {
        this(config, peers, entries, System::nanoTime);
    }

    /** As {@link #UdpEncapsulation(UdpTunnelConfig, AddressSet, PeerEntries)}, with the clock the ICMP rate limit reads (for tests). */
    public UdpEncapsulation(UdpTunnelConfig config, AddressSet peers, PeerEntries entries, LongSupplier nanoClock) {
        if (config == null) throw new IllegalArgumentException("tunnel config missing: config=null");
        if (peers == null) throw new IllegalArgumentException("peer address set missing: peers=null");
        if (entries == null) throw new IllegalArgumentException("peer entries missing: entries=null");
        if (nanoClock == null) throw new IllegalArgumentException("clock missing: nanoClock=null");
        this.config = config;
        this.peers = peers;
        this.entries = entries;
        this.nanoClock = nanoClock;
        this.icmpBucket = new TokenBucket(config.icmpPerSecond(), config.icmpBurst());
        this.port = config.port();
        this.icmpSource = config.icmpSource();
        this.innerMtu = config.innerMtu();
        this.acceptUnknownPeers = config.acceptUnknownPeers();
    }

    /** The configuration this tunnel runs with. */
    public UdpTunnelConfig config() {
        return config;
    }

    /**
     * 28: {@link #encap} writes nothing in front of the packet (the socket writes the outer IPv4 and
     * UDP headers), but {@link #noRoute} puts an IPv4 and an ICMP header there; asking for them here
     * lets the pipeline check that the pool's headroom holds them.
     */
    @Override
    public int headroom() {
        return ICMP_ERROR_HEADROOM;
    }

    /** 28: outer IPv4 20 and UDP 8. */
    @Override
    public int overhead() {
        return UdpTunnelConfig.OVERHEAD;
    }

    /** True: the headers in front are the same for every packet to a peer, so a TCP super-packet is wrapped whole. */
    @Override
    public boolean encapsulatesSuperPackets() {
        return true;
    }

    /**
     * Decrements the TTL of the (validated) inner packet and sends it to the peer whose id is
     * {@code nextHop}, at its public IP and the tunnel's port, with its entry set for the counters.
     *
     * @return {@link #FORWARD}, or the ordinal of {@code TTL_EXPIRED} for a packet that arrived with
     *     TTL 0 or 1, or of {@code NO_ROUTE} when the peer went while the packet was routed
     */
    @Override
    public int encap(PacketBuffer packet, int nextHop) {
        Ipv4Header ip = egressIp.wrap(packet.segment(), packet.offset());
        PeerEntry peer = entries.get(nextHop);
        if (peer == null || !peer.covers(ip.dstAddr())) return DropReason.NO_ROUTE.ordinal();
        int expired = ip.decrementTtl();
        if (expired != Ipv4Header.VALID) return expired;
        packet.setPeer(peer.endpoint(), port).setPeerEntry(peer);
        return FORWARD;
    }

    /**
     * Turns the (validated) packet into an ICMP net unreachable to its source, in place, see the
     * class comment for when.
     *
     * @return {@link #REPLY}, or the ordinal of {@code NO_ROUTE} when no error is sent, or of
     *     {@code NO_ROOM} when the buffer lacks 28 bytes of headroom
     */
    @Override
    public int noRoute(PacketBuffer packet) {
        if (!icmpErrors.deservesAnError(packet)) return DropReason.NO_ROUTE.ordinal();
        if (packet.offset() < ICMP_ERROR_HEADROOM) return DropReason.NO_ROOM.ordinal();
        if (!icmpBucket.tryTake(nanoClock.getAsLong())) {
            unreachablesLimited = unreachablesLimited + 1;
            return DropReason.NO_ROUTE.ordinal();
        }
        icmpErrors.write(packet, Icmpv4Header.TYPE_DEST_UNREACHABLE, Icmpv4Header.CODE_NET_UNREACHABLE, 0, icmpSource);
        unreachablesSent = unreachablesSent + 1;
        return REPLY;
    }

    /**
     * Validates the inner IPv4 packet that is the whole payload of the datagram in {@code packet},
     * decrements its TTL and trims the data to its total length.
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
        Ipv4Header ip = ingressIp.wrap(packet.segment(), packet.offset());
        int bad = ip.validate(packet.length());
        if (bad != Ipv4Header.VALID) return bad;
        if (!ip.verifyChecksum()) return DropReason.BAD_CHECKSUM.ordinal();
        int totalLength = ip.totalLength();
        // The datagram too: a short packet with a tail beyond the MTU is no packet the peer's TUN gave.
        if (totalLength > innerMtu || packet.length() > innerMtu) return DropReason.OVERSIZE.ordinal();
        int expired = ip.decrementTtl();
        if (expired != Ipv4Header.VALID) return expired;
        packet.setLength(totalLength);
        return FORWARD;
    }

    /** ICMP net unreachable messages written into the TUN so far. */
    public long unreachablesSent() {
        return unreachablesSent;
    }

    /** ICMP net unreachable messages the rate limit held back so far (their packets count as {@code NO_ROUTE} drops). */
    public long unreachablesLimited() {
        return unreachablesLimited;
    }

    @Override
    public String toString() {
        return "UdpEncapsulation[" + config + "]";
    }
}
