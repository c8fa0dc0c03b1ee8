package io.dataplane.tun.netlink;

import io.dataplane.core.wire.Ipv4Address;

/**
 * Where the kernel sends a datagram to one address, as {@code ip route get A} reports it.
 *
 * @param destination the address looked up (see {@link Ipv4Address})
 * @param gateway the next hop, or 0 when the destination is on a directly connected link
 * @param linkIndex the interface index the datagram leaves through ({@code lo} for a local address)
 * @param source the source address the kernel would pick, or 0
 * @param local true if the destination is an address of this host (route type {@code local})
 */
public record RouteLookup(int destination, int gateway, int linkIndex, int source, boolean local) {

    /**
     * True if the destination is reached without a gateway, on a link of this host: flannel's test
     * for DirectRouting ({@code ip.DirectRouting}: the route to the peer's public IP has no gateway).
     * False for a local address.
     */
    public boolean direct() {
        return gateway == 0 && !local;
    }

    /** The lookup in {@code ip route get} syntax (interface by index). */
    @Override
    public String toString() {
        return (local ? "local " : "") + Ipv4Address.toString(destination) + (gateway != 0 ? " via " + Ipv4Address.toString(gateway) : "")
                + " dev #" + linkIndex + (source != 0 ? " src " + Ipv4Address.toString(source) : "");
    }
}
