package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Any bytes at any offset of an off-heap segment that ends exactly where they do, and any
 * {@code available} length (negative, short, beyond the segment): {@link Ipv4Header#validate}
 * returns what its Javadoc says and never throws; on a valid header every accessor,
 * {@link Ipv4Repr#parse}, the checksum methods and {@link Ipv4Header#decrementTtl} stay in bounds
 * and keep their documented promises. An out-of-bounds read is an exception from the segment, so
 * it fails the test.
 */
class Ipv4HeaderFuzzTest {

    @FuzzTest
    void validateAndParse(FuzzedDataProvider data) {
        try (Arena arena = Arena.ofConfined()) {
            FuzzedPacket p = FuzzedPacket.from(data, arena);
            MemorySegment segment = p.segment();
            Ipv4Header header = new Ipv4Header().wrap(segment, p.offset());
            int verdict = header.validate(p.available());
            assertEquals(expected(p), verdict, "validate(" + p.available() + ")");
            if (verdict != Ipv4Header.VALID) return;

            assertEquals(p.offset() + header.totalLength(), header.payloadOffset() + header.payloadLength());
            assertTrue(header.totalLength() <= p.limit());
            assertEquals(header.headerLength() - Ipv4Header.HEADER_LEN, header.optionsLength());
            header.toString();

            Ipv4Repr repr = Ipv4Repr.parse(header);
            assertEquals(header.totalLength(), repr.totalLength());
            assertArrayEquals(segment.asSlice(header.optionsOffset(), header.optionsLength()).toArray(ValueLayout.JAVA_BYTE), repr.options());
            MemorySegment copy = arena.allocate(repr.headerLength());
            Ipv4Header emitted = new Ipv4Header().wrap(copy, 0);
            repr.emit(emitted);
            assertEquals(repr, Ipv4Repr.parse(emitted), "emit then parse");
            assertTrue(emitted.verifyChecksum(), "emit fills a checksum that verifies");

            boolean verified = header.verifyChecksum();
            int ttl = header.ttl();
            int result = header.decrementTtl();
            if (ttl < 2) {
                assertEquals(DropReason.TTL_EXPIRED.ordinal(), result);
                assertEquals(ttl, header.ttl(), "nothing written");
            } else {
                assertEquals(Ipv4Header.VALID, result);
                assertEquals(ttl - 1, header.ttl());
                assertEquals(verified, header.verifyChecksum(), "RFC 1624 update keeps a good checksum good");
            }
            header.fillChecksum();
            assertTrue(header.verifyChecksum());
        }
    }

    /** validate's documented verdict, computed from the bytes alone. */
    private static int expected(FuzzedPacket p) {
        long limit = p.limit();
        if (limit < Ipv4Header.HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        if (p.u8(0) >>> 4 != 4) return DropReason.NOT_IPV4.ordinal();
        int headerLen = (p.u8(0) & 0x0f) * 4;
        if (headerLen < Ipv4Header.HEADER_LEN || headerLen > limit) return DropReason.BAD_IHL.ordinal();
        int totalLen = p.u16(2);
        if (totalLen < headerLen || totalLen > limit) return DropReason.BAD_TOTAL_LENGTH.ordinal();
        return Ipv4Header.VALID;
    }
}
