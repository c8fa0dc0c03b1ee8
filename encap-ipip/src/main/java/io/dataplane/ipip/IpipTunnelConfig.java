package io.dataplane.ipip;

import io.dataplane.core.wire.Ipv4Address;

/**
 * What an IP-in-IP tunnel end needs to know about itself.
 *
 * @param localAddress our public IP (see {@link Ipv4Address}): the outer source of every datagram we
 *     send, and where peers send theirs
 * @param innerMtu the TUN's MTU (underlay MTU minus 20): a packet longer than this is dropped as
 *     {@code OVERSIZE} both ways
 * @param outerTtl the outer header's TTL, 1-255; 0 copies the inner packet's TTL, as flanneld's
 *     {@code flannel.ipip} does (it creates the device with TTL 0, "inherit")
 * @param acceptUnknownPeers take datagrams from any source address, as the kernel's ipip device does;
 *     by default (false) only from a peer's public IP
 */
public record IpipTunnelConfig(int localAddress, int innerMtu, int outerTtl, boolean acceptUnknownPeers) {
    /** Bytes IP-in-IP adds on the wire, the outer IPv4 header: the TUN MTU is the underlay's minus this. */
    public static final int OVERHEAD = 20;
    /** The outer TTL unless configured: IP's default TTL (RFC 1700; RFC 2003 asks for a default TTL). */
    public static final int DEFAULT_OUTER_TTL = 64;
    /** An outer TTL of 0 copies the inner TTL ({@code ip tunnel ... ttl inherit}). */
    public static final int INHERIT_TTL = 0;
    /** Smallest MTU an IPv4 link may have (RFC 791). */
    public static final int MIN_MTU = 68;

    /** Checks every field; throws {@link IllegalArgumentException} naming the field and value. */
    public IpipTunnelConfig {
        if (localAddress == 0) throw new IllegalArgumentException("local address missing: localAddress=" + Ipv4Address.toString(localAddress));
        if (innerMtu < MIN_MTU || innerMtu > 0xffff - OVERHEAD) {
            throw new IllegalArgumentException("inner MTU out of range: innerMtu=" + innerMtu + " (" + MIN_MTU + "-" + (0xffff - OVERHEAD) + ")");
        }
        if (outerTtl < 0 || outerTtl > 255) {
            throw new IllegalArgumentException("outer TTL out of range: outerTtl=" + outerTtl + " (1-255, or 0 to copy the inner TTL)");
        }
    }

    /** Outer TTL 64, known peers only. */
    public static IpipTunnelConfig of(int localAddress, int innerMtu) {
        return new IpipTunnelConfig(localAddress, innerMtu, DEFAULT_OUTER_TTL, false);
    }

    /** This configuration with another outer TTL (0: the inner packet's). */
    public IpipTunnelConfig withOuterTtl(int outerTtl) {
        return new IpipTunnelConfig(localAddress, innerMtu, outerTtl, acceptUnknownPeers);
    }

    /** This configuration taking datagrams from any source ({@code true}) or from known peers only. */
    public IpipTunnelConfig withAcceptUnknownPeers(boolean accept) {
        return new IpipTunnelConfig(localAddress, innerMtu, outerTtl, accept);
    }

    @Override
    public String toString() {
        return "IpipTunnelConfig[local=" + Ipv4Address.toString(localAddress) + " innerMtu=" + innerMtu + " outerTtl="
                + (outerTtl == INHERIT_TTL ? "inherit" : String.valueOf(outerTtl)) + (acceptUnknownPeers ? " acceptUnknownPeers" : "") + "]";
    }
}
