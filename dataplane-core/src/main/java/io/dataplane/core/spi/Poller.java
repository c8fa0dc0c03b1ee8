package io.dataplane.core.spi;

import java.io.IOException;
import java.util.List;

/**
 * Waits until one of a fixed set of {@link Pollable} sources has input, on one thread, as
 * {@code poll(2)} over their descriptors does; any thread may {@link #wake} it.
 *
 * <p>Level-triggered: a source reports ready for as long as input is waiting, so a caller that
 * took only part of it finds it ready again at once. A poller only waits; it reads nothing and
 * holds no buffer.
 */
public interface Poller extends AutoCloseable {

    /** Opens a poller over a list of sources, as {@link Pollable#pollers()} returns it. */
    @FunctionalInterface
    interface Factory {
        /**
         * Opens a poller over {@code sources}; bit {@code i} of {@link #await}'s result stands for
         * {@code sources.get(i)} (at most 31 sources).
         *
         * @throws IllegalArgumentException naming the source when this factory cannot wait on it
         *     (a source of another kind)
         * @throws IOException when the poller's own resources (an eventfd) cannot be had
         */
        Poller open(List<? extends Pollable> sources) throws IOException;
    }

    /**
     * Waits up to {@code timeoutNanos} until a source has input or {@link #wake} is called: 0 only
     * looks, a negative timeout waits without limit. A wait may end early without a reason (as
     * {@code poll} does on a signal); callers loop.
     *
     * @return the sources that are ready, bit {@code i} for source {@code i} (an error or hang-up
     *     on a descriptor counts as ready, so that the read reports it); 0 on timeout or wake
     * @throws IOException naming the call when waiting itself fails
     */
    int await(long timeoutNanos) throws IOException;

    /**
     * Makes the current or next {@link #await} return at once (with what is ready then, possibly
     * 0). Safe from any thread; a wake that finds no waiter is kept for the next call.
     */
    void wake();

    /** Releases the poller's own resources; the sources stay open. Not while a thread is in {@link #await}. */
    @Override
    void close();
}
