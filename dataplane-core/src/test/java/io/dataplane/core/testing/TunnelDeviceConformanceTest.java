package io.dataplane.core.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.core.wire.UdpHeader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link TunnelDevice} must do, run against each implementation by a subclass: read
 * fills the caller's buffers at their offset in batches no larger than asked, write delivers and
 * leaves the buffers with the caller, close wakes a blocked reader, and no buffer is lost.
 *
 * <p>The harness plays the pod on the other side of the device: it sends UDP datagrams through
 * the device and receives the ones the device delivers to it.
 */
public abstract class TunnelDeviceConformanceTest {

    /** A device under test and the pod on its other side. */
    protected interface Harness extends AutoCloseable {
        /** The device under test. */
        TunnelDevice device();

        /** The pool the test takes buffers from; its headroom is the offset reads go to. */
        PacketPool pool();

        /** The pod's IPv4 address: the source of what it sends, where written packets go. */
        int podAddress();

        /** An address the pod reaches through the device. */
        int remoteAddress();

        /** The pod sends a UDP datagram with {@code payload} from port {@code srcPort} to {@code remoteAddress():dstPort}. */
        void podSend(int srcPort, int dstPort, byte[] payload) throws Exception;

        /** The payload of the next UDP datagram the device delivered to {@code podAddress():port}, or null after {@code timeout}. */
        byte[] podReceive(int port, Duration timeout) throws Exception;

        @Override
        void close() throws Exception;
    }

    /** Builds a fresh harness (called before each test). */
    protected abstract Harness createHarness() throws Exception;

    /** The UDP port the harness delivers written datagrams to. */
    protected static final int POD_PORT = 5555;

    protected Harness h;

    @BeforeEach
    void open() throws Exception {
        h = createHarness();
    }

    @AfterEach
    void closeHarness() throws Exception {
        if (h == null) return;
        try {
            h.device().close();
            assertEquals(0, h.pool().outstanding(), "buffers still out after the test");
        } finally {
            h.close();
        }
    }

    /** Reads until a UDP packet to {@code dstPort} arrives (a real device may carry other traffic); returns its bytes. */
    private byte[] readUdpTo(int dstPort, PacketBuffer b, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        PacketBuffer[] one = {b};
        Ipv4Header ip = new Ipv4Header();
        UdpHeader udp = new UdpHeader();
        while (System.nanoTime() < deadline) {
            int n = readWithTimeout(one, 1, deadline - System.nanoTime());
            if (n <= 0) break;
            ip.wrap(b.segment(), b.offset());
            if (ip.validate(b.length()) == Ipv4Header.VALID && ip.protocol() == Ipv4Header.PROTO_UDP
                    && udp.wrap(b.segment(), ip.payloadOffset()).validate(ip.payloadLength()) == UdpHeader.VALID
                    && udp.dstPort() == dstPort) {
                return b.toByteArray();
            }
            b.setData(h.pool().headroom(), 0);
        }
        throw new AssertionError("no UDP packet to port " + dstPort + " read within " + timeout);
    }

    // read() blocks; run it on a helper thread so a broken device fails the test instead of hanging it.
    private int readWithTimeout(PacketBuffer[] buffers, int count, long nanos) throws Exception {
        CompletableFuture<Integer> f = CompletableFuture.supplyAsync(() -> {
            try {
                return h.device().read(buffers, count);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
        try {
            return f.get(nanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            h.device().close(); // wakes the reader so the thread does not outlive the test
            f.get(1, TimeUnit.SECONDS);
            return 0;
        }
    }

    @Test
    void readFillsTheBufferAtItsOffset() throws Exception {
        byte[] payload = "hello through the device".getBytes();
        h.podSend(40001, 7001, payload);
        PacketBuffer b = h.pool().acquire();
        try {
            int offset = b.offset();
            byte[] packet = readUdpTo(7001, b, Duration.ofSeconds(5));
            assertEquals(offset, b.offset(), "read moved the buffer's offset");
            Ipv4Header ip = new Ipv4Header().wrap(MemorySegment.ofArray(packet), 0);
            assertEquals(Ipv4Header.VALID, ip.validate(packet.length));
            assertEquals(packet.length, ip.totalLength());
            assertEquals(h.podAddress(), ip.srcAddr());
            assertEquals(h.remoteAddress(), ip.dstAddr());
            assertTrue(ip.verifyChecksum());
            byte[] got = new byte[packet.length - ip.headerLength() - 8];
            System.arraycopy(packet, ip.headerLength() + 8, got, 0, got.length);
            assertArrayEquals(payload, got);
        } finally {
            b.release();
        }
    }

    @Test
    void readReturnsBatchesNoLargerThanAsked() throws Exception {
        int sent = 6;
        for (int i = 0; i < sent; i++) h.podSend(40100 + i, 7002, new byte[] {(byte) i});
        PacketBuffer[] batch = new PacketBuffer[4];
        Set<Integer> seen = new HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Ipv4Header ip = new Ipv4Header();
        UdpHeader udp = new UdpHeader();
        try {
            while (seen.size() < sent && System.nanoTime() < deadline) {
                assertEquals(2, h.pool().acquire(batch, 2));
                int n = readWithTimeout(batch, 2, deadline - System.nanoTime());
                assertTrue(n >= 1 && n <= 2, "read returned " + n + " for count 2");
                assertTrue(n <= h.device().batchSize());
                for (int i = 0; i < n; i++) {
                    ip.wrap(batch[i].segment(), batch[i].offset());
                    if (ip.validate(batch[i].length()) != Ipv4Header.VALID || ip.protocol() != Ipv4Header.PROTO_UDP) continue;
                    udp.wrap(batch[i].segment(), ip.payloadOffset());
                    if (udp.validate(ip.payloadLength()) != UdpHeader.VALID || udp.dstPort() != 7002) continue;
                    seen.add(udp.srcPort());
                }
                PacketPool.releaseAll(batch, 0, 2);
            }
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
        }
        assertEquals(sent, seen.size(), "source ports seen: " + seen);
    }

    @Test
    void writeDeliversAndLeavesTheBufferWithTheCaller() throws Exception {
        byte[] payload = "reply from the dataplane".getBytes();
        PacketBuffer b = h.pool().acquire();
        try {
            udpPacket(b, h.remoteAddress(), h.podAddress(), 7003, POD_PORT, payload);
            int offset = b.offset();
            int length = b.length();
            assertEquals(1, h.device().write(new PacketBuffer[] {b}, 1));
            assertTrue(b.isOwned(), "write released the caller's buffer");
            assertEquals(offset, b.offset());
            assertEquals(length, b.length());
        } finally {
            b.release();
        }
        byte[] got = h.podReceive(POD_PORT, Duration.ofSeconds(5));
        assertNotNull(got, "the pod received nothing");
        assertArrayEquals(payload, got);
    }

    @Test
    void closeWakesABlockedReader() throws Exception {
        PacketBuffer[] batch = new PacketBuffer[1];
        h.pool().acquire(batch, 1);
        CompletableFuture<Integer> result = new CompletableFuture<>();
        AtomicLong wokeAt = new AtomicLong();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                // A real device may carry the odd packet of its own; keep reading until closed.
                int n;
                do {
                    n = h.device().read(batch, 1);
                } while (n > 0);
                wokeAt.set(System.nanoTime());
                result.complete(n);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            Thread.sleep(200);
            assertFalse(result.isDone(), "read returned without a packet");
            long start = System.nanoTime();
            h.device().close(); // may take longer than the wakeup: a kernel removes a device it created
            assertEquals(TunnelDevice.CLOSED, result.get(5, TimeUnit.SECONDS));
            // A reader close does not wake waits out its own poll (a TUN's: 2 s); a woken
            // one runs as soon as it gets a CPU, which a loaded machine may take 100 ms and more to give.
            long wokeMillis = TimeUnit.NANOSECONDS.toMillis(wokeAt.get() - start);
            assertTrue(wokeMillis < 1000, "reader woke " + wokeMillis + " ms after close");
            reader.join(1000);
            assertFalse(reader.isAlive(), "reader thread left behind");
        } finally {
            PacketPool.releaseAll(batch, 0, 1);
        }
    }

    @Test
    void readAndWriteAfterCloseReturnClosed() throws Exception {
        h.device().close();
        PacketBuffer[] batch = new PacketBuffer[1];
        h.pool().acquire(batch, 1);
        try {
            assertEquals(TunnelDevice.CLOSED, h.device().read(batch, 1));
            udpPacket(batch[0], h.remoteAddress(), h.podAddress(), 7004, POD_PORT, new byte[] {1});
            assertEquals(TunnelDevice.CLOSED, h.device().write(batch, 1));
            h.device().close(); // idempotent
        } finally {
            PacketPool.releaseAll(batch, 0, 1);
        }
    }

    /** Fills {@code b} at its offset with an IPv4/UDP packet with valid checksums. */
    protected static void udpPacket(PacketBuffer b, int src, int dst, int srcPort, int dstPort, byte[] payload) {
        int udpLen = 8 + payload.length;
        b.setLength(Ipv4Header.HEADER_LEN + udpLen);
        MemorySegment s = b.segment();
        Ipv4Header ip = new Ipv4Header().wrap(s, b.offset());
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_UDP, 64, udpLen).emit(ip);
        UdpHeader udp = new UdpHeader().wrap(s, ip.payloadOffset());
        udp.setSrcPort(srcPort).setDstPort(dstPort).setLength(udpLen);
        MemorySegment.copy(payload, 0, s, ValueLayout.JAVA_BYTE, udp.payloadOffset(), payload.length);
        udp.fillChecksum(src, dst);
    }
}
