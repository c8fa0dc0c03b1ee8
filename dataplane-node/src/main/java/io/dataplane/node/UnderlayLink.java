package io.dataplane.node;

import io.dataplane.core.config.ConfigException;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.netlink.Address;
import io.dataplane.tun.netlink.Link;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netlink.Route;
import java.io.IOException;
import java.util.List;

/**
 * The interface that holds a node's public IP, as flanneld finds its external interface from
 * {@code --public-ip}: the underlay the tunnel's datagrams leave through, whose MTU the TUN's MTU
 * is derived from.
 *
 * @param link the interface
 * @param address the public IP with its prefix length on that interface
 */
record UnderlayLink(Link link, Address address) {

    /**
     * Finds the interface that has {@code publicIp} as one of its addresses, in the namespace of
     * {@code netlink}'s socket.
     *
     * @throws ConfigException for the field {@code publicIp}, naming the address and the
     *     addresses there are, when no interface holds it
     */
    static UnderlayLink find(Netlink netlink, int publicIp) throws IOException {
        List<Address> addresses = netlink.addresses();
        for (Address a : addresses) {
            if (a.address() != publicIp) continue;
            for (Link l : netlink.links()) {
                if (l.index() == a.linkIndex()) return new UnderlayLink(l, a);
            }
        }
        throw new ConfigException(null, "publicIp", "public IP is no address of this host: publicIp=" + Ipv4Address.toString(publicIp)
                + " (addresses here: " + addresses + "); peers send to it, so it must be local");
    }

    /**
     * The interface flanneld takes as its external interface when given none: the one the default
     * route leaves through, with its first IPv4 address (flanneld's public IP unless
     * {@code --public-ip} says otherwise).
     *
     * @throws ConfigException for the field {@code publicIp} when there is no default route, it
     *     names no interface, or that interface has no IPv4 address
     */
    static UnderlayLink ofDefaultRoute(Netlink netlink) throws IOException {
        Route found = null;
        for (Route r : netlink.routes()) {
            if (r.destination().length() == 0) {
                found = r;
                break;
            }
        }
        if (found == null) throw new ConfigException(null, "publicIp", "no default route to take the public IP from");
        if (found.device() == null) {
            throw new ConfigException(null, "publicIp", "the default route names no interface to take the public IP from: " + found);
        }
        for (Link l : netlink.links()) {
            if (!l.name().equals(found.device())) continue;
            for (Address a : netlink.addresses()) {
                if (a.linkIndex() == l.index()) return new UnderlayLink(l, a);
            }
        }
        throw new ConfigException(null, "publicIp", "the interface of the default route has no IPv4 address to take as the public IP: "
                + found.device() + " (" + found + ")");
    }
}
