package io.dataplane.wireguard.crypto;

import java.util.Arrays;

/**
 * TAI64N timestamps (12 bytes: big-endian seconds since 1970 plus 2^62 plus 10, then big-endian
 * nanoseconds), which a WireGuard initiation carries so the responder can refuse replays: an
 * initiation is accepted only when its timestamp is greater than the last one accepted from that
 * peer. As wireguard-go does, the nanoseconds are rounded down to 2^24 ns (about 16.8 ms) so that the
 * timestamp does not leak the sender's precise clock.
 */
public final class Tai64n {
    /** Size in bytes. */
    public static final int LEN = 12;
    private static final long BASE = 0x400000000000000aL;
    private static final int WHITENER_MASK = 0x1000000 - 1;

    private Tai64n() {}

    /** The timestamp of {@code epochNanos} (nanoseconds since 1970-01-01T00:00Z). */
    public static byte[] of(long epochNanos) {
        long secs = BASE + Math.floorDiv(epochNanos, 1_000_000_000L);
        int nanos = (int) Math.floorMod(epochNanos, 1_000_000_000L) & ~WHITENER_MASK;
        byte[] t = new byte[LEN];
        for (int i = 0; i < 8; i++) t[i] = (byte) (secs >>> (56 - 8 * i));
        for (int i = 0; i < 4; i++) t[8 + i] = (byte) (nanos >>> (24 - 8 * i));
        return t;
    }

    /** True if {@code a} is strictly later than {@code b} (unsigned byte order, as the format sorts). */
    public static boolean after(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b) > 0;
    }
}
