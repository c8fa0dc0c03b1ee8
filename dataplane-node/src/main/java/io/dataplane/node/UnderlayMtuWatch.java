package io.dataplane.node;

import io.dataplane.core.config.BackendConf;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.netlink.Link;
import io.dataplane.tun.netlink.LinkEvents;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.sys.Errno;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Keeps the TUN's MTU at the underlay's MTU minus the backend's overhead while the node runs: a
 * thread of its own, "dp-mtuwatch", takes the kernel's link notifications ({@link LinkEvents}, as
 * {@code ip monitor link}), so a change of the underlay interface's MTU sets the TUN's MTU through
 * rtnetlink the moment it is made, and is logged on one line. When the kernel drops notifications
 * the watch reads the interface's MTU again (one RTM_GETLINK); it also reads it once on start, for
 * a change made before it subscribed.
 * flanneld takes the MTU at start only; a node that follows lets the kernel answer pod packets
 * that no longer fit with ICMP fragmentation-needed, so TCP adapts, where a TUN MTU above the
 * underlay's makes every full-size datagram fail at the socket.
 *
 * <p>Followed downwards, and upwards as far as the underlay MTU the node started with: the packet
 * buffers were sized for that one. Above it the TUN keeps the MTU that fits, and one warning says
 * that a restart takes the larger MTU; so does an MTU that leaves no room for the overhead.
 * Only for a node whose MTU comes from the underlay: a {@code Backend.MTU} or a fixed TUN MTU
 * stays as configured ({@link #track}). An interface that is gone or a TUN that is gone is no
 * error here: the packet path reports its own end.
 *
 * <p>Every MTU read that differs from the one before also goes to the packet path ({@code
 * pathMtu}, the pipelines' {@code underlayMtu}) before the TUN follows, so that what no longer
 * fits one datagram is cut smaller or answered with ICMP fragmentation needed at once, and what
 * fits again is not answered any more; under a configured MTU that is all the watch does.
 */
final class UnderlayMtuWatch implements AutoCloseable {
    private static final Logger LOG = System.getLogger(UnderlayMtuWatch.class.getName());
    private final Netlink netlink;
    private final int underlayIndex;
    private final String underlayName;
    private final String tunName;
    private final int overhead;
    private final int maxUnderlayMtu;
    private volatile int underlayMtu;
    private volatile int tunMtu;
    private final IntConsumer pathMtu;
    private volatile int linkMtu; // the underlay MTU last read; written by the watch thread only
    private int refused; // the underlay MTU last warned about; watch thread only
    private final LinkEvents events;
    private final Thread thread;

    private UnderlayMtuWatch(Netlink netlink, Link underlay, String tunName, int overhead, int tunMtu, IntConsumer pathMtu)
            throws ErrnoException {
        this.netlink = netlink;
        this.events = LinkEvents.open();
        this.thread = Thread.ofPlatform().name("dp-mtuwatch").daemon().unstarted(this::run);
        this.pathMtu = pathMtu;
        this.linkMtu = underlay.mtu();
        this.underlayIndex = underlay.index();
        this.underlayName = underlay.name();
        this.tunName = tunName;
        this.overhead = overhead;
        this.maxUnderlayMtu = underlay.mtu();
        this.underlayMtu = underlay.mtu();
        this.tunMtu = tunMtu;
    }

    /**
     * Starts watching {@code underlay} (as found at start) for the TUN {@code tunName} of MTU {@code
     * tunMtu}, telling {@code pathMtu} of every change. The calling thread's network namespace is
     * the one watched.
     *
     * @throws ErrnoException if the kernel refuses the subscription
     */
    static UnderlayMtuWatch start(Netlink netlink, Link underlay, String tunName, int overhead, int tunMtu, IntConsumer pathMtu)
            throws ErrnoException {
        return started(new UnderlayMtuWatch(netlink, underlay, tunName, overhead, tunMtu, pathMtu));
    }

    /** Starts watching {@code underlay} (as found at start) for {@code pathMtu} only: the TUN keeps its configured MTU. */
    static UnderlayMtuWatch track(Netlink netlink, Link underlay, IntConsumer pathMtu) throws ErrnoException {
        return started(new UnderlayMtuWatch(netlink, underlay, null, 0, 0, pathMtu));
    }

    private static UnderlayMtuWatch started(UnderlayMtuWatch watch) {
        watch.thread.start();
        return watch;
    }

    private void run() {
        LinkEvents.Listener listener = new LinkEvents.Listener() {
            @Override
            public void onLink(Link link) {
                if (link.index() == underlayIndex && link.mtu() != 0) follow(link.mtu());
            }

            @Override
            public void onLost() {
                follow(-1);
            }
        };
        follow(-1);
        try {
            while (events.await(listener)) {
                // each round hands the notifications of one datagram to the listener
            }
        } catch (ErrnoException e) {
            LOG.log(Level.WARNING, "MTU watch of " + underlayName + " stopped: " + e.getMessage() + "; the TUN keeps MTU " + tunMtu);
        }
    }

    /** True if the TUN's MTU follows the underlay's ({@link #start}), false if only the packet path hears of it ({@link #track}). */
    boolean followsTun() {
        return tunName != null;
    }

    /** The TUN's MTU as last set. */
    int tunMtu() {
        return tunMtu;
    }

    /** The underlay's MTU the TUN's MTU follows, as last read. */
    int underlayMtu() {
        return underlayMtu;
    }

    /** The underlay interface's MTU as the watch last heard it, whether or not the TUN followed. */
    int linkMtu() {
        return linkMtu;
    }

    // Follows `mtu`, or the MTU read from the kernel when -1. Every failure ends here: the watch goes
    // on with the next notification.
    private void follow(int mtu) {
        try {
            check(mtu >= 0 ? mtu : netlink.link(underlayIndex).mtu());
        } catch (ErrnoException e) {
            if (e.errno() != Errno.ENODEV) LOG.log(Level.WARNING, "MTU watch of " + underlayName + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "MTU watch of " + underlayName + ": " + e.getMessage());
        }
    }

    private void check(int mtu) throws IOException {
        if (mtu == 0) return;
        if (mtu != linkMtu) {
            linkMtu = mtu;
            pathMtu.accept(mtu);
        }
        if (tunName == null || mtu == underlayMtu) return;
        int usable = Math.min(mtu, maxUnderlayMtu);
        int wanted = usable - overhead;
        if (wanted < BackendConf.MIN_IPV4_MTU) {
            if (refused != mtu) {
                LOG.log(Level.WARNING, "underlay " + underlayName + " MTU " + mtu + " leaves no room for the overhead of " + overhead
                        + ": TUN " + tunName + " keeps MTU " + tunMtu);
                refused = mtu;
            }
            return;
        }
        try {
            if (wanted != tunMtu) netlink.setMtu(tunName, wanted);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENODEV) return;
            throw e;
        }
        int before = underlayMtu;
        int tunBefore = tunMtu;
        underlayMtu = mtu;
        tunMtu = wanted;
        if (mtu > maxUnderlayMtu) {
            if (refused != mtu) {
                LOG.log(Level.WARNING, "underlay " + underlayName + " MTU " + before + " -> " + mtu + ": TUN " + tunName + " MTU " + wanted
                        + ", the most the packet buffers made for MTU " + maxUnderlayMtu + " hold; restart the node to use MTU " + mtu);
                refused = mtu;
            }
            return;
        }
        refused = 0;
        LOG.log(Level.INFO, () -> "underlay " + underlayName + " MTU " + before + " -> " + mtu + ": TUN " + tunName + " MTU " + tunBefore
                + " -> " + wanted);
    }

    /** Stops the thread (after the change under way, if any). Idempotent. */
    @Override
    public void close() {
        events.close();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
