package io.dataplane.core.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PacketRingTest {

    @Test
    void fullRingRejectsAndReleases() {
        try (PacketPool pool = new PacketPool(8)) {
            PacketRing ring = new PacketRing(4, false);
            for (int i = 0; i < 4; i++) assertTrue(ring.offer(pool.acquire()));
            PacketBuffer extra = pool.acquire();
            assertFalse(ring.offer(extra));
            assertFalse(extra.isOwned(), "a refused packet must go back to the pool");
            assertEquals(4, pool.outstanding());
            assertEquals(4, ring.clear());
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void batchOfferKeepsOrderAndCountsWhatFits() {
        try (PacketPool pool = new PacketPool(16)) {
            PacketRing ring = new PacketRing(8, true);
            PacketBuffer[] in = new PacketBuffer[10];
            assertEquals(10, pool.acquire(in, 10));
            PacketBuffer first = in[0];
            assertEquals(8, ring.offer(in, 10));
            assertNull(in[0], "offered slots are cleared");
            assertEquals(8, pool.outstanding());
            PacketBuffer[] out = new PacketBuffer[16];
            assertEquals(3, ring.drain(out, 3));
            assertSame(first, out[0]);
            PacketPool.releaseAll(out, 0, 3);
            assertEquals(5, ring.drain(out, 16));
            assertTrue(ring.isEmpty());
            PacketPool.releaseAll(out, 0, 16);
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void handoffBetweenThreadsLosesNothing() throws Exception {
        int total = 200_000;
        try (PacketPool pool = new PacketPool(1024)) {
            PacketRing ring = new PacketRing(256, false);
            AtomicLong received = new AtomicLong();
            AtomicLong sum = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread consumer = Thread.ofPlatform().start(() -> {
                PacketBuffer[] out = new PacketBuffer[32];
                try {
                    while (received.get() < total) {
                        int n = ring.drain(out, 32);
                        if (n == 0) {
                            ring.await(10, TimeUnit.MILLISECONDS);
                            continue;
                        }
                        for (int i = 0; i < n; i++) sum.addAndGet(out[i].segment().get(ValueLayout.JAVA_INT, out[i].offset()));
                        received.addAndGet(n);
                        PacketPool.releaseAll(out, 0, n);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            long dropped = 0;
            long expectedSum = 0;
            for (int i = 0; i < total; i++) {
                PacketBuffer b;
                while ((b = pool.acquire()) == null) Thread.onSpinWait();
                b.segment().set(ValueLayout.JAVA_INT, b.offset(), i);
                b.setLength(4);
                while (!ring.offer(b)) {
                    dropped++;
                    while ((b = pool.acquire()) == null) Thread.onSpinWait();
                    b.segment().set(ValueLayout.JAVA_INT, b.offset(), i);
                    b.setLength(4);
                }
                expectedSum += i;
            }
            consumer.join(30_000);
            assertNull(failure.get());
            assertEquals(total, received.get());
            assertEquals(expectedSum, sum.get(), "payloads corrupted in handoff (" + dropped + " retries)");
            assertEquals(0, pool.outstanding());
        }
    }
}
