package io.dataplane.core.pipeline;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * A platform daemon thread that calls an {@link Agent}'s {@link Agent#doWork} and then its
 * {@link IdleStrategy} until the path stops, the agent reports {@link Agent#CLOSED}, or a call
 * throws (recorded as the path's failure); then lets the agent return its buffers.
 */
final class AgentRunner {
    private static final Logger LOG = System.getLogger(AgentRunner.class.getName());
    private static final long JOIN_MILLIS = TimeUnit.SECONDS.toMillis(5);

    private final String role;
    private final Agent agent;
    private final IdleStrategy idle;
    private final PathState state;
    private final Thread thread;

    /** A runner (not started) on a thread called {@code threadName}; {@code role} names the agent in a failure ("egress"). */
    AgentRunner(String threadName, String role, Agent agent, IdleStrategy idle, PathState state) {
        this.role = role;
        this.agent = agent;
        this.idle = idle;
        this.state = state;
        this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            while (state.running()) {
                int work = agent.doWork();
                if (work == Agent.CLOSED) break;
                idle.idle(work);
            }
        } catch (IOException | RuntimeException e) {
            state.fail(role, e);
        } finally {
            agent.onClose();
        }
    }

    /** Waits up to 5 s for the thread to end (after {@link PathState#stop} and whatever wakes it); warns if it does not. */
    void join() {
        try {
            thread.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) LOG.log(Level.WARNING, "thread " + thread.getName() + " did not stop within 5 s");
    }
}
