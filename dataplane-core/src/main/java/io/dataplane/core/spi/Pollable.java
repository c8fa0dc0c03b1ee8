package io.dataplane.core.spi;

/**
 * Input that one thread can wait for together with other inputs, and then take without blocking:
 * what the {@link io.dataplane.core.pipeline.Pipeline}'s single-thread mode needs of its device
 * ({@link PollableTunnelDevice}) and its transport ({@link PollableTransport}).
 *
 * <p>As a {@code SelectableChannel} names the provider of the selectors it can register with, a
 * pollable names the {@link #pollers() factory} of the {@link Poller}s that can wait on it: a file
 * descriptor's pollers use {@code poll(2)} (tun-io), an in-memory fake's its own signal. Sources of
 * different kinds cannot be waited on together.
 */
public interface Pollable {
    /** {@link #pollFd()} of a source that has no file descriptor. */
    int NO_FD = -1;

    /**
     * The file descriptor that {@code poll(2)} reports readable ({@code POLLIN}) while input is
     * waiting, or {@link #NO_FD} for an in-memory source, which only a poller of its own
     * {@link #pollers() kind} can wait on.
     */
    int pollFd();

    /** Opens pollers that can wait on this source, alone or with other sources of the same kind. */
    Poller.Factory pollers();
}
