package io.dataplane.node;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.netlink.Address;
import io.dataplane.tun.netlink.Link;
import io.dataplane.tun.netlink.Netlink;
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
     * @throws IllegalArgumentException naming the address and the addresses there are, when no
     *     interface holds it
     */
    static UnderlayLink find(Netlink netlink, int publicIp) throws IOException {
        List<Address> addresses = netlink.addresses();
        for (Address a : addresses) {
            if (a.address() != publicIp) continue;
            for (Link l : netlink.links()) {
                if (l.index() == a.linkIndex()) return new UnderlayLink(l, a);
            }
        }
        throw new IllegalArgumentException("public IP is no address of this host: publicIp=" + Ipv4Address.toString(publicIp)
                + " (addresses here: " + addresses + "); peers send to it, so it must be local");
    }
}
