package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The eight frames the Linux kernel's VXLAN device sent and received as flannel.1 (a ping of four
 * echo requests and their replies, see src/test/resources/README.md) parse to exactly what
 * {@code tshark -r kernel-vxlan-flannel1-ping.pcap -d udp.port==8472,vxlan -V} shows, and building
 * each frame from Reprs gives the same bytes.
 */
class KernelVxlanCaptureTest {
    static final String CAPTURE = "/kernel-vxlan-flannel1-ping.pcap";
    static final String CAPTURE_CLASSIC = "/kernel-vxlan-flannel1-ping.classic.pcap";

    // What tshark prints, frame by frame; even frames (0, 2, ...) are the requests.
    static final MacAddress NODE1_MAC = MacAddress.parse("c6:98:8d:e1:25:db"); // veth in the first namespace
    static final MacAddress NODE2_MAC = MacAddress.parse("0e:82:42:bd:43:0b");
    static final MacAddress VTEP1_MAC = MacAddress.parse("66:b9:ad:e8:c0:88"); // flannel.1 on node 1
    static final MacAddress VTEP2_MAC = MacAddress.parse("42:ce:43:ce:47:4b");
    static final int NODE1 = Ipv4Address.parse("192.0.2.1");
    static final int NODE2 = Ipv4Address.parse("192.0.2.2");
    static final int POD1 = Ipv4Address.parse("10.244.1.1");
    static final int POD2 = Ipv4Address.parse("10.244.2.1");
    static final int[] OUTER_IDS = {0x12dc, 0x07fe, 0x12e9, 0x082c, 0x12f8, 0x085a, 0x131e, 0x088d};
    static final int[] INNER_IDS = {0x9f0f, 0x0a19, 0x9f25, 0x0a33, 0x9f2b, 0x0a3d, 0x9f42, 0x0a58};
    static final int[] OUTER_IP_CHECKSUMS = {0xe387, 0xee65, 0xe37a, 0xee37, 0xe36b, 0xee09, 0xe345, 0xedd6};
    static final int[] ICMP_CHECKSUMS = {0x0243, 0x0a43, 0x3c6f, 0x446f, 0x3a51, 0x4251, 0xa033, 0xa833};
    static final int UDP_SRC_PORT = 41529;
    static final int UDP_CHECKSUM = 0x03a2;
    static final int ICMP_ID = 0x56cd;

    // Where each header starts in a 148-byte frame.
    static final int OUTER_IP = EthernetHeader.HEADER_LEN;                 // 14
    static final int UDP = OUTER_IP + Ipv4Header.HEADER_LEN;              // 34
    static final int VXLAN = UDP + UdpHeader.HEADER_LEN;                  // 42
    static final int INNER_ETH = VXLAN + VxlanHeader.HEADER_LEN;          // 50
    static final int INNER_IP = INNER_ETH + EthernetHeader.HEADER_LEN;    // 64
    static final int ICMP = INNER_IP + Ipv4Header.HEADER_LEN;             // 84
    static final int ICMP_DATA = ICMP + Icmpv4Header.HEADER_LEN;          // 92
    static final int FRAME_LEN = 148;

    static List<PcapReader.Frame> frames;

    @BeforeAll
    static void readCapture() throws IOException {
        frames = PcapReader.read(resource(CAPTURE));
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = KernelVxlanCaptureTest.class.getResourceAsStream(name)) {
            assertNotNull(in, "test resource " + name + " missing");
            return in.readAllBytes();
        }
    }

    @Test
    void captureHoldsEightWholeEthernetFrames() throws IOException {
        assertEquals(8, frames.size());
        for (PcapReader.Frame f : frames) {
            assertEquals(PcapReader.LINKTYPE_ETHERNET, f.linkType());
            assertEquals(FRAME_LEN, f.data().length);
            assertEquals(FRAME_LEN, f.originalLength());
        }
        // The same capture converted by editcap to classic libpcap reads to the same frames.
        List<PcapReader.Frame> classic = PcapReader.read(resource(CAPTURE_CLASSIC));
        assertEquals(frames.size(), classic.size());
        for (int i = 0; i < frames.size(); i++) {
            assertEquals(frames.get(i).linkType(), classic.get(i).linkType());
            assertArrayEquals(frames.get(i).data(), classic.get(i).data(), "frame " + (i + 1));
        }
    }

    @Test
    void everyFrameParsesToWhatTsharkShows() {
        EthernetHeader outerEth = new EthernetHeader();
        Ipv4Header outerIp = new Ipv4Header();
        UdpHeader udp = new UdpHeader();
        VxlanHeader vxlan = new VxlanHeader();
        EthernetHeader innerEth = new EthernetHeader();
        Ipv4Header innerIp = new Ipv4Header();
        Icmpv4Header icmp = new Icmpv4Header();
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < frames.size(); i++) {
                String frame = "frame " + (i + 1);
                boolean request = i % 2 == 0;
                int seq = i / 2 + 1;
                // Off heap and at an odd offset, the way a packet buffer with headroom holds it.
                MemorySegment s = Bytes.offHeap(arena, frames.get(i).data(), 7, 0);
                int length = FRAME_LEN;

                // The decapsulation path, one validated header at a time.
                outerEth.wrap(s, 7);
                assertEquals(EthernetHeader.VALID, outerEth.validate(length), frame);
                assertEquals(new EthernetRepr(request ? NODE2_MAC : NODE1_MAC, request ? NODE1_MAC : NODE2_MAC,
                        EthernetHeader.ETHERTYPE_IPV4), EthernetRepr.parse(outerEth), frame);

                outerIp.wrap(s, outerEth.payloadOffset());
                assertEquals(Ipv4Header.VALID, outerIp.validate(length - EthernetHeader.HEADER_LEN), frame);
                assertEquals(new Ipv4Repr(0, 0, OUTER_IDS[i], false, false, 0, 64, Ipv4Header.PROTO_UDP,
                        request ? NODE1 : NODE2, request ? NODE2 : NODE1, null, 114), Ipv4Repr.parse(outerIp), frame);
                assertEquals(OUTER_IP_CHECKSUMS[i], outerIp.checksum(), frame);
                assertTrue(outerIp.verifyChecksum(), frame);
                assertFalse(outerIp.isFragment(), frame);

                udp.wrap(s, outerIp.payloadOffset());
                assertEquals(UdpHeader.VALID, udp.validate(outerIp.payloadLength()), frame);
                assertEquals(new UdpRepr(UDP_SRC_PORT, VxlanHeader.PORT_LINUX, 106), UdpRepr.parse(udp), frame);
                assertEquals(UDP_CHECKSUM, udp.checksum(), frame + ": the kernel sent a real UDP checksum");
                assertTrue(udp.verifyChecksum(outerIp.srcAddr(), outerIp.dstAddr()), frame);
                assertEquals(UDP_CHECKSUM, udp.computeChecksum(outerIp.srcAddr(), outerIp.dstAddr()), frame);

                vxlan.wrap(s, udp.payloadOffset());
                assertEquals(VxlanHeader.VALID, vxlan.validate(udp.payloadLength()), frame);
                assertEquals(VxlanHeader.FLAG_I, vxlan.flags(), frame);
                assertFalse(vxlan.hasReservedBits(), frame);
                assertEquals(new VxlanRepr(1), VxlanRepr.parse(vxlan), frame);

                int innerLength = udp.payloadLength() - VxlanHeader.HEADER_LEN;
                innerEth.wrap(s, vxlan.payloadOffset());
                assertEquals(EthernetHeader.VALID, innerEth.validate(innerLength), frame);
                assertEquals(new EthernetRepr(request ? VTEP2_MAC : VTEP1_MAC, request ? VTEP1_MAC : VTEP2_MAC,
                        EthernetHeader.ETHERTYPE_IPV4), EthernetRepr.parse(innerEth), frame);

                innerIp.wrap(s, innerEth.payloadOffset());
                assertEquals(Ipv4Header.VALID, innerIp.validate(innerLength - EthernetHeader.HEADER_LEN), frame);
                // ping sets DF on its requests; the kernel's echo replies do not.
                assertEquals(new Ipv4Repr(0, 0, INNER_IDS[i], request, false, 0, 64, Ipv4Header.PROTO_ICMP,
                        request ? POD1 : POD2, request ? POD2 : POD1, null, 64), Ipv4Repr.parse(innerIp), frame);
                assertTrue(innerIp.verifyChecksum(), frame);

                icmp.wrap(s, innerIp.payloadOffset());
                assertEquals(Icmpv4Header.VALID, icmp.validate(innerIp.payloadLength()), frame);
                assertEquals(request ? Icmpv4Repr.echoRequest(ICMP_ID, seq) : Icmpv4Repr.echoReply(ICMP_ID, seq),
                        Icmpv4Repr.parse(icmp), frame);
                assertEquals(ICMP_CHECKSUMS[i], icmp.checksum(), frame);
                assertTrue(icmp.verifyChecksum(innerIp.payloadLength()), frame);
                assertEquals(7 + ICMP_DATA, icmp.payloadOffset(), frame);
            }
        }
    }

    @Test
    void repliesEchoTheirRequestsData() {
        for (int i = 0; i < frames.size(); i += 2) {
            byte[] request = frames.get(i).data();
            byte[] reply = frames.get(i + 1).data();
            for (int at = ICMP_DATA; at < FRAME_LEN; at++) assertEquals(request[at], reply[at], "frame " + (i + 2) + " byte " + at);
        }
    }

    @Test
    void everyFrameBuiltFromReprsIsByteIdentical() {
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < frames.size(); i++) {
                byte[] captured = frames.get(i).data();
                boolean request = i % 2 == 0;
                int seq = i / 2 + 1;
                MemorySegment s = arena.allocate(FRAME_LEN);
                s.fill((byte) 0xa5); // every header byte must be written by an emit
                // The echo data is payload, not header: it is copied, then everything else is emitted
                // inside out, since each checksum covers what is inside it.
                MemorySegment.copy(captured, ICMP_DATA, s, ValueLayout.JAVA_BYTE, ICMP_DATA, FRAME_LEN - ICMP_DATA);

                (request ? Icmpv4Repr.echoRequest(ICMP_ID, seq) : Icmpv4Repr.echoReply(ICMP_ID, seq))
                        .emit(new Icmpv4Header().wrap(s, ICMP), FRAME_LEN - ICMP);
                new Ipv4Repr(0, 0, INNER_IDS[i], request, false, 0, 64, Ipv4Header.PROTO_ICMP,
                        request ? POD1 : POD2, request ? POD2 : POD1, null, FRAME_LEN - ICMP).emit(new Ipv4Header().wrap(s, INNER_IP));
                new EthernetRepr(request ? VTEP2_MAC : VTEP1_MAC, request ? VTEP1_MAC : VTEP2_MAC, EthernetHeader.ETHERTYPE_IPV4)
                        .emit(new EthernetHeader().wrap(s, INNER_ETH));
                new VxlanRepr(1).emit(new VxlanHeader().wrap(s, VXLAN));
                int outerSrc = request ? NODE1 : NODE2;
                int outerDst = request ? NODE2 : NODE1;
                new UdpRepr(UDP_SRC_PORT, VxlanHeader.PORT_LINUX, FRAME_LEN - VXLAN).emit(new UdpHeader().wrap(s, UDP), outerSrc, outerDst);
                new Ipv4Repr(0, 0, OUTER_IDS[i], false, false, 0, 64, Ipv4Header.PROTO_UDP, outerSrc, outerDst, null,
                        FRAME_LEN - UDP).emit(new Ipv4Header().wrap(s, OUTER_IP));
                new EthernetRepr(request ? NODE2_MAC : NODE1_MAC, request ? NODE1_MAC : NODE2_MAC, EthernetHeader.ETHERTYPE_IPV4)
                        .emit(new EthernetHeader().wrap(s, 0));

                assertArrayEquals(captured, s.toArray(ValueLayout.JAVA_BYTE), "frame " + (i + 1));
            }
        }
    }

    @Test
    void parsedReprsEmitTheSameFrame() {
        // Round trip without the expectations above: parse every header, emit into fresh memory.
        for (int i = 0; i < frames.size(); i++) {
            byte[] captured = frames.get(i).data();
            MemorySegment in = MemorySegment.ofArray(captured);
            MemorySegment out = MemorySegment.ofArray(new byte[FRAME_LEN]);
            MemorySegment.copy(in, ICMP_DATA, out, ICMP_DATA, FRAME_LEN - ICMP_DATA);
            Ipv4Header outerIp = new Ipv4Header().wrap(in, OUTER_IP);
            Icmpv4Repr.parse(new Icmpv4Header().wrap(in, ICMP)).emit(new Icmpv4Header().wrap(out, ICMP), FRAME_LEN - ICMP);
            Ipv4Repr.parse(new Ipv4Header().wrap(in, INNER_IP)).emit(new Ipv4Header().wrap(out, INNER_IP));
            EthernetRepr.parse(new EthernetHeader().wrap(in, INNER_ETH)).emit(new EthernetHeader().wrap(out, INNER_ETH));
            VxlanRepr.parse(new VxlanHeader().wrap(in, VXLAN)).emit(new VxlanHeader().wrap(out, VXLAN));
            UdpRepr.parse(new UdpHeader().wrap(in, UDP)).emit(new UdpHeader().wrap(out, UDP), outerIp.srcAddr(), outerIp.dstAddr());
            Ipv4Repr.parse(outerIp).emit(new Ipv4Header().wrap(out, OUTER_IP));
            EthernetRepr.parse(new EthernetHeader().wrap(in, 0)).emit(new EthernetHeader().wrap(out, 0));
            assertArrayEquals(captured, out.toArray(ValueLayout.JAVA_BYTE), "frame " + (i + 1));
        }
    }

    @Test
    void everyTruncationOfEveryFrameIsCaughtByTheValidationChain() {
        // Cut each frame at every length: walking the headers with validate must stop with a drop
        // reason somewhere, never throw, and never accept a frame that lost bytes it describes.
        EthernetHeader eth = new EthernetHeader();
        Ipv4Header ip = new Ipv4Header();
        UdpHeader udp = new UdpHeader();
        VxlanHeader vxlan = new VxlanHeader();
        for (PcapReader.Frame f : frames) {
            for (int cut = 0; cut < FRAME_LEN; cut++) {
                MemorySegment s = MemorySegment.ofArray(java.util.Arrays.copyOf(f.data(), cut));
                boolean accepted = eth.wrap(s, 0).validate(cut) == EthernetHeader.VALID
                        && ip.wrap(s, OUTER_IP).validate(cut - OUTER_IP) == Ipv4Header.VALID
                        && udp.wrap(s, UDP).validate(ip.payloadLength()) == UdpHeader.VALID
                        && vxlan.wrap(s, VXLAN).validate(udp.payloadLength()) == VxlanHeader.VALID;
                assertFalse(accepted, "accepted a frame cut to " + cut + " bytes");
            }
        }
    }
}
