package io.dataplane.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.core.wire.UdpHeader;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.Structs;
import io.dataplane.tun.testing.Hosts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Multi-queue TUN devices, and the virtio_net_hdr with segmentation offloads, against real kernel traffic. */
class TunQueuesAndOffloadsTest {
    private static final int TUN_ADDRESS = Ipv4Address.parse("10.244.9.1");
    private static final int PEER = Ipv4Address.parse("10.244.9.2");
    private Hosts hosts;
    private NetNamespace ns;
    private PacketPool pool;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dpmq");
        // Room for a 64 KiB super-packet behind the headroom.
        pool = new PacketPool(16, 65536 + 256, 128);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            assertEquals(0, pool.outstanding(), "buffers still out");
        } finally {
            pool.close();
            hosts.close();
        }
    }

    private void addressAndUp(String name) throws Exception {
        ns.run(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.addAddress(name, TUN_ADDRESS, 24);
                nl.setUp(name, true);
            }
        });
    }

    /** Sends one UDP datagram from inside the namespace through an FFM socket, with UDP_SEGMENT when segment > 0. */
    private void sendUdp(int srcPort, int dstPort, byte[] payload, int segment) throws Exception {
        ns.run(() -> {
            int fd = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_DGRAM, 0, "test sender");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment local = arena.allocate(Structs.SOCKADDR_IN);
                SocketNative.setSockaddrIn(local, 0, TUN_ADDRESS, srcPort);
                SocketNative.bind(fd, local, "test sender");
                if (segment > 0) SocketNative.setsockopt(fd, SocketNative.SOL_UDP, SocketNative.UDP_SEGMENT, segment, "UDP_SEGMENT");
                MemorySegment to = arena.allocate(Structs.SOCKADDR_IN);
                SocketNative.setSockaddrIn(to, 0, PEER, dstPort);
                MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, payload);
                MemorySegment errno = NativeCall.errnoSlot(arena);
                long r = SocketNative.sendto(errno, fd, data.address(), payload.length, 0, to.address(), (int) to.byteSize());
                if (r != payload.length) throw new AssertionError("sendto returned " + r + " errno " + NativeCall.errno(errno));
            } finally {
                FdNative.close(fd);
            }
        });
    }

    /** Reads from {@code tun} until a UDP packet to {@code dstPort} arrives; {@code b} then holds it. */
    private static void readUdpTo(TunDevice tun, PacketBuffer b, int dstPort) throws Exception {
        PacketBuffer[] one = {b};
        Ipv4Header ip = new Ipv4Header();
        for (int i = 0; i < 50; i++) {
            b.setData(128, 0);
            assertEquals(1, tun.read(one, 1));
            ip.wrap(b.segment(), b.offset());
            if (ip.validate(b.length()) == Ipv4Header.VALID && ip.protocol() == Ipv4Header.PROTO_UDP
                    && new UdpHeader().wrap(b.segment(), ip.payloadOffset()).dstPort() == dstPort) {
                return;
            }
        }
        throw new AssertionError("no UDP packet to port " + dstPort);
    }

    @Test
    void bothQueuesOfAMultiQueueDeviceReceiveTraffic() throws Exception {
        List<TunDevice> queues = ns.call(() -> TunDevice.openQueues("dpmq0", 2, TunOptions.defaults()));
        assertEquals(2, queues.size());
        assertTrue(queues.get(0).isMultiQueue());
        assertEquals(1, queues.get(1).queueIndex());
        addressAndUp("dpmq0");
        int flows = 64;
        ConcurrentHashMap<Integer, Integer> queueOfFlow = new ConcurrentHashMap<>();
        AtomicInteger[] perQueue = {new AtomicInteger(), new AtomicInteger()};
        List<Thread> readers = new ArrayList<>();
        PacketPool readPool = new PacketPool(16);
        for (TunDevice q : queues) {
            readers.add(Thread.ofPlatform().start(() -> {
                PacketBuffer[] batch = new PacketBuffer[8];
                Ipv4Header ip = new Ipv4Header();
                try {
                    while (true) {
                        int got = readPool.acquire(batch, 8);
                        int n = q.read(batch, got);
                        if (n == TunnelDevice.CLOSED) return;
                        for (int i = 0; i < n; i++) {
                            ip.wrap(batch[i].segment(), batch[i].offset());
                            if (ip.validate(batch[i].length()) != Ipv4Header.VALID || ip.protocol() != Ipv4Header.PROTO_UDP) continue;
                            int srcPort = new UdpHeader().wrap(batch[i].segment(), ip.payloadOffset()).srcPort();
                            queueOfFlow.put(srcPort, q.queueIndex());
                            perQueue[q.queueIndex()].incrementAndGet();
                        }
                        PacketPool.releaseAll(batch, 0, got);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    PacketPool.releaseAll(batch, 0, batch.length);
                }
            }));
        }
        try {
            // One datagram per flow, each from its own source port: the kernel spreads flows by hash.
            for (int i = 0; i < flows; i++) sendUdp(20000 + i, 9999, new byte[] {(byte) i}, 0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (queueOfFlow.size() < flows && System.nanoTime() < deadline) Thread.sleep(10);
        } finally {
            for (TunDevice q : queues) q.close();
            for (Thread t : readers) t.join(1000);
        }
        assertEquals(flows, queueOfFlow.size(), "flows read: " + queueOfFlow.keySet());
        assertTrue(perQueue[0].get() > 0 && perQueue[1].get() > 0,
                "queue 0 read " + perQueue[0] + ", queue 1 read " + perQueue[1]);
        assertEquals(0, readPool.outstanding());
        readPool.close();
        for (Thread t : readers) assertFalse(t.isAlive());
    }

    @Test
    void udpSegmentSendArrivesAsOneSuperPacket() throws Exception {
        TunOptions options = TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.USO4, TunOffload.USO6));
        try (TunDevice tun = ns.call(() -> TunDevice.open("dpgso0", options))) {
            addressAndUp("dpgso0");
            byte[] payload = new byte[3000];
            for (int i = 0; i < payload.length; i++) payload[i] = (byte) (i * 31);
            sendUdp(4000, 9999, payload, 1000);
            PacketBuffer b = pool.acquire();
            try {
                readUdpTo(tun, b, 9999);
                Ipv4Header ip = new Ipv4Header().wrap(b.segment(), b.offset());
                assertEquals(20 + 8 + 3000, b.length(), "not one super-packet");
                assertEquals(b.length(), ip.totalLength());
                assertEquals(1000, b.gsoSize());
                VirtioNetHeader h = new VirtioNetHeader().wrap(b.segment(), b.offset() - VirtioNetHeader.LENGTH);
                assertEquals(VirtioNetHeader.GSO_UDP_L4, h.gsoType());
                assertEquals(1000, h.gsoSize());
                assertEquals(28, h.hdrLen());
                assertEquals(20, h.csumStart());
                assertEquals(6, h.csumOffset());
                assertTrue((h.flags() & VirtioNetHeader.F_NEEDS_CSUM) != 0, "super-packet keeps NEEDS_CSUM for the segmenter");
                byte[] data = b.toByteArray();
                for (int i = 0; i < payload.length; i++) assertEquals(payload[i], data[28 + i], "payload byte " + i);
            } finally {
                b.release();
            }
        }
    }

    @Test
    void singlePacketWithPartialChecksumIsCompletedOnRead() throws Exception {
        TunOptions options = TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.USO4, TunOffload.USO6));
        try (TunDevice tun = ns.call(() -> TunDevice.open("dpcsum0", options))) {
            addressAndUp("dpcsum0");
            sendUdp(4001, 9998, "small".getBytes(), 0);
            PacketBuffer b = pool.acquire();
            try {
                readUdpTo(tun, b, 9998);
                assertEquals(0, b.gsoSize());
                VirtioNetHeader h = new VirtioNetHeader().wrap(b.segment(), b.offset() - VirtioNetHeader.LENGTH);
                assertEquals(VirtioNetHeader.GSO_NONE, h.gsoType());
                assertEquals(0, h.flags() & VirtioNetHeader.F_NEEDS_CSUM);
                UdpHeader udp = new UdpHeader().wrap(b.segment(), b.offset() + 20);
                assertTrue(udp.checksum() != UdpHeader.NO_CHECKSUM, "no UDP checksum");
                assertTrue(udp.verifyChecksum(TUN_ADDRESS, PEER), "UDP checksum does not verify");
            } finally {
                b.release();
            }
        }
    }

    @Test
    void writtenSuperPacketReachesASocketAsItsSegments() throws Exception {
        TunOptions options = TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.USO4, TunOffload.USO6));
        try (TunDevice tun = ns.call(() -> TunDevice.open("dpwgso0", options))) {
            addressAndUp("dpwgso0");
            try (DatagramSocket socket = ns.call(() -> new DatagramSocket(new InetSocketAddress(Ipv4Address.toInetAddress(TUN_ADDRESS), 7777)))) {
                socket.setSoTimeout(5000);
                writeSuperPacket(tun, socket);
            }
        }
    }

    private void writeSuperPacket(TunDevice tun, DatagramSocket socket) throws Exception {
        PacketBuffer b = pool.acquire();
        try {
            // Three 100-byte segments from the peer to the socket, as one super-packet.
            int payload = 300;
            b.setLength(20 + 8 + payload);
            MemorySegment s = b.segment();
            Ipv4Header ip = new Ipv4Header().wrap(s, b.offset());
            Ipv4Repr.of(PEER, TUN_ADDRESS, Ipv4Header.PROTO_UDP, 64, 8 + payload).emit(ip);
            UdpHeader udp = new UdpHeader().wrap(s, ip.payloadOffset());
            udp.setSrcPort(6000).setDstPort(7777).setLength(8 + payload);
            for (int i = 0; i < payload; i++) s.set(ValueLayout.JAVA_BYTE, udp.payloadOffset() + i, (byte) (i / 100 + 1));
            b.setGsoSize(100);
            assertEquals(1, tun.write(new PacketBuffer[] {b}, 1));
            for (int seg = 1; seg <= 3; seg++) {
                DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                socket.receive(p);
                assertEquals(100, p.getLength(), "segment " + seg);
                assertEquals(seg, p.getData()[0], "segment order");
                assertEquals(6000, p.getPort());
            }
            // And a plain packet (gsoSize 0) goes out with an all-zero header.
            b.setGsoSize(0);
            ip.setTotalLength(20 + 8 + 5).fillChecksum();
            b.setLength(20 + 8 + 5);
            udp.setLength(13).setChecksum(UdpHeader.NO_CHECKSUM);
            assertEquals(1, tun.write(new PacketBuffer[] {b}, 1));
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            socket.receive(p);
            assertEquals(5, p.getLength());
        } finally {
            b.release();
        }
    }

    @Test
    void tsoAndUsoTogetherAreAccepted() throws Exception {
        TunOptions all = TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6,
                TunOffload.TSO_ECN, TunOffload.USO4, TunOffload.USO6));
        try (TunDevice tun = ns.call(() -> TunDevice.open("dptso0", all))) {
            String features = Hosts.run("ip", "netns", "exec", ns.name(), "ethtool", "-k", "dptso0");
            assertTrue(features.contains("tx-tcp-segmentation: on"), features);
            assertTrue(features.contains("tx-udp-segmentation: on"), features);
            assertEquals(all, tun.options());
        }
    }
}
