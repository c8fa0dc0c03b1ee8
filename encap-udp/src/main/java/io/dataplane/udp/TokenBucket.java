package io.dataplane.udp;

/**
 * A token bucket for one thread: up to {@code burst} events at once, {@code ratePerSecond} on
 * average, as the kernel limits the ICMP errors it sends ({@code net.ipv4.icmp_msgs_per_sec} and
 * {@code icmp_msgs_burst}). Allocation-free; the caller passes the time, so tests drive a clock.
 *
 * <p>The bucket holds credit in nanoseconds: every nanosecond that passes adds one, up to {@code
 * burst} tokens' worth, and a token costs {@code 1e9 / ratePerSecond}. Integer arithmetic, no
 * division on the hot path.
 */
final class TokenBucket {
    private final long nanosPerToken;
    private final long capacity;
    private long credit;
    private long last;
    private boolean started;

    /**
     * A full bucket of {@code burst} tokens refilled at {@code ratePerSecond}; a rate of 0 never
     * gives a token.
     *
     * @throws IllegalArgumentException naming the value when the rate is negative or above 10^9, or
     *     the burst is below 1 (with a rate above 0)
     */
    TokenBucket(int ratePerSecond, int burst) {
        if (ratePerSecond < 0 || ratePerSecond > 1_000_000_000) {
            throw new IllegalArgumentException("rate out of range: ratePerSecond=" + ratePerSecond + " (0-1000000000)");
        }
        if (ratePerSecond > 0 && burst < 1) throw new IllegalArgumentException("burst out of range: burst=" + burst + " (min 1)");
        this.nanosPerToken = ratePerSecond == 0 ? Long.MAX_VALUE : 1_000_000_000L / ratePerSecond;
        this.capacity = ratePerSecond == 0 ? 0 : nanosPerToken * burst;
        this.credit = capacity;
    }

    /** Takes a token if there is one at time {@code nowNanos} ({@link System#nanoTime()} scale); false if the bucket is empty. */
    boolean tryTake(long nowNanos) {
        if (capacity == 0) return false;
        if (started) {
            long elapsed = nowNanos - last;
            // A clock that went backwards (or a gap of centuries) must not break the bucket.
            if (elapsed > 0) credit = elapsed >= capacity - credit ? capacity : credit + elapsed;
        }
        started = true;
        last = nowNanos;
        if (credit < nanosPerToken) return false;
        credit -= nanosPerToken;
        return true;
    }
}
