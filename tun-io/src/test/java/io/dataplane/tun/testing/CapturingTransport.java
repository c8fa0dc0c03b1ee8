package io.dataplane.tun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.TcpSegments;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SegmentBatch;
import io.dataplane.tun.sys.SocketNative;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The transport of {@link ReceiveFuzzing} and {@link SendFuzzing}: keeps what a stage sends
 * (replies, datagrams) and releases the buffers; takes TCP super-packets and cuts each into its
 * datagrams as the socket transport's {@code SegmentBatch} does (prepared at the buffer's prefix,
 * each segment's headers written by {@link TcpSegments}, its payload sliced); sends a train (the
 * datagrams an encapsulation sealed back to back, {@link PacketBuffer#TRAIN}) through the real
 * {@link SegmentBatch#sendTrain} (UDP GSO) on a UDP socket to a receiving socket on 127.0.0.1,
 * and keeps the datagrams that arrive there; reports idle if told so. Receives nothing: the
 * driver calls the stage itself. Close it to close its sockets.
 */
final class CapturingTransport implements Transport {
    /** What one buffer handed over became: one datagram, or a super-packet's or a train's datagrams; and where it went. */
    record Sent(boolean superPacket, List<byte[]> datagrams, int peerAddress, int peerPort) {}

    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private static final long ARRIVAL_NANOS = 5_000_000_000L; // loopback delivers as the send returns; this is a bound, not a wait
    private final boolean reportsIdle;
    private final Counters counters = new Counters();
    private final TcpSegments segments = new TcpSegments();
    private final MemorySegment scratch = Arena.ofAuto().allocate(TcpSegments.MAX_HEADER_LENGTH);
    final List<Sent> sent = new ArrayList<>();
    private Arena arena; // the train path's, made on the first train
    private SegmentBatch trains;
    private MemorySegment errno;
    private int fd = -1;
    private DatagramChannel receiver;
    private ByteBuffer arrived;

    CapturingTransport(boolean reportsIdle) {
        this.reportsIdle = reportsIdle;
    }

    @Override
    public void start(Receiver receiver) {}

    @Override
    public int send(PacketBuffer[] batch, int count) {
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            try {
                List<byte[]> datagrams = p.gsoSize() == 0 ? List.of(p.toByteArray()) : p.gsoPrefix() == PacketBuffer.TRAIN ? train(p) : cut(p);
                sent.add(new Sent(p.gsoSize() != 0, datagrams, p.peerAddress(), p.peerPort()));
            } finally {
                p.release();
            }
        }
        return count;
    }

    private List<byte[]> cut(PacketBuffer p) {
        assertEquals(TcpSegments.VALID, segments.prepare(p, p.gsoPrefix()), "a super-packet handed over can be cut");
        List<byte[]> datagrams = new ArrayList<>();
        int h = segments.headerLength();
        for (int k = 0; k < segments.segments(); k++) {
            segments.writeHeader(k, scratch, 0);
            byte[] d = new byte[h + segments.payloadLength(k)];
            MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, 0, d, 0, h);
            MemorySegment.copy(p.segment(), ValueLayout.JAVA_BYTE, segments.payloadOffset(k), d, h, segments.payloadLength(k));
            datagrams.add(d);
        }
        return datagrams;
    }

    // The train sent by SegmentBatch.sendTrain to our receiving socket (its peer restored after), and the datagrams that arrived, in order.
    private List<byte[]> train(PacketBuffer p) {
        int size = p.gsoSize();
        int expected = (p.length() + size - 1) / size;
        int peerAddress = p.peerAddress();
        int peerPort = p.peerPort();
        try {
            open();
            p.setPeer(LOOPBACK, receiver.socket().getLocalPort());
            assertEquals(1, trains.sendTrain(errno, fd, p), "the train of " + expected + " datagrams of " + size + " bytes sent whole");
            p.setPeer(peerAddress, peerPort);
            List<byte[]> datagrams = new ArrayList<>();
            long deadline = System.nanoTime() + ARRIVAL_NANOS;
            while (datagrams.size() < expected && System.nanoTime() < deadline) {
                arrived.clear();
                if (receiver.receive(arrived) == null) {
                    Thread.onSpinWait();
                    continue;
                }
                datagrams.add(Arrays.copyOf(arrived.array(), arrived.position()));
            }
            assertEquals(expected, datagrams.size(), "datagrams of the train that arrived");
            arrived.clear();
            assertTrue(receiver.receive(arrived) == null, "no datagram beyond the train's");
            return datagrams;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void open() throws IOException {
        if (trains != null) return;
        arena = Arena.ofShared();
        trains = new SegmentBatch(arena);
        errno = NativeCall.errnoSlot(arena);
        try {
            fd = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_DGRAM, 0, "train sender");
        } catch (ErrnoException e) {
            throw new IOException(e);
        }
        receiver = DatagramChannel.open();
        receiver.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20); // a whole train: 64 datagrams of up to 64 KiB in all
        receiver.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        receiver.configureBlocking(false);
        arrived = ByteBuffer.allocate(65536);
    }

    @Override
    public boolean sendsSuperPackets() {
        return true;
    }

    @Override
    public boolean sendsTrains() {
        return true;
    }

    @Override
    public boolean reportsIdle() {
        return reportsIdle;
    }

    @Override
    public int localPort() {
        return 8472;
    }

    @Override
    public int batchSize() {
        return 64;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public void close() {
        if (trains == null) return;
        try {
            receiver.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            FdNative.close(fd);
            arena.close();
            trains = null;
        }
    }
}
