/** rtnetlink for the control plane: {@link io.dataplane.tun.netlink.Netlink}, {@link io.dataplane.tun.netlink.Route}, {@link io.dataplane.tun.netlink.Link}, {@link io.dataplane.tun.netlink.Address}. */
package io.dataplane.tun.netlink;
