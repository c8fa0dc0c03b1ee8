package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.stats.DropReason;

/**
 * A tunnel's wire format: how an inner IPv4 packet is wrapped for the underlay and unwrapped again,
 * in place, in the packet's own buffer.
 *
 * <p>Both operations return an {@code int} verdict so the packet path allocates nothing:
 * {@link #FORWARD}, {@link #REPLY}, {@link #CONSUMED}, or else the {@link DropReason#ordinal()
 * ordinal} of the reason the packet is dropped, in which case the caller counts it and releases the
 * buffer. Neither operation throws on bad input.
 *
 * <p>An encapsulation serves one packet path, one thread at a time, unless its class says otherwise:
 * it keeps views of the packet it works on. Each further path gets its own from {@link
 * Backend#openLane}; the tables behind them are shared and safe to change while they run.
 */
public interface Encapsulation {
    /** The packet goes on: after encap to the network (its peer endpoint is set), after decap to the TUN. */
    int FORWARD = -1;
    /**
     * The buffer now holds a reply that goes back where the packet came from: after decap to the
     * network (an ARP reply, a handshake response; peer endpoint set), after encap into the TUN
     * (an ICMP error).
     */
    int REPLY = -2;
    /** The encapsulation kept the buffer (queued until a handshake completes); the caller must not touch it. */
    int CONSUMED = -3;

    /** Bytes {@link #encap} writes in front of the inner packet; the pool's headroom must be at least this. */
    int headroom();

    /** Bytes {@link #encap} may append after the inner packet (padding, an authentication tag). */
    default int tailroom() {
        return 0;
    }

    /**
     * Bytes this tunnel adds on the wire, outer IPv4 and UDP headers included: the TUN's MTU is the
     * underlay MTU minus this (vxlan 50, udp 28, ipip 20, wireguard 80).
     */
    int overhead();

    /**
     * True if {@link #encap} may be given a TCP super-packet ({@link PacketBuffer#gsoSize()} above
     * 0) whole: it leaves the inner bytes as they are (a TTL decrement in the IPv4 header aside)
     * and puts in front the same headers every segment of it needs, so that a transport can cut it
     * after encapsulation (an outer IPv4 header among them only where the transport fills in each
     * datagram's length and checksum, as a raw socket with {@code IP_HDRINCL} does). False by default
     * (an encapsulation that encrypts cannot); then no super-packet reaches it.
     */
    default boolean encapsulatesSuperPackets() {
        return false;
    }

    /**
     * True if {@link #encap} may be given a TCP super-packet whole ({@link PacketBuffer#gsoSize()}
     * above 0) and makes of it, in the same buffer, the datagrams of its segments, each sealed on its
     * own: a {@link PacketBuffer#TRAIN train} ({@code gsoPrefix} {@code TRAIN}, {@code gsoSize} the
     * datagram size), for a transport that {@link Transport#sendsTrains sends trains}. False by
     * default.
     */
    default boolean sealsSuperPackets() {
        return false;
    }

    /**
     * True if {@link #decap} of {@code datagram}, one of a train received as one buffer, may keep,
     * release or rewrite the buffer beyond the datagram (a handshake answered in place, a keepalive
     * released): then the caller hands it over in a buffer of its own. False by default.
     */
    default boolean decapsInOwnBuffer(PacketBuffer datagram) {
        return false;
    }

    /**
     * Wraps the inner IPv4 packet in {@code packet} for {@code nextHop} (the value the route lookup
     * returned; what it means is up to the encapsulation) and sets the peer endpoint.
     *
     * @return {@link #FORWARD}, {@link #REPLY}, {@link #CONSUMED} or a drop reason's ordinal
     */
    int encap(PacketBuffer packet, int nextHop);

    /**
     * Called instead of {@link #encap} when no route matches the packet's destination. The default
     * drops it as {@link DropReason#NO_ROUTE}; a backend may turn it into an ICMP error and return
     * {@link #REPLY}.
     */
    default int noRoute(PacketBuffer packet) {
        return DropReason.NO_ROUTE.ordinal();
    }

    /**
     * Validates the datagram in {@code packet} (payload only; its peer endpoint says where it came
     * from) and unwraps the inner IPv4 packet in place.
     *
     * @return {@link #FORWARD}, {@link #REPLY}, {@link #CONSUMED} or a drop reason's ordinal
     */
    int decap(PacketBuffer packet);

    /**
     * True if {@code received}, which the socket took up with a GRO size ({@link
     * PacketBuffer#gsoSize()} above 0) and would otherwise be a train of datagrams of that size, is
     * one datagram whose inner packet is a super-packet: a kernel tunnel peer's UDP super-packet,
     * for which the kernel reports the inner segment's size. {@link #decap} then takes it whole,
     * with that size still set. False by default: a tunnel whose kernel peers send no super-packets.
     * Reads the buffer only.
     */
    default boolean wholeSuperPacket(PacketBuffer received) {
        return false;
    }
}
