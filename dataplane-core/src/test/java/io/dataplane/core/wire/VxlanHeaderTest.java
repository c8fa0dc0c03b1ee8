package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class VxlanHeaderTest {
    /** The VXLAN header of frame 1 of kernel-vxlan-flannel1-ping.pcap (the kernel's flannel.1). */
    static final byte[] GOLDEN = Bytes.of(
            0x08,             // flags: I (VNI valid)
            0x00, 0x00, 0x00, // reserved
            0x00, 0x00, 0x01, // VNI 1
            0x00);            // reserved
    static final VxlanRepr GOLDEN_REPR = new VxlanRepr(1);

    @Test
    void deconstruct() {
        VxlanHeader vx = new VxlanHeader().wrap(MemorySegment.ofArray(GOLDEN), 0);
        assertEquals(VxlanHeader.VALID, vx.validate(8));
        assertEquals(0x08, vx.flags());
        assertEquals(1, vx.vni());
        assertEquals(0, vx.reserved1());
        assertEquals(0, vx.reserved2());
        assertFalse(vx.hasReservedBits());
        assertEquals(8, vx.payloadOffset());
    }

    @Test
    void construct() {
        MemorySegment s = MemorySegment.ofArray(new byte[8]);
        new VxlanHeader().wrap(s, 0).setFlags(VxlanHeader.FLAG_I).setVni(1);
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void parse() {
        assertEquals(GOLDEN_REPR, VxlanRepr.parse(new VxlanHeader().wrap(MemorySegment.ofArray(GOLDEN), 0)));
    }

    @Test
    void emit() {
        MemorySegment s = MemorySegment.ofArray(new byte[8]);
        s.fill((byte) 0xff); // reserved bits must come out zero
        GOLDEN_REPR.emit(new VxlanHeader().wrap(s, 0));
        assertArrayEquals(GOLDEN, s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void largestVniAndReservedBitsStayApart() {
        MemorySegment s = MemorySegment.ofArray(new byte[8]);
        VxlanHeader vx = new VxlanHeader().wrap(s, 0);
        vx.setFlags(0x08).setReserved1(0xabcdef).setReserved2(0x5a).setVni(VxlanHeader.MAX_VNI);
        assertArrayEquals(Bytes.of(0x08, 0xab, 0xcd, 0xef, 0xff, 0xff, 0xff, 0x5a), s.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(0xffffff, vx.vni());
        assertEquals(0xabcdef, vx.reserved1());
        assertEquals(0x5a, vx.reserved2());
        assertTrue(vx.hasReservedBits());
        assertEquals(new VxlanRepr(0xffffff), VxlanRepr.parse(vx));
    }

    /**
     * A header with reserved bits set is an invalid header, as the Linux kernel's vxlan_rcv judges
     * it on a device without extensions (flannel.1), not ignored as RFC 7348 asks.
     */
    @Test
    void reservedBitsAreBadFlagsAsInTheKernel() {
        // A group-policy header (VXLAN-GBP: G flag 0x80, policy ID 0x1234) for VNI 1.
        byte[] gbp = Bytes.of(0x88, 0x00, 0x12, 0x34, 0x00, 0x00, 0x01, 0x00);
        VxlanHeader vx = new VxlanHeader().wrap(MemorySegment.ofArray(gbp), 0);
        assertEquals(1, vx.vni());
        assertTrue(vx.hasReservedBits());
        assertEquals(DropReason.VXLAN_BAD_FLAGS.ordinal(), vx.validate(8));
        // Every bit but I and the VNI, one at a time, on the golden header.
        for (int bit = 0; bit < 64; bit++) {
            byte[] b = GOLDEN.clone();
            b[bit / 8] ^= (byte) (0x80 >>> (bit % 8));
            boolean iFlag = bit == 4;
            boolean vniBit = bit >= 32 && bit < 56;
            VxlanHeader h = new VxlanHeader().wrap(MemorySegment.ofArray(b), 0);
            if (vniBit) {
                assertEquals(VxlanHeader.VALID, h.validate(8), "VNI bit " + bit);
                assertFalse(h.hasReservedBits(), "VNI bit " + bit);
            } else {
                assertEquals(DropReason.VXLAN_BAD_FLAGS.ordinal(), h.validate(8), "bit " + bit);
                assertEquals(!iFlag, h.hasReservedBits(), "bit " + bit);
            }
        }
    }

    @Test
    void missingIFlag() {
        MemorySegment s = MemorySegment.ofArray(Arrays.copyOf(GOLDEN, 8));
        VxlanHeader vx = new VxlanHeader().wrap(s, 0);
        for (int flags : new int[] {0x00, 0x80, 0xf7, 0x01}) {
            vx.setFlags(flags);
            assertEquals(DropReason.VXLAN_BAD_FLAGS.ordinal(), vx.validate(8), "flags 0x" + Integer.toHexString(flags));
        }
    }

    @Test
    void truncated() {
        for (int n = 0; n < 8; n++) {
            VxlanHeader vx = new VxlanHeader().wrap(MemorySegment.ofArray(Arrays.copyOf(GOLDEN, n)), 0);
            assertEquals(DropReason.TRUNCATED.ordinal(), vx.validate(n), "length " + n);
            assertEquals(DropReason.TRUNCATED.ordinal(), vx.validate(8), "segment of " + n);
        }
        assertEquals(DropReason.TRUNCATED.ordinal(), new VxlanHeader().wrap(MemorySegment.ofArray(GOLDEN), 0).validate(Integer.MIN_VALUE));
    }

    @Test
    void vniOutOfRangeIsNamed() {
        assertEquals("VNI out of range: vni=16777216 (max 16777215)",
                assertThrows(IllegalArgumentException.class, () -> new VxlanRepr(16777216)).getMessage());
        assertEquals("VNI out of range: vni=-1 (max 16777215)",
                assertThrows(IllegalArgumentException.class, () -> new VxlanHeader().wrap(MemorySegment.ofArray(new byte[8]), 0).setVni(-1)).getMessage());
    }
}
