package io.dataplane.tun.sys;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.BooleanSupplier;

/**
 * The native arrays of one direction of an IPv4 datagram socket ({@code mmsghdr}, {@code iovec}
 * and {@code sockaddr_in} per slot, linked once) and the {@code sendmmsg}/{@code recvmmsg} loops
 * over them, shared by the UDP socket and the raw IP socket. Slots point straight at pool buffers:
 * no copy. One thread uses a batch at a time (the socket's direction guard keeps it so); nothing
 * here allocates after construction.
 */
public final class MmsgBatch {
    /** Result of {@link #send} and {@link #receive} once the descriptor is closed. */
    public static final int CLOSED = -1;
    private static final long MMSG = Structs.MMSGHDR.byteSize();
    private static final long IOV = Structs.IOVEC.byteSize();
    private static final long SOCKADDR = Structs.SOCKADDR_IN.byteSize();

    private final MemorySegment messages;
    private final MemorySegment iovecs;
    private final MemorySegment addresses;
    private final long messagesAddress;
    private final int size;
    private MemorySegment controls; // receive only, when asked for: CONTROL_SPACE bytes per slot

    /** {@code size} slots in {@code arena}, each linked to its iovec and its AF_INET address. */
    public MmsgBatch(Arena arena, int size) {
        this.messages = arena.allocate(Structs.MMSGHDR, size);
        this.iovecs = arena.allocate(Structs.IOVEC, size);
        this.addresses = arena.allocate(Structs.SOCKADDR_IN, size);
        this.messagesAddress = messages.address();
        this.size = size;
        for (int i = 0; i < size; i++) {
            long m = i * MMSG;
            messages.set(ValueLayout.JAVA_LONG, m + Structs.MSGHDR_NAME, addresses.address() + i * SOCKADDR);
            messages.set(ValueLayout.JAVA_INT, m + Structs.MSGHDR_NAMELEN, (int) SOCKADDR);
            messages.set(ValueLayout.JAVA_LONG, m + Structs.MSGHDR_IOV, iovecs.address() + i * IOV);
            messages.set(ValueLayout.JAVA_LONG, m + Structs.MSGHDR_IOVLEN, 1L);
            addresses.set(ValueLayout.JAVA_SHORT, i * SOCKADDR, (short) SocketNative.AF_INET);
        }
    }

    /** Control message room per slot: one {@code cmsghdr} with an int, as {@code CMSG_SPACE(sizeof(int))}. */
    private static final int CONTROL_SPACE = 24;
    private static final int CMSG_HDR = 16; // struct cmsghdr on LP64: size_t len, int level, int type

    /**
     * Gives every slot room for a control message on receive (the {@code UDP_GRO} segment size);
     * called once, before the first {@link #receive}.
     */
    public void receiveControl(Arena arena) {
        controls = arena.allocate((long) CONTROL_SPACE * size, 8);
        for (int i = 0; i < size; i++) {
            messages.set(ValueLayout.JAVA_LONG, i * MMSG + Structs.MSGHDR_CONTROL, controls.address() + (long) i * CONTROL_SPACE);
        }
    }

    /**
     * The int of slot {@code i}'s control message of {@code level} and {@code type} after a
     * receive, or 0 when it has none (no control room, or the kernel sent none).
     */
    public int controlInt(int i, int level, int type) {
        if (controls == null) return 0;
        long length = messages.get(ValueLayout.JAVA_LONG, i * MMSG + Structs.MSGHDR_CONTROLLEN);
        long c = (long) i * CONTROL_SPACE;
        if (length < CMSG_HDR + 4 || controls.get(ValueLayout.JAVA_LONG, c) < CMSG_HDR + 4) return 0;
        if (controls.get(ValueLayout.JAVA_INT, c + 8) != level || controls.get(ValueLayout.JAVA_INT, c + 12) != type) return 0;
        return controls.get(ValueLayout.JAVA_INT, c + CMSG_HDR);
    }

    /** Slot {@code i} sends {@code p}'s data to its peer address (and port, when {@code withPort}). */
    public void toSend(int i, PacketBuffer p, boolean withPort) {
        setIovec(i, p.address() + p.offset(), p.length());
        long sa = i * SOCKADDR;
        if (withPort) addresses.set(SocketNative.NET_U16, sa + Structs.SOCKADDR_IN_PORT, (short) p.peerPort());
        addresses.set(SocketNative.NET_U32, sa + Structs.SOCKADDR_IN_ADDR, p.peerAddress());
    }

    /** Slot {@code i} receives into {@code p}, from its offset to its end. */
    private void toReceive(int i, PacketBuffer p) {
        int off = p.offset();
        setIovec(i, p.address() + off, p.capacity() - off);
        messages.set(ValueLayout.JAVA_INT, i * MMSG + Structs.MSGHDR_NAMELEN, (int) SOCKADDR);
        if (controls != null) messages.set(ValueLayout.JAVA_LONG, i * MMSG + Structs.MSGHDR_CONTROLLEN, CONTROL_SPACE);
    }

    private void setIovec(int i, long base, long length) {
        iovecs.set(ValueLayout.JAVA_LONG, i * IOV + Structs.IOVEC_BASE, base);
        iovecs.set(ValueLayout.JAVA_LONG, i * IOV + Structs.IOVEC_LEN, length);
    }

    /** Bytes the kernel put in slot {@code i}'s datagram. */
    public int length(int i) {
        return messages.get(ValueLayout.JAVA_INT, i * MMSG + Structs.MMSGHDR_LEN);
    }

    /** True if slot {@code i}'s datagram did not fit its buffer ({@code MSG_TRUNC}). */
    public boolean truncated(int i) {
        return (messages.get(ValueLayout.JAVA_INT, i * MMSG + Structs.MSGHDR_FLAGS) & SocketNative.MSG_TRUNC) != 0;
    }

    /** Slot {@code i}'s sender address. */
    public int peerAddress(int i) {
        return addresses.get(SocketNative.NET_U32, i * SOCKADDR + Structs.SOCKADDR_IN_ADDR);
    }

    /** Slot {@code i}'s sender port. */
    public int peerPort(int i) {
        return Short.toUnsignedInt(addresses.get(SocketNative.NET_U16, i * SOCKADDR + Structs.SOCKADDR_IN_PORT));
    }

    /**
     * Sends slots {@code [0..n)} with {@code sendmmsg}, inside {@code out}'s enter/exit. A datagram
     * the kernel refuses ({@link Errno#sendResult}: EMSGSIZE, ENETUNREACH, ...) is skipped and not counted. When the socket's
     * send buffer is full (EAGAIN), with {@code wait} it waits in {@code poll} for room and goes on;
     * without, the datagrams not yet taken are refused too.
     *
     * @return how many the kernel took, or {@link #CLOSED}
     * @throws ErrnoException if waiting in poll fails
     */
    public int send(WakeableFd.Direction out, int fd, int n, boolean wait) throws ErrnoException {
        MemorySegment errno = out.errno();
        int sent = 0;
        int at = 0;
        while (at < n) {
            int r = SocketNative.sendmmsg(errno, fd, messagesAddress + at * MMSG, n - at, SocketNative.MSG_DONTWAIT);
            if (r > 0) {
                at += r;
                sent += r;
                continue;
            }
            Errno.Outcome o = Errno.sendResult("sendmmsg", out, NativeCall.errno(errno));
            if (o == Errno.Outcome.CLOSED) return CLOSED;
            if (o == Errno.Outcome.AGAIN) {
                if (!wait) return sent;
                if (out.await(FdNative.POLLOUT) == WakeableFd.WOKEN) return CLOSED;
            }
            if (o == Errno.Outcome.FAILED) at++; // refused: skip it, the caller counts the difference
        }
        return sent;
    }

    /** What a socket makes of the datagrams a {@link #receive} got. */
    @FunctionalInterface
    public interface Acceptor {
        /**
         * Turns the datagrams in slots {@code [0..received)} into {@code packets[0..received)}'s data
         * and peers, dropping the ones it refuses; the kept buffers go first.
         *
         * @return how many buffers it kept
         */
        int accept(MmsgBatch batch, PacketBuffer[] packets, int received);
    }

    /**
     * Receives up to {@code limit} datagrams into {@code packets[0..limit)} with {@code recvmmsg},
     * inside {@code in}'s enter/exit: each buffer from its offset to its end, then {@code acceptor}
     * makes them packets. When the acceptor keeps none it reads again. With {@code block} it waits
     * in {@code poll} for the first datagram (a close wakes it), without it it returns 0 when none
     * is waiting. Before each wait it asks {@code beforeWait} (null: none), which may have it try
     * once more instead.
     *
     * @param socket named in an error (its {@code toString}, only then)
     * @return the number of buffers filled, or {@link #CLOSED}
     * @throws ErrnoException naming {@code recvmmsg} and the socket for an errno that {@link
     *     Errno#ioResult} does not take as "again" or "closed"
     */
    public int receive(WakeableFd.Direction in, int fd, PacketBuffer[] packets, int limit, boolean block, BooleanSupplier beforeWait,
            Acceptor acceptor, Object socket) throws ErrnoException {
        if (limit <= 0) return 0;
        if (!in.enter()) return CLOSED;
        try {
            MemorySegment errno = in.errno();
            while (true) {
                for (int i = 0; i < limit; i++) toReceive(i, packets[i]);
                int r = SocketNative.recvmmsg(errno, fd, messagesAddress, limit, SocketNative.MSG_DONTWAIT);
                if (r > 0) {
                    int kept = acceptor.accept(this, packets, r);
                    if (kept > 0) return kept;
                    continue; // all were dropped: read again
                }
                Errno.Outcome o = Errno.ioResult("recvmmsg", socket, NativeCall.errno(errno));
                if (o == Errno.Outcome.CLOSED) return CLOSED;
                if (o == Errno.Outcome.AGAIN) {
                    if (!block) return 0;
                    if (beforeWait != null && beforeWait.getAsBoolean()) continue;
                    if (in.await(FdNative.POLLIN) == WakeableFd.WOKEN) return CLOSED;
                }
            }
        } finally {
            in.exit();
        }
    }
}
