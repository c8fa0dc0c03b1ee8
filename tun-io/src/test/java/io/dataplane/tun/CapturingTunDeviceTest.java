package io.dataplane.tun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fuzz drivers' TUN: what the real writer puts on the descriptor comes back whole and matched to
 * the packets given (single packets, a joined run, a super-packet no header can carry), through
 * io_uring's batches and through plain writes; what the test puts there the real reader reads.
 */
class CapturingTunDeviceTest {
    private static final int SRC = Ipv4Address.parse("10.244.2.7");
    private static final int DST = Ipv4Address.parse("10.244.1.5");
    private static final int MSS = 1000;
    private final PacketPool pool = new PacketPool(48, 65536 + PacketPool.DEFAULT_HEADROOM, PacketPool.DEFAULT_HEADROOM);
    private CapturingTunDevice tun;

    @AfterEach
    void tearDown() {
        if (tun != null) tun.close();
        assertEquals(0, pool.outstanding(), "buffers outstanding");
    }

    private CapturingTunDevice open(boolean ioUring) {
        tun = new CapturingTunDevice("fuzz0", 1500, ioUring);
        Prerequisites.require(tun.ioUring() == ioUring, "the kernel refuses io_uring (kernel.io_uring_disabled, or a seccomp filter)");
        return tun;
    }

    private static byte[] segment(int port, int seq, int flags) {
        return TcpSegment.of(SRC, port, DST, 5201, seq, 1, TcpSegment.timestamps(7, 7), TcpSegment.pattern(seq, MSS)).withFlags(flags).bytes();
    }

    private int write(byte[]... packets) throws Exception {
        PacketBuffer[] batch = new PacketBuffer[packets.length];
        for (int i = 0; i < packets.length; i++) batch[i] = pool.acquire().put(packets[i]);
        try {
            return tun.write(batch, packets.length);
        } finally {
            PacketPool.releaseAll(batch, 0, packets.length);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void singlePacketsOfTwoFlowsComeBackAsGiven(boolean ioUring) throws Exception {
        open(ioUring);
        byte[][] p = new byte[6][];
        for (int i = 0; i < p.length; i++) p[i] = segment(40000 + i % 2, 1000 + (i / 2) * MSS, TcpSegment.ACK);
        assertEquals(6, write(p));
        CapturingTunDevice.Call call = tun.calls().getFirst();
        assertEquals(6, call.written().size());
        for (int i = 0; i < p.length; i++) {
            CapturingTunDevice.Written w = call.written().get(i);
            assertEquals(i, w.first());
            assertEquals(1, w.run());
            assertArrayEquals(new byte[VirtioNetHeader.LENGTH], w.header(), "a zero virtio_net_hdr");
            assertArrayEquals(p[i], w.packet());
        }
        assertEquals(6, tun.accepted());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aRunOfOneFlowIsOneSuperPacket(boolean ioUring) throws Exception {
        open(ioUring);
        byte[][] p = new byte[5][];
        for (int i = 0; i < p.length; i++) p[i] = segment(40000, 1000 + i * MSS, i == p.length - 1 ? TcpSegment.ACK | TcpSegment.PSH : TcpSegment.ACK);
        assertEquals(5, write(p));
        CapturingTunDevice.Written w = tun.calls().getFirst().written().getFirst();
        assertEquals(5, w.run());
        VirtioNetHeader h = new VirtioNetHeader().wrap(MemorySegment.ofArray(w.header()), 0);
        assertEquals(VirtioNetHeader.GSO_TCPV4, h.gsoType());
        assertEquals(MSS, h.gsoSize());
        int headers = p[0].length - MSS;
        assertEquals(headers + 5 * MSS, w.packet().length);
        for (int i = 0; i < p.length; i++) {
            assertArrayEquals(Arrays.copyOfRange(p[i], headers, p[i].length),
                    Arrays.copyOfRange(w.packet(), headers + i * MSS, headers + (i + 1) * MSS), "payload of segment " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aCallTheSocketBufferCannotHoldGoesInPartsAndComesBackWhole(boolean ioUring) throws Exception {
        tun = new CapturingTunDevice("fuzz0", 1500, ioUring, 16 << 10); // as net.core.wmem_max caps an unprivileged test
        byte[][] p = new byte[40][];
        for (int i = 0; i < p.length; i++) p[i] = segment(40000 + i % 2, 1000 + (i / 2) * MSS, TcpSegment.ACK);
        assertEquals(40, write(p));
        assertTrue(tun.calls().size() > 1, "the call went to the device in parts: " + tun.calls().size());
        int i = 0;
        for (CapturingTunDevice.Call call : tun.calls()) {
            for (CapturingTunDevice.Written w : call.written()) {
                assertEquals(1, w.run(), "two flows interleaved join nothing");
                assertArrayEquals(p[i++], w.packet(), "packet " + (i - 1) + " in order");
            }
        }
        assertEquals(40, i);
        assertEquals(40, tun.accepted());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aRefusingDescriptorRefusesAJoinedRunTooLongForItsBufferAndTheSinglesAfterItArrive(boolean ioUring) throws Exception {
        open(ioUring);
        tun.refuse(2048, 1, 0); // the kernel's least send buffer, 4608 bytes: a message of up to 4576
        byte[][] p = new byte[9][];
        for (int i = 0; i < 5; i++) p[i] = segment(40000, 1000 + i * MSS, TcpSegment.ACK); // one run: a super-packet of 5 KB
        for (int i = 5; i < 9; i++) p[i] = segment(40001 + i % 2, 1000 + i * MSS, TcpSegment.ACK); // singles of two other flows
        assertEquals(4, write(p), "the four singles taken, the joined run refused (EMSGSIZE)");
        assertEquals(5, tun.refused());
        CapturingTunDevice.Call call = tun.calls().getFirst();
        assertEquals(4, call.written().size());
        for (int k = 0; k < 4; k++) assertArrayEquals(p[5 + k], call.written().get(k).packet());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aRefusingDescriptorFullWhileItsReaderStallsTakesEveryPacketInOrder(boolean ioUring) throws Exception {
        open(ioUring);
        tun.refuse(2048, 1, 2000); // four of these packets fill the buffer; the reader pauses 2 ms after each message
        byte[][] p = new byte[24][];
        for (int i = 0; i < p.length; i++) p[i] = segment(40000 + i % 2, 1000 + (i / 2) * MSS, TcpSegment.ACK);
        assertEquals(p.length, write(p), "every packet taken, each after the device waited for room (EAGAIN)");
        assertEquals(0, tun.refused());
        CapturingTunDevice.Call call = tun.calls().getFirst();
        assertEquals(p.length, call.written().size());
        for (int i = 0; i < p.length; i++) assertArrayEquals(p[i], call.written().get(i).packet(), "packet " + i + " in order");
        tun.clear();
        assertEquals(p.length, write(p), "after clear the buffer holds a whole call again");
        assertEquals(p.length, tun.calls().getFirst().written().size());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aSuperPacketNoHeaderCarriesIsNotWritten(boolean ioUring) throws Exception {
        open(ioUring);
        byte[] icmp = segment(40000, 1000, TcpSegment.ACK);
        icmp[9] = 1;
        PacketBuffer b = pool.acquire().put(icmp).setGsoSize(MSS);
        try {
            assertEquals(0, tun.write(new PacketBuffer[] {b}, 1));
        } finally {
            b.release();
        }
        assertNull(tun.calls().getFirst().written().getFirst().header());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theDeviceReadsWhatIsPutOnItsDescriptor(boolean ioUring) throws Exception {
        open(ioUring);
        byte[] p = segment(40000, 1000, TcpSegment.ACK);
        byte[] header = new byte[VirtioNetHeader.LENGTH];
        new VirtioNetHeader().wrap(MemorySegment.ofArray(header), 0).set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 52, 500, 20, 16);
        PacketBuffer b = pool.acquire();
        try {
            tun.read(b, header, p);
            assertEquals(500, b.gsoSize());
            assertArrayEquals(p, b.toByteArray());
        } finally {
            b.release();
        }
    }
}
