package io.dataplane.tun.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The calling thread's timer slack ({@code prctl(PR_SET_TIMERSLACK)}): how much later than asked
 * the kernel may end the thread's timed sleeps, so that it can wake several threads at once. A
 * thread starts with 50 us, more than the short sleeps a packet thread takes on purpose: a
 * {@code parkNanos} of 20 us lasts 85-100 us with it on this kind of machine, and 30-40 us with 1 us.
 * A packet thread that sleeps for microseconds sets its slack to {@link #PACKET_THREAD_NANOS}
 * first. Only timed sleeps change; a thread waiting in {@code poll} without a timeout is woken by
 * its event as before.
 */
public final class TimerSlack {
    /** The slack a packet thread takes: its sleeps then end about when asked. */
    public static final long PACKET_THREAD_NANOS = 1_000;

    private static final int PR_SET_TIMERSLACK = 29;
    private static final int PR_GET_TIMERSLACK = 30;
    private static final MethodHandle PRCTL = NativeCall.downcall("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));

    private TimerSlack() {}

    /**
     * Sets the calling thread's timer slack to {@code nanos} (1 or more; the kernel reads 0 as
     * "the process default").
     *
     * @return 0, or the errno of a refusal (a thread works on without the setting: its timed
     *     sleeps only last longer)
     */
    public static int set(long nanos) {
        if (nanos < 1) throw new IllegalArgumentException("timer slack must be 1 ns or more, not " + nanos);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            return (int) PRCTL.invokeExact(errno, PR_SET_TIMERSLACK, nanos, 0L, 0L, 0L) == 0 ? 0 : NativeCall.errno(errno);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    /** The calling thread's timer slack in nanoseconds, as {@code /proc/thread-self/timerslack_ns} would show it. */
    public static long get() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            return (int) PRCTL.invokeExact(errno, PR_GET_TIMERSLACK, 0L, 0L, 0L, 0L);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

}
