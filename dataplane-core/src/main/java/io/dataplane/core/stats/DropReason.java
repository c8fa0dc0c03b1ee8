package io.dataplane.core.stats;

import java.util.Locale;

/**
 * Why a packet was dropped. Every drop on the packet path is counted under exactly one of these,
 * so an operator can tell a misconfigured peer from an attack from a full ring.
 *
 * <p>Hot-path code returns {@link #ordinal()} as an {@code int} (see
 * {@link io.dataplane.core.spi.Encapsulation}); {@link #of(int)} maps it back.
 */
public enum DropReason {
    // --- IPv4, from the TUN or inside a tunnel ---
    /** Shorter than the headers it claims to carry. */
    TRUNCATED("packet shorter than its headers"),
    /** IP version is not 4. */
    NOT_IPV4("IP version is not 4"),
    /** IPv4 header length (IHL) below 5 or beyond the packet. */
    BAD_IHL("IPv4 IHL < 5 or beyond the packet"),
    /** IPv4 total length disagrees with the packet. */
    BAD_TOTAL_LENGTH("IPv4 total length below the header or beyond the packet"),
    /** A header checksum does not verify. */
    BAD_CHECKSUM("checksum does not verify"),
    /** TTL reached 0. */
    TTL_EXPIRED("TTL expired"),
    /** No route for the destination. */
    NO_ROUTE("no route to the destination"),
    /** Larger than the MTU or the buffer. */
    OVERSIZE("packet larger than the MTU"),
    /**
     * An inner packet with DF set that does not fit the underlay's MTU once encapsulated: answered
     * with ICMP fragmentation needed and the MTU that fits, as the kernel's tunnels answer it.
     */
    FRAGMENTATION_NEEDED("packet with DF larger than the path MTU: ICMP fragmentation needed sent"),
    /**
     * A TUN super-packet (TSO) that cannot be cut into segments: not TCP over IPv4, headers that do
     * not fit, no payload, or a transport that cannot send segments.
     */
    BAD_SUPER_PACKET("TUN super-packet that cannot be segmented"),
    /** UDP length field below 8 or beyond the packet. */
    BAD_UDP_LENGTH("UDP length below the header or beyond the packet"),
    /** ICMP error message whose quoted IPv4 header is missing or not IPv4. */
    ICMP_BAD_QUOTE("ICMP error without a quoted IPv4 header"),
    /** ARP packet that is not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4). */
    ARP_UNSUPPORTED("ARP for other than IPv4 over Ethernet"),

    // --- the underlay ---
    /** Datagram from an address that is no known peer's endpoint. */
    UNKNOWN_PEER("datagram from an address that is not a known peer"),
    /** Not enough headroom or tailroom to encapsulate in place. */
    NO_ROOM("no headroom or tailroom to encapsulate in place"),

    // --- VXLAN ---
    /**
     * VXLAN header without the I (valid VNI) flag, or with a reserved bit set (RFC 7348 says to
     * ignore those; the Linux kernel drops such packets, and so does our VTEP).
     */
    VXLAN_BAD_FLAGS("VXLAN flags without the I bit, or reserved bits set"),
    /** VNI is not ours. */
    VXLAN_UNKNOWN_VNI("VXLAN VNI is not ours"),
    /** Inner Ethernet destination is not our VTEP MAC. */
    VXLAN_NOT_OUR_MAC("inner Ethernet destination is not our VTEP"),
    /** Inner ethertype neither IPv4 nor ARP. */
    VXLAN_BAD_ETHERTYPE("inner ethertype neither IPv4 nor ARP"),
    /** ARP inside VXLAN that we do not answer. */
    VXLAN_ARP_IGNORED("ARP that is not a request for our VTEP address"),
    /** No neighbor (ARP) entry for the route's gateway. */
    NO_NEIGHBOR("no neighbor entry for the gateway"),
    /** No FDB entry for the neighbor's MAC. */
    NO_FDB("no FDB entry for the neighbor MAC"),

    // --- IP-in-IP ---
    /**
     * Outer IPv4 header that does not frame a whole IP-in-IP datagram: another protocol than 4, or
     * a fragment (the kernel reassembles before a raw socket sees them, so only a broken peer or
     * transport shows one).
     */
    IPIP_BAD_OUTER("outer IPv4 header not a whole IP-in-IP datagram"),
    /** Outer header marked CE (congestion experienced) around a packet that is not ECN-capable: dropped, as RFC 6040 says. */
    ECN_CE_NOT_ECT("congestion mark on a packet that is not ECN-capable"),

    // --- resources ---
    /** A ring between threads was full. */
    RING_FULL("ring full"),
    /** The buffer pool ran dry. */
    POOL_EXHAUSTED("buffer pool exhausted"),
    /** The kernel refused to send. */
    SEND_FAILED("send failed"),
    /** The TUN write failed. */
    TUN_WRITE_FAILED("TUN write failed"),
    /** A datagram of a received train beyond the most a train holds ({@code PacketTrain.MAX_PACKETS}). */
    TRAIN_TOO_LONG("received train of more datagrams than a train holds"),

    // --- WireGuard ---
    /** Unknown message type or a length that no message has. */
    WG_BAD_MESSAGE("WireGuard message of unknown type or length"),
    /** mac1 does not verify. */
    WG_BAD_MAC1("WireGuard mac1 does not verify"),
    /** Under load and mac2 (cookie) missing or wrong: a cookie reply was sent instead. */
    WG_COOKIE_REQUIRED("WireGuard under load: cookie required"),
    /** Handshake message that fails to decrypt or names an unknown peer. */
    WG_BAD_HANDSHAKE("WireGuard handshake fails to verify"),
    /** Initiation whose timestamp is not newer than the last one (replay). */
    WG_HANDSHAKE_REPLAY("WireGuard initiation replayed"),
    /** Receiver index that names no session. */
    WG_UNKNOWN_RECEIVER("WireGuard receiver index unknown"),
    /** Initiation within the flood interval (1/50 s) of the last one accepted from that peer. */
    WG_HANDSHAKE_FLOOD("WireGuard initiations from one peer too fast"),
    /** Cookie reply that does not decrypt against the last mac1 we sent. */
    WG_BAD_COOKIE("WireGuard cookie reply fails to verify"),
    /** Transport counter already seen or behind the window. */
    WG_REPLAY("WireGuard transport counter replayed"),
    /** Transport data fails authentication. */
    WG_DECRYPT_FAILED("WireGuard transport data fails authentication"),
    /** Session keys too old or used too often. */
    WG_KEY_EXPIRED("WireGuard session expired"),
    /** Inner source address outside the peer's allowed IPs. */
    WG_NOT_ALLOWED_SOURCE("inner source outside the peer's allowed IPs"),
    /** No session yet and the queue for the pending handshake is full. */
    WG_NO_SESSION("no WireGuard session and the staged queue is full");

    private static final DropReason[] VALUES = values();
    private final String description;
    private final String metricName;

    DropReason(String description) {
        this.description = description;
        this.metricName = name().toLowerCase(Locale.ROOT);
    }

    /** One line for operators. */
    public String description() {
        return description;
    }

    /** The name as a metric label: lower case, underscores ({@code vxlan_unknown_vni}). */
    public String metricName() {
        return metricName;
    }

    /** The reason with this ordinal. */
    public static DropReason of(int ordinal) {
        return VALUES[ordinal];
    }

    /** Number of reasons. */
    public static int count() {
        return VALUES.length;
    }
}
