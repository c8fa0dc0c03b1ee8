package io.dataplane.tun.netlink;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;

/**
 * An IPv4 address of an interface as rtnetlink reports it ({@code ip -4 addr show}).
 *
 * @param linkIndex the interface index of the link that holds it
 * @param label the address label ({@code IFA_LABEL}, usually the interface name), or null
 * @param address the interface's own address as an int (see {@link Ipv4Address})
 * @param prefixLength the prefix length, 0-32
 */
public record Address(int linkIndex, String label, int address, int prefixLength) {
    /** The subnet this address is on ({@code 192.0.2.1/24} is on {@code 192.0.2.0/24}). */
    public Ipv4Prefix subnet() {
        return Ipv4Prefix.containing(address, prefixLength);
    }

    /** The address in {@code ip} syntax, {@code 192.0.2.1/24}. */
    @Override
    public String toString() {
        return Ipv4Address.toString(address) + "/" + prefixLength + (label != null ? " (" + label + ")" : "");
    }
}
