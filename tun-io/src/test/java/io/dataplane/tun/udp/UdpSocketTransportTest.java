package io.dataplane.tun.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.sys.PageMemory;
import io.dataplane.tun.sys.TimerSlack;
import io.dataplane.tun.sys.WakeableFd;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the socket transport over UDP promises beyond the SPI's conformance test: batches in one
 * recvmmsg, oversize datagrams dropped and counted, refused sends counted and their buffers back,
 * the receive thread gone and every buffer back after close. On 127.0.0.1, no root needed.
 */
class UdpSocketTransportTest {
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private final List<SocketTransport> transports = new ArrayList<>();
    private final List<PacketPool> pools = new ArrayList<>();

    @AfterEach
    void closeEverything() {
        for (SocketTransport t : transports) t.close();
        for (PacketPool p : pools) {
            assertEquals(0, p.outstanding(), "buffers still out after every transport closed");
            p.close();
        }
    }

    private SocketTransport open(int poolSize, int batchSize) throws Exception {
        PacketPool pool = new PacketPool(poolSize);
        pools.add(pool);
        SocketTransport t = SocketTransport.udp(UdpTransportConfig.of(LOOPBACK, 0).withBatchSize(batchSize), pool);
        transports.add(t);
        return t;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    @Test
    void anIdleReceiverGivesBackThePagesOfItsBuffers() throws Exception {
        // 64 KiB buffers on anonymous pages, every byte of them written: what a TCP run leaves behind.
        PacketPool pool = new PacketPool(8, 65536 + 1024, PacketPool.DEFAULT_HEADROOM, PageMemory.POOL);
        pools.add(pool);
        PacketBuffer[] all = new PacketBuffer[8];
        assertEquals(8, pool.acquire(all, 8));
        for (PacketBuffer x : all) x.segment().fill((byte) 1);
        PacketPool.releaseAll(all, 0, 8);
        SocketTransport t = SocketTransport.udp(UdpTransportConfig.of(LOOPBACK, 0).withBatchSize(4), pool);
        transports.add(t);
        ConcurrentLinkedQueue<Byte> farBytes = new ConcurrentLinkedQueue<>();
        t.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                farBytes.add(batch[i].segment().get(ValueLayout.JAVA_BYTE, 40_000)); // far past the datagram's 4 bytes
                batch[i].release();
            }
        });
        Thread.sleep(WakeableFd.IDLE_MILLIS + 500); // the receive thread waits, its 4 buffers armed, then idles
        assertEquals(4, pool.acquire(all, 4), "the 4 free buffers are free still");
        for (int i = 0; i < 4; i++) assertEquals(0, all[i].segment().get(ValueLayout.JAVA_BYTE, 40_000), "their pages were given back");
        PacketPool.releaseAll(all, 0, 4);
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            sender.send(new DatagramPacket(new byte[] {1, 2, 3, 4}, 4, InetAddress.getLoopbackAddress(), t.localPort()));
        }
        await(() -> farBytes.size() == 1, "the datagram");
        assertEquals((byte) 0, farBytes.peek(), "the armed buffer's pages were given back (they read zero)");
    }

    @Test
    void theReceiveThreadSleepsWithATimerSlackOfAMicrosecond() throws Exception {
        SocketTransport t = open(16, 4);
        ConcurrentLinkedQueue<Long> slack = new ConcurrentLinkedQueue<>();
        t.start((batch, n) -> {
            slack.add(TimerSlack.get()); // the receiver runs on the receive thread
            PacketPool.releaseAll(batch, 0, n);
        });
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            sender.send(new DatagramPacket(new byte[] {1, 2, 3, 4}, 4, InetAddress.getLoopbackAddress(), t.localPort()));
        }
        await(() -> !slack.isEmpty(), "the datagram");
        assertEquals(TimerSlack.PACKET_THREAD_NANOS, slack.peek(), "the receive thread's timer slack (its linger would last 4x as long with the default)");
        assertNotEquals(TimerSlack.PACKET_THREAD_NANOS, TimerSlack.get(), "only the receive thread's own slack changed");
    }

    @Test
    void burstArrivesInBatchesFromOneReceiveCall() throws Exception {
        SocketTransport b = open(256, 64);
        AtomicInteger largest = new AtomicInteger();
        ConcurrentLinkedQueue<Integer> got = new ConcurrentLinkedQueue<>();
        // Held back until the burst is queued in the socket, so one recvmmsg sees many datagrams.
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 100; i++) {
                byte[] payload = {(byte) i, 1, 2, 3};
                sender.send(new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), b.localPort()));
            }
            b.start((batch, n) -> {
                largest.accumulateAndGet(n, Math::max);
                for (int i = 0; i < n; i++) {
                    got.add(batch[i].toByteArray()[0] & 0xff);
                    assertEquals(sender.getLocalPort(), batch[i].peerPort());
                    assertEquals(LOOPBACK, batch[i].peerAddress());
                    batch[i].release();
                }
            });
            await(() -> got.size() == 100, "100 datagrams");
        }
        assertTrue(largest.get() > 1, "one recvmmsg should deliver several datagrams, largest batch " + largest.get());
        assertEquals(100, got.stream().distinct().count());
    }

    @Test
    void idleIsReportedOnlyOnceTheQueuedBurstIsTakenAndAgainAtClose() throws Exception {
        SocketTransport b = open(256, 16);
        assertTrue(b.reportsIdle());
        ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        AtomicInteger got = new AtomicInteger();
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            // 100 datagrams queued before the receive thread starts: seven batches of up to 16, no wait between them.
            for (int i = 0; i < 100; i++) {
                sender.send(new DatagramPacket(new byte[] {(byte) i}, 1, InetAddress.getLoopbackAddress(), b.localPort()));
            }
            b.start(new Transport.Receiver() {
                @Override
                public void onReceive(PacketBuffer[] batch, int n) {
                    events.add("batch");
                    got.addAndGet(n);
                    for (int i = 0; i < n; i++) batch[i].release();
                }

                @Override
                public void onIdle() {
                    events.add("idle " + got.get());
                }
            });
            await(() -> events.contains("idle 100"), "onIdle after the 100th datagram");
        }
        List<String> seen = new ArrayList<>(events);
        assertEquals(List.of("idle 100"), seen.stream().filter(e -> e.startsWith("idle")).toList(),
                "onIdle while datagrams of the burst still waited in the socket: " + seen);
        int before = events.size();
        b.close();
        assertEquals(before + 1, events.size(), "one onIdle as the transport stopped: " + events);
        assertEquals("idle 100", List.copyOf(events).get(before));
    }

    @Test
    void aLoneDatagramIsIdleBeforeTheNextReceive() throws Exception {
        SocketTransport b = open(64, 8);
        ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        AtomicInteger got = new AtomicInteger();
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            // Queued before the receive thread starts, so that its first receive takes it.
            sender.send(new DatagramPacket(new byte[] {1}, 1, InetAddress.getLoopbackAddress(), b.localPort()));
            b.start(new Transport.Receiver() {
                @Override
                public void onReceive(PacketBuffer[] batch, int n) {
                    events.add("batch " + n);
                    for (int i = 0; i < n; i++) batch[i].release();
                    if (got.getAndAdd(n) == 0) {
                        // Queued in b's socket before this returns (loopback delivers inside sendto): a further
                        // recvmmsg before onIdle would take it first.
                        try {
                            sender.send(new DatagramPacket(new byte[] {2}, 1, InetAddress.getLoopbackAddress(), b.localPort()));
                        } catch (java.io.IOException e) {
                            events.add("send failed: " + e);
                        }
                    }
                }

                @Override
                public void onIdle() {
                    events.add("idle " + got.get());
                }
            });
            await(() -> events.contains("idle 2"), "both datagrams, then onIdle");
        }
        // The first receive took 1 of the 8 it had room for: the socket was empty, so onIdle came at once.
        assertEquals(List.of("batch 1", "idle 1", "batch 1", "idle 2"), List.copyOf(events));
    }

    @Test
    void loneDatagramsAndBurstsInTurnEachArriveWholeInTheirOwnBuffer() throws Exception {
        // A small pool, so buffers come back into other slots than they left; the receiver keeps
        // every third buffer for a while, so the slots the receive thread refills vary.
        SocketTransport b = open(20, 8);
        ConcurrentLinkedQueue<String> got = new ConcurrentLinkedQueue<>();
        ArrayList<PacketBuffer> kept = new ArrayList<>();
        b.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                byte[] data = batch[i].toByteArray();
                got.add(data.length + " bytes, hash " + Arrays.hashCode(data));
                if (data[0] % 3 == 0) kept.add(batch[i]);
                else batch[i].release();
            }
            if (kept.size() > 4) {
                for (PacketBuffer p : kept) p.release();
                kept.clear();
            }
        });
        List<String> sent = new ArrayList<>();
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int k = 0;
            for (int round = 0; round < 30; round++) {
                int burst = round % 3 == 0 ? 1 + round % 7 : 1; // mostly lone datagrams, as pings come
                for (int j = 0; j < burst; j++, k++) {
                    byte[] payload = new byte[1 + (k * 37) % 300];
                    for (int x = 0; x < payload.length; x++) payload[x] = (byte) (k + x);
                    sent.add(payload.length + " bytes, hash " + Arrays.hashCode(payload));
                    sender.send(new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), b.localPort()));
                }
                int expected = k;
                await(() -> got.size() == expected, expected + " datagrams");
            }
        }
        assertEquals(sent, List.copyOf(got), "a datagram landed in another buffer than the one handed on, or was cut");
        b.close();
        for (PacketBuffer p : kept) p.release();
    }

    @Test
    void aReceiverThatAlwaysExpectsMoreIsStillToldOfIdle() throws Exception {
        SocketTransport b = open(64, 8);
        AtomicInteger asked = new AtomicInteger();
        AtomicInteger idle = new AtomicInteger();
        AtomicInteger got = new AtomicInteger();
        b.start(new Transport.Receiver() {
            @Override
            public void onReceive(PacketBuffer[] batch, int n) {
                got.addAndGet(n);
                for (int i = 0; i < n; i++) batch[i].release();
            }

            @Override
            public boolean expectsMore() {
                asked.incrementAndGet();
                return true;
            }

            @Override
            public void onIdle() {
                if (got.get() == 3) idle.incrementAndGet();
            }
        });
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 3; i++) sender.send(new DatagramPacket(new byte[] {(byte) i}, 1, InetAddress.getLoopbackAddress(), b.localPort()));
        }
        // One short wait for the rest of a run, then the socket counts as empty: no spinning on a receiver that always hopes.
        await(() -> got.get() == 3 && idle.get() == 1, "the three datagrams, then onIdle");
        assertTrue(asked.get() >= 1, "expectsMore never asked");
        Thread.sleep(50);
        assertEquals(1, idle.get(), "onIdle again without a datagram or a close: the thread did not wait");
    }

    @Test
    void oversizeDatagramIsDroppedAndCountedGoodOnesFlow() throws Exception {
        SocketTransport b = open(64, 8);
        ConcurrentLinkedQueue<byte[]> got = new ConcurrentLinkedQueue<>();
        b.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                got.add(batch[i].toByteArray());
                batch[i].release();
            }
        });
        byte[] big = new byte[PacketPool.DEFAULT_BUFFER_SIZE]; // longer than a buffer's room after the headroom
        byte[] small = {9, 8, 7};
        try (DatagramSocket sender = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            sender.send(new DatagramPacket(big, big.length, InetAddress.getLoopbackAddress(), b.localPort()));
            sender.send(new DatagramPacket(small, small.length, InetAddress.getLoopbackAddress(), b.localPort()));
        }
        await(() -> got.size() == 1 && b.counters().dropped(DropReason.OVERSIZE) == 1, "the small one, the big one counted");
        assertArrayEquals(small, got.peek());
    }

    @Test
    void refusedSendIsCountedAndItsBufferReturned() throws Exception {
        SocketTransport a = open(16, 8);
        a.start((batch, n) -> {
            for (int i = 0; i < n; i++) batch[i].release();
        });
        PacketPool pool = pools.get(0);
        // Broadcast without SO_BROADCAST: the kernel refuses it (EACCES); the good one still goes.
        PacketBuffer refused = pool.acquire().put(new byte[] {1}).setPeer(Ipv4Address.parse("255.255.255.255"), 9);
        PacketBuffer good = pool.acquire().put(new byte[] {2}).setPeer(LOOPBACK, a.localPort());
        assertEquals(2, a.send(new PacketBuffer[] {refused, good}, 2));
        assertEquals(1, a.counters().dropped(DropReason.SEND_FAILED));
        await(() -> pool.outstanding() <= 8, "sent buffers back in the pool (8 armed for receive)");
    }

    @Test
    void closeStopsTheReceiveThreadAndLaterSendsReturnTheirBuffers() throws Exception {
        SocketTransport a = open(32, 8);
        a.start((batch, n) -> {
            for (int i = 0; i < n; i++) batch[i].release();
        });
        String thread = "dp-udp-" + a.localPort() + "-rx";
        await(() -> threadAlive(thread), "receive thread");
        a.close();
        a.close(); // idempotent
        assertFalse(threadAlive(thread), "receive thread still alive after close");
        PacketPool pool = pools.get(0);
        assertEquals(0, pool.outstanding());
        PacketBuffer late = pool.acquire().put(new byte[] {1}).setPeer(LOOPBACK, 9);
        assertEquals(0, a.send(new PacketBuffer[] {late}, 1));
        assertEquals(0, pool.outstanding());
        assertThrows(IllegalStateException.class, () -> a.start((batch, n) -> {}));
    }

    @Test
    void bindErrorsNameTheAddress() throws Exception {
        SocketTransport a = open(8, 1);
        ErrnoException inUse = assertThrows(ErrnoException.class,
                () -> SocketTransport.udp(UdpTransportConfig.of(LOOPBACK, a.localPort()), pools.get(0)));
        assertTrue(inUse.getMessage().contains("127.0.0.1:" + a.localPort()) && inUse.getMessage().contains("EADDRINUSE"),
                inUse.getMessage());
        ErrnoException notHere = assertThrows(ErrnoException.class,
                () -> SocketTransport.udp(UdpTransportConfig.of(Ipv4Address.parse("192.0.2.99"), 0), pools.get(0)));
        assertTrue(notHere.getMessage().contains("192.0.2.99:0") && notHere.getMessage().contains("EADDRNOTAVAIL"), notHere.getMessage());
        assertNotEquals(0, a.localPort());
    }

    private static boolean threadAlive(String name) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name) && t.isAlive()) return true;
        }
        return false;
    }
}
