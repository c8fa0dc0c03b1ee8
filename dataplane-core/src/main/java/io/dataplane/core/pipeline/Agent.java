package io.dataplane.core.pipeline;

import java.io.IOException;

/**
 * One thread's share of the packet path, driven by an {@link AgentRunner} (Agrona's {@code Agent}
 * shape): each {@link #doWork} moves what is there now and says how much, and the runner's
 * {@link IdleStrategy} decides from that count whether to look again at once or to wait.
 */
interface Agent {
    /** What {@link #doWork} returns once its device or transport is closed: the runner stops. */
    int CLOSED = -1;

    /**
     * Moves one batch (or one of each side).
     *
     * @return packets moved, 0 if there was nothing this agent could take, or {@link #CLOSED}
     * @throws IOException when a device or socket fails; the runner records it and stops
     */
    int doWork() throws IOException;

    /** Returns the buffers the agent holds between calls; on the runner's thread, after its last {@link #doWork}. */
    default void onClose() {}
}
