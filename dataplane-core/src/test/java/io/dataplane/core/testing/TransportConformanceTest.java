package io.dataplane.core.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Transport} must do, run against each implementation by a subclass: datagrams
 * arrive whole with the sender's endpoint, in batches, and every buffer is back in its pool after
 * close.
 */
public abstract class TransportConformanceTest {

    /** Two transports that can reach each other, and how to address them. */
    protected interface Pair extends AutoCloseable {
        Transport a();

        Transport b();

        /** The address b sees a's datagrams come from, and a uses to reach b (IPv4 as int). */
        int addressOfA();

        int addressOfB();

        PacketPool poolA();

        PacketPool poolB();

        @Override
        void close() throws Exception;
    }

    /**
     * A {@link Pair} of two open transports: {@link #close} closes both transports, both pools, and
     * then {@code also} (what else the pair needed, a namespace say; null for nothing).
     */
    protected record OpenPair(Transport a, Transport b, int addressOfA, int addressOfB, PacketPool poolA, PacketPool poolB,
            AutoCloseable also) implements Pair {
        /** Public, so that subclasses in other packages can make one. */
        public OpenPair {
            if (a == null || b == null) throw new IllegalArgumentException("transport missing: a=" + a + " b=" + b);
        }

        @Override
        public void close() throws Exception {
            a.close();
            b.close();
            poolA.close();
            poolB.close();
            if (also != null) also.close();
        }
    }

    /** Builds a fresh pair (called before each test). */
    protected abstract Pair createPair() throws Exception;

    /** Received datagram: payload copy and source endpoint. */
    protected record Datagram(byte[] payload, int address, int port) {}

    protected Pair pair;
    protected final BlockingQueue<Datagram> receivedByB = new LinkedBlockingQueue<>();
    private final AtomicInteger idleCallsOfB = new AtomicInteger();
    private final AtomicInteger takenByB = new AtomicInteger();
    // How many datagrams b had received at its last onIdle; -1 when a batch came after it.
    private final AtomicInteger lastIdleOfB = new AtomicInteger(-1);

    @BeforeEach
    void open() throws Exception {
        pair = createPair();
        pair.a().start((batch, n) -> {
            for (int i = 0; i < n; i++) batch[i].release();
        });
        pair.b().start(new Transport.Receiver() {
            @Override
            public void onReceive(PacketBuffer[] batch, int n) {
                for (int i = 0; i < n; i++) {
                    PacketBuffer p = batch[i];
                    receivedByB.add(new Datagram(p.toByteArray(), p.peerAddress(), p.peerPort()));
                    p.release();
                }
                takenByB.addAndGet(n);
                lastIdleOfB.set(-1);
            }

            @Override
            public void onIdle() {
                idleCallsOfB.incrementAndGet();
                lastIdleOfB.set(takenByB.get());
            }
        });
    }

    @AfterEach
    void closePair() throws Exception {
        if (pair == null) return; // createPair skipped: the machine cannot run this implementation
        PacketPool pa = pair.poolA();
        PacketPool pb = pair.poolB();
        pair.a().close();
        pair.b().close();
        assertEquals(0, pa.outstanding(), "buffers of a still out after close");
        assertEquals(0, pb.outstanding(), "buffers of b still out after close");
        pair.close();
    }

    private PacketBuffer datagram(byte[] payload) {
        PacketBuffer p = pair.poolA().acquire();
        assertNotNull(p, "pool a exhausted");
        return p.put(payload).setPeer(pair.addressOfB(), pair.b().localPort());
    }

    @Test
    void datagramArrivesWholeWithSenderEndpoint() throws Exception {
        byte[] payload = new byte[1400];
        for (int i = 0; i < payload.length; i++) payload[i] = (byte) (i * 7 + 3);
        PacketBuffer[] batch = {datagram(payload)};
        assertEquals(1, pair.a().send(batch, 1));
        Datagram d = receivedByB.poll(5, TimeUnit.SECONDS);
        assertNotNull(d, "nothing arrived within 5 s");
        assertArrayEquals(payload, d.payload());
        assertEquals(pair.addressOfA(), d.address());
        assertEquals(pair.a().localPort(), d.port());
    }

    @Test
    void batchOfDatagramsAllArrive() throws Exception {
        int n = 200;
        int sent = 0;
        PacketBuffer[] batch = new PacketBuffer[16];
        while (sent < n) {
            int k = Math.min(batch.length, n - sent);
            for (int i = 0; i < k; i++) batch[i] = datagram(new byte[] {(byte) (sent + i), (byte) ((sent + i) >> 8), 42});
            int accepted = pair.a().send(batch, k);
            assertEquals(k, accepted, "send ring refused datagrams at an idle transport");
            sent += k;
            Thread.sleep(1);
        }
        Set<Integer> seen = new HashSet<>();
        while (seen.size() < n) {
            Datagram d = receivedByB.poll(5, TimeUnit.SECONDS);
            assertNotNull(d, "only " + seen.size() + " of " + n + " datagrams arrived");
            assertEquals(3, d.payload().length);
            seen.add((d.payload()[0] & 0xff) | (d.payload()[1] & 0xff) << 8);
        }
        assertEquals(n, seen.size());
    }

    @Test
    void idleIsReportedOnceTheDatagramsAreTakenOrNeverAtAll() throws Exception {
        PacketBuffer[] batch = {datagram(new byte[] {1, 2, 3}), datagram(new byte[] {4, 5, 6})};
        assertEquals(2, pair.a().send(batch, 2));
        for (int i = 0; i < 2; i++) assertNotNull(receivedByB.poll(5, TimeUnit.SECONDS), "datagram " + i + " did not arrive within 5 s");
        if (!pair.b().reportsIdle()) {
            assertEquals(0, idleCallsOfB.get(), "onIdle called by a transport that does not report idle");
            return;
        }
        // Nothing more comes: before it waits, the transport tells its receiver, after the last batch.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (lastIdleOfB.get() != 2) {
            assertTrue(System.nanoTime() < deadline, "no onIdle after both datagrams within 5 s (last: " + lastIdleOfB.get() + ")");
            Thread.sleep(1);
        }
    }

    @Test
    void sendAfterCloseReturnsBuffers() throws Exception {
        pair.a().close();
        PacketBuffer[] batch = {datagram(new byte[] {1, 2, 3})};
        pair.a().send(batch, 1);
        assertEquals(0, pair.poolA().outstanding(), "buffer sent after close was not returned");
    }
}
