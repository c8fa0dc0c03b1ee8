package io.dataplane.wireguard;

/**
 * Under load, at most 20 handshake messages a second (bursts of 5) from one source address, as
 * wireguard-go's ratelimiter, so that one host holding a valid cookie cannot keep the device busy
 * with Diffie-Hellman. A fixed table of token buckets indexed by a hash of the address: no
 * allocation and no cleanup; two addresses that share a bucket share its budget, which only makes
 * the limit stricter for them.
 *
 * <p>Threads: the receive thread only.
 */
final class HandshakeRateLimiter {
    private static final long PACKET_COST = 1_000_000_000L / 20;
    private static final long MAX_TOKENS = PACKET_COST * 5;
    private static final int BUCKETS = 4096;

    private final long[] tokens = new long[BUCKETS];
    private final long[] lastTime = new long[BUCKETS];
    private final boolean[] used = new boolean[BUCKETS];

    /** True if one more handshake message from {@code address} at {@code now} is within the limit. */
    boolean allow(int address, long now) {
        int b = (address * 0x9e3779b9) >>> 20; // Fibonacci hashing: the top 12 bits
        if (!used[b]) {
            used[b] = true;
            tokens[b] = MAX_TOKENS - PACKET_COST;
            lastTime[b] = now;
            return true;
        }
        tokens[b] = Math.min(MAX_TOKENS, tokens[b] + Math.max(0, now - lastTime[b]));
        lastTime[b] = now;
        if (tokens[b] > PACKET_COST) {
            tokens[b] -= PACKET_COST;
            return true;
        }
        return false;
    }
}
