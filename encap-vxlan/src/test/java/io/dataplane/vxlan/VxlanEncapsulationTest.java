package io.dataplane.vxlan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.testing.KernelPartialPackets;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.ArpPacket;
import io.dataplane.core.wire.ArpRepr;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The VTEP on its own: the lookup chain, the kernel's order of header checks, super-packets, ARP (the bad inputs of every header: {@link VxlanEncapsulationConformanceTest}). */
class VxlanEncapsulationTest {
    static final MacAddress OUR_MAC = MacAddress.parse("66:b9:ad:e8:c0:88");
    static final MacAddress PEER_MAC = MacAddress.parse("42:ce:43:ce:47:4b");
    static final MacAddress OTHER_MAC = MacAddress.parse("02:00:00:00:00:99");
    static final int OUR_VTEP = Ipv4Address.parse("10.244.1.0");
    static final int PEER_GATEWAY = Ipv4Address.parse("10.244.2.0");
    static final int PEER = Ipv4Address.parse("192.0.2.2");
    static final int STRANGER = Ipv4Address.parse("198.51.100.7");
    static final int POD1 = Ipv4Address.parse("10.244.1.5");
    static final int POD2 = Ipv4Address.parse("10.244.2.7");
    static final int MTU = 1450;

    final PacketPool pool = new PacketPool(8);
    final NeighborTable neighbors = new NeighborTable();
    final Fdb fdb = new Fdb();
    final VxlanEncapsulation vtep = new VxlanEncapsulation(VtepConfig.of(OUR_MAC, OUR_VTEP, MTU), neighbors, fdb);

    VxlanEncapsulationTest() {
        neighbors.add(PEER_GATEWAY, PEER_MAC);
        fdb.add(PEER_MAC, PEER);
    }

    @AfterEach
    void poolIsWhole() {
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    static byte[] ping(int ttl, int dataLength) {
        return TestPackets.echoRequest(POD2, POD1, ttl, 0x56cd, 1, dataLength);
    }

    /** A good datagram from the peer to us carrying {@code inner}. */
    static byte[] fromPeer(byte[] inner) {
        return VxlanFrames.datagram(1, OUR_MAC, PEER_MAC, EthernetHeader.ETHERTYPE_IPV4, inner);
    }

    int encap(byte[] inner, int nextHop, Consumer<PacketBuffer> check) {
        PacketBuffer p = pool.acquire().put(inner);
        try {
            int verdict = vtep.encap(p, nextHop);
            check.accept(p);
            return verdict;
        } finally {
            p.release();
        }
    }

    int decap(byte[] datagram, int source) {
        return decap(datagram, source, p -> { });
    }

    int decap(byte[] datagram, int source, Consumer<PacketBuffer> check) {
        return decap(pool, datagram, source, check);
    }

    int decap(PacketPool from, byte[] datagram, int source, Consumer<PacketBuffer> check) {
        PacketBuffer p = from.acquire().put(datagram);
        p.setPeer(source, 41529);
        try {
            int verdict = vtep.decap(p);
            check.accept(p);
            return verdict;
        } finally {
            p.release();
        }
    }

    static int drop(DropReason reason) {
        return reason.ordinal();
    }

    // ---- encapsulation and the lookup chain ----

    @Test
    void headroomAndOverheadAreFlannels() {
        assertEquals(22, vtep.headroom());
        assertEquals(50, vtep.overhead());
        assertEquals(0, vtep.tailroom());
    }

    @Test
    void missingNeighborOrFdbEntryDropsWithoutTouchingThePacket() {
        byte[] inner = ping(64, 56);
        Consumer<PacketBuffer> untouched = p -> {
            assertEquals(pool.headroom(), p.offset());
            assertArrayEquals(inner, p.toByteArray());
        };
        assertEquals(drop(DropReason.NO_NEIGHBOR), encap(inner, Ipv4Address.parse("10.244.3.0"), untouched));
        fdb.remove(PEER_MAC);
        assertEquals(drop(DropReason.NO_FDB), encap(inner, PEER_GATEWAY, untouched));
    }

    @Test
    void everyPacketFollowsTheTablesAsTheyAreNow() {
        byte[] inner = ping(64, 56);
        assertEquals(Encapsulation.FORWARD, encap(inner, PEER_GATEWAY, p -> assertEquals(PEER, p.peerAddress())));
        int moved = Ipv4Address.parse("192.0.2.22");
        fdb.add(PEER_MAC, moved);
        assertEquals(Encapsulation.FORWARD, encap(inner, PEER_GATEWAY, p -> assertEquals(moved, p.peerAddress())));
        fdb.add(OTHER_MAC, PEER);
        neighbors.add(PEER_GATEWAY, OTHER_MAC);
        assertEquals(Encapsulation.FORWARD, encap(inner, PEER_GATEWAY, p -> {
            assertEquals(PEER, p.peerAddress());
            assertEquals(OTHER_MAC.value(), MacAddress.read(p.segment(), p.offset() + 8), "inner destination is the neighbor's new MAC");
        }));
        neighbors.remove(PEER_GATEWAY);
        assertEquals(drop(DropReason.NO_NEIGHBOR), encap(inner, PEER_GATEWAY, p -> { }));
    }

    @Test
    void noHeadroomIsNoRoom() {
        byte[] inner = ping(64, 20);
        PacketBuffer p = pool.acquire();
        try {
            p.setData(21, 0).put(inner);
            assertEquals(drop(DropReason.NO_ROOM), vtep.encap(p, PEER_GATEWAY));
            assertEquals(21, p.offset());
            p.setData(22, 0).put(inner);
            assertEquals(Encapsulation.FORWARD, vtep.encap(p, PEER_GATEWAY));
            assertEquals(0, p.offset());
        } finally {
            p.release();
        }
    }

    @Test
    void theInnerPacketIsSentAsReadTtlOneIncluded() {
        // flannel.1 does not decrement: the kernel's forwarding already did, on the way into the TUN.
        byte[] inner = ping(1, 56);
        assertEquals(Encapsulation.FORWARD, encap(inner, PEER_GATEWAY,
                p -> assertArrayEquals(inner, Arrays.copyOfRange(p.toByteArray(), 22, 22 + inner.length))));
    }

    // ---- decapsulation: good input ----

    @Test
    void decapsulationTrimsToTheInnerPacketAndLeavesItsTtl() {
        byte[] inner = ping(1, 56);
        assertEquals(Encapsulation.FORWARD, decap(fromPeer(inner), PEER, p -> assertArrayEquals(inner, p.toByteArray())));
    }

    @Test
    void ethernetPaddingAfterTheInnerPacketIsTrimmed() {
        byte[] inner = ping(64, 0); // 28 bytes: an Ethernet frame of it is padded to 60
        byte[] padded = Arrays.copyOf(fromPeer(inner), 8 + 60);
        Arrays.fill(padded, 8 + 14 + inner.length, padded.length, (byte) 0xee);
        assertEquals(Encapsulation.FORWARD, decap(padded, PEER, p -> assertArrayEquals(inner, p.toByteArray())));
    }

    @Test
    void aPacketOfExactlyTheMtuPassesOneMoreIsOversize() {
        assertEquals(Encapsulation.FORWARD, decap(fromPeer(ping(64, MTU - 28)), PEER));
        assertEquals(drop(DropReason.OVERSIZE), decap(fromPeer(ping(64, MTU - 27)), PEER));
    }

    /** An inner TCP segment POD2 -> POD1 with {@code payload} bytes, its checksum partial if {@code partial}. */
    private static byte[] tcp(int payload, boolean partial) {
        byte[] p = TcpSegment.of(POD2, 5201, POD1, 40000, 1, 1, new byte[0], TcpSegment.pattern(1, payload)).bytes();
        if (partial) {
            int pseudo = TcpSegment.pseudoHeaderSum(POD2, POD1, p.length - 20);
            p[36] = (byte) (pseudo >>> 8);
            p[37] = (byte) pseudo;
        }
        return p;
    }

    private int decapLarge(byte[] datagram, Consumer<PacketBuffer> check) {
        try (PacketPool large = new PacketPool(1, 16384, 128)) {
            return decap(large, datagram, PEER, check);
        }
    }

    @Test
    void aTcpSuperPacketAsAKernelVtepSendsItOverAVethForwardsWithItsSegmentSize() {
        byte[] inner = tcp(8000, true);
        assertEquals(Encapsulation.FORWARD, decapLarge(fromPeer(inner), p -> {
            assertArrayEquals(inner, p.toByteArray());
            assertEquals(MTU - 40, p.gsoSize(), "segments of the TUN's MTU");
        }));
        byte[] small = tcp(100, true);
        assertEquals(Encapsulation.FORWARD, decapLarge(fromPeer(small), p -> assertEquals(0, p.gsoSize(), "one packet")));
        assertEquals(1, vtep.superPacketsReceived());
    }

    /** {@code datagram} in a buffer of {@code from} as a socket with UDP GRO hands it up with GRO size {@code gsoSize}. */
    private PacketBuffer received(PacketPool from, byte[] datagram, int gsoSize) {
        return from.acquire().put(datagram).setPeer(PEER, 41529).setGsoSize(gsoSize);
    }

    @Test
    void aKernelVtepsUdpSuperPacketIsToldFromATrainAndForwardedWholeWithTheSendersDatagramSize() {
        byte[] inner = KernelPartialPackets.udpSuperPacket(POD2, POD1, 12000);
        try (PacketPool large = new PacketPool(2, 16384, 128)) {
            PacketBuffer p = received(large, fromPeer(inner), 1200);
            try {
                assertTrue(vtep.wholeSuperPacket(p), "one inner packet spans the datagram");
                assertEquals(Encapsulation.FORWARD, vtep.decap(p));
                assertArrayEquals(inner, p.toByteArray());
                assertEquals(1200, p.gsoSize(), "the sender's datagram boundaries");
                assertEquals(1, vtep.superPacketsReceived());
            } finally {
                p.release();
            }
            // A UDP super-packet whose datagrams would not fit the TUN, or whose checksum is complete, is none.
            for (PacketBuffer bad : new PacketBuffer[] {received(large, fromPeer(inner), MTU - 27),
                    received(large, fromPeer(TestPackets.udp(POD2, POD1, 64, 4433, 40000, 12000)), 1200)}) {
                try {
                    assertTrue(vtep.wholeSuperPacket(bad));
                    assertEquals(drop(DropReason.OVERSIZE), vtep.decap(bad));
                } finally {
                    bad.release();
                }
            }
        }
    }

    @Test
    void aTrainOfVxlanDatagramsIsNoWholeSuperPacket() {
        byte[] one = fromPeer(ping(64, 56));
        byte[] train = Arrays.copyOf(one, one.length * 3);
        System.arraycopy(one, 0, train, one.length, one.length);
        System.arraycopy(one, 0, train, 2 * one.length, one.length);
        try (PacketPool large = new PacketPool(1, 16384, 128)) {
            PacketBuffer p = received(large, train, one.length);
            try {
                assertFalse(vtep.wholeSuperPacket(p), "the first inner packet ends in the first datagram");
            } finally {
                p.release();
            }
            PacketBuffer arp = received(large, VxlanFrames.datagram(1, OUR_MAC, PEER_MAC, EthernetHeader.ETHERTYPE_ARP, new byte[40]), 30);
            try {
                assertFalse(vtep.wholeSuperPacket(arp), "not IPv4");
            } finally {
                arp.release();
            }
        }
        assertEquals(0, vtep.superPacketsReceived());
    }

    @Test
    void anOversizePacketThatIsNoKernelSuperPacketIsOversize() {
        assertEquals(drop(DropReason.OVERSIZE), decapLarge(fromPeer(tcp(8000, false)), p -> { }), "a complete checksum");
        byte[] wrong = tcp(8000, true);
        wrong[37] ^= 1;
        assertEquals(drop(DropReason.OVERSIZE), decapLarge(fromPeer(wrong), p -> { }), "neither complete nor partial");
        assertEquals(drop(DropReason.OVERSIZE), decapLarge(fromPeer(ping(64, 8000)), p -> { }), "not TCP");
        assertEquals(drop(DropReason.OVERSIZE), decapLarge(fromPeer(Arrays.copyOf(ping(64, 56), MTU + 1)), p -> { }),
                "a small packet with a tail beyond the MTU");
        assertEquals(Encapsulation.FORWARD, decapLarge(fromPeer(Arrays.copyOf(ping(64, 56), MTU)), p -> { }), "a tail up to the MTU");
    }

    @Test
    void strangersAreDroppedUnlessConfiguredToAcceptThemAsTheKernelDoes() {
        byte[] datagram = fromPeer(ping(64, 56));
        assertEquals(drop(DropReason.UNKNOWN_PEER), decap(datagram, STRANGER));
        VxlanEncapsulation lenient = new VxlanEncapsulation(VtepConfig.of(OUR_MAC, OUR_VTEP, MTU).withAcceptUnknownPeers(true), neighbors, fdb);
        PacketBuffer p = pool.acquire().put(datagram).setPeer(STRANGER, 41529);
        try {
            assertEquals(Encapsulation.FORWARD, lenient.decap(p));
        } finally {
            p.release();
        }
        fdb.remove(PEER_MAC);
        assertEquals(drop(DropReason.UNKNOWN_PEER), decap(datagram, PEER), "a peer whose FDB entry is gone is a stranger");
    }

    // ---- decapsulation: every bad input under its own reason ----

    /**
     * A group-policy header (VXLAN-GBP: G flag, policy ID 0x1234) in front of a good frame: the
     * kernel's flannel.1, which configures no extension, drops it as an invalid header after it has
     * found the device for the VNI; for another VNI it finds no device first.
     */
    @Test
    void reservedBitsAreDroppedInTheKernelsOrder() {
        byte[] frame = fromPeer(ping(64, 56));
        byte[] ours = frame.clone();
        System.arraycopy(vxlanHeader(0x88, 0x00, 0x12, 0x34, 0x00, 0x00, 0x01, 0x00), 0, ours, 0, 8);
        assertEquals(drop(DropReason.VXLAN_BAD_FLAGS), decap(ours, PEER));
        byte[] otherVni = frame.clone();
        System.arraycopy(vxlanHeader(0x88, 0x00, 0x12, 0x34, 0x00, 0x00, 0x02, 0x00), 0, otherVni, 0, 8);
        assertEquals(drop(DropReason.VXLAN_UNKNOWN_VNI), decap(otherVni, PEER));
        byte[] noIFlag = frame.clone();
        System.arraycopy(vxlanHeader(0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x02, 0x00), 0, noIFlag, 0, 8);
        assertEquals(drop(DropReason.VXLAN_BAD_FLAGS), decap(noIFlag, PEER), "the I flag is checked before the VNI");
        byte[] clean = frame.clone();
        System.arraycopy(vxlanHeader(0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00), 0, clean, 0, 8);
        assertEquals(Encapsulation.FORWARD, decap(clean, PEER), "the same frame without the extension");
    }

    /** Eight header bytes written as unsigned values. */
    static byte[] vxlanHeader(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) values[i];
        return b;
    }

    // ---- ARP ----

    static byte[] arpRequest(MacAddress dst, MacAddress requester, int requesterAddr, int target) {
        return VxlanFrames.datagram(1, dst, requester, EthernetHeader.ETHERTYPE_ARP,
                VxlanFrames.arp(ArpRepr.request(requester, requesterAddr, target)));
    }

    @Test
    void arpRequestForOurVtepAddressIsAnsweredInPlace() {
        for (MacAddress dst : new MacAddress[] {MacAddress.BROADCAST, OUR_MAC}) {
            byte[] request = arpRequest(dst, PEER_MAC, PEER_GATEWAY, OUR_VTEP);
            byte[] expected = VxlanFrames.datagram(1, PEER_MAC, OUR_MAC, EthernetHeader.ETHERTYPE_ARP,
                    VxlanFrames.arp(new ArpRepr(ArpPacket.OP_REPLY, OUR_MAC, OUR_VTEP, PEER_MAC, PEER_GATEWAY)));
            assertEquals(Encapsulation.REPLY, decap(request, PEER, p -> {
                assertArrayEquals(expected, p.toByteArray());
                assertEquals(pool.headroom(), p.offset(), "in place");
                assertEquals(PEER, p.peerAddress());
                assertEquals(8472, p.peerPort(), "to the VXLAN port, not the request's source port");
            }), "to " + dst);
        }
    }

    @Test
    void paddedArpRequestGetsAnUnpaddedReply() {
        byte[] request = Arrays.copyOf(arpRequest(MacAddress.BROADCAST, PEER_MAC, PEER_GATEWAY, OUR_VTEP), 8 + 60);
        assertEquals(Encapsulation.REPLY, decap(request, PEER, p -> assertEquals(8 + 14 + 28, p.length())));
    }

    @Test
    void arpWeDoNotAnswer() {
        assertEquals(drop(DropReason.VXLAN_ARP_IGNORED),
                decap(arpRequest(MacAddress.BROADCAST, PEER_MAC, PEER_GATEWAY, Ipv4Address.parse("10.244.1.1")), PEER),
                "a request for another address");
        byte[] reply = VxlanFrames.datagram(1, OUR_MAC, PEER_MAC, EthernetHeader.ETHERTYPE_ARP,
                VxlanFrames.arp(new ArpRepr(ArpPacket.OP_REPLY, PEER_MAC, PEER_GATEWAY, OUR_MAC, OUR_VTEP)));
        assertEquals(drop(DropReason.VXLAN_ARP_IGNORED), decap(reply, PEER), "a reply nobody asked for");
        byte[] groupSender = VxlanFrames.datagram(1, MacAddress.BROADCAST, PEER_MAC, EthernetHeader.ETHERTYPE_ARP,
                VxlanFrames.arp(ArpRepr.request(MacAddress.BROADCAST, PEER_GATEWAY, OUR_VTEP)));
        assertEquals(drop(DropReason.VXLAN_ARP_IGNORED), decap(groupSender, PEER), "a request from a group address");
        assertEquals(drop(DropReason.VXLAN_NOT_OUR_MAC), decap(arpRequest(OTHER_MAC, PEER_MAC, PEER_GATEWAY, OUR_VTEP), PEER));
        byte[] request = arpRequest(MacAddress.BROADCAST, PEER_MAC, PEER_GATEWAY, OUR_VTEP);
        byte[] notEthernet = request.clone();
        notEthernet[22 + 1] = 6; // hardware type 6 (IEEE 802)
        assertEquals(drop(DropReason.ARP_UNSUPPORTED), decap(notEthernet, PEER));
        assertEquals(drop(DropReason.TRUNCATED), decap(Arrays.copyOf(request, request.length - 1), PEER));
        assertEquals(drop(DropReason.UNKNOWN_PEER), decap(request, STRANGER));
    }

    @Test
    void decapsulationAndArpRepliesNeverLeaveTheBuffer() {
        byte[] request = arpRequest(MacAddress.BROADCAST, PEER_MAC, PEER_GATEWAY, OUR_VTEP);
        PacketBuffer p = pool.acquire();
        try {
            // A datagram at the very end of the buffer: the reply is written where the request was.
            p.setData(p.capacity() - request.length, 0).put(request).setPeer(PEER, 41529);
            assertEquals(Encapsulation.REPLY, vtep.decap(p));
            assertNotEquals(0, p.length());
        } finally {
            p.release();
        }
        assertThrows(IllegalArgumentException.class, () -> new VxlanEncapsulation(VtepConfig.of(OUR_MAC, OUR_VTEP, MTU), null, fdb));
    }
}
