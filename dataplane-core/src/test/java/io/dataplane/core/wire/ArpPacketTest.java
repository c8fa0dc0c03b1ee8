package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ArpPacketTest {
    static final MacAddress VTEP1 = MacAddress.parse("66:b9:ad:e8:c0:88");
    static final MacAddress VTEP2 = MacAddress.parse("42:ce:43:ce:47:4b");
    static final int ADDR1 = Ipv4Address.parse("10.244.1.0");
    static final int ADDR2 = Ipv4Address.parse("10.244.2.0");

    /** "Who has 10.244.2.0? Tell 10.244.1.0", from VTEP 66:b9:ad:e8:c0:88 (a flannel.1 asking for its peer). */
    static final byte[] GOLDEN = Bytes.of(
            0x00, 0x01,                          // hardware type Ethernet
            0x08, 0x00,                          // protocol type IPv4
            0x06,                                // hardware address length 6
            0x04,                                // protocol address length 4
            0x00, 0x01,                          // operation request
            0x66, 0xb9, 0xad, 0xe8, 0xc0, 0x88,  // sender MAC 66:b9:ad:e8:c0:88
            0x0a, 0xf4, 0x01, 0x00,              // sender IP 10.244.1.0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // target MAC unknown
            0x0a, 0xf4, 0x02, 0x00);             // target IP 10.244.2.0
    static final ArpRepr GOLDEN_REPR = ArpRepr.request(VTEP1, ADDR1, ADDR2);

    /** The answer: "10.244.2.0 is at 42:ce:43:ce:47:4b". */
    static final byte[] GOLDEN_REPLY = Bytes.of(
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04,  // Ethernet, IPv4, 6, 4
            0x00, 0x02,                          // operation reply
            0x42, 0xce, 0x43, 0xce, 0x47, 0x4b,  // sender MAC 42:ce:43:ce:47:4b
            0x0a, 0xf4, 0x02, 0x00,              // sender IP 10.244.2.0
            0x66, 0xb9, 0xad, 0xe8, 0xc0, 0x88,  // target MAC 66:b9:ad:e8:c0:88
            0x0a, 0xf4, 0x01, 0x00);             // target IP 10.244.1.0

    @Test
    void deconstruct() {
        ArpPacket arp = new ArpPacket().wrap(MemorySegment.ofArray(GOLDEN), 0);
        assertEquals(ArpPacket.VALID, arp.validate(28));
        assertEquals(1, arp.hardwareType());
        assertEquals(0x0800, arp.protocolType());
        assertEquals(6, arp.hardwareLength());
        assertEquals(4, arp.protocolLength());
        assertEquals(ArpPacket.OP_REQUEST, arp.operation());
        assertEquals(VTEP1.value(), arp.senderMac());
        assertEquals(ADDR1, arp.senderAddr());
        assertEquals(0, arp.targetMac());
        assertEquals(ADDR2, arp.targetAddr());
    }

    @Test
    void construct() {
        MemorySegment s = MemorySegment.ofArray(new byte[28]);
        new ArpPacket().wrap(s, 0).setHardwareType(1).setProtocolType(0x0800).setLengths(6, 4).setOperation(1)
                .setSenderMac(VTEP1.value()).setSenderAddr(ADDR1).setTargetMac(0).setTargetAddr(ADDR2);
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void parse() {
        assertEquals(GOLDEN_REPR, ArpRepr.parse(new ArpPacket().wrap(MemorySegment.ofArray(GOLDEN), 0)));
    }

    @Test
    void emit() {
        MemorySegment s = MemorySegment.ofArray(new byte[28]);
        s.fill((byte) 0xee);
        GOLDEN_REPR.emit(new ArpPacket().wrap(s, 0));
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void replyFromAnswersTheRequest() {
        ArpRepr reply = GOLDEN_REPR.replyFrom(VTEP2);
        assertEquals(new ArpRepr(ArpPacket.OP_REPLY, VTEP2, ADDR2, VTEP1, ADDR1), reply);
        MemorySegment s = MemorySegment.ofArray(new byte[28]);
        reply.emit(new ArpPacket().wrap(s, 0));
        assertArrayEquals(GOLDEN_REPLY, s.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(reply, ArpRepr.parse(new ArpPacket().wrap(MemorySegment.ofArray(GOLDEN_REPLY), 0)));
    }

    @Test
    void truncated() {
        for (int n = 0; n < 28; n++) {
            ArpPacket arp = new ArpPacket().wrap(MemorySegment.ofArray(Arrays.copyOf(GOLDEN, n)), 0);
            assertEquals(DropReason.TRUNCATED.ordinal(), arp.validate(n), "length " + n);
            assertEquals(DropReason.TRUNCATED.ordinal(), arp.validate(28), "segment of " + n);
        }
        assertEquals(DropReason.TRUNCATED.ordinal(), new ArpPacket().wrap(MemorySegment.ofArray(GOLDEN), 0).validate(27));
    }

    @Test
    void otherHardwareOrProtocolIsUnsupported() {
        int[][] changes = {{0, 0x00, 1, 0x06}, {2, 0x86, 3, 0xdd}, {4, 0x08, 5, 0x04}, {4, 0x06, 5, 0x10}, {1, 0x00, 1, 0x00}};
        for (int[] c : changes) {
            byte[] bytes = Arrays.copyOf(GOLDEN, 28);
            bytes[c[0]] = (byte) c[1];
            bytes[c[2]] = (byte) c[3];
            assertEquals(DropReason.ARP_UNSUPPORTED.ordinal(), new ArpPacket().wrap(MemorySegment.ofArray(bytes), 0).validate(28),
                    Arrays.toString(c));
        }
        // The operation is the caller's business.
        byte[] bytes = Arrays.copyOf(GOLDEN, 28);
        bytes[7] = 9;
        assertEquals(ArpPacket.VALID, new ArpPacket().wrap(MemorySegment.ofArray(bytes), 0).validate(28));
    }

    @Test
    void reprRejectsBadFields() {
        assertEquals("ARP operation out of range: operation=65536 (0-65535)",
                assertThrows(IllegalArgumentException.class, () -> new ArpRepr(65536, VTEP1, 0, VTEP2, 0)).getMessage());
        assertEquals("ARP targetMac missing: null",
                assertThrows(IllegalArgumentException.class, () -> new ArpRepr(1, VTEP1, 0, null, 0)).getMessage());
    }
}
