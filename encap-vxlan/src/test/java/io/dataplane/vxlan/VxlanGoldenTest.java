package io.dataplane.vxlan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.core.wire.PcapReader;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our VTEP against the bytes the kernel's flannel.1 put on the wire (dataplane-core's test capture,
 * read from its test-jar): encapsulating each captured inner packet with the capture's MACs, VNI and
 * addresses gives exactly the captured UDP payload, and decapsulating each captured UDP payload
 * gives exactly the captured inner packet.
 */
class VxlanGoldenTest {
    static final MacAddress VTEP1_MAC = MacAddress.parse("66:b9:ad:e8:c0:88"); // flannel.1 on node 1
    static final MacAddress VTEP2_MAC = MacAddress.parse("42:ce:43:ce:47:4b");
    static final int NODE1 = Ipv4Address.parse("192.0.2.1");
    static final int NODE2 = Ipv4Address.parse("192.0.2.2");
    static final Ipv4Prefix SUBNET1 = Ipv4Prefix.parse("10.244.1.0/24");
    static final Ipv4Prefix SUBNET2 = Ipv4Prefix.parse("10.244.2.0/24");
    static final int KERNEL_SOURCE_PORT = 41529;
    // Outer Ethernet 14 + IPv4 20 + UDP 8: where the UDP payload starts; 22 bytes later the inner IPv4 packet.
    static final int UDP_PAYLOAD = 42;
    static final int INNER_IP = UDP_PAYLOAD + 22;

    static List<PcapReader.Frame> frames;
    final PacketPool pool = new PacketPool(4);

    /** One node of the capture: its VTEP, and the other node as its only peer. */
    record Node(VxlanEncapsulation vtep, RouteTable routes) {
        static Node of(MacAddress ours, Ipv4Prefix ourSubnet, MacAddress peerMac, Ipv4Prefix peerSubnet, int peerAddress) {
            NeighborTable neighbors = new NeighborTable();
            Fdb fdb = new Fdb();
            RouteTable routes = new RouteTable();
            fdb.add(peerMac, peerAddress);
            neighbors.add(peerSubnet.address(), peerMac);
            routes.add(peerSubnet, peerSubnet.address());
            return new Node(new VxlanEncapsulation(VtepConfig.of(ours, ourSubnet.address(), 1450), neighbors, fdb), routes);
        }
    }

    final Node node1 = Node.of(VTEP1_MAC, SUBNET1, VTEP2_MAC, SUBNET2, NODE2);
    final Node node2 = Node.of(VTEP2_MAC, SUBNET2, VTEP1_MAC, SUBNET1, NODE1);

    @BeforeAll
    static void readCapture() throws IOException {
        try (InputStream in = VxlanGoldenTest.class.getResourceAsStream("/kernel-vxlan-flannel1-ping.pcap")) {
            assertNotNull(in, "dataplane-core's test-jar lacks kernel-vxlan-flannel1-ping.pcap");
            frames = PcapReader.read(in.readAllBytes());
        }
        assertEquals(8, frames.size());
    }

    @AfterEach
    void poolIsWhole() {
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    @Test
    void encapsulatingTheInnerPacketGivesTheKernelsUdpPayload() {
        for (int i = 0; i < frames.size(); i++) {
            byte[] frame = frames.get(i).data();
            boolean request = i % 2 == 0; // requests go node 1 -> node 2
            Node sender = request ? node1 : node2;
            byte[] inner = Arrays.copyOfRange(frame, INNER_IP, frame.length);
            PacketBuffer p = pool.acquire().put(inner);
            try {
                int dst = Ipv4Address.parse(request ? "10.244.2.1" : "10.244.1.1");
                long hop = sender.routes().lookup(dst);
                assertEquals(Encapsulation.FORWARD, sender.vtep().encap(p, (int) hop), "frame " + (i + 1));
                assertArrayEquals(Arrays.copyOfRange(frame, UDP_PAYLOAD, frame.length), p.toByteArray(), "frame " + (i + 1));
                assertEquals(request ? NODE2 : NODE1, p.peerAddress(), "frame " + (i + 1));
                assertEquals(8472, p.peerPort(), "frame " + (i + 1));
                assertEquals(pool.headroom() - 22, p.offset(), "written in place, in front of the packet");
            } finally {
                p.release();
            }
        }
    }

    @Test
    void decapsulatingTheKernelsUdpPayloadGivesTheInnerPacket() {
        for (int i = 0; i < frames.size(); i++) {
            byte[] frame = frames.get(i).data();
            boolean request = i % 2 == 0;
            Node receiver = request ? node2 : node1;
            PacketBuffer p = pool.acquire().put(Arrays.copyOfRange(frame, UDP_PAYLOAD, frame.length));
            p.setPeer(request ? NODE1 : NODE2, KERNEL_SOURCE_PORT);
            try {
                int start = p.offset();
                assertEquals(Encapsulation.FORWARD, receiver.vtep().decap(p), "frame " + (i + 1));
                assertArrayEquals(Arrays.copyOfRange(frame, INNER_IP, frame.length), p.toByteArray(), "frame " + (i + 1));
                assertEquals(start + 22, p.offset(), "decapsulation moves the offset, not the bytes");
            } finally {
                p.release();
            }
        }
    }

    @Test
    void whatOneNodeEncapsulatesTheOtherDecapsulates() {
        for (int i = 0; i < frames.size(); i++) {
            byte[] frame = frames.get(i).data();
            boolean request = i % 2 == 0;
            Node sender = request ? node1 : node2;
            Node receiver = request ? node2 : node1;
            byte[] inner = Arrays.copyOfRange(frame, INNER_IP, frame.length);
            PacketBuffer p = pool.acquire().put(inner);
            try {
                assertEquals(Encapsulation.FORWARD, sender.vtep().encap(p, (request ? SUBNET2 : SUBNET1).address()));
                p.setPeer(request ? NODE1 : NODE2, 8472);
                assertEquals(Encapsulation.FORWARD, receiver.vtep().decap(p));
                assertArrayEquals(inner, p.toByteArray(), "frame " + (i + 1));
            } finally {
                p.release();
            }
        }
    }
}
