package io.dataplane.tun.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.sys.Errno;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The steering program in the kernel against its Java model ({@link FlowSteering#socketFor}):
 * a reuseport group of sockets on 127.0.0.1, datagrams carrying inner IPv4 packets of many flows
 * (TCP, UDP, ICMP, a later fragment, one too short) behind a tunnel header, every datagram arriving
 * at the socket the model names, and every socket getting some. No root needed.
 */
class FlowSteeringTest {
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");

    @ParameterizedTest(name = "inner packet at {0}")
    @ValueSource(ints = {0, 22})
    void theKernelPicksTheSocketTheModelNames(int innerOffset) throws Exception {
        int sockets = 3;
        FlowSteering steering = new FlowSteering(innerOffset, sockets);
        List<SocketTransport> group = new ArrayList<>();
        List<PacketPool> pools = new ArrayList<>();
        Map<Integer, Integer> arrivedAt = new ConcurrentHashMap<>(); // datagram number -> socket
        try {
            int port = 0;
            for (int s = 0; s < sockets; s++) {
                PacketPool pool = new PacketPool(64);
                pools.add(pool);
                SocketTransport t = SocketTransport.udp(UdpTransportConfig.of(LOOPBACK, port), pool, steering);
                group.add(t);
                port = t.localPort();
                int socket = s;
                t.start((batch, n) -> {
                    for (int i = 0; i < n; i++) {
                        arrivedAt.put(ByteBuffer.wrap(batch[i].toByteArray()).getInt(innerOffset + 4), socket); // the IPv4 id and flags
                        batch[i].release();
                    }
                });
            }
            Random random = new Random(7);
            Map<Integer, Integer> expected = new HashMap<>();
            try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                for (int n = 0; n < 200; n++) {
                    int protocol = n % 10 == 9 ? 1 : n % 2 == 0 ? 6 : 17;
                    boolean laterFragment = n % 17 == 0;
                    byte[] payload = payload(innerOffset, n, protocol, laterFragment, random.nextInt(), random.nextInt(), random.nextInt());
                    expected.put(n << 16, steering.socketFor(payload));
                    sender.send(new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), port));
                }
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (arrivedAt.size() < expected.size() && System.nanoTime() < deadline) Thread.sleep(5);
            Map<Integer, Integer> got = new HashMap<>();
            arrivedAt.forEach((key, socket) -> got.put(key & 0xffff0000, socket));
            assertEquals(expected, got, "socket per datagram, kernel against model");
            assertEquals(Set.of(0, 1, 2), Set.copyOf(got.values()), "every socket takes some flows");
        } finally {
            for (SocketTransport t : group) t.close();
            for (PacketPool p : pools) {
                assertEquals(0, p.outstanding());
                p.close();
            }
        }
    }

    @Test
    void aDatagramTooShortForTheProgramGoesToTheFirstSocket() {
        FlowSteering steering = new FlowSteering(22, 4);
        assertEquals(0, steering.socketFor(new byte[30]));
        assertTrue(steering.socketFor(payload(22, 1, 6, false, 1, 2, 3)) < 4);
    }

    @Test
    void aSocketWithoutTheGroupCannotBindItsPort() throws Exception {
        try (UdpSocket first = UdpSocket.open(LOOPBACK, 0, 8, 0, new FlowSteering(0, 2))) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> UdpSocket.open(LOOPBACK, first.localPort(), 8, 0));
            assertEquals(Errno.EADDRINUSE, e.errno());
        }
    }

    @Test
    void valuesOutOfRangeNameTheField() {
        assertEquals("socket count out of range: sockets=0 (1-256)",
                assertThrows(IllegalArgumentException.class, () -> new FlowSteering(0, 0)).getMessage());
        assertEquals("inner packet offset out of range: innerOffset=-1 (0-1024)",
                assertThrows(IllegalArgumentException.class, () -> new FlowSteering(-1, 2)).getMessage());
    }

    /**
     * {@code offset} bytes of tunnel header, then the headers of an inner IPv4 packet numbered
     * {@code n} (in its identification field) between two addresses, with ports for TCP and UDP.
     */
    private static byte[] payload(int offset, int n, int protocol, boolean laterFragment, int src, int dst, int ports) {
        ByteBuffer b = ByteBuffer.allocate(offset + 28);
        b.position(offset);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 28).putShort((short) n).putShort((short) (laterFragment ? 0x00b9 : 0x4000));
        b.put((byte) 64).put((byte) protocol).putShort((short) 0).putInt(src).putInt(dst).putInt(ports);
        return b.array();
    }
}
