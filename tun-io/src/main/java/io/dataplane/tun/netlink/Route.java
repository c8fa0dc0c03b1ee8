package io.dataplane.tun.netlink;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;

/**
 * An IPv4 unicast route in the main table, as {@code ip route add DST [via GW] [dev DEV] [onlink]}
 * writes it: flannel's vxlan backend adds {@code 10.244.2.0/24 via 10.244.2.0 dev flannel.1
 * onlink} per peer, host-gw adds {@code 10.244.2.0/24 via 192.0.2.2 dev eth0}.
 *
 * @param destination the destination prefix
 * @param gateway the next hop as an int (see {@link Ipv4Address}), or 0 for a route straight out of {@code device}
 * @param device the output interface, or null to let the kernel pick it from the gateway
 * @param onlink treat the gateway as on the link even when no address of the device covers it
 */
public record Route(Ipv4Prefix destination, int gateway, String device, boolean onlink) {
    /** Checks that the route says where to send: a gateway, a device, or both; onlink needs both. */
    public Route {
        if (destination == null) throw new IllegalArgumentException("route without destination");
        if (gateway == 0 && device == null) throw new IllegalArgumentException("route " + destination + " has neither gateway nor device");
        if (onlink && (gateway == 0 || device == null)) {
            throw new IllegalArgumentException("onlink route " + destination + " needs a gateway and a device");
        }
    }

    /** {@code destination via gateway dev device onlink}: flannel's vxlan route to a peer's subnet. */
    public static Route onlink(Ipv4Prefix destination, int gateway, String device) {
        return new Route(destination, gateway, device, true);
    }

    /** {@code destination via gateway dev device}: a host-gw route. */
    public static Route via(Ipv4Prefix destination, int gateway, String device) {
        return new Route(destination, gateway, device, false);
    }

    /** {@code destination dev device}: a route straight out of a device (scope link). */
    public static Route direct(Ipv4Prefix destination, String device) {
        return new Route(destination, 0, device, false);
    }

    /** The route in {@code ip route} syntax. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(destination.address() == 0 && destination.length() == 0 ? "default" : destination.toString());
        if (gateway != 0) sb.append(" via ").append(Ipv4Address.toString(gateway));
        if (device != null) sb.append(" dev ").append(device);
        if (onlink) sb.append(" onlink");
        return sb.toString();
    }
}
