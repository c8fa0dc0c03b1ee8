package io.dataplane.vxlan;

import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.VxlanHeader;
import io.dataplane.tun.testing.TunnelUnderTest;

/**
 * The VXLAN tunnel the fuzz tests drive: A's VTEP, which knows B's as flannel.1 does (as the
 * conformance suite builds it).
 */
final class VxlanFuzzing {
    private static final VxlanEncapsulationConformanceTest SETUP = new VxlanEncapsulationConformanceTest();

    /** B's VXLAN datagrams to A: VXLAN header, inner Ethernet frame from B's VTEP MAC to ours, the packet. */
    static final TunnelUnderTest TUNNEL = new TunnelUnderTest(() -> SETUP.encapsulation(TunnelUnderTest.SELF, TunnelUnderTest.PEER),
            SETUP.nextHopToB(), SETUP.innerMtu(), 8472,
            inner -> VxlanFrames.datagram(1, VxlanEncapsulationConformanceTest.MAC_A, VxlanEncapsulationConformanceTest.MAC_B,
                    EthernetHeader.ETHERTYPE_IPV4, inner),
            datagram -> VxlanHeader.HEADER_LEN + EthernetHeader.HEADER_LEN);

    private VxlanFuzzing() {}
}
