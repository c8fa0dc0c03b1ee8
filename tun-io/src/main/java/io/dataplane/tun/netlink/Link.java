package io.dataplane.tun.netlink;

import io.dataplane.core.wire.MacAddress;

/**
 * A network interface as rtnetlink reports it.
 *
 * @param index the interface index
 * @param name the interface name
 * @param mtu the MTU in bytes
 * @param mac the hardware address, or null for a link without one (a TUN device)
 * @param up true if administratively up ({@code IFF_UP})
 */
public record Link(int index, String name, int mtu, MacAddress mac, boolean up) {}
