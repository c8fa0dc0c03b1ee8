package io.dataplane.udp;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.testing.EncapsulationConformanceTest;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import java.util.ArrayList;
import java.util.List;

/** flannel's udp tunnel against the encapsulation conformance suite: the datagram is the inner packet, one TTL lower at each end. */
class UdpEncapsulationConformanceTest extends EncapsulationConformanceTest {
    static final int MTU = 1472;

    /** ICMP errors from the network's address, as a udp node sends them. */
    @Override
    protected Encapsulation encapsulation(int self, int peer) {
        PeerEntries entries = new PeerEntries();
        AddressSet peers = new AddressSet();
        peers.add(peer, entries.add(null, peer).id());
        return new UdpEncapsulation(UdpTunnelConfig.of(Ipv4Address.parse("10.244.0.0"), MTU), peers, entries);
    }

    /** The id of B's entry, the only one in A's peer entries: what A's route to B's subnet holds. */
    @Override
    protected int nextHopToB() {
        return 0;
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
        List<BadDatagram> bad = new ArrayList<>();
        bad.add(new BadDatagram("empty", DropReason.TRUNCATED, new byte[0]));
        TestPackets.malformed(POD_A, POD_B, MTU).forEach((reason, datagram) -> bad.add(new BadDatagram(reason.toString(), reason, datagram)));
        bad.add(new BadDatagram("TTL 1", DropReason.TTL_EXPIRED, TestPackets.echoRequest(POD_A, POD_B, 1, 1, 1, 8)));
        return bad;
    }
}
