package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link BusyPoll}'s window on made-up clocks (microseconds written as {@code us(..)}). */
class BusyPollTest {
    private static long us(long micros) {
        return micros * 1_000;
    }

    @Test
    void neverSpinsBeforeTheFirstPacket() {
        BusyPoll p = new BusyPoll(us(50_000));
        assertFalse(p.spin(0));
        assertFalse(p.spin(us(10)), "a node that never moved a packet sleeps at once");
    }

    @Test
    void spinsUntilAWindowHasPassedSinceTheLastPacket() {
        BusyPoll p = new BusyPoll(us(200));
        p.moved(us(1000));
        assertTrue(p.spin(us(1000)));
        assertTrue(p.spin(us(1199)));
        assertFalse(p.spin(us(1200)), "the window is counted from the last packet");
        p.moved(us(1150));
        assertTrue(p.spin(us(1300)), "a later packet starts the window again");
        assertFalse(p.spin(us(1350)));
    }

    @Test
    void packetsCloserThanTheWindowKeepItSpinningThroughTheGaps() {
        BusyPoll p = new BusyPoll(us(50_000));
        for (long t = 0; t < us(1_000_000); t += us(10_000)) { // a ping every 10 ms
            p.moved(t);
            assertTrue(p.spin(t + us(9_999)), "still spinning when the next ping comes at " + (t + us(10_000)));
        }
    }

    @Test
    void aZeroWindowNeverSpinsAndANegativeOneIsRefused() {
        BusyPoll p = new BusyPoll(0);
        p.moved(0);
        assertFalse(p.spin(0));
        assertEquals(0, p.windowNanos());
        assertEquals("busy-poll window negative: windowNanos=-1",
                assertThrows(IllegalArgumentException.class, () -> new BusyPoll(-1)).getMessage());
    }
}
