package io.dataplane.vxlan;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.core.wire.VxlanHeader;

/**
 * What a VTEP needs to know about itself, the userspace counterpart of {@code ip link add flannel.1
 * type vxlan id 1 local 192.0.2.1 dstport 8472 nolearning} plus the address flannel gives the device.
 *
 * @param vni the VXLAN network identifier we send and accept, 0 to 2^24-1 (flannel's default 1)
 * @param vtepMac our VTEP's MAC address: the inner Ethernet source we send, the destination we
 *     accept; unicast
 * @param vtepAddress our VTEP's IPv4 address, the network address of our subnet ({@code 10.244.1.0}
 *     for {@code 10.244.1.0/24}), as flanneld configures {@code flannel.1} with it as a /32: the
 *     address peers' kernels would ARP for, and the one we answer ARP requests for
 * @param port the UDP port we send to and listen on, 8472 (the kernel's and flannel's) or 4789 (IANA's)
 * @param innerMtu the MTU of our TUN device (underlay MTU minus 50): a decapsulated packet longer
 *     than this is dropped as {@code OVERSIZE}
 * @param acceptUnknownPeers take datagrams from any source address, as the kernel does; by default
 *     (false) only those from an address that is some FDB entry's endpoint are taken
 */
public record VtepConfig(int vni, MacAddress vtepMac, int vtepAddress, int port, int innerMtu, boolean acceptUnknownPeers) {
    /** Bytes VXLAN puts in front of an inner IPv4 packet in the UDP payload: VXLAN header and inner Ethernet. */
    public static final int ENCAP_HEADER_LEN = 22;
    /** Bytes VXLAN adds on the wire, outer IPv4 (20) and UDP (8) included: the TUN MTU is the underlay's minus this. */
    public static final int OVERHEAD = 50;
    /** Smallest MTU an IPv4 link may have (RFC 791). */
    public static final int MIN_MTU = 68;

    /** Checks every field; throws {@link IllegalArgumentException} naming the field and value. */
    public VtepConfig {
        if (vni < 0 || vni > VxlanHeader.MAX_VNI) {
            throw new IllegalArgumentException("VNI out of range: vni=" + vni + (vni < 0 ? " (min 0)" : " (max " + VxlanHeader.MAX_VNI + ")"));
        }
        if (vtepMac == null) throw new IllegalArgumentException("VTEP MAC missing: vtepMac=null");
        if (vtepMac.isMulticast() || vtepMac.value() == 0) {
            throw new IllegalArgumentException("VTEP MAC not a unicast address: vtepMac=" + vtepMac);
        }
        if (vtepAddress == 0) throw new IllegalArgumentException("VTEP address missing: vtepAddress=" + Ipv4Address.toString(vtepAddress));
        if (port < 1 || port > 0xffff) throw new IllegalArgumentException("VXLAN port out of range: port=" + port + " (1-65535)");
        if (innerMtu < MIN_MTU || innerMtu > 0xffff) {
            throw new IllegalArgumentException("inner MTU out of range: innerMtu=" + innerMtu + " (" + MIN_MTU + "-65535)");
        }
    }

    /** flannel's defaults around the given identity: VNI 1, port 8472, known peers only. */
    public static VtepConfig of(MacAddress vtepMac, int vtepAddress, int innerMtu) {
        return new VtepConfig(BackendConf.DEFAULT_VNI, vtepMac, vtepAddress, BackendConf.DEFAULT_VXLAN_PORT, innerMtu, false);
    }

    /** This configuration with another VNI. */
    public VtepConfig withVni(int vni) {
        return new VtepConfig(vni, vtepMac, vtepAddress, port, innerMtu, acceptUnknownPeers);
    }

    /** This configuration with another UDP port. */
    public VtepConfig withPort(int port) {
        return new VtepConfig(vni, vtepMac, vtepAddress, port, innerMtu, acceptUnknownPeers);
    }

    /** This configuration taking datagrams from any source ({@code true}, as the kernel) or known peers only. */
    public VtepConfig withAcceptUnknownPeers(boolean accept) {
        return new VtepConfig(vni, vtepMac, vtepAddress, port, innerMtu, accept);
    }

    @Override
    public String toString() {
        return "VtepConfig[vni=" + vni + " mac=" + vtepMac + " address=" + Ipv4Address.toString(vtepAddress) + " port=" + port
                + " innerMtu=" + innerMtu + (acceptUnknownPeers ? " acceptUnknownPeers" : "") + "]";
    }
}
