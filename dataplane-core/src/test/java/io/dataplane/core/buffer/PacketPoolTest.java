package io.dataplane.core.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PacketPoolTest {

    @Test
    void acquireGivesEmptyDataAtHeadroomAndCountsOutstanding() {
        try (PacketPool pool = new PacketPool(4, 2048, 128)) {
            PacketBuffer b = pool.acquire();
            assertEquals(128, b.offset());
            assertEquals(0, b.length());
            assertEquals(2048, b.capacity());
            assertEquals(1, pool.outstanding());
            b.release();
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void exhaustedPoolReturnsNullAndRecovers() {
        try (PacketPool pool = new PacketPool(2)) {
            PacketBuffer a = pool.acquire();
            PacketBuffer b = pool.acquire();
            assertNull(pool.acquire());
            PacketBuffer[] out = new PacketBuffer[3];
            assertEquals(0, pool.acquire(out, 3));
            a.release();
            assertEquals(1, pool.acquire(out, 3));
            out[0].release();
            b.release();
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void buffersDoNotOverlap() {
        try (PacketPool pool = new PacketPool(8, 256, 32)) {
            List<PacketBuffer> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                PacketBuffer b = pool.acquire();
                b.segment().fill((byte) i);
                all.add(b);
            }
            for (PacketBuffer b : all) {
                byte expected = b.segment().get(ValueLayout.JAVA_BYTE, 0);
                for (long i = 0; i < b.capacity(); i++) assertEquals(expected, b.segment().get(ValueLayout.JAVA_BYTE, i));
            }
            all.forEach(PacketBuffer::release);
        }
    }

    @Test
    void prependTrimAndAppendMoveOffsetNotBytes() {
        try (PacketPool pool = new PacketPool(1, 256, 64)) {
            PacketBuffer b = pool.acquire();
            b.put(new byte[] {1, 2, 3, 4});
            assertTrue(b.prepend(8));
            assertEquals(56, b.offset());
            assertEquals(12, b.length());
            assertFalse(b.prepend(57), "prepend beyond the headroom must fail");
            assertEquals(56, b.offset());
            assertTrue(b.trimFront(8));
            assertArrayEquals(new byte[] {1, 2, 3, 4}, b.toByteArray());
            assertFalse(b.trimFront(5));
            assertTrue(b.append(256 - 64 - 4));
            assertFalse(b.append(1));
            assertThrows(IndexOutOfBoundsException.class, () -> b.setData(250, 10));
            b.release();
        }
    }

    @Test
    void doubleReleaseThrows() {
        try (PacketPool pool = new PacketPool(2)) {
            PacketBuffer b = pool.acquire();
            b.release();
            IllegalStateException e = assertThrows(IllegalStateException.class, b::release);
            assertTrue(e.getMessage().contains("double release"), e.getMessage());
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void useAfterReleaseThrowsInCheckedMode() {
        assertTrue(PacketPool.isChecked(), "tests run with -Ddataplane.buffer.checked=true");
        try (PacketPool pool = new PacketPool(2)) {
            PacketBuffer b = pool.acquire();
            b.release();
            assertThrows(IllegalStateException.class, b::segment);
            assertThrows(IllegalStateException.class, b::offset);
            assertThrows(IllegalStateException.class, () -> b.setData(0, 1));
            assertThrows(IllegalStateException.class, () -> b.prepend(1));
        }
    }

    @Test
    void releaseToForeignPoolThrows() {
        try (PacketPool p1 = new PacketPool(1); PacketPool p2 = new PacketPool(1)) {
            PacketBuffer b = p1.acquire();
            assertThrows(IllegalStateException.class, () -> p2.release(b));
            b.release();
        }
    }

    @Test
    void accessAfterPoolCloseFailsCleanly() {
        PacketPool pool = new PacketPool(1);
        PacketBuffer b = pool.acquire();
        pool.close();
        assertThrows(IllegalStateException.class, () -> b.segment().get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void concurrentAcquireReleaseKeepsCountExact() throws Exception {
        try (PacketPool pool = new PacketPool(64)) {
            int threads = 4;
            CountDownLatch done = new CountDownLatch(threads);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int t = 0; t < threads; t++) {
                Thread.ofPlatform().start(() -> {
                    try {
                        PacketBuffer[] held = new PacketBuffer[8];
                        for (int i = 0; i < 20_000; i++) {
                            int n = pool.acquire(held, 8);
                            for (int k = 0; k < n; k++) held[k].segment().set(ValueLayout.JAVA_BYTE, 0, (byte) k);
                            PacketPool.releaseAll(held, 0, n);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        done.countDown();
                    }
                });
            }
            done.await();
            assertNull(failure.get(), () -> "worker failed: " + failure.get());
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void badSizesNameTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PacketPool(0));
        assertTrue(e.getMessage().contains("count=0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PacketPool(1, 2048, 4096));
        assertTrue(e.getMessage().contains("headroom=4096"), e.getMessage());
    }

    @Test
    void acquireResetsPeerAndGso() {
        try (PacketPool pool = new PacketPool(1)) {
            PacketBuffer b = pool.acquire();
            b.setPeer(0x0a000001, 8472).setGsoSize(1400);
            b.release();
            PacketBuffer c = pool.acquire();
            assertNotNull(c);
            assertEquals(0, c.peerAddress());
            assertEquals(0, c.peerPort());
            assertEquals(0, c.gsoSize());
            c.release();
        }
    }

    // Memory from the JDK's allocation that zeroes what it is told to discard and notes where (offset, length).
    private static final class DiscardingMemory implements PacketPool.Memory {
        final List<long[]> discarded = new ArrayList<>();
        MemorySegment base;

        @Override
        public MemorySegment allocate(Arena arena, long bytes) {
            base = arena.allocate(bytes, 4096);
            return base;
        }

        @Override
        public void discard(MemorySegment pages) {
            synchronized (discarded) {
                discarded.add(new long[] {pages.address() - base.address(), pages.byteSize()});
            }
            pages.fill((byte) 0);
        }
    }

    @Test
    void discardGivesBackEveryPageOfEachHeldBufferAndKeepsThemHeld() {
        DiscardingMemory memory = new DiscardingMemory();
        int size = 3 * 4096 + 512;
        try (PacketPool pool = new PacketPool(3, size, 128, memory)) {
            PacketBuffer[] held = new PacketBuffer[3];
            assertEquals(3, pool.acquire(held, 3));
            for (PacketBuffer b : held) {
                assertEquals(0, (b.segment().address() - memory.base.address()) % 4096, "buffer #" + b.index() + " starts on a page");
                assertEquals(size, b.segment().byteSize());
                b.segment().fill((byte) 9);
            }
            pool.discard(held, 0, 2);
            assertEquals(3, pool.outstanding());
            // Slot 0 is [0, 12800) of the pages [0, 16384), slot 1 [16384, 29184) of [16384, 32768): no page shared.
            assertEquals(2, memory.discarded.size());
            assertArrayEquals(new long[] {0, 16384}, memory.discarded.get(0));
            assertArrayEquals(new long[] {16384, 16384}, memory.discarded.get(1));
            assertEquals(0, held[0].segment().get(ValueLayout.JAVA_BYTE, size - 1), "the last, partly used page of slot 0 goes too");
            assertEquals(0, held[1].segment().get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(9, held[2].segment().get(ValueLayout.JAVA_BYTE, 0), "slot 2 is not among those discarded");
            PacketPool.releaseAll(held, 0, 3);
        }
    }

    @Test
    void discardIdleAlsoGoesThroughTheFreeBuffersAndLeavesThemFree() {
        DiscardingMemory memory = new DiscardingMemory();
        try (PacketPool pool = new PacketPool(4, 8192, 128, memory)) {
            PacketBuffer[] held = new PacketBuffer[4];
            assertEquals(1, pool.acquire(held, 1));
            PacketPool.discardIdle(held, 0, 1);
            assertEquals(4, memory.discarded.size(), "the held buffer and the three free ones");
            assertEquals(1, pool.outstanding());
            assertEquals(3, pool.acquire(held, 1, 4), "the free ones are free again");
            PacketPool.releaseAll(held, 0, 4);
            assertEquals(4, pool.discardFree(), "all four free now");
        }
    }

    @Test
    void smallBuffersGiveBackThePagesAllOfWhoseBuffersAreIdle() {
        DiscardingMemory memory = new DiscardingMemory();
        try (PacketPool pool = new PacketPool(16, 2048, 128, memory)) {
            memory.base.fill((byte) 9);
            PacketBuffer[] held = new PacketBuffer[3];
            assertEquals(3, pool.acquire(held, 3)); // #0 and #1 (page 0) armed by the caller, #2 (page 1) in use elsewhere
            assertEquals(List.of(0, 1, 2), List.of(held[0].index(), held[1].index(), held[2].index()));
            PacketPool.discardIdle(held, 0, 2);
            List<Long> pages = memory.discarded.stream().map(d -> d[0]).sorted().toList();
            assertEquals(List.of(0L, 8192L, 12288L, 16384L, 20480L, 24576L, 28672L), pages,
                    "page 0 (held), pages 2-7 (free); not page 1, whose #2 is in use");
            for (long[] d : memory.discarded) assertEquals(4096, d[1]);
            assertEquals(9, memory.base.get(ValueLayout.JAVA_BYTE, 2 * 2048), "#2 untouched");
            assertEquals(9, memory.base.get(ValueLayout.JAVA_BYTE, 3 * 2048), "#3, free, shares its page with #2");
            assertEquals(0, memory.base.get(ValueLayout.JAVA_BYTE, 5 * 2048));
            assertEquals(3, pool.outstanding());
            PacketBuffer[] rest = new PacketBuffer[13];
            assertEquals(13, pool.acquire(rest, 13), "the free ones are free again");
            PacketPool.releaseAll(rest, 0, 13);
            PacketPool.releaseAll(held, 0, 3);
            memory.discarded.clear();
            assertEquals(16, pool.discardFree(), "all sixteen free now");
            assertEquals(8, memory.discarded.size(), "every page");
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void smallBuffersWhosePagesAreInUseAreLeftAndHalfTheFreeOnesStayInThePool() {
        DiscardingMemory memory = new DiscardingMemory();
        try (PacketPool pool = new PacketPool(16, 2048, 128, memory)) {
            PacketBuffer[] all = new PacketBuffer[16];
            assertEquals(16, pool.acquire(all, 16));
            for (int i = 1; i < 16; i += 2) {
                all[i].release(); // every page keeps one buffer in use
                all[i] = null;
            }
            assertEquals(8, 16 - pool.outstanding());
            // None of the pages completes, so the free ones taken out wait until half of them are out.
            assertEquals(4, pool.discardFree(), "took out half the free buffers, then stopped");
            assertEquals(List.of(), memory.discarded, "no page of a buffer in use");
            assertEquals(8, pool.outstanding(), "all the free ones back");
            PacketPool.releaseAll(all, 0, 16);
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void aReaderGoingIdleAlsoGivesBackItsPoolsPartnersFreePages() {
        DiscardingMemory large = new DiscardingMemory();
        DiscardingMemory small = new DiscardingMemory();
        try (PacketPool tunPool = new PacketPool(2, 8192, 128, large); PacketPool pool = new PacketPool(8, 2048, 128, small)) {
            tunPool.idleWith(pool);
            PacketBuffer inUse = pool.acquire(); // #0: page 0 stays
            PacketBuffer[] armed = new PacketBuffer[1];
            assertEquals(1, tunPool.acquire(armed, 1));
            PacketPool.discardIdle(armed, 0, 1);
            assertEquals(2, large.discarded.size(), "the armed buffer and the free one");
            assertEquals(List.of(4096L, 8192L, 12288L), small.discarded.stream().map(d -> d[0]).sorted().toList(),
                    "the partner's pages all of whose buffers are free");
            assertEquals(1, pool.outstanding());
            inUse.release();
            armed[0].release();
            assertThrows(IllegalArgumentException.class, () -> pool.idleWith(pool));
        }
    }

    @Test
    void smallBuffersThatDoNotDivideAPageDiscardNothing() {
        DiscardingMemory memory = new DiscardingMemory();
        try (PacketPool pool = new PacketPool(8, 1500, 128, memory)) {
            PacketBuffer[] held = new PacketBuffer[2];
            assertEquals(2, pool.acquire(held, 2));
            PacketPool.discardIdle(held, 0, 2);
            assertEquals(0, pool.discardFree());
            assertEquals(List.of(), memory.discarded);
            PacketPool.releaseAll(held, 0, 2);
        }
    }

    @Test
    void theJdksMemoryIgnoresDiscard() {
        try (PacketPool pool = new PacketPool(2, 8192, 128)) {
            PacketBuffer b = pool.acquire();
            b.segment().fill((byte) 3);
            pool.discard(new PacketBuffer[] {b}, 0, 1);
            assertEquals(3, b.segment().get(ValueLayout.JAVA_BYTE, 4096), "nothing given back, nothing lost");
            b.release();
        }
    }
}
