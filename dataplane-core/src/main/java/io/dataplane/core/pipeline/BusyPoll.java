package io.dataplane.core.pipeline;

/**
 * When a polling thread that found nothing to do keeps looking (spins) instead of sleeping: for a
 * fixed window after the last packet it moved, in either direction. While packets come at least
 * that often the thread never sleeps; after a window's silence it sleeps until the next one, so a
 * node with no traffic uses no CPU.
 *
 * <p>Why spin at all: on a virtual machine a sleeping thread is woken by an interrupt to a vCPU the
 * host has halted, which takes tens of microseconds, and a vCPU that stayed halted for milliseconds
 * comes back slower still (benchmarks/README.md has the figures). A window longer than the gap
 * between a flow's packets pays neither. The price is up to a core per node while
 * traffic flows: the CPU a node can spend is at most one window per packet it moves. This is the
 * adaptive polling of userspace dataplanes (VPP's adaptive mode, DPDK's power management): poll
 * while busy, sleep when idle.
 *
 * <p>One instance per polling thread; not thread-safe. Times are {@link System#nanoTime()}.
 */
final class BusyPoll {
    private final long windowNanos;
    private long lastPacketAt;
    private boolean moved;

    /** @param windowNanos how long after the last packet the thread keeps looking; 0 never spins */
    BusyPoll(long windowNanos) {
        if (windowNanos < 0) throw new IllegalArgumentException("busy-poll window negative: windowNanos=" + windowNanos);
        this.windowNanos = windowNanos;
    }

    /** The thread moved packets (read from the TUN, received from the network) at {@code now}. */
    void moved(long now) {
        lastPacketAt = now;
        moved = true;
    }

    /** True while the thread, idle at {@code now}, should look again instead of sleeping. */
    boolean spin(long now) {
        return moved && now - lastPacketAt < windowNanos;
    }

    /** The window in nanoseconds (0: the thread sleeps at once). */
    long windowNanos() {
        return windowNanos;
    }
}
