package io.dataplane.wireguard;

/**
 * Where a {@link WireGuardDevice} gets the time: a monotonic clock for every timer and key age, and
 * the wall clock for the TAI64N timestamp of initiations. Tests drive a fake one.
 */
public interface WireGuardClock {
    /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /** Nanoseconds since 1970-01-01T00:00Z. */
    long epochNanos();

    /** The system clocks. */
    static WireGuardClock system() {
        return SystemClock.INSTANCE;
    }

    /** {@link System#nanoTime()} and {@link java.time.Instant#now()}. */
    final class SystemClock implements WireGuardClock {
        static final SystemClock INSTANCE = new SystemClock();

        private SystemClock() {}

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long epochNanos() {
            java.time.Instant now = java.time.Instant.now();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
    }
}
