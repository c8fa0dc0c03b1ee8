package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class KernelRandomTest {
    @Test
    void boundedIntsStayInRangeAndReachEveryValue() {
        for (int bound : new int[] {1, 2, 3, 7, 10}) {
            boolean[] seen = new boolean[bound];
            for (int i = 0; i < 2000; i++) {
                int r = KernelRandom.nextInt(bound);
                assertTrue(r >= 0 && r < bound, "bound=" + bound + " r=" + r);
                seen[r] = true;
            }
            for (int v = 0; v < bound; v++) assertTrue(seen[v], "bound=" + bound + " never gave " + v);
        }
        assertThrows(IllegalArgumentException.class, () -> KernelRandom.nextInt(0));
    }

    @Test
    void requestsLargerThanTheBufferAreFilledAndDrawsDiffer() {
        byte[] a = new byte[1000];
        byte[] b = new byte[1000];
        KernelRandom.nextBytes(a);
        KernelRandom.nextBytes(b);
        assertFalse(Arrays.equals(a, b));
        // Every byte value turns up in 2000 random bytes (each misses with probability about 4e-4).
        boolean[] seen = new boolean[256];
        for (byte x : a) seen[x & 0xff] = true;
        for (byte x : b) seen[x & 0xff] = true;
        int missing = 0;
        for (boolean s : seen) if (!s) missing++;
        assertTrue(missing <= 3, "byte values never drawn: " + missing);
        // The tail of a 1000-byte request (past the 256-byte buffer) is filled too.
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 744, 1000), new byte[256]));
    }
}
