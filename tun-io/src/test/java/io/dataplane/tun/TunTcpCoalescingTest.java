package io.dataplane.tun;

import static io.dataplane.core.testing.TcpSegment.ACK;
import static io.dataplane.core.testing.TcpSegment.SYN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Joined TCP writes ({@link TunDevice#write} with TSO4, and {@link TunDevice#writeTrain} of the
 * packets of one buffer) against the kernel's own TCP: the test plays
 * the client of a connection to a {@link ServerSocket} in a namespace it creates, writing its
 * segments through the TUN and reading the kernel's answers back from it. The kernel acknowledging a
 * whole run with its first ACK, and the server reading exactly the bytes sent, show that the
 * super-packet went in as one packet and intact; a corrupt segment shows it is never joined, so
 * the kernel checks it alone and drops it.
 */
class TunTcpCoalescingTest {
    private static final int TUN_ADDRESS = Ipv4Address.parse("10.244.9.1");
    private static final int PEER = Ipv4Address.parse("10.244.9.2");
    private static final int SERVER_PORT = 5201;
    private static final int CLIENT_PORT = 40123;
    private static final int SEGMENT = 1000;
    private static final int SEGMENTS = 10;
    private static final Set<TunOffload> TSO = EnumSet.of(TunOffload.CSUM, TunOffload.TSO4);

    private Hosts hosts;
    private NetNamespace ns;
    private PacketPool pool;
    private TunDevice tun;
    private ServerSocket server;
    private Socket accepted;
    private final ArrayDeque<TcpSegment> fromServer = new ArrayDeque<>();

    // The client's side of the connection, set by the handshake.
    private int isn;
    private int serverIsn;
    private int serverTsval;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dpco");
        pool = new PacketPool(64);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            if (accepted != null) accepted.close();
            if (server != null) server.close();
            if (tun != null) tun.close();
            assertEquals(0, pool.outstanding(), "buffers still out");
        } finally {
            pool.close();
            hosts.close();
        }
    }

    /** Opens the TUN with {@code offloads}, addresses it, brings it up, and listens on its address. */
    private void openTunAndServer(Set<TunOffload> offloads) throws Exception {
        openTunAndServer(offloads, false);
    }

    private void openTunAndServer(Set<TunOffload> offloads, boolean ioUring) throws Exception {
        TunOptions options = TunOptions.defaults().withVnetHeader(offloads).withIoUring(ioUring);
        tun = ns.call(() -> TunDevice.open("dpco0", options));
        ns.run(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.addAddress("dpco0", TUN_ADDRESS, 24);
                nl.setUp("dpco0", true);
            }
        });
        // Created and bound inside the namespace: the socket belongs to the namespace it is made in.
        server = ns.call(() -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(Ipv4Address.toInetAddress(TUN_ADDRESS), SERVER_PORT));
            return s;
        });
        server.setSoTimeout(5000);
    }

    /** SYN (MSS, timestamps), SYN-ACK read back, ACK; then the server's end of it accepted. */
    private void connect() throws Exception {
        isn = 0x6000_0000 + (int) (System.nanoTime() & 0xffff);
        byte[] mss = {2, 4, (byte) (1460 >>> 8), (byte) 1460};
        TcpSegment syn = TcpSegment.of(PEER, CLIENT_PORT, TUN_ADDRESS, SERVER_PORT, isn, 0,
                concat(mss, TcpSegment.timestamps(1, 0)), new byte[0]).withFlags(SYN);
        assertEquals(1, write(syn.bytes()));
        TcpSegment synAck = await("SYN-ACK", s -> s.flags() == (SYN | ACK), 5000);
        assertEquals(isn + 1, synAck.ack(), "SYN-ACK acknowledges the SYN");
        assertTrue(synAck.tsval() >= 0, "the kernel took up timestamps: " + synAck);
        serverIsn = synAck.seq();
        serverTsval = (int) synAck.tsval();
        assertEquals(1, write(data(0, 0, 2).bytes()));
        accepted = server.accept();
        accepted.setSoTimeout(5000);
    }

    /** The client's segment at byte {@code offset} of its stream with {@code length} bytes of {@link #stream}. */
    private TcpSegment data(int offset, int length, int tsval) {
        return TcpSegment.of(PEER, CLIENT_PORT, TUN_ADDRESS, SERVER_PORT, isn + 1 + offset, serverIsn + 1,
                TcpSegment.timestamps(tsval, serverTsval), Arrays.copyOfRange(stream(), offset, offset + length));
    }

    /** What the client sends: {@link #SEGMENTS} segments of {@link #SEGMENT} bytes. */
    private static byte[] stream() {
        return TcpSegment.pattern(3, SEGMENTS * SEGMENT);
    }

    /** The run of all segments, one packet per segment, in order. */
    private List<byte[]> run() {
        List<byte[]> packets = new ArrayList<>();
        for (int k = 0; k < SEGMENTS; k++) packets.add(data(k * SEGMENT, SEGMENT, 3).bytes());
        return packets;
    }

    /** Writes {@code packets} through the TUN in one batch; returns what write returned. */
    private int write(byte[]... packets) throws IOException {
        PacketBuffer[] batch = new PacketBuffer[packets.length];
        try {
            for (int i = 0; i < packets.length; i++) {
                batch[i] = pool.acquire();
                assertNotNull(batch[i], "pool ran dry");
                batch[i].put(packets[i]);
            }
            return tun.write(batch, packets.length);
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
        }
    }

    /**
     * Writes {@code packets} through the TUN as one {@link PacketTrain} in one buffer, each behind
     * {@code gap} bytes of stand-in tunnel header (0: back to back, as flannel's udp leaves them);
     * returns what writeTrain returned.
     */
    private int writeTrain(int gap, List<byte[]> packets) throws IOException {
        try (PacketPool big = new PacketPool(1, 65536 + 256, 128)) {
            PacketBuffer b = big.acquire();
            try {
                PacketTrain train = new PacketTrain();
                train.reset(b);
                int at = big.headroom();
                for (byte[] p : packets) {
                    for (int i = 0; i < gap; i++) b.segment().set(ValueLayout.JAVA_BYTE, at + i, (byte) 0xee);
                    at += gap;
                    MemorySegment.copy(p, 0, b.segment(), ValueLayout.JAVA_BYTE, at, p.length);
                    assertTrue(train.add(at, p.length));
                    at += p.length;
                }
                return tun.writeTrain(train);
            } finally {
                b.release();
            }
        }
    }

    /**
     * Writes {@code packets} through the TUN as one {@link PacketTrain} whose first {@code split}
     * packets are in one buffer and the rest in another ({@link PacketTrain#append}), each behind
     * 22 bytes of stand-in tunnel header; returns what writeTrain returned.
     */
    private int writeTrainInTwoBuffers(int split, List<byte[]> packets) throws IOException {
        try (PacketPool big = new PacketPool(2, 65536 + 256, 128)) {
            PacketBuffer a = big.acquire();
            PacketBuffer b = big.acquire();
            try {
                PacketTrain train = new PacketTrain();
                PacketTrain second = new PacketTrain();
                train.reset(a);
                second.reset(b);
                int at = big.headroom();
                for (int i = 0; i < packets.size(); i++) {
                    if (i == split) at = big.headroom();
                    PacketBuffer into = i < split ? a : b;
                    byte[] p = packets.get(i);
                    at += 22;
                    MemorySegment.copy(p, 0, into.segment(), ValueLayout.JAVA_BYTE, at, p.length);
                    assertTrue((i < split ? train : second).add(at, p.length));
                    at += p.length;
                }
                assertTrue(train.append(second));
                assertEquals(2, train.bufferCount());
                return tun.writeTrain(train);
            } finally {
                a.release();
                b.release();
            }
        }
    }

    /**
     * The next segment of the connection the server sent, within {@code timeoutMillis}, or null.
     * Every one read must carry valid checksums (the device completes partial ones on read).
     */
    private TcpSegment next(long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        PacketBuffer[] batch = new PacketBuffer[8];
        while (fromServer.isEmpty() && System.nanoTime() < deadline) {
            int got = pool.acquire(batch, batch.length);
            int n;
            try {
                n = tun.readNow(batch, got);
                for (int i = 0; i < n; i++) {
                    byte[] p = batch[i].toByteArray();
                    if (p.length < 40 || (p[0] & 0xf0) != 0x40 || p[9] != 6) continue;
                    TcpSegment s = TcpSegment.parse(p);
                    if (s.src() != TUN_ADDRESS || s.srcPort() != SERVER_PORT || s.dstPort() != CLIENT_PORT) continue;
                    assertTrue(TcpSegment.checksumsValid(p), "checksums of " + s);
                    fromServer.add(s);
                }
            } finally {
                PacketPool.releaseAll(batch, 0, got);
            }
            if (n == 0) Thread.sleep(2);
        }
        return fromServer.poll();
    }

    /** The first segment from the server that {@code what} describes, skipping others; fails after {@code timeoutMillis}. */
    private TcpSegment await(String what, Predicate<TcpSegment> match, long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        List<TcpSegment> skipped = new ArrayList<>();
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            TcpSegment s = left > 0 ? next(left) : null;
            if (s == null) throw new AssertionError("no " + what + " from the server within " + timeoutMillis + " ms; other segments: " + skipped);
            if (match.test(s)) return s;
            skipped.add(s);
        }
    }

    /** The first ACK that acknowledges any of the client's data (beyond the handshake). */
    private TcpSegment firstDataAck() throws Exception {
        return await("ACK of data", s -> (s.flags() & ACK) != 0 && s.ack() != isn + 1, 5000);
    }

    /** Reads ACKs for {@code millis}; the highest acknowledgment number seen, relative to the first data byte. */
    private long highestAckWithin(long millis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long highest = Long.MIN_VALUE;
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            TcpSegment s = left > 0 ? next(left) : null;
            if (s == null) return highest;
            if ((s.flags() & ACK) != 0) highest = Math.max(highest, s.ack() - (isn + 1));
        }
    }

    @Test
    void aJoinedRunGoesInAsOnePacketAndArrivesIntact() throws Exception {
        openTunAndServer(TSO);
        connect();
        assertEquals(0, tun.coalesced(), "handshake segments have no payload");

        assertEquals(SEGMENTS, write(run().toArray(byte[][]::new)));
        assertEquals(SEGMENTS, tun.coalesced(), "all ten written as one super-packet");
        TcpSegment ack = firstDataAck();
        assertEquals(isn + 1 + SEGMENTS * SEGMENT, ack.ack(),
                "the kernel's first ACK covers the whole run: it took the run as one packet; got " + ack);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT), "what the server read");
    }

    @Test
    void aTrainInOneBufferGoesInAsOnePacketAndArrivesIntact() throws Exception {
        openTunAndServer(TSO);
        connect();
        assertEquals(SEGMENTS, writeTrain(22, run()));
        assertEquals(SEGMENTS, tun.coalesced(), "all ten written as one super-packet, payloads gathered from the one buffer");
        TcpSegment ack = firstDataAck();
        assertEquals(isn + 1 + SEGMENTS * SEGMENT, ack.ack(), "the kernel's first ACK covers the whole train: " + ack);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT), "what the server read");
    }

    @Test
    void aTrainInTwoBuffersGoesInAsOnePacketAndArrivesIntact() throws Exception {
        // A sender's super-packet of more segments than one UDP GSO message takes comes as two trains.
        assertTrainInTwoBuffersJoined(false, 7);
    }

    @Test
    void aTrainInTwoBuffersGoesInAsOnePacketThroughIoUring() throws Exception {
        assertTrainInTwoBuffersJoined(true, 8);
    }

    private void assertTrainInTwoBuffersJoined(boolean ioUring, int split) throws Exception {
        openTunAndServer(TSO, ioUring);
        connect();
        assertEquals(SEGMENTS, writeTrainInTwoBuffers(split, run()));
        assertEquals(SEGMENTS, tun.coalesced(), "all ten written as one super-packet, payloads gathered from both buffers");
        TcpSegment ack = firstDataAck();
        assertEquals(isn + 1 + SEGMENTS * SEGMENT, ack.ack(), "the kernel's first ACK covers both trains: " + ack);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT), "what the server read");
    }

    @Test
    void aCorruptSegmentInABackToBackTrainIsWrittenAloneAndTheOthersArriveIntact() throws Exception {
        // Back to back, each virtio_net_hdr goes over the tail of the packet before it, which is written by then.
        openTunAndServer(TSO);
        connect();
        List<byte[]> packets = run();
        byte[] corrupt = packets.get(4);
        corrupt[corrupt.length - 100] ^= 0x20;
        assertEquals(SEGMENTS, writeTrain(0, packets));
        assertEquals(4 + 5, tun.coalesced(), "segments 0-3 and 5-9 joined, 4 written alone");
        TcpSegment ack = firstDataAck();
        assertEquals(isn + 1 + 4 * SEGMENT, ack.ack(), "the first run acknowledged, and no further: " + ack);
        assertEquals(1, write(data(4 * SEGMENT, SEGMENT, 4).bytes()));
        await("ACK of the whole stream", s -> s.ack() == isn + 1 + SEGMENTS * SEGMENT, 5000);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT), "what the server read");
    }

    @Test
    void withoutTso4TheSameRunGoesInSegmentBySegment() throws Exception {
        // The control for the test above: its first-ACK check can tell one packet from ten.
        openTunAndServer(EnumSet.of(TunOffload.CSUM));
        connect();
        assertEquals(SEGMENTS, write(run().toArray(byte[][]::new)));
        assertEquals(0, tun.coalesced());
        TcpSegment ack = firstDataAck();
        assertTrue(Integer.compareUnsigned(ack.ack(), isn + 1 + SEGMENTS * SEGMENT) < 0,
                "written one by one, the first ACK comes before the run's end: " + ack);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT), "what the server read");
    }

    @Test
    void aCorruptSegmentInTheMiddleIsNotJoinedAndTheKernelDropsIt() throws Exception {
        openTunAndServer(TSO);
        connect();
        List<byte[]> packets = run();
        byte[] corrupt = packets.get(4);
        corrupt[corrupt.length - 100] ^= 0x20; // one payload bit; the TCP checksum no longer verifies
        assertEquals(SEGMENTS, write(packets.toArray(byte[][]::new)), "the TUN takes every packet; the kernel's TCP drops the corrupt one");
        assertEquals(4 + 5, tun.coalesced(), "segments 0-3 and 5-9 joined, 4 written alone");

        TcpSegment ack = firstDataAck();
        assertEquals(isn + 1 + 4 * SEGMENT, ack.ack(), "the first run acknowledged, and no further: " + ack);
        // Segments 5-9 wait out of order behind the hole; nothing acknowledges past it.
        long highest = highestAckWithin(300);
        assertTrue(highest <= 4 * SEGMENT, "acknowledged past the dropped segment: " + highest);

        // Sent again intact, it fills the hole and the kernel acknowledges everything.
        assertEquals(1, write(data(4 * SEGMENT, SEGMENT, 4).bytes()));
        assertEquals(9, tun.coalesced(), "one segment alone is not a joined write");
        await("ACK of the whole stream", s -> s.ack() == isn + 1 + SEGMENTS * SEGMENT, 5000);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT),
                "what the server read: the corrupt byte never reached it");
    }

    @Test
    void aSegmentWithACorruptIpv4HeaderIsNotJoinedAndTheKernelDropsIt() throws Exception {
        openTunAndServer(TSO);
        connect();
        List<byte[]> packets = run();
        byte[] corrupt = packets.get(0);
        corrupt[5] ^= 0x01; // the identification: compared with nothing, covered by the IPv4 header checksum only
        assertEquals(SEGMENTS, write(packets.toArray(byte[][]::new)));
        // Joined, its header checksum would be written anew and the kernel would take it; alone, ip_rcv drops it.
        assertEquals(SEGMENTS - 1, tun.coalesced(), "segment 0 written alone, 1-9 joined");
        long highest = highestAckWithin(300);
        assertTrue(highest <= 0, "acknowledged data behind a packet with a corrupt IPv4 header: " + highest);

        assertEquals(1, write(data(0, SEGMENT, 4).bytes()));
        await("ACK of the whole stream", s -> s.ack() == isn + 1 + SEGMENTS * SEGMENT, 5000);
        assertArrayEquals(stream(), accepted.getInputStream().readNBytes(SEGMENTS * SEGMENT), "what the server read");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
