package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketBuffer;
import java.io.IOException;

/**
 * A {@link Transport} whose datagrams the caller can also take itself, without blocking, instead of
 * having them delivered on the transport's own thread: so that one thread can serve the transport
 * and a {@link PollableTunnelDevice} together, waiting on both through a {@link Poller}.
 *
 * <p>A transport is used one way or the other: either {@link #start} (its thread receives) or
 * {@link #receiveNow} (the caller's thread does), never both. {@link #send} and the rest of
 * {@link Transport}'s contract are the same either way; {@link #close} also works on a transport
 * that was never started.
 */
public interface PollableTransport extends Transport, Pollable {
    /** Result of {@link #receiveNow} once the transport is closed. */
    int CLOSED = -1;

    /**
     * Receives up to {@code min(count, batchSize())} datagrams into the caller's buffers
     * {@code packets[0..count)} (acquired from the pool, data at their headroom), without blocking:
     * each filled one's data is the payload and its peer the sender, as a {@link Receiver} gets
     * them. The filled buffers are {@code packets[0..result)}; the buffers stay the caller's, filled
     * or not, and may change places within {@code packets[0..count)}. Datagrams that are dropped
     * here (too large for a buffer) are counted in {@link #counters()}.
     *
     * @return the number of buffers filled, 0 if no datagram was waiting, or {@link #CLOSED}
     * @throws IllegalStateException if the transport was {@link #start started}
     * @throws IOException naming the socket when receiving fails
     */
    int receiveNow(PacketBuffer[] packets, int count) throws IOException;
}
