package io.dataplane.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
    static final long MS = 1_000_000L;

    static int take(TokenBucket b, long now, int tries) {
        int got = 0;
        for (int i = 0; i < tries; i++) if (b.tryTake(now)) got++;
        return got;
    }

    @Test
    void aBurstThenTheRate() {
        TokenBucket b = new TokenBucket(100, 5); // a token every 10 ms
        long t = 123_456_789L;
        assertEquals(5, take(b, t, 20), "a full bucket gives its burst at once");
        assertFalse(b.tryTake(t + 9 * MS));
        assertTrue(b.tryTake(t + 10 * MS));
        assertFalse(b.tryTake(t + 10 * MS));
        assertEquals(3, take(b, t + 40 * MS, 20), "30 ms more: three tokens (the 9 ms try cost nothing)");
        assertEquals(5, take(b, t + 10_000 * MS, 20), "a long pause refills to the burst, no more");
    }

    @Test
    void overOneSecondTheRateHolds() {
        TokenBucket b = new TokenBucket(1000, 50);
        int got = 0;
        for (long us = 0; us < 1_000_000; us += 10) if (b.tryTake(us * 1000)) got++;
        // 50 at once, then one per millisecond: 1000 more over the second, give or take the edge.
        assertTrue(got >= 1049 && got <= 1051, "got " + got);
    }

    @Test
    void rateZeroNeverGivesAToken() {
        TokenBucket b = new TokenBucket(0, 1);
        assertEquals(0, take(b, 0, 10));
        assertEquals(0, take(b, Long.MAX_VALUE, 10));
    }

    @Test
    void aClockGoingBackwardsAddsNothingAndBreaksNothing() {
        TokenBucket b = new TokenBucket(10, 1);
        assertTrue(b.tryTake(1_000 * MS));
        assertFalse(b.tryTake(500 * MS));
        assertFalse(b.tryTake(550 * MS), "50 ms after the step back: still nothing");
        assertTrue(b.tryTake(650 * MS), "100 ms after the step back: one token");
        assertEquals(1, take(b, Long.MAX_VALUE, 5), "an enormous gap does not overflow");
        assertEquals(1, take(b, Long.MIN_VALUE + 200 * MS, 5), "nor does wrapping around");
    }

    @Test
    void badLimitsAreNamed() {
        assertEquals("rate out of range: ratePerSecond=-1 (0-1000000000)",
                assertThrows(IllegalArgumentException.class, () -> new TokenBucket(-1, 1)).getMessage());
        assertEquals("burst out of range: burst=0 (min 1)", assertThrows(IllegalArgumentException.class, () -> new TokenBucket(5, 0)).getMessage());
    }
}
