package io.dataplane.tun;

import static io.dataplane.core.testing.KernelPartialPackets.TCP_COMPLETE;
import static io.dataplane.core.testing.KernelPartialPackets.TCP_FIELD;
import static io.dataplane.core.testing.KernelPartialPackets.UDP_COMPLETE;
import static io.dataplane.core.testing.KernelPartialPackets.UDP_FIELD;
import static io.dataplane.core.testing.KernelPartialPackets.withField;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.testing.KernelPartialPackets;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netlink.Route;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packets a kernel VXLAN device sends across a default veth ({@link KernelPartialPackets}:
 * transport checksums partial), written into a TUN as our node writes what it decapsulated, reach
 * the kernel's sockets behind it; the same packets with a wrong checksum do not. For each way a
 * TUN is opened: plain (the checksum completed in software), with the virtio_net_hdr and no
 * offloads, and with the node's TSO offloads (NEEDS_CSUM handed to the kernel).
 */
class TunPartialChecksumTest {
    private static final int TUN_ADDRESS = Ipv4Address.parse("10.244.2.1");
    private static final int PEER = Ipv4Address.parse("10.244.1.0");

    private Hosts hosts;
    private NetNamespace ns;
    private PacketPool pool;
    private TunDevice tun;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dppc");
        pool = new PacketPool(16);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            if (tun != null) tun.close();
            assertEquals(0, pool.outstanding(), "buffers still out");
        } finally {
            pool.close();
            hosts.close();
        }
    }

    private static TunOptions options(String kind) {
        return switch (kind) {
            case "plain" -> TunOptions.defaults();
            case "vnet" -> TunOptions.defaults().withVnetHeader(Set.of());
            case "tso" -> TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private void openTun(String kind) throws Exception {
        tun = ns.call(() -> TunDevice.open("dppc0", options(kind)));
        ns.run(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.addAddress("dppc0", TUN_ADDRESS, 24);
                nl.setUp("dppc0", true);
                nl.addRoute(Route.direct(Ipv4Prefix.parse("10.244.1.0/24"), "dppc0"));
            }
        });
    }

    private void write(byte[] packet) throws Exception {
        PacketBuffer[] batch = {pool.acquire()};
        try {
            batch[0].put(packet);
            assertEquals(1, tun.write(batch, 1), "the TUN takes the packet");
        } finally {
            batch[0].release();
        }
    }

    /** The next TCP segment to the peer read from the TUN within {@code millis}, or null. */
    private TcpSegment segmentToPeer(long millis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        PacketBuffer[] batch = new PacketBuffer[4];
        while (System.nanoTime() < deadline) {
            int got = pool.acquire(batch, batch.length);
            try {
                int n = tun.readNow(batch, got);
                for (int i = 0; i < n; i++) {
                    byte[] p = batch[i].toByteArray();
                    if (p.length >= 40 && p[0] == 0x45 && p[9] == 6 && TcpSegment.parse(p).dst() == PEER) return TcpSegment.parse(p);
                }
                if (n == 0) Thread.sleep(5);
            } finally {
                PacketPool.releaseAll(batch, 0, got);
            }
        }
        return null;
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "vnet", "tso"})
    void aPartialTcpSynIsAnsweredAndAWrongOneIsDropped(String kind) throws Exception {
        openTun(kind);
        try (ServerSocketChannel server = ns.call(() -> ServerSocketChannel.open()
                .bind(new InetSocketAddress(Ipv4Address.toInetAddress(TUN_ADDRESS), 80)))) {
            byte[] syn = KernelPartialPackets.tcpSyn();
            write(withField(syn, TCP_FIELD, TCP_COMPLETE ^ 0x0100));
            assertNull(segmentToPeer(300), "a SYN with a wrong checksum is answered");
            write(syn);
            TcpSegment synAck = segmentToPeer(3000);
            assertNotNull(synAck, "no SYN-ACK to the SYN whose checksum the sender's kernel left partial");
            assertEquals(TcpSegment.SYN | TcpSegment.ACK, synAck.flags());
            assertEquals(TcpSegment.parse(syn).seq() + 1, synAck.ack());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "vnet", "tso"})
    void aPartialUdpDatagramIsReceivedACompleteOneTooAndAWrongOneNot(String kind) throws Exception {
        openTun(kind);
        try (DatagramChannel socket = ns.call(() -> DatagramChannel.open()
                .bind(new InetSocketAddress(Ipv4Address.toInetAddress(TUN_ADDRESS), 9)))) {
            socket.configureBlocking(false);
            byte[] hello = KernelPartialPackets.udpHello();
            write(withField(hello, UDP_FIELD, UDP_COMPLETE ^ 0x0001));
            write(hello);
            write(withField(hello, UDP_FIELD, UDP_COMPLETE));
            assertEquals("hello\n", receive(socket), "the partial datagram");
            assertEquals("hello\n", receive(socket), "the complete datagram");
            Thread.sleep(100);
            assertNull(socket.receive(ByteBuffer.allocate(64)), "a datagram with a wrong checksum reached the socket");
        }
    }

    private static String receive(DatagramChannel socket) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (socket.receive(b) == null) {
            if (System.nanoTime() > deadline) return null;
            Thread.sleep(5);
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
    }
}
