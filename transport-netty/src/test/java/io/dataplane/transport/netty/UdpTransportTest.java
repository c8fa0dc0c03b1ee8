package io.dataplane.transport.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.udp.UdpTransportConfig;
import io.netty.channel.unix.UnixChannelUtil;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the Netty UDP transport promises beyond the SPI's conformance test: zero copy in both
 * directions, real batches, bounded send ring, resilience to failing destinations and to a dry pool,
 * and every buffer back after close. All on 127.0.0.1, no root needed.
 */
class UdpTransportTest {
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private static final int BROADCAST = Ipv4Address.parse("255.255.255.255");

    private final List<UdpTransport> transports = new ArrayList<>();
    private final List<PacketPool> pools = new ArrayList<>();

    @BeforeEach
    void epollAvailable() {
        Prerequisites.require(UdpTransport.isAvailable(), "Netty epoll unavailable: " + UdpTransport.unavailabilityCause());
    }

    @AfterEach
    void closeEverything() {
        for (UdpTransport t : transports) t.close();
        for (PacketPool p : pools) {
            assertEquals(0, p.outstanding(), "buffers still out after every transport closed");
            p.close();
        }
    }

    private PacketPool pool(int count) {
        PacketPool p = new PacketPool(count);
        pools.add(p);
        return p;
    }

    private UdpTransport open(UdpTransportConfig config, PacketPool pool) throws IOException {
        UdpTransport t = UdpTransport.open(config, pool);
        transports.add(t);
        return t;
    }

    private UdpTransport open(PacketPool pool) throws IOException {
        return open(UdpTransportConfig.of(LOOPBACK, 0), pool);
    }

    /** A datagram from {@code pool} to {@code 127.0.0.1:port} carrying {@code seq} in its first 4 bytes. */
    private static PacketBuffer datagram(PacketPool pool, int port, int seq, int size) {
        PacketBuffer p = pool.acquire();
        assertNotNull(p, "pool exhausted while building datagrams");
        byte[] payload = new byte[size];
        payload[0] = (byte) (seq >>> 24);
        payload[1] = (byte) (seq >>> 16);
        payload[2] = (byte) (seq >>> 8);
        payload[3] = (byte) seq;
        for (int i = 4; i < size; i++) payload[i] = (byte) (seq + i);
        return p.put(payload).setPeer(LOOPBACK, port);
    }

    private static int seqOf(PacketBuffer p) {
        return p.segment().get(io.dataplane.core.wire.NetworkOrder.U32, p.offset());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after 10 s waiting for: " + what);
            Thread.sleep(1);
        }
    }

    /** A receiver that checks each datagram, remembers its sequence number and releases it. */
    private static final class Collector implements Transport.Receiver {
        final ConcurrentLinkedQueue<Integer> seqs = new ConcurrentLinkedQueue<>();
        final AtomicInteger count = new AtomicInteger();
        final AtomicInteger largestBatch = new AtomicInteger();
        final AtomicInteger notAtHeadroom = new AtomicInteger();
        final AtomicInteger foreign = new AtomicInteger();
        final PacketPool expectedPool;

        Collector(PacketPool expectedPool) {
            this.expectedPool = expectedPool;
        }

        @Override
        public void onReceive(PacketBuffer[] batch, int n) {
            largestBatch.accumulateAndGet(n, Math::max);
            for (int i = 0; i < n; i++) {
                PacketBuffer p = batch[i];
                if (p.pool() != expectedPool) foreign.incrementAndGet();
                if (p.offset() != expectedPool.headroom()) notAtHeadroom.incrementAndGet();
                seqs.add(seqOf(p));
                count.incrementAndGet();
                p.release();
            }
        }
    }

    @Test
    void receivedDatagramsLandInPoolBuffersAtHeadroomAndSendsAreNotCopied() throws Exception {
        PacketPool poolA = pool(256);
        PacketPool poolB = pool(256);
        UdpTransport a = open(poolA);
        UdpTransport b = open(poolB);
        Collector got = new Collector(poolB);
        a.start((batch, n) -> PacketPool.releaseAll(batch, 0, n));
        b.start(got);

        // Netty would copy a buffer it cannot hand to the kernel as it is; ours never needs it.
        PacketBuffer probe = poolA.acquire();
        PacketByteBuf view = PacketByteBuf.of(probe, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
        assertTrue(view.hasMemoryAddress());
        assertEquals(probe.address(), view.claim(probe.offset(), probe.offset() + 1).memoryAddress());
        assertFalse(UnixChannelUtil.isBufferCopyNeededForWrite(view));
        assertTrue(probe.attachment() == view, "the view is kept with the buffer, one per buffer");
        view.detach();
        probe.release();

        int n = 300;
        for (int seq = 0; seq < n; seq += 10) {
            PacketBuffer[] burst = new PacketBuffer[10];
            for (int i = 0; i < 10; i++) burst[i] = datagram(poolA, b.localPort(), seq + i, 1400);
            assertEquals(10, a.send(burst, 10));
            int sent = seq + 10;
            await(() -> got.count.get() >= sent - 50, "receiver to catch up");
        }
        await(() -> got.count.get() == n, n + " datagrams at b");
        assertEquals(0, got.foreign.get(), "datagrams received into buffers of another pool");
        assertEquals(0, got.notAtHeadroom.get(), "datagrams not at the pool's headroom");
        assertEquals(0, a.outOfPoolAllocations(), "Netty allocated buffers of its own on the send side");
        assertEquals(0, b.outOfPoolAllocations(), "Netty allocated buffers of its own on the receive side");
        await(() -> poolA.outstanding() == 0, "sent buffers back in pool a");
        assertEquals(1, a.cachedPeers(), "one socket address for the one peer");
    }

    @Test
    void burstsOf1000DatagramsAllArriveThroughRecvmmsgBatches() throws Exception {
        PacketPool poolA = pool(1024);
        PacketPool poolB = pool(1024);
        UdpTransport a = open(poolA);
        UdpTransport b = open(poolB);
        a.start((batch, n) -> PacketPool.releaseAll(batch, 0, n));

        // Before b starts reading, a first burst waits in b's socket: the first recvmmsg must take many.
        int queued = 48;
        PacketBuffer[] first = new PacketBuffer[queued];
        for (int i = 0; i < queued; i++) first[i] = datagram(poolA, b.localPort(), i, 64);
        assertEquals(queued, a.send(first, queued));
        await(() -> poolA.outstanding() == 0, "first burst sent");
        Thread.sleep(20); // loopback delivery is synchronous with the send; this is slack, not a sync point

        Collector got = new Collector(poolB);
        b.start(got);
        await(() -> got.count.get() == queued, "queued burst received");
        assertTrue(b.largestReceiveBatch() > 1,
                "recvmmsg returned at most " + b.largestReceiveBatch() + " datagram per call");
        assertTrue(got.largestBatch.get() > 1, "receiver got datagrams one by one");

        int total = 1000;
        int burst = 50;
        Thread producer = Thread.ofPlatform().name("udp-test-producer").start(() -> {
            PacketBuffer[] batch = new PacketBuffer[burst];
            for (int seq = queued; seq < total; seq += burst) {
                int k = Math.min(burst, total - seq);
                for (int i = 0; i < k; i++) batch[i] = datagram(poolA, b.localPort(), seq + i, 64 + (seq + i) % 1300);
                int accepted = a.send(batch, k);
                if (accepted != k) throw new AssertionError("ring refused " + (k - accepted) + " datagrams");
                int sent = seq + k;
                // Keep what is in flight well under the receive buffer, so the kernel never drops.
                while (got.count.get() < sent - 4 * burst) Thread.onSpinWait();
            }
        });
        producer.join(20_000);
        assertFalse(producer.isAlive(), "producer stuck");
        await(() -> got.count.get() == total, total + " datagrams at b, got " + got.count.get());
        boolean[] seen = new boolean[total];
        for (int s : got.seqs) seen[s] = true;
        for (int s = 0; s < total; s++) assertTrue(seen[s], "datagram " + s + " missing");
        assertEquals(0, got.foreign.get() + got.notAtHeadroom.get());
        assertTrue(b.receiveCalls() < total, "every datagram took its own receive call");
    }

    @Test
    void sendRingFullReleasesWhatDoesNotFit() throws Exception {
        PacketPool poolA = pool(256);
        PacketPool poolB = pool(256);
        UdpTransport a = open(UdpTransportConfig.of(LOOPBACK, 0).withRingCapacity(16), poolA);
        UdpTransport b = open(poolB);
        Collector got = new Collector(poolB);
        b.start(got);

        // One call from an idle transport: the drain task is scheduled only after the offers, so exactly
        // the ring's capacity fits and the rest comes back to the pool at once.
        PacketBuffer[] batch = new PacketBuffer[100];
        for (int i = 0; i < batch.length; i++) batch[i] = datagram(poolA, b.localPort(), i, 64);
        int accepted = a.send(batch, batch.length);
        assertEquals(16, accepted, "accepted beyond or below the ring capacity");
        assertTrue(poolA.outstanding() <= 16, "refused datagrams were not released: outstanding=" + poolA.outstanding());
        await(() -> got.count.get() == 16, "the 16 accepted datagrams at b");
        await(() -> poolA.outstanding() == 0, "sent buffers back");
        for (int s : got.seqs) assertTrue(s < 16, "datagram " + s + " was reported refused but went out");
    }

    @Test
    void failingDestinationsAreCountedAndOtherPeersKeepReceiving() throws Exception {
        PacketPool poolA = pool(256);
        PacketPool poolB = pool(256);
        UdpTransport a = open(poolA);
        UdpTransport b = open(poolB);
        Collector got = new Collector(poolB);
        a.start((batch, n) -> PacketPool.releaseAll(batch, 0, n));
        b.start(got);
        int closedPort;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            closedPort = s.getLocalPort();
        }

        int rounds = 20;
        int broadcasts = 0;
        for (int r = 0; r < rounds; r++) {
            // One sendmmsg batch mixing a good peer, a closed port (ICMP port unreachable) and the
            // broadcast address (EACCES without SO_BROADCAST), so failures hit mid-batch.
            PacketBuffer[] batch = {
                datagram(poolA, b.localPort(), 2 * r, 100),
                datagram(poolA, closedPort, -1, 100),
                datagram(poolA, 0, -1, 100).setPeer(BROADCAST, b.localPort()),
                datagram(poolA, b.localPort(), 2 * r + 1, 100),
            };
            broadcasts++;
            assertEquals(batch.length, a.send(batch, batch.length));
            Thread.sleep(2);
        }
        await(() -> got.count.get() == 2 * rounds, "every datagram to the live peer");
        int expectedFailures = broadcasts;
        await(() -> a.counters().dropped(DropReason.SEND_FAILED) == expectedFailures, "refused broadcasts counted: "
                + a.counters().dropped(DropReason.SEND_FAILED));
        await(() -> poolA.outstanding() == 0, "failed and sent buffers back");
        // An unconnected socket without IP_RECVERR never hears of the closed port: nothing else failed.
        assertEquals(expectedFailures, a.counters().droppedTotal());
    }

    @Test
    void closeWithDatagramsInFlightReturnsEveryBuffer() throws Exception {
        PacketPool poolA = pool(2048);
        PacketPool poolB = pool(2048);
        UdpTransport a = open(UdpTransportConfig.of(LOOPBACK, 0).withSocketBuffers(64 << 10, 16 << 10), poolA);
        UdpTransport b = open(UdpTransportConfig.of(LOOPBACK, 0).withSocketBuffers(64 << 10, 16 << 10), poolB);
        AtomicLong atB = new AtomicLong();
        a.start((batch, n) -> PacketPool.releaseAll(batch, 0, n));
        b.start((batch, n) -> {
            atB.addAndGet(n);
            PacketPool.releaseAll(batch, 0, n);
        });
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong refusedAfterClose = new AtomicLong();
        Thread producer = Thread.ofPlatform().name("udp-test-flood").start(() -> {
            PacketBuffer[] batch = new PacketBuffer[64];
            while (!stop.get()) {
                int k = poolA.acquire(batch, batch.length);
                for (int i = 0; i < k; i++) batch[i].setData(poolA.headroom(), 1200).setPeer(LOOPBACK, b.localPort());
                int accepted = a.send(batch, k);
                if (accepted == 0 && k > 0) refusedAfterClose.incrementAndGet();
                if (k == 0) Thread.onSpinWait();
            }
        });
        try {
            await(() -> atB.get() > 500, "traffic flowing");
            b.close(); // receiver goes away with datagrams arriving and armed buffers
            Thread.sleep(20);
            a.close(); // sender goes away with the ring and Netty's outbound buffer full
            await(() -> refusedAfterClose.get() > 0, "sends after close refused");
        } finally {
            stop.set(true);
            producer.join(5_000);
        }
        assertFalse(producer.isAlive());
        assertEquals(0, poolA.outstanding(), "sender's buffers still out after close");
        assertEquals(0, poolB.outstanding(), "receiver's buffers still out after close");
    }

    @Test
    void dryPoolOnReceiveIsCountedAndRecovers() throws Exception {
        PacketPool poolA = pool(64);
        PacketPool poolB = pool(16);
        UdpTransport a = open(poolA);
        UdpTransport b = open(UdpTransportConfig.of(LOOPBACK, 0).withBatchSize(4), poolB);
        List<PacketBuffer> held = new ArrayList<>();
        AtomicInteger got = new AtomicInteger();
        AtomicBoolean hold = new AtomicBoolean(true);
        b.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                got.incrementAndGet();
                if (hold.get()) {
                    synchronized (held) {
                        held.add(batch[i]);
                    }
                } else {
                    batch[i].release();
                }
            }
        });
        int sent = 0;
        for (; sent < 40; sent++) {
            PacketBuffer[] one = {datagram(poolA, b.localPort(), sent, 200)};
            assertEquals(1, a.send(one, 1));
            int s = sent + 1;
            await(() -> got.get() + b.counters().dropped(DropReason.POOL_EXHAUSTED) == s, "datagram " + s + " accounted");
        }
        long exhausted = b.counters().dropped(DropReason.POOL_EXHAUSTED);
        assertTrue(exhausted > 0, "pool of 16 never ran dry holding 40 datagrams");
        assertTrue(got.get() <= 16, "more datagrams delivered than the pool has buffers: " + got.get());
        assertEquals(40, got.get() + exhausted);

        hold.set(false);
        synchronized (held) {
            for (PacketBuffer p : held) p.release();
            held.clear();
        }
        int before = got.get();
        PacketBuffer[] more = new PacketBuffer[5];
        for (int i = 0; i < 5; i++) more[i] = datagram(poolA, b.localPort(), 100 + i, 200);
        assertEquals(5, a.send(more, 5));
        await(() -> got.get() == before + 5, "datagrams after the pool refilled");
        assertEquals(exhausted, b.counters().dropped(DropReason.POOL_EXHAUSTED));
    }

    @Test
    void datagramThatFillsItsSlotIsDroppedAsOversize() throws Exception {
        PacketPool poolB = pool(64);
        UdpTransport b = open(poolB);
        Collector got = new Collector(poolB);
        b.start(got);
        int slot = poolB.bufferSize() - poolB.headroom();
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            s.send(new DatagramPacket(new byte[3000], 3000, lo, b.localPort())); // cut short by recvmmsg
            s.send(new DatagramPacket(new byte[slot], slot, lo, b.localPort())); // cannot be told from a cut one
            byte[] ok = new byte[slot - 1];
            s.send(new DatagramPacket(ok, ok.length, lo, b.localPort()));
        }
        await(() -> got.count.get() == 1, "the datagram that fits");
        await(() -> b.counters().dropped(DropReason.OVERSIZE) == 2, "oversize datagrams counted");
    }

    @Test
    void bindsTheGivenPortAndRefusesOneInUse() throws Exception {
        PacketPool p = pool(16);
        UdpTransport a = open(p);
        assertTrue(a.localPort() > 0, "ephemeral port not reported");
        IOException e = assertThrows(IOException.class, () -> open(UdpTransportConfig.of(LOOPBACK, a.localPort()), p));
        assertTrue(e.getMessage().contains("127.0.0.1:" + a.localPort()), e.getMessage());
        assertThrows(IllegalStateException.class, () -> {
            a.start((batch, n) -> {});
            a.start((batch, n) -> {});
        });
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> UdpTransportConfig.of(LOOPBACK, 0).withRingCapacity(1000));
        assertTrue(bad.getMessage().contains("ringCapacity=1000"), bad.getMessage());
    }
}
