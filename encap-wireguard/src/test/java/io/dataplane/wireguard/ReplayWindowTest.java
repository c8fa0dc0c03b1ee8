package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReplayWindowTest {
    private static final long LIMIT = WireGuardTimings.DEFAULT.rejectAfterMessages();

    @Test
    void windowIsAtLeastTheWhitepapers2048() {
        assertTrue(ReplayWindow.WINDOW >= 2048);
        assertEquals(8128, ReplayWindow.WINDOW);
    }

    @Test
    void inOrderOnceEach() {
        ReplayWindow w = new ReplayWindow();
        for (long c = 0; c < 20_000; c++) {
            assertTrue(w.accept(c, LIMIT), "first " + c);
            assertFalse(w.accept(c, LIMIT), "again " + c);
        }
    }

    @Test
    void outOfOrderWithinTheWindowAcceptedOnce() {
        ReplayWindow w = new ReplayWindow();
        assertTrue(w.accept(5000, LIMIT));
        for (long c = 4999; c >= 0; c--) assertTrue(w.accept(c, LIMIT), "late " + c);
        for (long c = 0; c <= 5000; c++) assertFalse(w.accept(c, LIMIT), "duplicate " + c);
    }

    @Test
    void tooOldIsRefusedAtTheWindowEdge() {
        ReplayWindow w = new ReplayWindow();
        long top = 100_000;
        assertTrue(w.accept(top, LIMIT));
        assertTrue(w.mayAccept(top - ReplayWindow.WINDOW, LIMIT));
        assertTrue(w.accept(top - ReplayWindow.WINDOW, LIMIT), "exactly WINDOW behind is still inside");
        assertFalse(w.mayAccept(top - ReplayWindow.WINDOW - 1, LIMIT));
        assertFalse(w.accept(top - ReplayWindow.WINDOW - 1, LIMIT), "one more is too old");
        assertFalse(w.accept(0, LIMIT));
    }

    @Test
    void jumpsFarAheadClearTheWholeRing() {
        ReplayWindow w = new ReplayWindow();
        for (long c = 0; c < 64 * 128; c++) assertTrue(w.accept(c, LIMIT));
        // Far past 2^13: every block is reused, so nothing of the old bits may survive.
        long far = (1L << 13) * 5 + 17;
        assertTrue(w.accept(far, LIMIT));
        for (long c = far - 1; c > far - ReplayWindow.WINDOW; c--) assertTrue(w.accept(c, LIMIT), "fresh after wrap " + c);
        assertFalse(w.accept(far - 2, LIMIT));
    }

    @Test
    void countersAtOrBeyondTheRejectLimitAreRefused() {
        ReplayWindow w = new ReplayWindow();
        assertFalse(w.accept(LIMIT, LIMIT));
        assertFalse(w.accept(LIMIT + 1, LIMIT));
        assertFalse(w.accept(-1L, LIMIT), "2^64 - 1 as unsigned");
        assertTrue(w.accept(LIMIT - 1, LIMIT));
        assertFalse(w.accept(LIMIT - 1, LIMIT));
        assertTrue(w.accept(LIMIT - 2, LIMIT));
    }

    @Test
    void randomTrafficAgainstASlowReference() {
        Random rnd = new Random(11);
        ReplayWindow w = new ReplayWindow();
        BitSet seen = new BitSet();
        long max = -1;
        for (int i = 0; i < 200_000; i++) {
            long c = Math.max(0, max + rnd.nextInt(200) - 150 + (rnd.nextInt(1000) == 0 ? 9000 : 0));
            boolean expected = !seen.get((int) c) && (max < 0 || c > max || max - c <= ReplayWindow.WINDOW);
            assertEquals(expected, w.mayAccept(c, LIMIT), "mayAccept " + c + " max " + max);
            assertEquals(expected, w.accept(c, LIMIT), "accept " + c + " max " + max);
            if (expected) {
                seen.set((int) c);
                max = Math.max(max, c);
            }
        }
    }
}
