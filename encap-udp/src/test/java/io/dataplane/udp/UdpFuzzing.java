package io.dataplane.udp;

import io.dataplane.tun.testing.TunnelUnderTest;

/**
 * flannel's udp tunnel the fuzz tests drive (as the conformance suite builds it): the inner packet
 * is the whole datagram, so the packets of a train lie back to back.
 */
final class UdpFuzzing {
    private static final UdpEncapsulationConformanceTest SETUP = new UdpEncapsulationConformanceTest();

    static final TunnelUnderTest TUNNEL = new TunnelUnderTest(() -> SETUP.encapsulation(TunnelUnderTest.SELF, TunnelUnderTest.PEER),
            SETUP.nextHopToB(), SETUP.innerMtu(), 8285, inner -> inner, datagram -> 0);

    private UdpFuzzing() {}
}
