package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.IcmpErrorWriter;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.TcpHeader;
import io.dataplane.core.wire.TcpSegments;
import java.util.Arrays;

/**
 * Pod to network, for a batch read from the TUN: check the IPv4 header, look the destination up,
 * encapsulate in place, and send what goes to the network in one {@link Transport#send} (see
 * {@link Pipeline} for the whole path). Allocates nothing; one thread.
 *
 * <p>A TCP super-packet (a buffer with {@link PacketBuffer#gsoSize()} set) is encapsulated whole
 * and handed over with its {@link PacketBuffer#gsoPrefix() prefix} set, for the transport to cut
 * into its segments, when the encapsulation and the transport both take super-packets; otherwise,
 * or when {@link TcpSegments} cannot cut it, it is dropped as {@code BAD_SUPER_PACKET}.
 *
 * <p>An encapsulation that {@link Encapsulation#sealsSuperPackets seals super-packets} (WireGuard)
 * gets them whole instead, when the transport {@link Transport#sendsTrains sends trains}: it cuts
 * and seals the segments in the buffer itself, and the transport sends the resulting train of
 * datagrams as it is.
 *
 * <p><b>The underlay's MTU</b>, once {@link #underlayMtu set}, bounds what one datagram carries,
 * as the route's MTU bounds the kernel's tunnels ({@code skb_tunnel_check_pmtu}): a super-packet
 * whose segments would not fit is cut into smaller ones (the segment size is ours to choose); a
 * lone packet with DF that would not fit is answered with ICMP fragmentation needed and the inner
 * MTU that fits, from its destination to its source, written into the TUN ({@code
 * FRAGMENTATION_NEEDED}, also when it deserves no error); one without DF goes on, and the kernel
 * fragments the datagram. Until then, and between a change and the next {@link #underlayMtu}, the
 * transport fragments what is too long.
 *
 * <p>Where the encapsulation sets the packet's {@link PacketBuffer#peerEntry() peer entry} (it
 * found the peer through its own tables), each packet sent also counts on that peer, and each the
 * transport does not take counts as the peer's drop; the clock is read once per batch, for the
 * peers' time of the last packet.
 */
final class EgressStage {
    /**
     * Most segments {@link #fitPath} cuts a super-packet into: as many as the TUN hands over at most
     * (its {@code gso_max_segs} with WireGuard, whose train has room for that many).
     */
    static final int MAX_CUT_SEGMENTS = 64;
    private final Transport transport;
    private final Encapsulation encap;
    private final RouteTable routes;
    private final TunOutput replies;
    private final Counters counters;
    private final boolean superPackets; // the encapsulation and the transport both take them
    private final boolean trains; // the encapsulation seals them into trains, which the transport sends
    private final Ipv4Header ip = new Ipv4Header();
    private final TcpSegments segments = new TcpSegments();
    private final TcpHeader tcp = new TcpHeader();
    private final IcmpErrorWriter icmpErrors = new IcmpErrorWriter();
    private volatile int innerLimit = Integer.MAX_VALUE; // the longest inner packet one datagram carries on the underlay
    private final PacketBuffer[] toSend = new PacketBuffer[Pipeline.MAX_BATCH];
    private final PeerEntry[] toSendPeers = new PeerEntry[Pipeline.MAX_BATCH];
    private volatile long superPacketsSent; // written by this stage's thread only

    /** A stage that sends through {@code transport}, puts replies (ICMP errors) into {@code replies} and counts on {@code counters}. */
    EgressStage(Transport transport, Encapsulation encap, RouteTable routes, TunOutput replies, Counters counters) {
        this.transport = transport;
        this.encap = encap;
        this.routes = routes;
        this.replies = replies;
        this.counters = counters;
        this.superPackets = encap.encapsulatesSuperPackets() && transport.sendsSuperPackets();
        this.trains = !superPackets && encap.sealsSuperPackets() && transport.sendsTrains();
    }

    /**
     * Forwards {@code batch[0..n)}, read from the TUN, {@code n} at most {@link Pipeline#MAX_BATCH};
     * takes every one of them (sent, replied or dropped and released) and clears those slots.
     *
     * @return {@code n}
     */
    int forward(PacketBuffer[] batch, int n) {
        int sends = 0;
        long now = 0; // read when the first packet counts on a peer
        int limit = innerLimit;
        for (int i = 0; i < n; i++) {
            PacketBuffer p = batch[i];
            batch[i] = null;
            int innerLength = p.length();
            int innerOffset = p.offset();
            int verdict = innerLength > limit ? fitPath(p, limit) : Encapsulation.FORWARD;
            if (verdict == Encapsulation.FORWARD) {
                verdict = p.gsoSize() == 0 || superPackets ? route(p) : trains ? routeTrain(p) : DropReason.BAD_SUPER_PACKET.ordinal();
            }
            if (verdict == Encapsulation.FORWARD && p.gsoSize() != 0 && p.gsoPrefix() != PacketBuffer.TRAIN) {
                verdict = prepareSuperPacket(p, innerOffset - p.offset());
            }
            if (verdict == Encapsulation.FORWARD) {
                int packets = 1;
                int bytes = innerLength;
                if (p.gsoSize() == 0) {
                    counters.countEgress(innerLength);
                } else {
                    packets = segments.segments();
                    bytes = innerLength + (packets - 1) * (segments.headerLength() - Math.max(0, p.gsoPrefix())); // a train: prefix 0
                    superPacketsSent = superPacketsSent + 1;
                    counters.countEgress(packets, bytes);
                }
                PeerEntry peer = p.peerEntry();
                if (peer != null) {
                    if (now == 0) now = System.currentTimeMillis();
                    peer.countSent(packets, bytes, now);
                }
                toSendPeers[sends] = peer;
                toSend[sends++] = p;
            } else if (verdict == Encapsulation.REPLY) {
                p.setGsoSize(0); // an ICMP error about a super-packet is one small packet
                replies.add(p);
            } else if (verdict != Encapsulation.CONSUMED) {
                counters.drop(verdict);
                p.release();
            }
        }
        if (sends > 0) {
            int accepted = transport.send(toSend, sends);
            if (accepted < sends) {
                counters.drop(DropReason.RING_FULL, sends - accepted);
                for (int i = accepted; i < sends; i++) {
                    if (toSendPeers[i] != null) toSendPeers[i].dropSent(1);
                }
            }
            Arrays.fill(toSend, 0, sends, null);
            Arrays.fill(toSendPeers, 0, sends, null);
        }
        replies.flush();
        return n;
    }

    /**
     * Sets the underlay's MTU: from now on an inner packet longer than it minus the encapsulation's
     * overhead gets {@link #fitPath}; 0 for none known.
     */
    void underlayMtu(int mtu) {
        innerLimit = mtu > encap.overhead() ? mtu - encap.overhead() : Integer.MAX_VALUE;
    }

    /**
     * A packet longer than {@code limit}, the longest inner packet one datagram carries: a
     * super-packet gets a segment size that fits (at most {@link #MAX_CUT_SEGMENTS} segments, else
     * it is taken as a lone packet); a lone packet with DF becomes ICMP fragmentation needed (REPLY)
     * or is dropped; one without DF goes on. FORWARD, REPLY or a drop reason.
     */
    private int fitPath(PacketBuffer p, int limit) {
        Ipv4Header h = ip.wrap(p.segment(), p.offset());
        int bad = h.validate(p.length());
        if (bad >= 0) return bad;
        int ihl = h.headerLength();
        if (p.gsoSize() != 0) {
            if (h.protocol() != Ipv4Header.PROTO_TCP || p.length() < ihl + TcpHeader.HEADER_LEN) return Encapsulation.FORWARD; // not cut anyway
            int thl = tcp.wrap(p.segment(), p.offset() + ihl).headerLength();
            int fits = limit - ihl - thl;
            if (fits <= 0 || p.gsoSize() <= fits) return Encapsulation.FORWARD;
            if ((p.length() - ihl - thl + fits - 1) / fits <= MAX_CUT_SEGMENTS) {
                p.setGsoSize(fits);
                return Encapsulation.FORWARD;
            }
            // More segments than a super-packet may have: with DF, the sender hears of the MTU as for a lone packet.
        }
        if (!h.dontFragment()) return Encapsulation.FORWARD;
        if (!icmpErrors.deservesAnError(p)) return DropReason.FRAGMENTATION_NEEDED.ordinal();
        int destination = h.dstAddr();
        if (!icmpErrors.write(p, Icmpv4Header.TYPE_DEST_UNREACHABLE, Icmpv4Header.CODE_FRAGMENTATION_NEEDED, limit, destination)) {
            return DropReason.NO_ROOM.ordinal();
        }
        counters.drop(DropReason.FRAGMENTATION_NEEDED); // the packet's own count; the error goes into the TUN
        return Encapsulation.REPLY;
    }

    /** TCP super-packets handed to the transport whole so far. */
    long superPacketsSent() {
        return superPacketsSent;
    }

    private int route(PacketBuffer p) {
        ip.wrap(p.segment(), p.offset());
        int bad = ip.validate(p.length());
        if (bad >= 0) return bad;
        long hop = routes.lookup(ip.dstAddr());
        if (hop == RouteTable.NO_ROUTE) return encap.noRoute(p);
        return encap.encap(p, (int) hop);
    }

    /** A super-packet for an encapsulation that seals its segments: checked and measured by {@link #segments} first, for the counts. */
    private int routeTrain(PacketBuffer p) {
        int bad = segments.prepare(p, 0);
        return bad != TcpSegments.VALID ? bad : route(p);
    }

    /** A super-packet the transport can send as its segments gets its prefix set; FORWARD, or why not. */
    private int prepareSuperPacket(PacketBuffer p, int prefix) {
        int bad = segments.prepare(p, prefix);
        if (bad != TcpSegments.VALID) return bad;
        p.setGsoPrefix(prefix);
        return Encapsulation.FORWARD;
    }
}
