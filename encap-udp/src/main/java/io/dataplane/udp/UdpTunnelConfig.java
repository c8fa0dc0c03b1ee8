package io.dataplane.udp;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;

/**
 * What flannel's udp tunnel needs to know about itself (the arguments flanneld gives its C proxy,
 * {@code run_proxy(tun, sock, ctl, tun_ip, tun_mtu, ...)}, plus our own limits).
 *
 * @param port the UDP port we send to (every peer's) and listen on, flannel's default 8285
 * @param icmpSource the source address of the ICMP errors we write into the TUN. Not the TUN's own
 *     address as flannel's proxy uses: the kernel drops a packet that arrives on the TUN from one of
 *     its own addresses as a martian, so the pod would never see the error. {@link #icmpSourceFor}
 *     picks an overlay address that is no node's.
 * @param innerMtu the TUN's MTU (underlay MTU minus 28): a received packet longer than this is
 *     dropped as {@code OVERSIZE}
 * @param acceptUnknownPeers take datagrams from any source address, as flannel's proxy does; by
 *     default (false) only from a peer's public IP
 * @param icmpPerSecond ICMP destination unreachable messages we send into the TUN per second at
 *     most, 0 for none (the kernel's {@code icmp_msgs_per_sec} default is 1000)
 * @param icmpBurst how many of them may go at once (the kernel's {@code icmp_msgs_burst} default is 50)
 */
public record UdpTunnelConfig(int port, int icmpSource, int innerMtu, boolean acceptUnknownPeers, int icmpPerSecond, int icmpBurst) {
    /** Bytes the udp backend adds on the wire, outer IPv4 (20) and UDP (8): the TUN MTU is the underlay's minus this. */
    public static final int OVERHEAD = 28;
    /** Default ICMP errors per second, as the kernel's {@code net.ipv4.icmp_msgs_per_sec}. */
    public static final int DEFAULT_ICMP_PER_SECOND = 1000;
    /** Default ICMP error burst, as the kernel's {@code net.ipv4.icmp_msgs_burst}. */
    public static final int DEFAULT_ICMP_BURST = 50;
    /** Smallest MTU an IPv4 link may have (RFC 791). */
    public static final int MIN_MTU = 68;

    /** Checks every field; throws {@link IllegalArgumentException} naming the field and value. */
    public UdpTunnelConfig {
        if (port < 1 || port > 0xffff) throw new IllegalArgumentException("UDP port out of range: port=" + port + " (1-65535)");
        if (icmpSource == 0) throw new IllegalArgumentException("ICMP source missing: icmpSource=" + Ipv4Address.toString(icmpSource));
        if (innerMtu < MIN_MTU || innerMtu > 0xffff) {
            throw new IllegalArgumentException("inner MTU out of range: innerMtu=" + innerMtu + " (" + MIN_MTU + "-65535)");
        }
        if (icmpPerSecond < 0 || icmpPerSecond > 1_000_000) {
            throw new IllegalArgumentException("ICMP rate out of range: icmpPerSecond=" + icmpPerSecond + " (0-1000000)");
        }
        if (icmpBurst < 1 || icmpBurst > 1_000_000) {
            throw new IllegalArgumentException("ICMP burst out of range: icmpBurst=" + icmpBurst + " (1-1000000)");
        }
    }

    /**
     * The source for our ICMP errors on a node whose subnet is {@code subnet} in {@code network}: the
     * network's own address ({@code 10.244.0.0}), which flannel never leases by default (SubnetMin is
     * the second subnet), or the network's last address when this node's subnet starts the network.
     * Either way an address the receiving kernel does not own, so it takes the error in.
     */
    public static int icmpSourceFor(Ipv4Prefix network, Ipv4Prefix subnet) {
        return network.address() != subnet.address() ? network.address() : network.lastAddress();
    }

    /** flannel's port 8285, known peers only, the kernel's ICMP rate limits. */
    public static UdpTunnelConfig of(int icmpSource, int innerMtu) {
        return new UdpTunnelConfig(BackendConf.DEFAULT_UDP_PORT, icmpSource, innerMtu, false, DEFAULT_ICMP_PER_SECOND, DEFAULT_ICMP_BURST);
    }

    /** This configuration with another port. */
    public UdpTunnelConfig withPort(int port) {
        return new UdpTunnelConfig(port, icmpSource, innerMtu, acceptUnknownPeers, icmpPerSecond, icmpBurst);
    }

    /** This configuration taking datagrams from any source ({@code true}) or from known peers only. */
    public UdpTunnelConfig withAcceptUnknownPeers(boolean accept) {
        return new UdpTunnelConfig(port, icmpSource, innerMtu, accept, icmpPerSecond, icmpBurst);
    }

    /** This configuration with another ICMP error rate limit. */
    public UdpTunnelConfig withIcmpLimit(int perSecond, int burst) {
        return new UdpTunnelConfig(port, icmpSource, innerMtu, acceptUnknownPeers, perSecond, burst);
    }

    @Override
    public String toString() {
        return "UdpTunnelConfig[port=" + port + " icmpSource=" + Ipv4Address.toString(icmpSource) + " innerMtu=" + innerMtu
                + (acceptUnknownPeers ? " acceptUnknownPeers" : "") + " icmp=" + icmpPerSecond + "/s burst " + icmpBurst + "]";
    }
}
