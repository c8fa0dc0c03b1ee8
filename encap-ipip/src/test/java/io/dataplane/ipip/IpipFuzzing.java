package io.dataplane.ipip;

import io.dataplane.core.testing.TcpSegment;
import io.dataplane.tun.testing.TunnelUnderTest;

/**
 * The IP-in-IP tunnel the fuzz tests drive (as the conformance suite builds it): the raw socket
 * carries the outer IPv4 header with each datagram, both ways.
 */
final class IpipFuzzing {
    private static final IpipEncapsulationConformanceTest SETUP = new IpipEncapsulationConformanceTest();

    static final TunnelUnderTest TUNNEL = new TunnelUnderTest(() -> SETUP.encapsulation(TunnelUnderTest.SELF, TunnelUnderTest.PEER),
            SETUP.nextHopToB(), SETUP.innerMtu(), 0, IpipFuzzing::fromPeer,
            datagram -> datagram.length == 0 ? Integer.MAX_VALUE / 2 : (datagram[0] & 0x0f) * 4);

    private IpipFuzzing() {}

    /** B's outer header (protocol 4, DF, TTL 64, checksum good) in front of {@code inner}. */
    private static byte[] fromPeer(byte[] inner) {
        byte[] d = new byte[20 + inner.length];
        int total = Math.min(d.length, 0xffff);
        d[0] = 0x45;
        d[2] = (byte) (total >>> 8);
        d[3] = (byte) total;
        d[6] = 0x40;
        d[8] = 64;
        d[9] = 4;
        for (int k = 0; k < 4; k++) {
            d[12 + k] = (byte) (TunnelUnderTest.PEER >>> (24 - 8 * k));
            d[16 + k] = (byte) (TunnelUnderTest.SELF >>> (24 - 8 * k));
        }
        int sum = ~TcpSegment.sum(d, 0, 20, 0);
        d[10] = (byte) (sum >>> 8);
        d[11] = (byte) sum;
        System.arraycopy(inner, 0, d, 20, inner.length);
        return d;
    }
}
