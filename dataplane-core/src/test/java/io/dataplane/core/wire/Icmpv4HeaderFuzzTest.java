package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;

/**
 * Any bytes, offset and available length (see {@link FuzzedPacket}): {@link Icmpv4Header#validate}
 * returns its documented verdict and never throws; on a valid message {@link Icmpv4Repr#parse},
 * the checksum over the validated length and, for an error, the quoted IPv4 header's fixed fields
 * stay in bounds; a filled checksum verifies; emit then parse round-trips.
 */
class Icmpv4HeaderFuzzTest {

    @FuzzTest
    void validateAndParse(FuzzedDataProvider data) {
        try (Arena arena = Arena.ofConfined()) {
            FuzzedPacket p = FuzzedPacket.from(data, arena);
            Icmpv4Header header = new Icmpv4Header().wrap(p.segment(), p.offset());
            int verdict = header.validate(p.available());
            assertEquals(expected(p), verdict, "validate(" + p.available() + ")");
            if (verdict != Icmpv4Header.VALID) return;

            Icmpv4Repr repr = Icmpv4Repr.parse(header);
            assertEquals(p.u8(0), repr.type());
            assertEquals(p.u8(1), repr.code());
            header.identifier();
            header.sequence();
            header.nextHopMtu();
            header.toString();
            if (header.isError()) {
                Ipv4Header quoted = header.quotedHeader(new Ipv4Header());
                assertEquals(4, quoted.version());
                assertTrue(quoted.headerLength() >= Ipv4Header.HEADER_LEN);
                quoted.protocol();
                quoted.srcAddr();
                quoted.dstAddr();
                quoted.totalLength();
            }

            int length = (int) p.limit();
            header.verifyChecksum(length);
            header.fillChecksum(length);
            assertTrue(header.verifyChecksum(length), "a filled checksum verifies");

            Icmpv4Header emitted = new Icmpv4Header().wrap(arena.allocate(Icmpv4Header.HEADER_LEN), 0);
            repr.emit(emitted, Icmpv4Header.HEADER_LEN);
            assertEquals(repr, Icmpv4Repr.parse(emitted));
            assertTrue(emitted.verifyChecksum(Icmpv4Header.HEADER_LEN));
        }
    }

    /** validate's documented verdict, computed from the bytes alone. */
    private static int expected(FuzzedPacket p) {
        long limit = p.limit();
        if (limit < Icmpv4Header.HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        int type = p.u8(0);
        boolean error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
        if (!error) return Icmpv4Header.VALID;
        if (limit < Icmpv4Header.HEADER_LEN + Ipv4Header.HEADER_LEN) return DropReason.ICMP_BAD_QUOTE.ordinal();
        int verIhl = p.u8(Icmpv4Header.HEADER_LEN);
        int quotedLen = (verIhl & 0x0f) * 4;
        if (verIhl >>> 4 != 4 || quotedLen < Ipv4Header.HEADER_LEN || Icmpv4Header.HEADER_LEN + quotedLen > limit) {
            return DropReason.ICMP_BAD_QUOTE.ordinal();
        }
        return Icmpv4Header.VALID;
    }
}
