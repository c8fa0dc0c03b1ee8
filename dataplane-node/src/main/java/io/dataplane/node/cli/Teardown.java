package io.dataplane.node.cli;

import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CancellationException;

/**
 * What the demo made, undone in reverse order exactly once: from its {@code finally} when it
 * ends or fails, or from the shutdown hook on Ctrl-C, whichever comes first.
 *
 * <p>Making a thing and registering its undo happen under one lock, and once the teardown has run
 * nothing more can be made ({@link #add} throws {@link CancellationException}): so a Ctrl-C
 * during set-up cannot leave behind a namespace created just after the cleanup ran. The hook waits
 * at most for the one step in progress.
 */
final class Teardown {
    /** Makes one thing. */
    @FunctionalInterface
    interface Make<T> {
        /** Makes it. */
        T make() throws Exception;
    }

    /** Undoes one thing. */
    @FunctionalInterface
    interface Undo<T> {
        /** Undoes it; returns what was done for the user ("deleted namespace X"), or null to say nothing. */
        String undo(T thing) throws Exception;
    }

    private interface Step {
        String run() throws Exception;
    }

    private final PrintWriter out;
    private final Deque<Step> steps = new ArrayDeque<>();
    private boolean ran;
    private volatile boolean interrupted;

    /** A teardown that reports each step on {@code out}. */
    Teardown(PrintWriter out) {
        this.out = out;
    }

    /**
     * Makes a thing and registers its undo.
     *
     * @throws CancellationException when the teardown has already run (the demo was interrupted)
     */
    synchronized <T> T add(Make<T> make, Undo<T> undo) throws Exception {
        if (ran) throw new CancellationException("the demo is stopping");
        T thing = make.make();
        steps.push(() -> undo.undo(thing));
        return thing;
    }

    /** Undoes everything, latest first; a step that fails is reported and the others still run. Idempotent. */
    synchronized void run() {
        if (ran) return;
        ran = true;
        while (!steps.isEmpty()) {
            try {
                String done = steps.pop().run();
                if (done != null) out.println("cleanup: " + done);
            } catch (Exception e) {
                out.println("cleanup: failed: " + Problem.oneLine(String.valueOf(e.getMessage())));
            } catch (Error e) {
                out.println("cleanup: failed: " + Problem.oneLine(e.toString()));
            }
        }
        out.flush();
    }

    /** From the shutdown hook: says why, then {@link #run}. */
    void interrupt() {
        synchronized (this) {
            if (ran) return;
        }
        interrupted = true;
        out.println("interrupted: cleaning up");
        run();
    }

    /** True if the shutdown hook ran the teardown (Ctrl-C, SIGTERM). */
    boolean interrupted() {
        return interrupted;
    }
}
