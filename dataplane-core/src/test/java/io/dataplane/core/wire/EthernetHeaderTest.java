package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EthernetHeaderTest {
    /** The outer Ethernet header of frame 1 of kernel-vxlan-flannel1-ping.pcap. */
    static final byte[] GOLDEN = Bytes.of(
            0x0e, 0x82, 0x42, 0xbd, 0x43, 0x0b,  // destination 0e:82:42:bd:43:0b
            0xc6, 0x98, 0x8d, 0xe1, 0x25, 0xdb,  // source c6:98:8d:e1:25:db
            0x08, 0x00);                         // EtherType IPv4
    static final EthernetRepr GOLDEN_REPR = new EthernetRepr(MacAddress.parse("0e:82:42:bd:43:0b"),
            MacAddress.parse("c6:98:8d:e1:25:db"), EthernetHeader.ETHERTYPE_IPV4);

    @Test
    void deconstruct() {
        EthernetHeader eth = new EthernetHeader().wrap(MemorySegment.ofArray(GOLDEN), 0);
        assertEquals(EthernetHeader.VALID, eth.validate(14));
        assertEquals(0x0e8242bd430bL, eth.dstMac());
        assertEquals(0xc6988de125dbL, eth.srcMac());
        assertEquals(0x0800, eth.ethertype());
        assertEquals(14, eth.payloadOffset());
    }

    @Test
    void construct() {
        MemorySegment s = MemorySegment.ofArray(new byte[14]);
        new EthernetHeader().wrap(s, 0).setDstMac(0x0e8242bd430bL).setSrcMac(0xc6988de125dbL).setEthertype(0x0800);
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void parse() {
        assertEquals(GOLDEN_REPR, EthernetRepr.parse(new EthernetHeader().wrap(MemorySegment.ofArray(GOLDEN), 0)));
    }

    @Test
    void emit() {
        MemorySegment s = MemorySegment.ofArray(new byte[14]);
        s.fill((byte) 0x77);
        GOLDEN_REPR.emit(new EthernetHeader().wrap(s, 0));
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void truncated() {
        for (int n = 0; n < 14; n++) {
            EthernetHeader eth = new EthernetHeader().wrap(MemorySegment.ofArray(Arrays.copyOf(GOLDEN, n)), 0);
            assertEquals(DropReason.TRUNCATED.ordinal(), eth.validate(n), "length " + n);
            assertEquals(DropReason.TRUNCATED.ordinal(), eth.validate(1500), "segment of " + n + " bytes, available overstated");
        }
        EthernetHeader eth = new EthernetHeader().wrap(MemorySegment.ofArray(GOLDEN), 0);
        assertEquals(DropReason.TRUNCATED.ordinal(), eth.validate(-14));
        assertEquals(DropReason.TRUNCATED.ordinal(), new EthernetHeader().wrap(MemorySegment.ofArray(GOLDEN), 1).validate(14));
        assertEquals(DropReason.TRUNCATED.ordinal(), new EthernetHeader().wrap(MemorySegment.ofArray(GOLDEN), 99).validate(14));
    }

    @Test
    void reprRejectsBadFields() {
        assertEquals("Ethernet ethertype out of range: ethertype=65536 (0-65535)",
                assertThrows(IllegalArgumentException.class, () -> new EthernetRepr(MacAddress.ZERO, MacAddress.ZERO, 0x10000)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new EthernetRepr(null, MacAddress.ZERO, 0x0800));
    }
}
