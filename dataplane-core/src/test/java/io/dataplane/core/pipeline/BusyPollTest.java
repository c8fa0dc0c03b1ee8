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
    void spinsOnlyAfterASendUntilTheWindowEndsOrAnAnswerCame() {
        BusyPoll p = new BusyPoll(us(200));
        assertFalse(p.spin(us(0)), "no send yet: an idle node never spins");
        p.sent(us(1000));
        assertTrue(p.spin(us(1000)));
        assertTrue(p.spin(us(1199)));
        assertFalse(p.spin(us(1200)), "the window is counted from the send");
        p.sent(us(2000));
        p.received(us(2100));
        assertFalse(p.spin(us(2101)), "the answer came: nothing more to wait for");
        assertEquals(us(200), p.windowNanos(), "a caught answer changes nothing");
    }

    @Test
    void answersLaterThanTheCapHalveTheWindowDownToZero() {
        BusyPoll p = new BusyPoll(us(200));
        long t = 0;
        int sends = 0;
        while (p.windowNanos() > 0) {
            p.sent(t);
            p.received(t + us(10_000)); // the echo side of a ping every 10 ms: nothing comes back in time
            t += us(10_000);
            sends++;
            assertTrue(sends < 10, "window still " + p.windowNanos());
        }
        assertEquals(8, sends, "200 us halves to below 1 us in 8 steps");
        p.sent(t);
        assertFalse(p.spin(t), "a zero window never spins");
    }

    @Test
    void anAnswerTheSpinMissedWithinTheCapGrowsTheWindow() {
        BusyPoll p = new BusyPoll(us(400));
        for (int i = 0; i < 10; i++) { // shrink to 0
            p.sent(0);
            p.received(us(1000));
        }
        assertEquals(0, p.windowNanos());
        p.sent(us(5000));
        p.received(us(5100)); // slept, woken 100 us later: a 150 us window would have caught it
        assertEquals(us(150), p.windowNanos());
        p.sent(us(6000));
        p.received(us(6160)); // just missed again: double
        assertEquals(us(300), p.windowNanos());
        p.sent(us(7000));
        p.received(us(7390));
        assertEquals(us(400), p.windowNanos(), "never above the cap");
    }

    @Test
    void aZeroCapNeverSpinsAndANegativeOneIsRefused() {
        BusyPoll p = new BusyPoll(0);
        p.sent(0);
        assertFalse(p.spin(0));
        p.received(us(50));
        assertEquals(0, p.windowNanos());
        assertEquals("busy-poll cap negative: capNanos=-1", assertThrows(IllegalArgumentException.class, () -> new BusyPoll(-1)).getMessage());
    }
}
