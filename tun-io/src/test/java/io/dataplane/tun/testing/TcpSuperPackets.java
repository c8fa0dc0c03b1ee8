package io.dataplane.tun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.wire.TcpSegments;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** TCP super-packets as a TUN with TSO hands them over, and the segments a sender must make of them, for the socket tests. */
public final class TcpSuperPackets {
    private TcpSuperPackets() {}

    /** An IPv4/TCP packet 10.244.1.5:40000 -> 10.244.2.7:5201 of {@code total} bytes, timestamps option, flags ACK|PSH|FIN. */
    public static byte[] tcpPacket(int total, int seq, int seed) {
        byte[] b = new byte[total];
        b[0] = 0x45;
        b[2] = (byte) (total >>> 8);
        b[3] = (byte) total;
        b[4] = (byte) seed;
        b[6] = 0x40; // DF
        b[8] = 64;
        b[9] = 6;
        byte[] addresses = {10, (byte) 244, 1, 5, 10, (byte) 244, 2, 7};
        System.arraycopy(addresses, 0, b, 12, 8);
        byte[] tcp = {(byte) 0x9c, 0x40, 0x14, 0x51, (byte) (seq >>> 24), (byte) (seq >>> 16), (byte) (seq >>> 8), (byte) seq,
                0, 0, 0, 1, (byte) 0x80, 0x19, 0x01, (byte) 0xf5, 0, 0, 0, 0,
                1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
        System.arraycopy(tcp, 0, b, 20, tcp.length);
        for (int i = 52; i < total; i++) b[i] = (byte) (i * 7 + (i >>> 9) + seed);
        return b;
    }

    /** The datagrams a sender makes of super-packet {@code p} ({@link PacketBuffer#gsoPrefix()} set): each segment with the prefix. */
    public static List<byte[]> segmentsOf(PacketBuffer p) {
        TcpSegments segments = new TcpSegments();
        assertEquals(TcpSegments.VALID, segments.prepare(p, p.gsoPrefix()), "test super-packet rejected");
        List<byte[]> out = new ArrayList<>();
        int h = segments.headerLength();
        for (int i = 0; i < segments.segments(); i++) {
            int len = segments.payloadLength(i);
            byte[] d = new byte[h + len];
            segments.writeHeader(i, MemorySegment.ofArray(d), 0);
            MemorySegment.copy(p.segment(), ValueLayout.JAVA_BYTE, segments.payloadOffset(i), d, h, len);
            out.add(d);
        }
        return out;
    }
}
