package io.dataplane.transport.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.Leftovers;
import io.dataplane.tun.udp.UdpTransportConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A socket whose send buffer really fills up: a veth pair to a namespace of our own, with a token
 * bucket (tbf) qdisc on our end that holds datagrams back. The transport must then keep what it
 * cannot send in its ring, refuse (release) what does not fit, never block the producer, and send
 * everything it kept once the link catches up. Root only (namespaces, veth, tc).
 */
class UdpTransportBackpressureTest {
    private static final int LOCAL = Ipv4Address.parse("198.51.100.1");
    private static final int REMOTE = Ipv4Address.parse("198.51.100.2");

    private final String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    private final String ns = "dpudp-" + suffix;
    private final String ours = "dpu" + suffix + "a";
    private final String theirs = "dpu" + suffix + "b";
    private final List<Runnable> cleanup = new ArrayList<>();

    @BeforeEach
    void underlay() throws Exception {
        Prerequisites.require(UdpTransport.isAvailable(), "Netty epoll unavailable: " + UdpTransport.unavailabilityCause());
        Hosts.assumeRoot();
        Prerequisites.program("tc");
        // Held before it exists: a killed JVM's namespace goes, and the veth pair with it.
        Leftovers.Hold hold = Leftovers.namespace(ns);
        cleanup.add(hold::release);
        run("ip", "netns", "add", ns);
        cleanup.add(() -> quietly("ip", "netns", "del", ns));
        run("ip", "link", "add", ours, "type", "veth", "peer", "name", theirs);
        cleanup.add(() -> quietly("ip", "link", "del", ours));
        run("ip", "link", "set", theirs, "netns", ns);
        run("ip", "addr", "add", "198.51.100.1/30", "dev", ours);
        run("ip", "link", "set", ours, "up");
        run("ip", "-n", ns, "addr", "add", "198.51.100.2/30", "dev", theirs);
        run("ip", "-n", ns, "link", "set", theirs, "up");
        // A static neighbor: no datagram may wait (or be dropped) in ARP's unresolved queue.
        String mac = run("ip", "netns", "exec", ns, "cat", "/sys/class/net/" + theirs + "/address").trim();
        run("ip", "neigh", "replace", "198.51.100.2", "lladdr", mac, "dev", ours, "nud", "permanent");
        // 8 Mbit/s, with a queue deep enough (2 s) that the qdisc delays datagrams instead of dropping
        // them: the socket's send buffer fills with datagrams waiting in it.
        run("tc", "qdisc", "add", "dev", ours, "root", "tbf", "rate", "8mbit", "burst", "4k", "latency", "2s");
    }

    @AfterEach
    void teardown() {
        for (int i = cleanup.size() - 1; i >= 0; i--) cleanup.get(i).run();
    }

    @Test
    void fullSendBufferKeepsPacketsInTheRingAndRefusesBeyond() throws Exception {
        PacketPool pool = new PacketPool(2048);
        UdpTransport a = UdpTransport.open(
                UdpTransportConfig.of(LOCAL, 0).withRingCapacity(256).withBatchSize(32).withSocketBuffers(0, 16 << 10), pool);
        long accepted = 0;
        long refused = 0;
        long rxBefore = rxPackets();
        try {
            a.start((batch, n) -> PacketPool.releaseAll(batch, 0, n));
            PacketBuffer[] batch = new PacketBuffer[32];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // A burst a millisecond: 32 MB/s against a 1 MB/s link, but slow enough for the event loop to
            // drain the ring every time, so only the socket can be what stops it. Flood until the ring
            // refuses plenty: the socket, Netty's outbound buffer and the ring are then all full, and
            // send() said so instead of blocking.
            while (refused < 1000 && System.nanoTime() < deadline) {
                int n = pool.acquire(batch, batch.length);
                for (int i = 0; i < n; i++) batch[i].setData(pool.headroom(), 1000).setPeer(REMOTE, 9);
                long t0 = System.nanoTime();
                int ok = a.send(batch, n);
                assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500), "send() blocked");
                accepted += ok;
                refused += n - ok;
                Thread.sleep(1);
            }
            assertTrue(refused >= 1000, "the ring never filled: accepted=" + accepted + " refused=" + refused);
            assertTrue(a.sendPauses() > 0, "the ring filled but draining never paused for the socket: accepted="
                    + accepted + " refused=" + refused + " outstanding=" + pool.outstanding());
            // Bounded: ring + Netty's outbound buffer + the socket, far below everything accepted.
            assertTrue(pool.outstanding() < 256 + 600, "more buffers held than the queues allow: " + pool.outstanding());

            // What was kept goes out once the link catches up: nothing lost, nothing failed.
            long deadlineDrain = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (pool.outstanding() > 0 && System.nanoTime() < deadlineDrain) Thread.sleep(10);
            assertEquals(0, pool.outstanding(), "kept datagrams never sent");
            assertEquals(0, a.counters().dropped(DropReason.SEND_FAILED));
            // Buffers come back when the kernel took the datagram, which may still wait in the qdisc.
            long sentOut = accepted;
            long rx = rxPackets() - rxBefore;
            while (rx < sentOut && System.nanoTime() < deadlineDrain) {
                Thread.sleep(10);
                rx = rxPackets() - rxBefore;
            }
            assertTrue(rx >= sentOut, "namespace received " + rx + " packets of " + sentOut + " accepted datagrams");
        } finally {
            a.close();
            assertEquals(0, pool.outstanding(), "buffers still out after close");
            pool.close();
        }
    }

    private long rxPackets() throws IOException, InterruptedException {
        String out = run("ip", "netns", "exec", ns, "cat", "/sys/class/net/" + theirs + "/statistics/rx_packets");
        return Long.parseLong(out.trim());
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Prerequisites.programOf(java.util.List.of(cmd));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", cmd));
        }
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed: exit=" + p.exitValue() + " " + out.trim());
        return out;
    }

    private static void quietly(String... cmd) {
        try {
            run(cmd);
        } catch (IOException | InterruptedException ignored) {
            // best effort: the namespace or link may already be gone
        }
    }
}
