package io.dataplane.udp;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.testing.EncapsulationConformanceTest;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import java.util.Arrays;
import java.util.List;

/** flannel's udp tunnel against the encapsulation conformance suite: the datagram is the inner packet, one TTL lower at each end. */
class UdpEncapsulationConformanceTest extends EncapsulationConformanceTest {
    static final int MTU = 1472;
    private final UdpEncapsulation a = tunnel(B);
    private final UdpEncapsulation b = tunnel(A);

    private static UdpEncapsulation tunnel(int peer) {
        AddressSet peers = new AddressSet();
        peers.add(peer);
        return new UdpEncapsulation(UdpTunnelConfig.of(Ipv4Address.parse("10.244.0.0"), MTU), peers);
    }

    @Override
    protected Encapsulation nodeA() {
        return a;
    }

    @Override
    protected Encapsulation nodeB() {
        return b;
    }

    /** The peer's public IP. */
    @Override
    protected int nextHopToB() {
        return B;
    }

    @Override
    protected int innerMtu() {
        return MTU;
    }

    /** One TTL less at each end, as through flannel's two proxies. */
    @Override
    protected byte[] delivered(byte[] sent) {
        return UdpBackendConformanceTest.ttlLess(sent, 2);
    }

    @Override
    protected List<BadDatagram> badDatagrams() {
        byte[] good = TestPackets.echoRequest(POD_A, POD_B, 64, 1, 1, 56);
        byte[] v6 = good.clone();
        v6[0] = 0x60;
        byte[] ihl = good.clone();
        ihl[0] = 0x43;
        byte[] sum = good.clone();
        sum[Ipv4Header.CHECKSUM + 1] ^= 0x40;
        return List.of(
                new BadDatagram("empty", DropReason.TRUNCATED, new byte[0]),
                new BadDatagram("19 bytes", DropReason.TRUNCATED, Arrays.copyOf(good, 19)),
                new BadDatagram("version 6", DropReason.NOT_IPV4, v6),
                new BadDatagram("IHL 3", DropReason.BAD_IHL, ihl),
                new BadDatagram("one byte short of its total length", DropReason.BAD_TOTAL_LENGTH, Arrays.copyOf(good, good.length - 1)),
                new BadDatagram("header checksum", DropReason.BAD_CHECKSUM, sum),
                new BadDatagram("one byte above the MTU", DropReason.OVERSIZE, TestPackets.echoRequest(POD_A, POD_B, 64, 1, 1, MTU - 27)),
                new BadDatagram("TTL 1", DropReason.TTL_EXPIRED, TestPackets.echoRequest(POD_A, POD_B, 1, 1, 1, 8)));
    }
}
