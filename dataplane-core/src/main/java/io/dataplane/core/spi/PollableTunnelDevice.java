package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketBuffer;
import java.io.IOException;

/**
 * A {@link TunnelDevice} that can also be read without blocking, so one thread can serve it
 * together with a {@link PollableTransport}, waiting on both through a {@link Poller}.
 */
public interface PollableTunnelDevice extends TunnelDevice, Pollable {
    /**
     * As {@link #read}, but returns 0 instead of blocking when no packet is waiting. Reads as many
     * as are there, up to {@code min(count, batchSize())}. Shares {@link #read}'s single reader:
     * one thread reads at a time, whichever of the two it calls.
     *
     * @return the number of buffers filled, 0 if none was waiting, or {@link #CLOSED} once closed
     * @throws IOException when the device fails, as {@link #read}
     */
    int readNow(PacketBuffer[] packets, int count) throws IOException;
}
