package io.dataplane.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.IoUringDenial;
import io.dataplane.tun.testing.LogLines;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TUN device with io_uring (root): a ping flood with many requests in flight at once, answered
 * by a responder that reads and writes whole batches, on the ring and on the plain path that a
 * thread gets when a seccomp filter refuses {@code io_uring_setup} (as container runtimes' profiles
 * do): that fallback is chosen on its own, with one log line. A {@link PacketTrain} of small
 * datagrams (what a UDP GRO receive of a peer's run decapsulates into) goes in through the ring
 * intact and in order, with a tunnel header's gap between its packets and back to back.
 */
class TunDeviceIoUringTest {
    private static final int TUN_ADDRESS = Ipv4Address.parse("10.244.8.1");
    private static final int PEER = Ipv4Address.parse("10.244.8.2");
    private static final int FLOOD = 3000;
    private Hosts hosts;
    private NetNamespace ns;
    private LogLines logged;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dpuring");
        logged = LogLines.of(TunDevice.class.getName());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (logged != null) logged.close();
        if (hosts != null) hosts.close();
    }

    private static TunDevice openUp(String name) throws Exception {
        TunDevice t = TunDevice.open(name, TunOptions.defaults().withVnetHeader(Set.of()).withIoUring(true));
        try (Netlink nl = Netlink.open()) {
            nl.addAddress(name, TUN_ADDRESS, 24);
            nl.setUp(name, true);
        }
        return t;
    }

    @Test
    void ringCarriesAPingFloodWithManyRequestsInFlight() throws Exception {
        TunDevice tun = ns.call(() -> openUp("dpring0"));
        try {
            assumeTrue(tun.ioUring(), "this kernel refuses io_uring: " + logged.lines());
            assertTrue(tun.toString().contains("io_uring"), tun.toString());
            assertEquals(FLOOD, flood(tun));
            assertTrue(tun.ringReads() > 0, "a flood with 32 in flight is read in batches through the ring");
        } finally {
            tun.close();
        }
        assertEquals(List.of(), logged.lines(), "no fallback line where io_uring works");
    }

    @Test
    void aThreadRefusedIoUringFallsBackToThePlainPathWithOneLogLine() throws Exception {
        CompletableFuture<TunDevice> opened = new CompletableFuture<>();
        Thread denied = ns.newThread("dp-no-uring", () -> {
            try {
                IoUringDenial.onThisThread();
                opened.complete(openUp("dpnoring0"));
            } catch (Throwable t) {
                opened.completeExceptionally(t);
            }
        });
        denied.start();
        TunDevice tun = opened.get(10, TimeUnit.SECONDS);
        denied.join();
        try {
            assertFalse(tun.ioUring(), "io_uring_setup is refused on that thread");
            List<String> lines = logged.lines();
            assertEquals(1, lines.size(), lines.toString());
            String line = lines.get(0);
            assertTrue(line.contains("dpnoring0") && line.contains("io_uring unavailable") && line.contains("ENOSYS")
                    && line.contains("one system call per packet"), line);
            assertEquals(FLOOD, flood(tun), "the plain path carries the flood");
        } finally {
            tun.close();
        }
    }

    @Test
    void aTrainOfSmallDatagramsGoesInThroughTheRingIntactAndInOrder() throws Exception {
        TunDevice tun = ns.call(() -> openUp("dptrain0"));
        try (PacketPool pool = new PacketPool(1, 65536 + 256, 128);
                DatagramSocket socket = ns.call(() -> new DatagramSocket(new InetSocketAddress(Ipv4Address.toInetAddress(TUN_ADDRESS), 5301)))) {
            assumeTrue(tun.ioUring(), "this kernel refuses io_uring: " + logged.lines());
            socket.setSoTimeout(5000);
            // 22 bytes: VXLAN's and the inner Ethernet header; 0: back to back, as flannel's udp leaves them.
            for (int gap : new int[] {22, 0}) {
                List<byte[]> sent = new ArrayList<>();
                PacketBuffer b = pool.acquire();
                try {
                    PacketTrain train = new PacketTrain();
                    train.reset(b);
                    int at = pool.headroom();
                    for (int k = 0; k < 40; k++) {
                        byte[] p = TestPackets.udp(PEER, TUN_ADDRESS, 64, 40000 + gap, 5301, 36 + (k == 39 ? 0 : 28));
                        p[p.length - 1] = (byte) k;
                        p[p.length - 2] = (byte) gap;
                        sent.add(Arrays.copyOfRange(p, 28, p.length));
                        at += gap;
                        MemorySegment.copy(p, 0, b.segment(), ValueLayout.JAVA_BYTE, at, p.length);
                        assertTrue(train.add(at, p.length));
                        at += p.length;
                    }
                    assertEquals(40, tun.writeTrain(train), "packets the TUN took (gap " + gap + ")");
                } finally {
                    b.release();
                }
                for (int k = 0; k < sent.size(); k++) {
                    DatagramPacket d = new DatagramPacket(new byte[2048], 2048);
                    socket.receive(d);
                    assertEquals(Arrays.toString(sent.get(k)), Arrays.toString(Arrays.copyOf(d.getData(), d.getLength())),
                            "datagram " + k + " (gap " + gap + ")");
                }
            }
        } finally {
            tun.close();
        }
    }

    // Floods PEER with pings, 32 in flight at once, answered by an echo responder on tun; returns the replies written.
    private long flood(TunDevice tun) throws Exception {
        CompletableFuture<Long> replies = new CompletableFuture<>();
        Thread responder = Thread.ofPlatform().name("echo-responder").start(() -> {
            try {
                replies.complete(TunDeviceTest.respond(tun));
            } catch (Throwable t) {
                replies.completeExceptionally(t);
            }
        });
        try {
            Hosts.Result ping = Hosts.runAnyway("ip", "netns", "exec", ns.name(),
                    "ping", "-n", "-q", "-f", "-l", "32", "-c", String.valueOf(FLOOD), "-W", "1", Ipv4Address.toString(PEER));
            Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(ping.output());
            assertTrue(m.find(), ping.output());
            assertEquals(String.valueOf(FLOOD), m.group(2), ping.output());
            assertEquals(0, ping.exitCode(), ping.output());
        } finally {
            tun.close();
            responder.join(5000);
        }
        assertFalse(responder.isAlive(), "responder still running after close");
        return replies.get(1, TimeUnit.SECONDS);
    }
}
