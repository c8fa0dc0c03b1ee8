package io.dataplane.tun.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.TcpSegments;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.TcpSuperPackets;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UdpSocket#send} of TCP super-packets, and of trains of ready datagrams ({@link
 * PacketBuffer#TRAIN}), on 127.0.0.1 (no root needed): every segment (every datagram of a train) arrives
 * as a datagram of its own, in order, byte for byte what {@link TcpSegments} says it is (that class
 * has its own test against independently built segments), with UDP GSO and after
 * {@link UdpSocket#disableGso()}; a 64 KiB super-packet that needs two GSO messages; plain
 * datagrams before, between and after super-packets keep their places. With {@link
 * UdpSocket#enableGro()} on the receiver the same datagrams come as trains (each GSO message one
 * buffer of {@code gsoSize}-byte datagrams) whose slices are exactly the segments, and one by one
 * again from a sender without GSO; a train too large for its buffer is dropped and counted.
 * With {@link UdpSocket#enableSendRuns()} runs of equally long plain datagrams to one peer (the
 * last may be shorter) arrive one by one as before, and as one train each at a receiver with GRO;
 * a datagram to another peer, or a longer one, ends a run; without GSO they go one by one again,
 * and so do runs the kernel refuses as GSO messages (EINVAL: here a socket without UDP checksums).
 * On a path whose MTU is below the datagrams (a namespace whose loopback has MTU 1400, root), the
 * kernel refuses GSO messages with EMSGSIZE: super-packets, trains and runs still arrive whole, each
 * datagram fragmented by the kernel and put together again at the receiver, and GSO stays on.
 */
class UdpSocketSuperPacketTest {
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private static final int HEADROOM = 128;
    private static final int VXLAN_PREFIX = 22;
    /** Largest IPv4 total length; with a 32-byte TCP header and MSS 1398, 47 segments, more than one GSO message holds. */
    private static final int MAX_TOTAL = 0xffff;

    private final PacketPool sendPool = new PacketPool(16, 65536 + HEADROOM, HEADROOM);
    private final PacketPool receivePool = new PacketPool(128);
    private final PacketPool trainPool = new PacketPool(64, 65536 + HEADROOM, HEADROOM);
    private PacketPool receivingInto = receivePool;
    private int trainsSeen;
    private UdpSocket receiver;
    private UdpSocket sender;
    private Hosts hosts; // the namespace of a narrow path, when a test makes one

    @BeforeEach
    void openSockets() throws Exception {
        // 4 MiB asked for (the kernel caps it at rmem_max): a 64 KiB super-packet is some 47 datagrams at once.
        receiver = UdpSocket.open(LOOPBACK, 0, 64, 4 << 20);
        sender = UdpSocket.open(LOOPBACK, 0, 4, 0);
    }

    @AfterEach
    void closeEverything() throws Exception {
        if (sender != null) sender.close();
        if (receiver != null) receiver.close();
        if (hosts != null) hosts.close();
        assertEquals(0, sendPool.outstanding(), "send buffers still out");
        assertEquals(0, receivePool.outstanding(), "receive buffers still out");
        assertEquals(0, trainPool.outstanding(), "train buffers still out");
        sendPool.close();
        receivePool.close();
        trainPool.close();
    }

    /**
     * A super-packet to the receiver as the pipeline hands it over: the inner packet read at the
     * headroom, then {@code prefix} bytes of encapsulation prepended in front of it.
     */
    private PacketBuffer superPacket(int total, int mss, int prefix, int seed) {
        PacketBuffer p = sendPool.acquire();
        p.put(TcpSuperPackets.tcpPacket(total, 1000 * seed, seed));
        assertTrue(p.prepend(prefix));
        for (int i = 0; i < prefix; i++) p.segment().set(ValueLayout.JAVA_BYTE, p.offset() + i, (byte) (0xa0 + i + seed));
        return p.setGsoSize(mss).setGsoPrefix(prefix).setPeer(LOOPBACK, receiver.localPort());
    }

    private PacketBuffer plain(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (seed + i);
        return sendPool.acquire().put(b).setPeer(LOOPBACK, receiver.localPort());
    }

    /**
     * A {@link PacketBuffer#TRAIN train} of {@code count} datagrams of {@code datagram} bytes, the
     * last {@code last} bytes long, each filled with its own pattern (what WireGuard seals a super-packet into).
     */
    private PacketBuffer train(int datagram, int count, int last, int seed) {
        byte[] b = new byte[datagram * (count - 1) + last];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (seed * 17 + i / datagram * 5 + i);
        return sendPool.acquire().put(b).setGsoSize(datagram).setGsoPrefix(PacketBuffer.TRAIN).setPeer(LOOPBACK, receiver.localPort());
    }

    /** What the receiver should get for {@code p}: its data, each of its segments, or each datagram of a train. */
    private static List<byte[]> datagramsOf(PacketBuffer p) {
        if (p.gsoSize() == 0) return List.of(p.toByteArray());
        if (p.gsoPrefix() != PacketBuffer.TRAIN) return TcpSuperPackets.segmentsOf(p);
        byte[] data = p.toByteArray();
        List<byte[]> out = new ArrayList<>();
        for (int at = 0; at < data.length; at += p.gsoSize()) out.add(Arrays.copyOfRange(data, at, Math.min(data.length, at + p.gsoSize())));
        return out;
    }

    /**
     * Sends {@code batch} in one call, releases it, and checks that the receiver gets exactly the
     * datagrams expected, in order, from the sender's port, and nothing more.
     */
    private void sendAndExpect(PacketBuffer... batch) throws Exception {
        List<byte[]> expected = new ArrayList<>();
        for (PacketBuffer p : batch) expected.addAll(datagramsOf(p));
        assertEquals(batch.length, sendAndRelease(batch), "packets the socket says the kernel took");
        List<byte[]> got = receive(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), got.get(i), "datagram " + i + " of " + expected.size());
        }
        Thread.sleep(20);
        assertEquals(expected.size(), got.size() + receive(0).size(), "more datagrams than segments and plain packets");
        assertEquals(0, receiver.truncated(), "a datagram larger than a receive buffer (an unsegmented GSO message?)");
    }

    /** Sends {@code batch} in one call and releases its buffers, also when the send throws; returns what the send returned. */
    private int sendAndRelease(PacketBuffer[] batch) throws Exception {
        try {
            return sender.send(batch, batch.length, false);
        } finally {
            for (PacketBuffer p : batch) p.release();
        }
    }

    /** Receives until {@code count} datagrams are in (5 s at most, never blocking), then whatever else is waiting. */
    private List<byte[]> receive(int count) throws Exception {
        List<byte[]> got = new ArrayList<>();
        PacketBuffer[] buffers = new PacketBuffer[64];
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            int held = receivingInto.acquire(buffers, buffers.length);
            int n;
            try {
                n = receiver.receiveNow(buffers, held);
                for (int i = 0; i < n; i++) {
                    byte[] data = buffers[i].toByteArray();
                    int size = buffers[i].gsoSize() == 0 ? data.length : buffers[i].gsoSize();
                    if (buffers[i].gsoSize() != 0) trainsSeen++;
                    for (int at = 0; at < data.length; at += size) got.add(Arrays.copyOfRange(data, at, Math.min(data.length, at + size)));
                    assertEquals(sender.localPort(), buffers[i].peerPort(), "sender port");
                    assertEquals(LOOPBACK, buffers[i].peerAddress(), "sender address");
                }
            } finally {
                PacketPool.releaseAll(buffers, 0, held);
            }
            if (n == 0 && got.size() >= count) return got;
            if (n == 0) {
                if (System.nanoTime() > deadline) throw new AssertionError("got " + got.size() + " of " + count + " datagrams in 5 s");
                Thread.sleep(1);
            }
        }
    }

    private void superPacketsArriveAsTheirSegments() throws Exception {
        sendAndExpect(superPacket(20 + 32 + 3 * 1000 + 123, 1000, VXLAN_PREFIX, 1));
        sendAndExpect(superPacket(20 + 32 + 3 * 1000 + 123, 1000, 0, 2));
        // 47 segments of 1472 bytes: 44 fit the 65507 bytes of one GSO message, 3 go in a second.
        sendAndExpect(superPacket(MAX_TOTAL, 1398, VXLAN_PREFIX, 3));
        sendAndExpect(superPacket(MAX_TOTAL, 1398, 0, 4));
        // The last segment as long as the others.
        sendAndExpect(superPacket(20 + 32 + 5 * 1398, 1398, VXLAN_PREFIX, 5));
        sendAndExpect(plain(100, 1), superPacket(MAX_TOTAL, 1398, VXLAN_PREFIX, 6), plain(200, 2));
        // More plain datagrams than the sender's batch of 4 on both sides, two super-packets back to back.
        sendAndExpect(plain(60, 3), plain(61, 4), plain(62, 5), plain(63, 6), plain(64, 7),
                superPacket(20 + 32 + 10 * 1000 + 1, 1000, VXLAN_PREFIX, 7), superPacket(8000, 1448, 0, 8),
                plain(65, 8), plain(66, 9), plain(67, 10), plain(68, 11), plain(69, 12));
        // Trains of ready datagrams: 45 of 1440 bytes need two GSO messages; a short one between plain datagrams.
        sendAndExpect(train(1440, 45, 700, 1));
        sendAndExpect(plain(50, 20), train(300, 3, 300, 2), plain(51, 21), train(1440, 2, 32, 3));
    }

    /**
     * Three runs for a sender of batch 64 with runs: ten of 64 bytes and a 40-byte last, two of 64
     * (a longer one ends it), two of 100 and a 90-byte last; 16 datagrams in 3 GSO messages.
     */
    private PacketBuffer[] runs() {
        List<PacketBuffer> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) batch.add(plain(64, 30 + i));
        batch.add(plain(40, 40));
        batch.add(plain(64, 41));
        batch.add(plain(64, 42));
        batch.add(plain(100, 43));
        batch.add(plain(100, 44));
        batch.add(plain(90, 45));
        return batch.toArray(PacketBuffer[]::new);
    }

    private void senderWithRuns() throws Exception {
        sender.close();
        sender = UdpSocket.open(LOOPBACK, 0, 64, 0);
        sender.enableSendRuns();
        assertTrue(sender.sendsRuns());
    }

    private void receiverWithGroAndSenderWithRuns() throws Exception {
        assertTrue(receiver.enableGro(UdpTransportConfig.MAX_DATAGRAM), "UDP_GRO refused");
        receivingInto = trainPool;
        senderWithRuns();
    }

    @Test
    void runsOfEquallyLongDatagramsArriveOneByOne() throws Exception {
        senderWithRuns();
        sendAndExpect(runs());
        superPacketsArriveAsTheirSegments();
        assertTrue(sender.sendsRuns(), "the kernel refused a GSO message on loopback: runs turned themselves off");
        assertEquals(0, trainsSeen);
    }

    @Test
    void runsComeAsOneTrainEachWithUdpGro() throws Exception {
        receiverWithGroAndSenderWithRuns();
        sendAndExpect(runs());
        assertEquals(3, trainsSeen, "one train per run");
        assertEquals(16, receiver.trainDatagrams());
    }

    @Test
    void aDatagramToAnotherPeerEndsARun() throws Exception {
        receiverWithGroAndSenderWithRuns();
        UdpSocket other = UdpSocket.open(LOOPBACK, 0, 8, 0);
        try {
            PacketBuffer[] batch = {plain(64, 1), plain(64, 2), plain(64, 3).setPeer(LOOPBACK, other.localPort()), plain(64, 4), plain(64, 5)};
            List<byte[]> expected = List.of(batch[0].toByteArray(), batch[1].toByteArray(), batch[3].toByteArray(), batch[4].toByteArray());
            byte[] toOther = batch[2].toByteArray();
            assertEquals(5, sendAndRelease(batch));
            List<byte[]> got = receive(4);
            assertEquals(4, got.size());
            for (int i = 0; i < 4; i++) assertArrayEquals(expected.get(i), got.get(i), "datagram " + i);
            assertEquals(2, trainsSeen, "the runs before and after the other peer's datagram");
            PacketBuffer[] one = new PacketBuffer[1];
            assertEquals(1, receivePool.acquire(one, 1));
            try {
                long deadline = System.nanoTime() + 5_000_000_000L;
                int n;
                while ((n = other.receiveNow(one, 1)) == 0 && System.nanoTime() < deadline) Thread.sleep(1);
                assertEquals(1, n, "the other peer's datagram");
                assertArrayEquals(toOther, one[0].toByteArray());
            } finally {
                one[0].release();
            }
        } finally {
            other.close();
        }
    }

    @Test
    void withoutGsoRunsGoOneByOne() throws Exception {
        receiverWithGroAndSenderWithRuns();
        sender.disableGso();
        assertFalse(sender.sendsRuns());
        sendAndExpect(runs());
        assertEquals(0, trainsSeen);
        assertEquals(0, receiver.trainsReceived());
    }

    @Test
    void runsTheKernelRefusesGoOneByOne() throws Exception {
        receiverWithGroAndSenderWithRuns();
        // SO_NO_CHECK: no UDP checksums, which GSO needs; the kernel answers a GSO message with EINVAL.
        SocketNative.setsockopt(sender.fd(), SocketNative.SOL_SOCKET, 11, 1, "SO_NO_CHECK");
        sendAndExpect(runs());
        assertEquals(0, trainsSeen, "each run went one datagram per message");
        assertTrue(sender.sendsRuns(), "EINVAL is the message's, not the path's: runs stay on");
    }

    /**
     * Opens the receiver and a sender of batch 64 again in a new namespace whose loopback has MTU
     * {@code mtu}: every datagram longer than {@code mtu - 28} bytes is too long for the path.
     */
    private void onAPathOfMtu(int mtu) throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        NetNamespace ns = hosts.namespace("dpmtu");
        Hosts.run("ip", "-n", ns.name(), "link", "set", "lo", "mtu", Integer.toString(mtu), "up");
        sender.close();
        receiver.close();
        receiver = ns.call(() -> UdpSocket.open(LOOPBACK, 0, 64, 4 << 20));
        sender = ns.call(() -> UdpSocket.open(LOOPBACK, 0, 64, 0));
    }

    @Test
    void superPacketsAndTrainsLongerThanThePathMtuArriveFragmented() throws Exception {
        onAPathOfMtu(1400);
        assertTrue(sender.gso());
        // 1472-byte datagrams (1398 of payload, 52 of headers, 22 of VXLAN) where 1372 fit: 47 segments, two GSO messages.
        sendAndExpect(superPacket(MAX_TOTAL, 1398, VXLAN_PREFIX, 1));
        sendAndExpect(plain(100, 1), superPacket(20 + 32 + 3 * 1398 + 10, 1398, VXLAN_PREFIX, 2), plain(200, 2));
        // WireGuard's sealed trains: 43 datagrams, 42 of 1500 bytes.
        sendAndExpect(train(1500, 43, 700, 1));
        // What fits still goes as GSO messages (each one train at a receiver with GRO), and GSO stays on.
        sendAndExpect(superPacket(20 + 32 + 3 * 1000 + 123, 1000, VXLAN_PREFIX, 3), train(1300, 3, 300, 2));
        assertTrue(sender.gso(), "a datagram too long for the path turned GSO off");
        assertTrue(receiver.enableGro(UdpTransportConfig.MAX_DATAGRAM), "UDP_GRO refused");
        receivingInto = trainPool;
        sendAndExpect(superPacket(20 + 32 + 3 * 1000 + 123, 1000, VXLAN_PREFIX, 4));
        assertEquals(1, trainsSeen, "the super-packet that fits: one GSO message");
    }

    @Test
    void runsLongerThanThePathMtuArriveFragmented() throws Exception {
        onAPathOfMtu(1400);
        sender.enableSendRuns();
        List<PacketBuffer> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) batch.add(plain(1472, 50 + i));
        batch.add(plain(1000, 60));
        for (int i = 0; i < 3; i++) batch.add(plain(300, 61 + i));
        sendAndExpect(batch.toArray(PacketBuffer[]::new));
        assertTrue(sender.sendsRuns(), "EMSGSIZE is the run's, not the socket's: runs stay on");
    }

    @Test
    void withUdpGso() throws Exception {
        assertTrue(sender.gso());
        superPacketsArriveAsTheirSegments();
        assertTrue(sender.gso(), "the kernel refused a GSO message on loopback: GSO turned itself off");
    }

    @Test
    void oneDatagramPerSegmentWithoutGso() throws Exception {
        sender.disableGso();
        assertFalse(sender.gso());
        superPacketsArriveAsTheirSegments();
        assertFalse(sender.gso());
    }

    @Test
    void trainsWithUdpGro() throws Exception {
        assertTrue(receiver.enableGro(UdpTransportConfig.MAX_DATAGRAM), "UDP_GRO refused");
        receivingInto = trainPool;
        superPacketsArriveAsTheirSegments();
        // Seven sends carry super-packets, one of them two GSO messages: each message a train.
        assertTrue(trainsSeen >= 8, "trains received: " + trainsSeen);
        assertEquals(trainsSeen, receiver.trainsReceived());
        assertTrue(receiver.trainDatagrams() >= 2 * trainsSeen, "datagrams in trains: " + receiver.trainDatagrams());
    }

    @Test
    void oneByOneWithUdpGroFromASenderWithoutGso() throws Exception {
        assertTrue(receiver.enableGro(UdpTransportConfig.MAX_DATAGRAM), "UDP_GRO refused");
        receivingInto = trainPool;
        sender.disableGso();
        long before = receiver.received();
        sendAndExpect(superPacket(MAX_TOTAL, 1398, VXLAN_PREFIX, 9), plain(100, 1));
        assertEquals(0, trainsSeen);
        assertEquals(0, receiver.trainsReceived());
        assertEquals(48, receiver.received() - before, "47 segments and a plain datagram, each received alone");
    }

    @Test
    void aTrainLargerThanItsBufferIsDroppedAndCounted() throws Exception {
        assertTrue(receiver.enableGro(UdpTransportConfig.MAX_DATAGRAM), "UDP_GRO refused");
        PacketBuffer p = superPacket(20 + 32 + 3 * 1000, 1000, VXLAN_PREFIX, 10);
        try {
            assertEquals(1, sender.send(new PacketBuffer[] {p}, 1, false));
        } finally {
            p.release();
        }
        PacketBuffer[] buffers = new PacketBuffer[4];
        int held = receivePool.acquire(buffers, buffers.length);
        try {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (receiver.truncated() == 0 && System.nanoTime() < deadline) {
                assertEquals(0, receiver.receiveNow(buffers, held), "a 3 KB train in a 2 KB buffer handed on");
                Thread.sleep(1);
            }
        } finally {
            PacketPool.releaseAll(buffers, 0, held);
        }
        assertEquals(1, receiver.truncated());
    }

    @Test
    void withUdpGroADatagramLongerThanTheLargestIsDroppedAndCounted() throws Exception {
        assertTrue(receiver.enableGro(1000), "UDP_GRO refused");
        receivingInto = trainPool;
        PacketBuffer[] batch = {plain(1001, 1), plain(1000, 2), superPacket(20 + 32 + 3 * 1000, 1000, VXLAN_PREFIX, 11)};
        byte[] kept = batch[1].toByteArray();
        assertEquals(3, sendAndRelease(batch));
        List<byte[]> got = receive(1);
        Thread.sleep(20);
        got.addAll(receive(0));
        assertEquals(1, got.size(), "only the 1000-byte datagram: the 1001-byte one and the train of 1074-byte ones are too long");
        assertArrayEquals(kept, got.get(0));
        assertEquals(2, receiver.truncated());
    }
}
