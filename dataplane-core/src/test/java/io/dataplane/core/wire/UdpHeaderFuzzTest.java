package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;

/**
 * Any bytes, offset and available length (see {@link FuzzedPacket}): {@link UdpHeader#validate}
 * returns its documented verdict and never throws; on a valid header the accessors,
 * {@link UdpRepr#parse} and the pseudo-header checksum over the validated length stay in bounds,
 * a filled checksum verifies, and emit then parse round-trips.
 */
class UdpHeaderFuzzTest {

    @FuzzTest
    void validateAndParse(FuzzedDataProvider data) {
        int srcAddr = data.consumeInt();
        int dstAddr = data.consumeInt();
        try (Arena arena = Arena.ofConfined()) {
            FuzzedPacket p = FuzzedPacket.from(data, arena);
            UdpHeader header = new UdpHeader().wrap(p.segment(), p.offset());
            int verdict = header.validate(p.available());
            assertEquals(expected(p), verdict, "validate(" + p.available() + ")");
            if (verdict != UdpHeader.VALID) return;

            UdpRepr repr = UdpRepr.parse(header);
            assertEquals(p.u16(0), repr.srcPort());
            assertEquals(p.u16(2), repr.dstPort());
            assertEquals(header.length(), repr.length());
            assertTrue(header.payloadOffset() + header.payloadLength() <= p.offset() + p.limit());
            header.toString();

            header.verifyChecksum(srcAddr, dstAddr);
            header.fillChecksum(srcAddr, dstAddr);
            assertTrue(header.verifyChecksum(srcAddr, dstAddr), "a filled checksum verifies");
            assertTrue(header.checksum() != 0, "a computed 0 is sent as 0xffff");

            UdpHeader emitted = new UdpHeader().wrap(arena.allocate(UdpHeader.HEADER_LEN), 0);
            repr.emit(emitted);
            assertEquals(repr, UdpRepr.parse(emitted));
        }
    }

    private static int expected(FuzzedPacket p) {
        if (p.limit() < UdpHeader.HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        int length = p.u16(4);
        if (length < UdpHeader.HEADER_LEN || length > p.limit()) return DropReason.BAD_UDP_LENGTH.ordinal();
        return UdpHeader.VALID;
    }
}
