package io.dataplane.udp;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.testing.TunnelUnderTest;

/** flannel's udp tunnel between B and us: the inner packet is the whole datagram, so the packets of a train lie back to back. */
final class UdpTestTunnel implements TunnelUnderTest {
    private static final int MTU = 1472;
    private static final int PEER = Ipv4Address.parse("192.0.2.2");

    @Override
    public Encapsulation encapsulation() {
        PeerEntries entries = new PeerEntries();
        AddressSet peers = new AddressSet();
        peers.add(PEER, entries.add(null, PEER).id());
        return new UdpEncapsulation(UdpTunnelConfig.of(Ipv4Address.parse("10.244.0.0"), MTU), peers, entries);
    }

    /** The id of B's entry, the only one in A's peer entries. */
    @Override
    public int nextHop() {
        return 0;
    }

    @Override
    public byte[] datagram(byte[] inner) {
        return inner;
    }

    @Override
    public int innerOffset(byte[] datagram) {
        return 0;
    }

    @Override
    public int peer() {
        return PEER;
    }

    @Override
    public int peerPort() {
        return 8285;
    }

    @Override
    public int innerMtu() {
        return MTU;
    }
}
