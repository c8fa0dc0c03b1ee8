/** rtnetlink for the control plane: {@link io.dataplane.tun.netlink.Netlink}, {@link io.dataplane.tun.netlink.Route}, {@link io.dataplane.tun.netlink.Link}. */
package io.dataplane.tun.netlink;
