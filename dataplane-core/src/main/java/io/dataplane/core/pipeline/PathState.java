package io.dataplane.core.pipeline;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/** Whether a pipeline runs, and the first error that stopped one of its stages; shared by its threads. */
final class PathState {
    private static final Logger LOG = System.getLogger(Pipeline.class.getName());

    private final String tunName;
    private volatile boolean running = true;
    private volatile Throwable failure;

    PathState(String tunName) {
        this.tunName = tunName;
    }

    /** True until {@link #stop}. */
    boolean running() {
        return running;
    }

    /** Tells every thread to finish its current batch and stop. */
    void stop() {
        running = false;
    }

    /** Records {@code e} as the failure of {@code what} (say "egress") and logs it, unless the path is stopping or failed already. */
    void fail(String what, Throwable e) {
        if (!running || failure != null) return;
        failure = e;
        LOG.log(Level.ERROR, what + " of " + tunName + " stopped: " + e.getMessage());
    }

    /** The first recorded failure, or null. */
    Throwable failure() {
        return failure;
    }
}
