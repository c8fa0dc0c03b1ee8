package io.dataplane.core.pipeline;

/**
 * When a polling thread that found nothing to do keeps looking (spins) instead of sleeping: for a
 * bounded, adaptive time after it sent something to the network, so that the answer (an echo
 * reply, a TCP acknowledgement) is picked up by a thread that is still running instead of one the
 * kernel has to wake on an idle CPU.
 *
 * <p>The window is counted from the last send and lasts until the first datagram from the network
 * after it. It adapts to what that datagram's delay ({@code gap}) would have needed, in the manner
 * of the kernel's {@code haltpoll} governor but keyed on sends:
 * <ul>
 *   <li>{@code gap <= window}: the spin caught it; nothing changes.</li>
 *   <li>{@code window < gap <= cap}: the thread slept and was woken; a longer spin would have
 *       caught it, so the window grows to {@code max(2 * window, 1.5 * gap)}, at most {@code cap}.</li>
 *   <li>{@code gap > cap}: the spin was wasted; the window halves, and below
 *       {@link #MIN_WINDOW_NANOS} it is 0.</li>
 * </ul>
 * So a node that answers requests and hears nothing back for a long time (the echo side of a
 * ping) stops spinning after a few requests, a node waiting for answers within {@code cap} (the
 * pinging side, a TCP flow) keeps spinning about one round trip, and a node with no traffic never
 * spins: the CPU a node can burn is at most {@code cap} per datagram it sends.
 *
 * <p>One instance per polling thread; not thread-safe. Times are {@link System#nanoTime()}.
 */
final class BusyPoll {
    /** A window below this is no window: a spin that short cannot catch a round trip. */
    static final long MIN_WINDOW_NANOS = 1_000;

    private final long capNanos;
    private long windowNanos;
    private long sentAt;
    private boolean awaitingAnswer;

    /** @param capNanos the longest spin after a send; 0 never spins */
    BusyPoll(long capNanos) {
        if (capNanos < 0) throw new IllegalArgumentException("busy-poll cap negative: capNanos=" + capNanos);
        this.capNanos = capNanos;
        this.windowNanos = capNanos;
    }

    /** The thread sent datagrams to the network at {@code now}. */
    void sent(long now) {
        if (capNanos == 0) return;
        sentAt = now;
        awaitingAnswer = true;
    }

    /** The thread received datagrams from the network at {@code now}: adapts the window to their delay. */
    void received(long now) {
        if (!awaitingAnswer) return;
        awaitingAnswer = false;
        long gap = now - sentAt;
        if (gap <= windowNanos) return;
        if (gap <= capNanos) {
            windowNanos = Math.min(capNanos, Math.max(2 * windowNanos, gap + gap / 2));
        } else {
            shrink();
        }
    }

    /**
     * True while the thread, idle at {@code now}, should look again instead of sleeping. Once the
     * window has passed without an answer the thread sleeps, and the answer's delay, when it comes,
     * decides how the window changes.
     */
    boolean spin(long now) {
        return awaitingAnswer && now - sentAt < windowNanos;
    }

    /** The current window in nanoseconds (0: the thread sleeps at once). */
    long windowNanos() {
        return windowNanos;
    }

    private void shrink() {
        windowNanos /= 2;
        if (windowNanos < MIN_WINDOW_NANOS) windowNanos = 0;
    }
}
