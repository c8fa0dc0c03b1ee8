package io.dataplane.core.testing;

import io.dataplane.core.spi.Pollable;
import io.dataplane.core.spi.Poller;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@link Poller} of the in-memory fakes ({@link FakeTunnelDevice}, {@link FakeTransport}): it
 * waits on a monitor that the fakes notify when input arrives, and reports a fake ready while it
 * has input (or is closed, so that its read says so).
 */
public final class FakePoller implements Poller {
    /** Opens a {@code FakePoller}: what {@link Pollable#pollers()} of a fake returns. */
    public static final Poller.Factory FACTORY = FakePoller::open;

    /** What a fake offers its poller; a fake has no descriptor and is polled by a {@code FakePoller}. */
    interface Source extends Pollable {
        /** {@link #NO_FD}: in memory. */
        @Override
        default int pollFd() {
            return NO_FD;
        }

        /** {@link FakePoller#FACTORY}. */
        @Override
        default Poller.Factory pollers() {
            return FACTORY;
        }

        /** True while input waits, or once closed. */
        boolean ready();

        /** Sets the action to run after input arrives (null: none). */
        void onInput(Runnable action);
    }

    private final List<Source> sources;
    private boolean woken; // guarded by this

    private FakePoller(List<Source> sources) {
        this.sources = sources;
    }

    /** Opens a poller over fakes; throws naming a source that is not one. */
    public static FakePoller open(List<? extends Pollable> sources) {
        List<Source> fakes = sources.stream().map(s -> {
            if (s instanceof Source f) return f;
            throw new IllegalArgumentException("a FakePoller polls fakes only: " + s);
        }).toList();
        FakePoller p = new FakePoller(fakes);
        for (Source s : fakes) s.onInput(p::signal);
        return p;
    }

    private synchronized void signal() {
        notifyAll();
    }

    private int readyMask() {
        int mask = 0;
        for (int i = 0; i < sources.size(); i++) {
            if (sources.get(i).ready()) mask |= 1 << i;
        }
        return mask;
    }

    @Override
    public synchronized int await(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            int ready = readyMask();
            if (ready != 0 || woken) {
                woken = false;
                return ready;
            }
            long left = timeoutNanos < 0 ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) return 0;
            try {
                if (timeoutNanos < 0) wait();
                else TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
        }
    }

    @Override
    public synchronized void wake() {
        woken = true;
        notifyAll();
    }

    @Override
    public void close() {
        for (Source s : sources) s.onInput(null);
    }
}
