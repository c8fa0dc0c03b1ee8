package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;

/**
 * Any bytes, offset and available length (see {@link FuzzedPacket}): {@link VxlanHeader#validate}
 * returns its documented verdict (reserved bits dropped, as the Linux kernel does) and never throws; on a
 * valid header {@link VxlanRepr#parse} reads the 24-bit VNI, and emit writes a clean header that
 * parses back the same.
 */
class VxlanHeaderFuzzTest {

    @FuzzTest
    void validateAndParse(FuzzedDataProvider data) {
        try (Arena arena = Arena.ofConfined()) {
            FuzzedPacket p = FuzzedPacket.from(data, arena);
            VxlanHeader header = new VxlanHeader().wrap(p.segment(), p.offset());
            int verdict = header.validate(p.available());
            boolean whole = p.limit() >= VxlanHeader.HEADER_LEN;
            boolean reserved = whole && ((p.u8(0) & ~0x08) != 0 || p.u8(1) != 0 || p.u16(2) != 0 || p.u8(7) != 0);
            int expected = !whole ? DropReason.TRUNCATED.ordinal()
                    : (p.u8(0) & 0x08) == 0 || reserved ? DropReason.VXLAN_BAD_FLAGS.ordinal() : VxlanHeader.VALID;
            assertEquals(expected, verdict, "validate(" + p.available() + ")");
            if (whole) assertEquals(reserved, header.hasReservedBits());
            if (verdict != VxlanHeader.VALID) return;

            VxlanRepr repr = VxlanRepr.parse(header);
            assertEquals(p.u8(4) << 16 | p.u16(5), repr.vni());
            assertEquals(p.offset() + VxlanHeader.HEADER_LEN, header.payloadOffset());
            header.toString();

            VxlanHeader emitted = new VxlanHeader().wrap(arena.allocate(VxlanHeader.HEADER_LEN), 0);
            repr.emit(emitted);
            assertFalse(emitted.hasReservedBits());
            assertEquals(repr, VxlanRepr.parse(emitted));
        }
    }
}
