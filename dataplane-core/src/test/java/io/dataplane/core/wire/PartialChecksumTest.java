package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.testing.KernelPartialPackets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link PartialChecksum} against the inner packets of {@link KernelPartialPackets}, captured on a
 * veth behind the kernel's VXLAN device: each as the kernel sent it (partial), completed (as
 * tshark computes it), and wrong.
 */
class PartialChecksumTest {
    private static final byte[] TCP_PARTIAL = KernelPartialPackets.tcpSyn();
    private static final int TCP_FIELD = KernelPartialPackets.TCP_FIELD;
    private static final int TCP_COMPLETE = KernelPartialPackets.TCP_COMPLETE;
    private static final byte[] UDP_PARTIAL = KernelPartialPackets.udpHello();
    private static final int UDP_FIELD = KernelPartialPackets.UDP_FIELD;
    private static final int UDP_COMPLETE = KernelPartialPackets.UDP_COMPLETE;

    private static byte[] withField(byte[] packet, int field, int value) {
        return KernelPartialPackets.withField(packet, field, value);
    }

    private static int field(byte[] packet) {
        try (Arena arena = Arena.ofConfined()) {
            return PartialChecksum.field(Bytes.offHeap(arena, packet, 7, 3), 7, packet.length);
        }
    }

    private static byte[] completed(byte[] packet, int field) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = Bytes.offHeap(arena, packet, 7, 3);
            PartialChecksum.complete(s, 7, field);
            return s.asSlice(7, packet.length).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void theCapturedPartialTcpChecksumIsThePseudoHeaderSum() {
        int pseudo = InternetChecksum.pseudoHeaderSum(Ipv4Address.parse("10.244.1.0"), Ipv4Address.parse("10.244.2.1"), 6, 40);
        assertEquals(KernelPartialPackets.TCP_PARTIAL, pseudo);
        assertEquals(TCP_FIELD, field(TCP_PARTIAL));
        assertArrayEquals(withField(TCP_PARTIAL, TCP_FIELD, TCP_COMPLETE), completed(TCP_PARTIAL, TCP_FIELD));
    }

    @Test
    void theCapturedPartialUdpChecksumIsThePseudoHeaderSum() {
        assertEquals(UDP_FIELD, field(UDP_PARTIAL));
        assertArrayEquals(withField(UDP_PARTIAL, UDP_FIELD, UDP_COMPLETE), completed(UDP_PARTIAL, UDP_FIELD));
    }

    @Test
    void aCompleteChecksumIsNotPartial() {
        assertEquals(-1, field(withField(TCP_PARTIAL, TCP_FIELD, TCP_COMPLETE)));
        assertEquals(-1, field(withField(UDP_PARTIAL, UDP_FIELD, UDP_COMPLETE)));
    }

    @Test
    void aWrongChecksumIsNotPartialAndStaysWrong() {
        assertEquals(-1, field(withField(TCP_PARTIAL, TCP_FIELD, TCP_COMPLETE + 1)));
        assertEquals(-1, field(withField(TCP_PARTIAL, TCP_FIELD, 0x1918)), "one off the pseudo-header sum");
        assertEquals(-1, field(withField(UDP_PARTIAL, UDP_FIELD, 0x1907)));
        byte[] payloadChanged = TCP_PARTIAL.clone();
        payloadChanged[59] ^= 1; // still partial: the sum covers no payload, so nobody can tell, as the kernel cannot
        assertEquals(TCP_FIELD, field(payloadChanged));
    }

    @Test
    void udpWithoutAChecksumIsNotPartial() {
        assertEquals(-1, field(withField(UDP_PARTIAL, UDP_FIELD, 0)));
    }

    @Test
    void theSumCoversTheIpv4TotalLengthNotTheBuffer() {
        byte[] padded = java.util.Arrays.copyOf(TCP_PARTIAL, TCP_PARTIAL.length + 6); // Ethernet padding after the packet
        assertEquals(TCP_FIELD, field(padded));
        byte[] done = completed(padded, TCP_FIELD);
        assertEquals(TCP_COMPLETE, ((done[TCP_FIELD] & 0xff) << 8) | (done[TCP_FIELD + 1] & 0xff));
    }

    @Test
    void fragmentsOtherProtocolsAndImpossibleHeadersAreNotPartial() {
        byte[] mf = TCP_PARTIAL.clone();
        mf[6] |= 0x20;
        assertEquals(-1, field(mf), "MF");
        byte[] later = TCP_PARTIAL.clone();
        later[7] = 1;
        assertEquals(-1, field(later), "fragment offset");
        byte[] icmp = TCP_PARTIAL.clone();
        icmp[9] = 1;
        assertEquals(-1, field(icmp), "ICMP");
        byte[] v6 = TCP_PARTIAL.clone();
        v6[0] = 0x65;
        assertEquals(-1, field(v6), "version 6");
        byte[] ihl4 = TCP_PARTIAL.clone();
        ihl4[0] = 0x44;
        assertEquals(-1, field(ihl4), "IHL 4");
        byte[] longer = TCP_PARTIAL.clone();
        longer[3] = 0x3d;
        assertEquals(-1, field(longer), "total length beyond the buffer");
        byte[] noTcpHeader = TCP_PARTIAL.clone();
        noTcpHeader[3] = 39;
        assertEquals(-1, field(noTcpHeader), "total length short of a TCP header");
        for (int len = 0; len < TCP_PARTIAL.length; len++) {
            assertEquals(-1, field(java.util.Arrays.copyOf(TCP_PARTIAL, len)), "truncated to " + len);
        }
    }

    @Test
    void completingAgreesWithTheReferenceLoopForEveryLength() {
        java.util.Random random = new java.util.Random(11);
        for (int payload = 0; payload < 300; payload++) {
            byte[] p = new byte[28 + payload];
            random.nextBytes(p);
            p[0] = 0x45;
            p[2] = (byte) (p.length >>> 8);
            p[3] = (byte) p.length;
            p[6] = 0;
            p[7] = 0;
            p[9] = 17;
            int src = ((p[12] & 0xff) << 24) | ((p[13] & 0xff) << 16) | ((p[14] & 0xff) << 8) | (p[15] & 0xff);
            int dst = ((p[16] & 0xff) << 24) | ((p[17] & 0xff) << 16) | ((p[18] & 0xff) << 8) | (p[19] & 0xff);
            int pseudo = InternetChecksum.pseudoHeaderSum(src, dst, 17, p.length - 20);
            byte[] partial = withField(p, UDP_FIELD, pseudo);
            assertEquals(UDP_FIELD, field(partial), "payload " + payload);
            byte[] done = completed(partial, UDP_FIELD);
            // RFC 1071 loop: pseudo-header and datagram sum to 0xffff with the completed checksum in place.
            long sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + (p.length - 20);
            for (int i = 20; i < done.length; i += 2) {
                sum += ((done[i] & 0xff) << 8) | (i + 1 < done.length ? done[i + 1] & 0xff : 0);
            }
            while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
            assertEquals(0xffff, sum, "payload " + payload);
        }
    }
}
