package io.dataplane.tun.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The timer slack is the calling thread's own: set, read back, and no other thread's changed. */
class TimerSlackTest {
    @Test
    void aThreadSetsAndReadsItsOwnSlack() throws Exception {
        long before = TimerSlack.get();
        AtomicLong seen = new AtomicLong(-1);
        AtomicLong result = new AtomicLong(-1);
        Thread t = Thread.ofPlatform().start(() -> {
            result.set(TimerSlack.set(2_000));
            seen.set(TimerSlack.get());
        });
        t.join();
        assertEquals(0, result.get(), "prctl(PR_SET_TIMERSLACK) errno");
        assertEquals(2_000, seen.get(), "the thread's slack after setting it");
        assertEquals(before, TimerSlack.get(), "this thread's slack is its own");
    }

    @Test
    void zeroOrLessIsRefusedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimerSlack.set(0));
        assertEquals("timer slack must be 1 ns or more, not 0", e.getMessage());
    }
}
