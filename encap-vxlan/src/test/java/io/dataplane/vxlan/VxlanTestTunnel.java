package io.dataplane.vxlan;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.testing.TunnelUnderTest;

/** B's VTEP, as flannel.1 programs it, and ours: VXLAN datagrams with an inner Ethernet frame. */
final class VxlanTestTunnel implements TunnelUnderTest {
    private static final int MTU = 1450;
    private static final MacAddress OUR_MAC = MacAddress.parse("42:ce:43:ce:47:4b");
    private static final MacAddress PEER_MAC = MacAddress.parse("66:b9:ad:e8:c0:88");
    private static final int PEER = Ipv4Address.parse("192.0.2.2");
    private static final int INNER = 8 + EthernetHeader.HEADER_LEN;

    @Override
    public Encapsulation encapsulation() {
        NeighborTable neighbors = new NeighborTable();
        neighbors.add(Ipv4Address.parse("10.244.2.0"), PEER_MAC);
        Fdb fdb = new Fdb();
        fdb.add(PEER_MAC, PEER);
        return new VxlanEncapsulation(VtepConfig.of(OUR_MAC, Ipv4Address.parse("10.244.1.0"), MTU), neighbors, fdb);
    }

    /** B's VTEP address, the gateway of A's route to B's subnet. */
    @Override
    public int nextHop() {
        return Ipv4Address.parse("10.244.2.0");
    }

    @Override
    public byte[] datagram(byte[] inner) {
        return VxlanFrames.datagram(1, OUR_MAC, PEER_MAC, EthernetHeader.ETHERTYPE_IPV4, inner);
    }

    @Override
    public int innerOffset(byte[] datagram) {
        return INNER;
    }

    @Override
    public int peer() {
        return PEER;
    }

    @Override
    public int peerPort() {
        return 8472;
    }

    @Override
    public int innerMtu() {
        return MTU;
    }
}
