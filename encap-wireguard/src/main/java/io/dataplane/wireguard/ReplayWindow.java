package io.dataplane.wireguard;

/**
 * The sliding window that refuses replayed transport counters (RFC 6479, as wireguard-go's replay
 * package): a ring of 128 64-bit blocks; the newest block is always partly in use, so the window
 * holds the {@value #WINDOW} counters behind the highest one seen, plus that block.
 *
 * <p>Single writer: only the thread that receives for this keypair calls {@link #accept}; nothing
 * here is synchronized. {@link #mayAccept} is a read-only pre-check so replayed packets are dropped
 * before the cost of decrypting them; {@link #accept} is the authoritative check-and-set and runs
 * only after the packet authenticated, so a forged packet never moves the window.
 */
public final class ReplayWindow {
    private static final int BLOCK_BITS_LOG = 6;
    private static final int BLOCK_BITS = 1 << BLOCK_BITS_LOG;
    private static final int RING_BLOCKS = 1 << 7;
    private static final int BLOCK_MASK = RING_BLOCKS - 1;
    private static final int BIT_MASK = BLOCK_BITS - 1;
    /** Counters this far behind the highest seen are still accepted once. */
    public static final int WINDOW = (RING_BLOCKS - 1) * BLOCK_BITS;

    private final long[] ring = new long[RING_BLOCKS];
    private long last;

    /**
     * Accepts {@code counter} once: false when it is at or above {@code limit} (unsigned), too far
     * behind the window, or already seen. Marks it seen when it returns true.
     */
    public boolean accept(long counter, long limit) {
        if (Long.compareUnsigned(counter, limit) >= 0) return false;
        long indexBlock = counter >>> BLOCK_BITS_LOG;
        if (Long.compareUnsigned(counter, last) > 0) {
            long current = last >>> BLOCK_BITS_LOG;
            long diff = Math.min(indexBlock - current, RING_BLOCKS); // clear at most the whole ring
            for (long i = current + 1; i <= current + diff; i++) ring[(int) (i & BLOCK_MASK)] = 0;
            last = counter;
        } else if (last - counter > WINDOW) {
            return false;
        }
        int block = (int) (indexBlock & BLOCK_MASK);
        long bit = 1L << (counter & BIT_MASK);
        long old = ring[block];
        ring[block] = old | bit;
        return (old & bit) == 0;
    }

    /** The same verdict as {@link #accept} would give now, without marking anything. */
    public boolean mayAccept(long counter, long limit) {
        if (Long.compareUnsigned(counter, limit) >= 0) return false;
        if (Long.compareUnsigned(counter, last) > 0) return true;
        if (last - counter > WINDOW) return false;
        return (ring[(int) ((counter >>> BLOCK_BITS_LOG) & BLOCK_MASK)] & (1L << (counter & BIT_MASK))) == 0;
    }

    /** The highest counter accepted so far (0 before any). */
    public long last() {
        return last;
    }
}
