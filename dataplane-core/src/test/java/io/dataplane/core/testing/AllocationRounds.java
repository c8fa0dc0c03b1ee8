package io.dataplane.core.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;

/**
 * The check that a piece of the packet path allocates nothing: it runs {@link #WARM_UP} times, then
 * {@link #ROUNDS} rounds of {@link #CALLS}, and no round may allocate a byte per call on the calling
 * thread ({@code ThreadMXBean.getCurrentThreadAllocatedBytes}). The JVM's own doings (a compilation's
 * transition, a deoptimization) leave a few KB at most, where one object per call is 20,000 objects
 * of 16 bytes or more. The warm-up is enough for the JDK to link and customize method handles (a
 * one-time allocation) and short enough that the first rounds run in C1-compiled code, which
 * removes no object: work that allocates unless C2's escape analysis removes the object fails too.
 */
public final class AllocationRounds {
    /** Calls before the first round. */
    public static final int WARM_UP = 2_000;
    /** Calls per round. */
    public static final int CALLS = 20_000;
    /** Rounds. */
    public static final int ROUNDS = 5;

    /** One call of the work under test. */
    public interface Work {
        /** Does the work once, asserting what it must hold. */
        void run() throws Exception;
    }

    private AllocationRounds() {}

    /** Fails, naming {@code what} and every round's bytes, if a round of {@code work} allocated {@link #CALLS} bytes or more. */
    public static void assertAllocatesNothing(String what, Work work) {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try {
            for (int i = 0; i < WARM_UP; i++) work.run();
            long most = 0;
            StringBuilder rounds = new StringBuilder();
            for (int round = 0; round < ROUNDS; round++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < CALLS; i++) work.run();
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                most = Math.max(most, allocated);
                rounds.append(round == 0 ? "" : ", ").append(allocated);
            }
            assertTrue(most < CALLS, what + ": bytes allocated per round of " + CALLS + " calls (fewer than " + CALLS + " allowed): " + rounds);
        } catch (Exception e) {
            throw new AssertionError(what, e);
        }
    }
}
