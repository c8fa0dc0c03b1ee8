package io.dataplane.core.config;

import java.util.Locale;

/**
 * flannel's backend types that this dataplane implements, with the names flannel uses in
 * net-conf.json's {@code Backend.Type} and in a lease's {@code BackendType}.
 */
public enum BackendType {
    /** Raw inner IPv4 packet as the payload of a UDP datagram (flannel "udp", port 8285). */
    UDP("udp", 28),
    /** VXLAN, RFC 7348, as flannel's {@code flannel.1} device (VNI 1, port 8472). */
    VXLAN("vxlan", 50),
    /** IP-in-IP, IP protocol 4 ({@code flannel.ipip}). */
    IPIP("ipip", 20),
    /** WireGuard on UDP 51820 ({@code flannel-wg}). */
    WIREGUARD("wireguard", 80),
    /** No encapsulation: kernel routes to the peers' public IPs. */
    HOST_GW("host-gw", 0);

    private final String flannelName;
    private final int overhead;

    BackendType(String flannelName, int overhead) {
        this.flannelName = flannelName;
        this.overhead = overhead;
    }

    /** The name in flannel's files ({@code host-gw}). */
    public String flannelName() {
        return flannelName;
    }

    /**
     * Bytes the tunnel adds on the wire, outer headers included (flannel's encapOverhead): the inner
     * MTU is the underlay MTU minus this.
     */
    public int overhead() {
        return overhead;
    }

    /**
     * The type named {@code name}, ignoring case as flanneld does ({@code "VXLAN"} is vxlan).
     *
     * @throws IllegalArgumentException naming the value and the supported types, also for flannel
     *     backends this dataplane does not implement (alloc, extension, ipsec, cloud routes)
     */
    public static BackendType of(String name) {
        if (name != null) {
            String lower = name.toLowerCase(Locale.ROOT);
            for (BackendType t : values()) {
                if (t.flannelName.equals(lower)) return t;
            }
        }
        throw new IllegalArgumentException("unknown backend type: " + (name == null ? "null" : JsonFields.show(name))
                + " (one of udp, vxlan, ipip, wireguard, host-gw)");
    }

    @Override
    public String toString() {
        return flannelName;
    }
}
