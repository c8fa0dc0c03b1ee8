package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.DropReason;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Any bytes as a TUN super-packet (what a pod's TCP stack hands the TUN with TSO: untrusted), any
 * segment size and prefix: {@link TcpSegments#prepare} says VALID exactly when the bytes are a
 * TCP-over-IPv4 super-packet it documents it can cut (recomputed here from the bytes), else
 * BAD_SUPER_PACKET, and never throws. When VALID, every segment's headers are written into a
 * segment exactly {@link TcpSegments#headerLength()} long (a write past it throws), its IPv4 header
 * validates with a good checksum and the segment's total length, its TCP checksum verifies by the
 * RFC 1071 loop, sequence numbers advance by the segment size, and the payload slices put back
 * together are the super-packet's payload.
 */
class TcpSegmentsFuzzTest {
    private static final int MAX_BYTES = 8192 - 128;
    private static final PacketPool POOL = new PacketPool(1, 8192, 128);
    private static final TcpSegments SEGMENTS = new TcpSegments();

    @FuzzTest
    void prepareAndCut(FuzzedDataProvider data) {
        int gso = data.consumeInt(-1, 2000);
        int prefix = data.consumeInt(-1, 30);
        byte[] bytes = data.consumeBytes(MAX_BYTES);
        PacketBuffer p = POOL.acquire();
        try {
            p.put(bytes).setGsoSize(Math.max(gso, 0));
            int verdict = SEGMENTS.prepare(p, prefix);
            assertEquals(expected(bytes, gso, prefix), verdict == TcpSegments.VALID, "verdict " + verdict);
            if (verdict != TcpSegments.VALID) {
                assertEquals(DropReason.BAD_SUPER_PACKET.ordinal(), verdict);
                return;
            }
            checkSegments(bytes, gso, prefix);
        } finally {
            p.release();
        }
    }

    /** What prepare's Javadoc promises, from the bytes. */
    private static boolean expected(byte[] b, int gso, int prefix) {
        if (gso <= 0 || prefix < 0 || prefix > TcpSegments.MAX_PREFIX || b.length < prefix) return false;
        int n = b.length - prefix;
        if (n < 20 || (u8(b, prefix) >>> 4) != 4) return false;
        int ihl = (u8(b, prefix) & 0xf) * 4;
        int total = u16(b, prefix + 2);
        if (ihl < 20 || ihl > n || total != n || total < ihl) return false;
        boolean fragment = (u16(b, prefix + 6) & 0x3fff) != 0;
        if (u8(b, prefix + 9) != Ipv4Header.PROTO_TCP || fragment) return false;
        int l4 = total - ihl;
        if (l4 < 20) return false;
        int thl = (u8(b, prefix + ihl + 12) >>> 4) * 4;
        return thl >= 20 && thl <= l4 && l4 - thl > 0;
    }

    private static void checkSegments(byte[] b, int mss, int prefix) {
        int ihl = (u8(b, prefix) & 0xf) * 4;
        int thl = (u8(b, prefix + ihl + 12) >>> 4) * 4;
        int hl = prefix + ihl + thl;
        assertEquals(hl, SEGMENTS.headerLength());
        byte[] payload = Arrays.copyOfRange(b, hl, b.length);
        assertEquals((payload.length + mss - 1) / mss, SEGMENTS.segments());
        int seq = u32(b, prefix + ihl + 4);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < SEGMENTS.segments(); i++) {
                int len = SEGMENTS.payloadLength(i);
                assertTrue(len > 0 && len <= mss, "segment " + i + " of " + len + " bytes");
                MemorySegment header = arena.allocate(hl);
                SEGMENTS.writeHeader(i, header, 0);
                byte[] h = header.toArray(ValueLayout.JAVA_BYTE);
                byte[] slice = Arrays.copyOfRange(payload, i * mss, i * mss + len);
                assertArrayEquals(Arrays.copyOfRange(b, 0, prefix), Arrays.copyOfRange(h, 0, prefix), "the prefix as it was");
                MemorySegment whole = arena.allocate(hl + len);
                MemorySegment.copy(h, 0, whole, ValueLayout.JAVA_BYTE, 0, hl);
                MemorySegment.copy(slice, 0, whole, ValueLayout.JAVA_BYTE, hl, len);
                Ipv4Header ip = new Ipv4Header().wrap(whole, prefix);
                assertEquals(Ipv4Header.VALID, ip.validate(ihl + thl + len), "segment " + i + "'s IPv4 header");
                assertEquals(ihl + thl + len, ip.totalLength());
                assertTrue(ip.verifyChecksum(), "segment " + i + "'s IPv4 checksum");
                assertEquals(seq + i * mss, u32(h, prefix + ihl + 4), "segment " + i + "'s sequence number");
                byte[] tcp = new byte[thl + len];
                System.arraycopy(h, prefix + ihl, tcp, 0, thl);
                System.arraycopy(slice, 0, tcp, thl, len);
                assertEquals(0, rfc1071(u32(h, prefix + 12), u32(h, prefix + 16), tcp),
                        "segment " + i + "'s TCP checksum");
                joined.writeBytes(slice);
                long at = SEGMENTS.payloadOffset(i) - SEGMENTS.payloadOffset(0);
                assertEquals((long) i * mss, at, "segment " + i + "'s payload offset");
            }
        }
        assertArrayEquals(payload, joined.toByteArray(), "the slices make the payload");
    }

    /** The one's complement sum of the pseudo-header and {@code tcp}, folded and complemented: 0 when the checksum in it is right. */
    private static int rfc1071(int src, int dst, byte[] tcp) {
        long sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + Ipv4Header.PROTO_TCP + tcp.length;
        for (int i = 0; i < tcp.length; i += 2) sum += (u8(tcp, i) << 8) | (i + 1 < tcp.length ? u8(tcp, i + 1) : 0);
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) (~sum & 0xffff);
    }

    private static int u8(byte[] b, int i) {
        return b[i] & 0xff;
    }

    private static int u16(byte[] b, int i) {
        return u8(b, i) << 8 | u8(b, i + 1);
    }

    private static int u32(byte[] b, int i) {
        return u16(b, i) << 16 | u16(b, i + 2);
    }
}
