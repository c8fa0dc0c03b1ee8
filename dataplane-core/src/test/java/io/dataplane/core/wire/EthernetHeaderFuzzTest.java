package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.Arena;

/**
 * Any bytes, offset and available length (see {@link FuzzedPacket}): {@link EthernetHeader#validate}
 * returns its documented verdict and never throws; on a valid header the accessors and
 * {@link EthernetRepr#parse} stay in bounds and read what is there, and emit then parse round-trips.
 */
class EthernetHeaderFuzzTest {

    @FuzzTest
    void validateAndParse(FuzzedDataProvider data) {
        try (Arena arena = Arena.ofConfined()) {
            FuzzedPacket p = FuzzedPacket.from(data, arena);
            EthernetHeader header = new EthernetHeader().wrap(p.segment(), p.offset());
            int verdict = header.validate(p.available());
            assertEquals(p.limit() < EthernetHeader.HEADER_LEN ? DropReason.TRUNCATED.ordinal() : EthernetHeader.VALID, verdict);
            if (verdict != EthernetHeader.VALID) return;

            EthernetRepr repr = EthernetRepr.parse(header);
            assertEquals(mac(p, 0), repr.dstMac().value());
            assertEquals(mac(p, 6), repr.srcMac().value());
            assertEquals(p.u16(12), repr.ethertype());
            assertEquals(p.offset() + EthernetHeader.HEADER_LEN, header.payloadOffset());
            header.toString();

            EthernetHeader emitted = new EthernetHeader().wrap(arena.allocate(EthernetHeader.HEADER_LEN), 0);
            repr.emit(emitted);
            assertEquals(repr, EthernetRepr.parse(emitted));
        }
    }

    private static long mac(FuzzedPacket p, int at) {
        long v = 0;
        for (int i = 0; i < 6; i++) v = v << 8 | p.u8(at + i);
        return v;
    }
}
