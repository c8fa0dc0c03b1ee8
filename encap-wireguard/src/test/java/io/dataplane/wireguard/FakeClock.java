package io.dataplane.wireguard;

import java.time.Duration;

/** A clock tests move by hand; the wall clock is a fixed base plus the monotonic time. */
final class FakeClock implements WireGuardClock {
    private volatile long nanos = 1_000_000_000L;
    private final long epochBase;

    FakeClock(long epochBase) {
        this.epochBase = epochBase;
    }

    FakeClock() {
        this(1_700_000_000L * 1_000_000_000L);
    }

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public long epochNanos() {
        return epochBase + nanos;
    }

    void advance(Duration d) {
        nanos += d.toNanos();
    }

    void advanceMillis(long ms) {
        nanos += ms * 1_000_000L;
    }
}
