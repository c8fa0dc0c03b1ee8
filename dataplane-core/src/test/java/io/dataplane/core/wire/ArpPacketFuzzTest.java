package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;

/**
 * Any bytes, offset and available length (see {@link FuzzedPacket}): {@link ArpPacket#validate}
 * accepts exactly 28 or more bytes of IPv4-over-Ethernet ARP and never throws; on a valid packet
 * {@link ArpRepr#parse} stays in bounds, emit then parse round-trips, and a reply swaps the ends.
 */
class ArpPacketFuzzTest {

    @FuzzTest
    void validateAndParse(FuzzedDataProvider data) {
        try (Arena arena = Arena.ofConfined()) {
            FuzzedPacket p = FuzzedPacket.from(data, arena);
            ArpPacket packet = new ArpPacket().wrap(p.segment(), p.offset());
            int verdict = packet.validate(p.available());
            int expected = p.limit() < ArpPacket.HEADER_LEN ? DropReason.TRUNCATED.ordinal()
                    : p.u16(0) == 1 && p.u16(2) == 0x0800 && p.u8(4) == 6 && p.u8(5) == 4 ? ArpPacket.VALID
                    : DropReason.ARP_UNSUPPORTED.ordinal();
            assertEquals(expected, verdict, "validate(" + p.available() + ")");
            if (verdict != ArpPacket.VALID) return;

            ArpRepr repr = ArpRepr.parse(packet);
            assertEquals(p.u16(6), repr.operation());
            packet.toString();

            ArpPacket emitted = new ArpPacket().wrap(arena.allocate(ArpPacket.HEADER_LEN), 0);
            repr.emit(emitted);
            assertEquals(ArpPacket.VALID, emitted.validate(ArpPacket.HEADER_LEN));
            assertEquals(repr, ArpRepr.parse(emitted));
            ArpRepr reply = repr.replyFrom(MacAddress.BROADCAST);
            assertEquals(repr.senderAddr(), reply.targetAddr());
            assertEquals(repr.senderMac(), reply.targetMac());
        }
    }
}
