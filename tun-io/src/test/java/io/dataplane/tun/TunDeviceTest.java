package io.dataplane.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.sys.PageMemory;
import io.dataplane.tun.sys.WakeableFd;
import io.dataplane.tun.testing.Hosts;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A single-queue TUN device in a namespace of the test's own: real ping traffic, close, removal, bad names. */
class TunDeviceTest {
    private static final int TUN_ADDRESS = Ipv4Address.parse("10.244.7.1");
    private static final int PEER = Ipv4Address.parse("10.244.7.2");
    private Hosts hosts;
    private NetNamespace ns;
    private PacketPool pool;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dptun");
        pool = new PacketPool(256);
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

    private TunDevice openUp(String name, TunOptions options) throws Exception {
        return ns.call(() -> {
            TunDevice t = TunDevice.open(name, options);
            try (Netlink nl = Netlink.open()) {
                nl.addAddress(name, TUN_ADDRESS, 24);
                nl.setUp(name, true);
            }
            return t;
        });
    }

    /**
     * Answers every ICMP echo request read from {@code tun} with an echo reply written back: source
     * and destination swapped, type 0, both checksums recomputed. Returns the replies sent.
     */
    static long respond(TunDevice tun) throws Exception {
        PacketPool pool = new PacketPool(2 * tun.batchSize());
        PacketBuffer[] in = new PacketBuffer[tun.batchSize()];
        PacketBuffer[] out = new PacketBuffer[tun.batchSize()];
        Ipv4Header ip = new Ipv4Header();
        Icmpv4Header icmp = new Icmpv4Header();
        long replies = 0;
        try {
            while (true) {
                int got = pool.acquire(in, in.length);
                int n = tun.read(in, got);
                if (n == TunnelDevice.CLOSED) return replies;
                int m = 0;
                for (int i = 0; i < n; i++) {
                    PacketBuffer b = in[i];
                    MemorySegment s = b.segment();
                    ip.wrap(s, b.offset());
                    if (ip.validate(b.length()) != Ipv4Header.VALID || ip.protocol() != Ipv4Header.PROTO_ICMP) continue;
                    icmp.wrap(s, ip.payloadOffset());
                    if (icmp.validate(ip.payloadLength()) != Icmpv4Header.VALID || icmp.type() != Icmpv4Header.TYPE_ECHO_REQUEST
                            || !ip.verifyChecksum() || !icmp.verifyChecksum(ip.payloadLength())) {
                        continue; // not a good echo request: the kernel's odd packet, ignored
                    }
                    int src = ip.srcAddr();
                    ip.setSrcAddr(ip.dstAddr()).setDstAddr(src).setTtl(64).fillChecksum();
                    icmp.setType(Icmpv4Header.TYPE_ECHO_REPLY).fillChecksum(ip.payloadLength());
                    b.setLength(ip.totalLength());
                    out[m++] = b;
                    in[i] = null;
                }
                int written = tun.write(out, m);
                if (written == TunnelDevice.CLOSED) {
                    PacketPool.releaseAll(out, 0, m);
                    return replies;
                }
                replies += written;
                PacketPool.releaseAll(out, 0, m);
                PacketPool.releaseAll(in, 0, got);
            }
        } finally {
            PacketPool.releaseAll(in, 0, in.length);
            PacketPool.releaseAll(out, 0, out.length);
            if (pool.outstanding() != 0) throw new AssertionError("responder lost " + pool.outstanding() + " buffers");
            pool.close();
        }
    }

    @Test
    void echoResponderAnswersPingThousandOfThousand() throws Exception {
        TunDevice tun = openUp("dpecho0", TunOptions.defaults());
        CompletableFuture<Long> replies = new CompletableFuture<>();
        Thread responder = Thread.ofPlatform().name("echo-responder").start(() -> {
            try {
                replies.complete(respond(tun));
            } catch (Throwable t) {
                replies.completeExceptionally(t);
            }
        });
        try {
            Hosts.Result ping = Hosts.runAnyway("ip", "netns", "exec", ns.name(),
                    "ping", "-n", "-q", "-i", "0.002", "-c", "1000", "-W", "1", Ipv4Address.toString(PEER));
            Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received, (\\d+(?:\\.\\d+)?)% packet loss").matcher(ping.output());
            assertTrue(m.find(), ping.output());
            assertEquals("1000", m.group(1), ping.output());
            assertEquals("1000", m.group(2), ping.output());
            assertEquals("0", m.group(3), ping.output());
            assertEquals(0, ping.exitCode(), ping.output());
        } finally {
            tun.close();
            responder.join(5000);
        }
        assertFalse(responder.isAlive(), "responder still running after close");
        assertEquals(1000, (long) replies.get(1, TimeUnit.SECONDS));
    }

    @Test
    void removedDeviceIsAClearErrorNotAHang() throws Exception {
        TunDevice tun = openUp("dpgone0", TunOptions.defaults());
        PacketBuffer[] batch = new PacketBuffer[4];
        pool.acquire(batch, 4);
        CompletableFuture<Integer> read = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                int n;
                do {
                    n = tun.read(batch, 4); // the kernel's own packets (none expected) are read past
                } while (n > 0);
                read.complete(n);
            } catch (Throwable t) {
                read.completeExceptionally(t);
            }
        });
        try {
            Thread.sleep(100);
            Hosts.run("ip", "-n", ns.name(), "link", "del", "dpgone0");
            ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(5, TimeUnit.SECONDS));
            ErrnoException cause = (ErrnoException) e.getCause();
            // The read finds EBADFD, or poll saw the device unregistering before it was detached (EPOLLERR
            // while a read still finds nothing): either way the same words.
            assertEquals(77, cause.errno(), cause.getMessage());
            assertEquals("read(dpgone0) failed: errno=77 (EBADFD): the device was removed", cause.getMessage());
            batch[0].setLength(20);
            ErrnoException w = assertThrows(ErrnoException.class, () -> tun.write(batch, 1));
            assertEquals(77, w.errno());
            assertTrue(w.getMessage().startsWith("write(dpgone0)"), w.getMessage());
        } finally {
            tun.close();
            reader.join(1000);
            PacketPool.releaseAll(batch, 0, 4);
        }
        assertFalse(reader.isAlive());
    }

    @Test
    void tooLongAndBadNamesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TunDevice.open("dp-name-too-long"));
        assertEquals("interface name too long: \"dp-name-too-long\" (16 bytes, max 15)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TunDevice.open("dp/0"));
        assertTrue(e.getMessage().contains("\"dp/0\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TunDevice.open(""));
    }

    @Test
    void secondSingleQueueDescriptorIsRefusedWithEbusy() throws Exception {
        try (TunDevice first = openUp("dpbusy0", TunOptions.defaults())) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> ns.call(() -> TunDevice.open("dpbusy0")));
            assertEquals(16, e.errno());
            assertTrue(e.getMessage().startsWith("ioctl(TUNSETIFF, dpbusy0) failed: errno=16 (EBUSY)"), e.getMessage());
            // And a multi-queue attach to the single-queue device is refused, naming it.
            ErrnoException mq = assertThrows(ErrnoException.class, () -> ns.call(() -> TunDevice.openQueues("dpbusy0", 2, TunOptions.defaults())));
            assertEquals(22, mq.errno());
            assertEquals(1500, first.mtu(), "the first descriptor still works");
        }
    }

    @Test
    void deviceLivesInTheNamespaceThatOpenedItAndReportsMtuAndIndex() throws Exception {
        try (TunDevice tun = openUp("dpmtu0", TunOptions.defaults())) {
            Hosts.run("ip", "-n", ns.name(), "link", "set", "dpmtu0", "mtu", "1420");
            assertEquals(1420, tun.mtu());
            var link = Hosts.json("ip", "-j", "-n", ns.name(), "link", "show", "dev", "dpmtu0").get(0);
            assertEquals(link.get("ifindex").asInt(), tun.index());
            assertFalse(Hosts.runAnyway("ip", "link", "show", "dpmtu0").exitCode() == 0, "the device leaked into the test JVM's namespace");
        }
        // Not persistent: gone with its descriptor.
        assertEquals(0, Hosts.json("ip", "-j", "-n", ns.name(), "link", "show", "type", "tun").size());
    }

    @Test
    void kernelPicksTheNumberOfAPatternName() throws Exception {
        try (TunDevice tun = ns.call(() -> TunDevice.open("dpq%d"))) {
            assertTrue(tun.name().matches("dpq\\d+"), tun.name());
            assertEquals(1, Hosts.json("ip", "-j", "-n", ns.name(), "link", "show", "dev", tun.name()).size());
        }
    }

    @Test
    void closeWakesTheReaderQuicklyEveryTime() throws Exception {
        // Conformance checks one close; here many, to catch a racy wakeup.
        AtomicLong worst = new AtomicLong();
        for (int round = 0; round < 20; round++) {
            TunDevice tun = openUpNoAddress("dpwake0");
            PacketBuffer[] batch = new PacketBuffer[1];
            pool.acquire(batch, 1);
            CompletableFuture<Integer> r = new CompletableFuture<>();
            AtomicLong wokeAt = new AtomicLong();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    int n = tun.read(batch, 1);
                    wokeAt.set(System.nanoTime());
                    r.complete(n);
                } catch (Throwable e) {
                    r.completeExceptionally(e);
                }
            });
            Thread.sleep(round % 4 == 0 ? 20 : 2); // sometimes close before the reader reaches poll
            long start = System.nanoTime();
            tun.close(); // returns once the kernel removed the device, which can take longer than the wakeup
            assertEquals(TunnelDevice.CLOSED, r.get(5, TimeUnit.SECONDS));
            worst.accumulateAndGet(wokeAt.get() - start, Math::max);
            t.join(1000);
            assertFalse(t.isAlive());
            PacketPool.releaseAll(batch, 0, 1);
        }
        // A reader close does not wake waits out its poll (IDLE_MILLIS); a woken one runs as soon
        // as it gets a CPU, which a loaded machine may take 100 ms and more to give.
        assertTrue(worst.get() < TimeUnit.MILLISECONDS.toNanos(WakeableFd.IDLE_MILLIS / 2), "slowest wakeup " + worst.get() / 1000 + " us");
    }

    @Test
    void anIdleReaderGivesBackThePagesOfItsBuffers() throws Exception {
        // 64 KiB buffers on anonymous pages, every byte of them written: what a TCP run leaves behind.
        try (PacketPool big = new PacketPool(4, 65536 + 1024, PacketPool.DEFAULT_HEADROOM, PageMemory.POOL)) {
            PacketBuffer[] all = new PacketBuffer[4];
            assertEquals(4, big.acquire(all, 4));
            for (PacketBuffer b : all) b.segment().fill((byte) 1);
            PacketPool.releaseAll(all, 0, 4);
            TunDevice tun = openUpNoAddress("dpidle0");
            PacketBuffer[] armed = new PacketBuffer[2];
            assertEquals(2, big.acquire(armed, 2));
            CompletableFuture<Integer> r = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    r.complete(tun.read(armed, 2)); // nothing comes: the device has no address, no route
                } catch (Throwable e) {
                    r.completeExceptionally(e);
                }
            });
            Thread.sleep(WakeableFd.IDLE_MILLIS + 500);
            assertFalse(r.isDone(), "the reader still waits");
            assertEquals(2, big.acquire(all, 2), "the two free buffers");
            for (int i = 0; i < 2; i++) assertEquals(0, all[i].segment().get(ValueLayout.JAVA_BYTE, 40_000), "free: its pages given back");
            PacketPool.releaseAll(all, 0, 2);
            tun.close();
            assertEquals(TunnelDevice.CLOSED, r.get(5, TimeUnit.SECONDS));
            t.join(1000);
            for (PacketBuffer b : armed) assertEquals(0, b.segment().get(ValueLayout.JAVA_BYTE, 40_000), "armed: its pages given back");
            PacketPool.releaseAll(armed, 0, 2);
            assertEquals(0, big.outstanding());
        }
    }

    private TunDevice openUpNoAddress(String name) throws Exception {
        return ns.call(() -> TunDevice.open(name));
    }
}
