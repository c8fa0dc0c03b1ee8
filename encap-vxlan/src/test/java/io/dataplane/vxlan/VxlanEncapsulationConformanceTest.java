package io.dataplane.vxlan;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.testing.EncapsulationConformanceTest;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.core.wire.VxlanHeader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Our VTEP against the encapsulation conformance suite: A's VTEP finds B through its neighbor
 * and FDB entries, as flannel.1 does; the bad datagrams cover every header of the frame.
 */
class VxlanEncapsulationConformanceTest extends EncapsulationConformanceTest {
    static final int MTU = 1450;
    static final MacAddress MAC_A = MacAddress.parse("42:ce:43:ce:47:4b");
    static final MacAddress MAC_B = MacAddress.parse("66:b9:ad:e8:c0:88");
    static final MacAddress OTHER_MAC = MacAddress.parse("02:00:00:00:00:99");
    static final int VTEP_A = Ipv4Address.parse("10.244.1.0");
    static final int VTEP_B = Ipv4Address.parse("10.244.2.0");

    /** A VTEP with the neighbor and FDB entries of its peer's VTEP, as flanneld programs flannel.1. */
    @Override
    protected Encapsulation encapsulation(int self, int peer) {
        NeighborTable neighbors = new NeighborTable();
        neighbors.add(vtepOf(peer), macOf(peer));
        Fdb fdb = new Fdb();
        fdb.add(macOf(peer), peer);
        return new VxlanEncapsulation(VtepConfig.of(macOf(self), vtepOf(self), MTU), neighbors, fdb);
    }

    private static MacAddress macOf(int node) {
        return node == A ? MAC_A : MAC_B;
    }

    private static int vtepOf(int node) {
        return node == A ? VTEP_A : VTEP_B;
    }

    /** B's VTEP address, the gateway of A's route to B's subnet. */
    @Override
    protected int nextHopToB() {
        return VTEP_B;
    }

    @Override
    protected int innerMtu() {
        return MTU;
    }

    private static byte[] ping() {
        return TestPackets.echoRequest(POD_A, POD_B, 64, 0x56cd, 1, 56);
    }

    /** A's frame to B carrying {@code inner}. */
    private static byte[] toB(byte[] inner) {
        return VxlanFrames.datagram(1, MAC_B, MAC_A, EthernetHeader.ETHERTYPE_IPV4, inner);
    }

    @Override
    protected List<BadDatagram> badDatagrams() {
        List<BadDatagram> bad = new ArrayList<>();
        byte[] good = toB(ping());
        for (int cut : new int[] {0, 1, 7, 8, 21}) bad.add(new BadDatagram("cut to " + cut, DropReason.TRUNCATED, Arrays.copyOf(good, cut)));
        bad.add(new BadDatagram("inner IPv4 header cut short", DropReason.TRUNCATED, Arrays.copyOf(good, 22 + 19)));
        bad.add(new BadDatagram("inner packet cut short", DropReason.BAD_TOTAL_LENGTH, Arrays.copyOf(good, good.length - 1)));
        // Every bit of the first word but I, and every bit of the byte after the VNI.
        for (int bit = 0; bit < 32; bit++) {
            byte[] flipped = good.clone();
            flipped[bit / 8] ^= (byte) (0x80 >>> (bit % 8));
            bad.add(new BadDatagram("bit " + bit + " of the flags word flipped", DropReason.VXLAN_BAD_FLAGS, flipped));
        }
        for (int bit = 0; bit < 8; bit++) {
            byte[] flipped = good.clone();
            flipped[7] ^= (byte) (1 << bit);
            bad.add(new BadDatagram("reserved bit " + bit + " after the VNI", DropReason.VXLAN_BAD_FLAGS, flipped));
        }
        for (int vni : new int[] {0, 2, 0x10001, VxlanHeader.MAX_VNI}) {
            bad.add(new BadDatagram("vni " + vni, DropReason.VXLAN_UNKNOWN_VNI,
                    VxlanFrames.datagram(vni, MAC_B, MAC_A, EthernetHeader.ETHERTYPE_IPV4, ping())));
        }
        bad.add(new BadDatagram("another MAC", DropReason.VXLAN_NOT_OUR_MAC,
                VxlanFrames.datagram(1, OTHER_MAC, MAC_A, EthernetHeader.ETHERTYPE_IPV4, ping())));
        bad.add(new BadDatagram("broadcast, which is for ARP only", DropReason.VXLAN_NOT_OUR_MAC,
                VxlanFrames.datagram(1, MacAddress.BROADCAST, MAC_A, EthernetHeader.ETHERTYPE_IPV4, ping())));
        bad.add(new BadDatagram("another MAC, whatever it carries", DropReason.VXLAN_NOT_OUR_MAC,
                VxlanFrames.datagram(1, OTHER_MAC, MAC_A, EthernetHeader.ETHERTYPE_IPV6, ping())));
        for (int type : new int[] {EthernetHeader.ETHERTYPE_IPV6, EthernetHeader.ETHERTYPE_VLAN, 0x0000, 0x88cc}) {
            bad.add(new BadDatagram("ethertype 0x" + Integer.toHexString(type), DropReason.VXLAN_BAD_ETHERTYPE,
                    VxlanFrames.datagram(1, MAC_B, MAC_A, type, ping())));
        }
        byte[] v6 = ping();
        v6[0] = 0x65;
        bad.add(new BadDatagram("inner version 6", DropReason.NOT_IPV4, toB(v6)));
        byte[] ihl4 = ping();
        ihl4[0] = 0x44;
        bad.add(new BadDatagram("inner IHL 4", DropReason.BAD_IHL, toB(ihl4)));
        byte[] tooLong = ping();
        tooLong[2] = 0x7f;
        bad.add(new BadDatagram("inner total length beyond the frame", DropReason.BAD_TOTAL_LENGTH, toB(tooLong)));
        byte[] badSum = ping();
        badSum[Ipv4Header.CHECKSUM] ^= 0x01;
        bad.add(new BadDatagram("inner checksum", DropReason.BAD_CHECKSUM, toB(badSum)));
        return bad;
    }
}
