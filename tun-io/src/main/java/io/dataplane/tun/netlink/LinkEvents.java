package io.dataplane.tun.netlink;

import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.Structs;
import io.dataplane.tun.sys.WakeableFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernel's link notifications for one network namespace, what {@code ip monitor link} shows:
 * an rtnetlink socket that joins the RTMGRP_LINK multicast group, so every change of a link (its
 * MTU, its state, a new link) arrives as an RTM_NEWLINK message the moment the kernel makes it,
 * with no polling.
 *
 * <p>One thread receives ({@link #await}); {@link #close} from any other thread wakes it. When
 * notifications come faster than the thread takes them, the kernel drops some and says so once
 * (ENOBUFS on the next receive): the listener hears {@link Listener#onLost()} and reads the state
 * it cares about again.
 */
public final class LinkEvents implements AutoCloseable {
    /** The RTMGRP_LINK multicast group bit of {@code sockaddr_nl.nl_groups}. */
    static final int RTMGRP_LINK = 1;
    private static final int RECEIVE_BUFFER = 32 * 1024;

    /** Receives what {@link #await} reads. */
    public interface Listener {
        /** A link the kernel reports as new or changed. */
        void onLink(Link link);

        /** Notifications were dropped by the kernel: what the listener knows may be stale. */
        void onLost();
    }

    private final WakeableFd fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment receive = arena.allocate(RECEIVE_BUFFER, 8);

    private LinkEvents(WakeableFd fd) {
        this.fd = fd;
    }

    /** Subscribes to the link notifications of the calling thread's network namespace. */
    public static LinkEvents open() throws ErrnoException {
        int socket = SocketNative.socket(SocketNative.AF_NETLINK, SocketNative.SOCK_RAW | FdNative.O_NONBLOCK, Rtnl.NETLINK_ROUTE,
                "AF_NETLINK, NETLINK_ROUTE, RTMGRP_LINK");
        try (Arena local = Arena.ofConfined()) {
            MemorySegment address = local.allocate(Structs.SOCKADDR_NL);
            address.set(ValueLayout.JAVA_SHORT, 0, (short) SocketNative.AF_NETLINK);
            address.set(ValueLayout.JAVA_INT, Structs.SOCKADDR_NL.byteOffset(MemoryLayout.PathElement.groupElement("nl_groups")), RTMGRP_LINK);
            SocketNative.bind(socket, address, "AF_NETLINK, RTMGRP_LINK");
            return new LinkEvents(new WakeableFd(socket, "rtnetlink link notifications"));
        } catch (ErrnoException | RuntimeException e) {
            FdNative.close(socket);
            throw e;
        }
    }

    /**
     * Waits for notifications and hands every link in them to {@code listener}, returning after the
     * first datagram (or the first report of lost notifications).
     *
     * @return false once {@link #close} has begun, true otherwise
     * @throws ErrnoException if the socket fails in any other way
     */
    public boolean await(Listener listener) throws ErrnoException {
        WakeableFd.Direction reading = fd.reading();
        if (!reading.enter()) return false;
        try {
            while (true) {
                long n = SocketNative.recv(reading.errno(), fd.fd(), receive.address(), RECEIVE_BUFFER, 0);
                if (n >= 0) {
                    links(receive, n, listener);
                    return true;
                }
                int errno = NativeCall.errno(reading.errno());
                if (errno == Errno.ENOBUFS) {
                    listener.onLost();
                    return true;
                }
                switch (Errno.ioResult("recv", reading, errno)) {
                    case AGAIN -> {
                        if (reading.await(FdNative.POLLIN) == WakeableFd.WOKEN) return false;
                    }
                    case CLOSED -> {
                        return false;
                    }
                    default -> {} // RETRY
                }
            }
        } finally {
            reading.exit();
        }
    }

    /**
     * Hands each RTM_NEWLINK message in {@code buffer[0, n)} (one datagram) to {@code listener};
     * other messages are skipped, and a message whose length field is impossible ends the walk.
     */
    static void links(MemorySegment buffer, long n, Listener listener) {
        long at = 0;
        while (at + Rtnl.NLMSG_HDRLEN <= n) {
            int len = buffer.get(ValueLayout.JAVA_INT, at + Rtnl.NLMSG_LEN);
            if (len < Rtnl.NLMSG_HDRLEN || at + len > n) return;
            int type = Short.toUnsignedInt(buffer.get(ValueLayout.JAVA_SHORT, at + Rtnl.NLMSG_TYPE));
            if (type == Rtnl.RTM_NEWLINK) {
                Link link = Netlink.parseLink(buffer, at + Rtnl.NLMSG_HDRLEN, at + len, null);
                if (link != null) listener.onLink(link);
            }
            at += NetlinkRequest.align(len);
        }
    }

    /** Wakes a thread in {@link #await} and closes the socket. Idempotent. */
    @Override
    public void close() {
        fd.close();
        synchronized (this) {
            if (arena.scope().isAlive()) arena.close();
        }
    }
}
