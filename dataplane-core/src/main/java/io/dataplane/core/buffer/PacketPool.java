package io.dataplane.core.buffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.jctools.queues.atomic.MpmcAtomicArrayQueue;

/**
 * A fixed set of off-heap packet buffers carved out of one native allocation.
 *
 * <p>Every buffer is {@link #bufferSize()} bytes; acquire hands one out with its data
 * empty at {@link #headroom()}, so the largest encapsulation fits in front of the packet without a
 * copy. Buffers move between threads through rings, so acquire and release are safe from any
 * thread; the free list is a lock-free MPMC queue. No allocation happens after construction.
 *
 * <p>Buffers of a page or more each start on a page boundary and own whole pages (the slot rounded
 * up to the page), so that {@link #discard} gives back every page of an idle buffer: with slots
 * packed back to back, the page two buffers share stays resident, one page per buffer of a pool
 * of 64 KiB buffers that its traffic wrote once. Smaller buffers share pages (two 2 KiB buffers a
 * page); {@link #discardIdle} gives back a page once every buffer on it is idle.
 *
 * <p>{@link #outstanding()} counts buffers handed out and not yet released; tests assert it is 0
 * after shutdown. A double release always throws; with {@code -Ddataplane.buffer.checked=true}
 * released memory is also poisoned and every accessor of a released buffer throws.
 */
public final class PacketPool implements AutoCloseable {
    /** Default slot size: an Ethernet MTU packet plus headroom and WireGuard's tailroom, rounded to 2 KiB. */
    public static final int DEFAULT_BUFFER_SIZE = 2048;
    /** Default headroom: room for the largest encapsulation header (and a virtio_net_hdr), cache-line aligned. */
    public static final int DEFAULT_HEADROOM = 128;
    private static final byte POISON = (byte) 0xDB;

    private final Arena arena;
    private final Memory source;
    private final MemorySegment memory;
    private final PacketBuffer[] buffers;
    private final MpmcAtomicArrayQueue<PacketBuffer> free;
    private final int bufferSize;
    /** Bytes from one buffer's start to the next's: the buffer size, rounded up to the page for buffers of a page or more. */
    private final long stride;
    private final int headroom;
    // Pools of buffers smaller than a page that divide it: buffers a page, the idle ones counted on
    // each page, and the free ones taken out while their page waits for the rest (discardSharedPages).
    private final int perPage;
    private final int[] idleOnPage;
    private final PacketBuffer[] parked;
    // A pool whose free buffers' pages go back whenever a reader of this one's goes idle (idleWith).
    private volatile PacketPool idlePartner;

    /**
     * Where a pool's memory comes from: {@code bytes} bytes, page-aligned, zero or never read before
     * written, that live until {@code arena} closes.
     */
    @FunctionalInterface
    public interface Memory {
        /** The JDK's native allocation: zeroed, so every page is resident from the start. */
        Memory ZEROED = (arena, bytes) -> arena.allocate(bytes, 4096);

        /** A segment of {@code bytes} bytes that lives until {@code arena} closes. */
        MemorySegment allocate(Arena arena, long bytes);

        /**
         * Gives the whole pages of {@code pages} (page-aligned, a slice of memory from {@link
         * #allocate}) back to the system, their contents no longer needed: they read as zeros when
         * next touched and cost nothing until then. Memory that cannot does nothing (the default).
         */
        default void discard(MemorySegment pages) {}
    }

    /** The page size {@link #discard} works in. */
    private static final long PAGE = 4096;

    /**
     * Allocates {@code count} buffers of {@code bufferSize} bytes, each handed out with {@code headroom}
     * bytes free in front of the data.
     */
    public PacketPool(int count, int bufferSize, int headroom) {
        this(count, bufferSize, headroom, Memory.ZEROED);
    }

    /**
     * As {@link #PacketPool(int, int, int)}, the buffers carved out of memory from {@code source}: memory whose
     * pages become resident when first written (anonymous pages from {@code mmap}) keeps a pool of
     * 64 KiB buffers that mostly carry MTU-sized packets from costing its full size.
     */
    public PacketPool(int count, int bufferSize, int headroom, Memory source) {
        if (count < 1) throw new IllegalArgumentException("pool size must be at least 1: count=" + count);
        if (bufferSize < 64) throw new IllegalArgumentException("buffer size too small: bufferSize=" + bufferSize + " (min 64)");
        if (headroom < 0 || headroom >= bufferSize) {
            throw new IllegalArgumentException("headroom out of range: headroom=" + headroom + " (bufferSize=" + bufferSize + ")");
        }
        long stride = bufferSize >= PAGE ? (bufferSize + PAGE - 1) & -PAGE : bufferSize;
        if (count * stride > Integer.MAX_VALUE * 8L) {
            throw new IllegalArgumentException("pool too large: count=" + count + " bufferSize=" + bufferSize);
        }
        this.bufferSize = bufferSize;
        this.stride = stride;
        this.headroom = headroom;
        this.perPage = bufferSize < PAGE && PAGE % bufferSize == 0 ? (int) (PAGE / bufferSize) : 0;
        this.idleOnPage = perPage > 0 ? new int[count / perPage] : null;
        this.parked = perPage > 0 ? new PacketBuffer[count] : null;
        this.arena = Arena.ofShared();
        this.source = source;
        this.memory = source.allocate(arena, count * stride);
        this.buffers = new PacketBuffer[count];
        // Twice the buffers: an MPMC slot can still be in a consumer's hands when a producer laps to it.
        this.free = new MpmcAtomicArrayQueue<>(Math.max(4, 2 * count));
        for (int i = 0; i < count; i++) {
            buffers[i] = new PacketBuffer(this, i, memory.asSlice(i * stride, bufferSize));
            free.offer(buffers[i]);
        }
    }

    /** A pool of {@code count} buffers of the default size and headroom. */
    public PacketPool(int count) {
        this(count, DEFAULT_BUFFER_SIZE, DEFAULT_HEADROOM);
    }

    /** Hands out a buffer with empty data at the headroom, or null when every buffer is out. */
    public PacketBuffer acquire() {
        PacketBuffer b = free.relaxedPoll();
        if (b == null) b = free.poll();
        if (b != null) b.reset(headroom);
        return b;
    }

    /**
     * Fills {@code out[0..count)} with fresh buffers; returns how many it could hand out (fewer than
     * {@code count} only when the pool runs dry).
     */
    public int acquire(PacketBuffer[] out, int count) {
        return acquire(out, 0, count);
    }

    /**
     * Fills {@code out[from..to)} with fresh buffers, in order from {@code from}; returns how many it
     * could hand out.
     */
    public int acquire(PacketBuffer[] out, int from, int to) {
        int i = from;
        while (i < to) {
            PacketBuffer b = acquire();
            if (b == null) break;
            out[i++] = b;
        }
        return i - from;
    }

    /** Takes a buffer back. Throws {@link IllegalStateException} on double release or a foreign buffer. */
    public void release(PacketBuffer buffer) {
        if (buffer.pool() != this) {
            throw new IllegalStateException("buffer #" + buffer.index() + " belongs to another pool");
        }
        if (PacketBuffer.CHECKED && buffer.isOwned()) {
            buffer.segment().fill(POISON);
        }
        buffer.markFree();
        putBack(buffer);
    }

    /** Releases {@code buffers[0..count)} and clears the array slots. */
    public static void releaseAll(PacketBuffer[] buffers, int from, int to) {
        for (int i = from; i < to; i++) {
            PacketBuffer b = buffers[i];
            if (b != null) {
                buffers[i] = null;
                b.release();
            }
        }
    }

    /**
     * Gives the pages of {@code buffers[from..to)} back to the system (see {@link Memory#discard}):
     * for a holder that keeps buffers armed for a read while nothing comes, so that a quiet node
     * does not keep every page its traffic ever wrote. Every page of a buffer of a page or more goes
     * (none where buffers are smaller than a page: they share pages); its bytes read as zeros afterwards.
     * The caller owns the buffers and nothing writes into them meanwhile (no read in flight).
     */
    public void discard(PacketBuffer[] buffers, int from, int to) {
        if (bufferSize < PAGE) return;
        for (int i = from; i < to; i++) {
            PacketBuffer b = buffers[i];
            if (b != null && b.pool() == this) discardPages(b.index());
        }
    }

    /**
     * {@link #discard} for the buffers free in the pool now: each is taken out, its pages given
     * back, and put back, one at a time, so other threads acquire meanwhile as always. Returns how
     * many it went through. Buffers smaller than a page: as {@link #discardIdle} with none held.
     */
    public int discardFree() {
        if (bufferSize < PAGE) return discardSharedPages(null, 0, 0);
        int n = free.size();
        int done = 0;
        for (int i = 0; i < n; i++) {
            PacketBuffer b = free.poll();
            if (b == null) break;
            discardPages(b.index());
            putBack(b);
            done++;
        }
        return done;
    }

    /**
     * What a reader does once it has waited {@code IDLE} long for a packet with {@code
     * buffers[from..to)} armed (see {@link #discard}): gives back the pages of those, and of the
     * buffers free in their pool. Where buffers share pages, a page goes once every buffer on it is
     * one of those or free.
     */
    public static void discardIdle(PacketBuffer[] buffers, int from, int to) {
        if (to <= from || buffers[from] == null) return;
        PacketPool pool = buffers[from].pool();
        if (pool.bufferSize >= PAGE) {
            pool.discard(buffers, from, to);
            pool.discardFree();
        } else {
            pool.discardSharedPages(buffers, from, to);
        }
        PacketPool partner = pool.idlePartner;
        if (partner != null) partner.discardFree();
    }

    /**
     * Makes {@link #discardIdle} of this pool's buffers give back the free buffers' pages of {@code
     * partner} too: for a pool no reader keeps armed, whose buffers a quiet node would otherwise keep
     * resident as its traffic last wrote them (a node's small buffers beside the 64 KiB ones its
     * readers take).
     */
    public void idleWith(PacketPool partner) {
        if (partner == this) throw new IllegalArgumentException("a pool is its own partner already");
        this.idlePartner = partner;
    }

    /**
     * Gives back each page of a pool of small buffers all of whose buffers are idle: among {@code
     * held[from..to)} (the caller's, no read in flight) or free. Free buffers are taken out one at a
     * time and held until the rest of their page is, then put back; at most half of those free when
     * it starts are out at once, so that other threads still find buffers meanwhile, and a page
     * whose other buffers are in use elsewhere is left as it is. Returns how many free buffers it
     * went through.
     */
    private synchronized int discardSharedPages(PacketBuffer[] held, int from, int to) {
        if (perPage == 0) return 0;
        int pages = idleOnPage.length;
        for (int i = from; i < to; i++) {
            PacketBuffer b = held[i];
            if (b == null || b.pool() != this) continue;
            int page = b.index() / perPage;
            if (page < pages && ++idleOnPage[page] == perPage) discardPage(page);
        }
        int n = free.size();
        int out = 0;
        int done = 0;
        for (int i = 0; i < n && out < n / 2; i++) {
            PacketBuffer b = free.poll();
            if (b == null) break;
            done++;
            int page = b.index() / perPage;
            if (page >= pages) {
                putBack(b); // on a last page that holds other memory too
                continue;
            }
            parked[b.index()] = b;
            out++;
            if (++idleOnPage[page] == perPage) out -= discardPage(page);
        }
        for (int i = 0; i < parked.length; i++) {
            if (parked[i] != null) {
                putBack(parked[i]);
                parked[i] = null;
            }
        }
        Arrays.fill(idleOnPage, 0);
        return done;
    }

    // Gives back page #page of a pool of small buffers, all idle, and puts its free ones back; returns how many.
    private int discardPage(int page) {
        source.discard(memory.asSlice(page * PAGE, PAGE));
        int back = 0;
        for (int i = page * perPage, end = i + perPage; i < end; i++) {
            if (parked[i] != null) {
                putBack(parked[i]);
                parked[i] = null;
                back++;
            }
        }
        return back;
    }

    // Onto the free list, which cannot be full: it holds at most count of 2 * count slots.
    private void putBack(PacketBuffer b) {
        while (!free.offer(b)) {
            Thread.onSpinWait();
        }
    }

    // The whole pages of buffer #index's slot: all of them, as slots of a page or more are whole pages.
    private void discardPages(int index) {
        long start = index * stride;
        long base = memory.address();
        long first = ((base + start + PAGE - 1) & -PAGE) - base;
        long end = ((base + start + stride) & -PAGE) - base;
        if (end > first) source.discard(memory.asSlice(first, end - first));
    }

    /** Buffers handed out and not yet released. */
    public int outstanding() {
        return buffers.length - free.size();
    }

    /** Number of buffers in the pool. */
    public int capacity() {
        return buffers.length;
    }

    /** Size of every buffer in bytes. */
    public int bufferSize() {
        return bufferSize;
    }

    /** Bytes left free in front of the data of a freshly acquired buffer. */
    public int headroom() {
        return headroom;
    }

    /** True when accessors check ownership and released memory is poisoned ({@code -Ddataplane.buffer.checked=true}). */
    public static boolean isChecked() {
        return PacketBuffer.CHECKED;
    }

    /**
     * Frees the native memory. Buffers still out must not be used afterwards: any access throws
     * {@link IllegalStateException} (the memory's arena is closed), it never reads freed memory.
     */
    @Override
    public void close() {
        arena.close();
    }
}
