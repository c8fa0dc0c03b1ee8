/** rtnetlink for the control plane: {@link io.dataplane.tun.netlink.Netlink}, {@link io.dataplane.tun.netlink.Route}, {@link io.dataplane.tun.netlink.Link}, {@link io.dataplane.tun.netlink.Address}, {@link io.dataplane.tun.netlink.RouteLookup}, {@link io.dataplane.tun.netlink.PeerRoutes}. */
package io.dataplane.tun.netlink;
