package io.dataplane.tun.sys;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.tun.ErrnoException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
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
 *
 * <p><b>Runs.</b> A UDP socket's send batch may {@linkplain #sendRuns send runs}: consecutive
 * slots to one peer whose datagrams are equally long (the run's last may be shorter) go out as one
 * message whose iovecs are theirs, with {@code UDP_SEGMENT} the datagram length, and the kernel
 * cuts it into those datagrams (UDP GSO): one pass through the IP stack, one socket buffer through
 * the underlay, and one receive for a peer that takes trains (UDP GRO), instead of one each. The
 * bytes on the wire are the same. A GSO message the kernel refuses (EMSGSIZE: datagrams longer
 * than the path's MTU, which the kernel fragments when they go one by one; EINVAL: a socket that
 * cannot take it, such as one without UDP checksums; EIO: a device path without checksum offload)
 * goes out again one datagram per message with the rest of that send; EIO also turns runs off for
 * good, with a warning.
 */
public final class MmsgBatch {
    private static final Logger LOG = System.getLogger(MmsgBatch.class.getName());
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
    private MemorySegment runControls; // send with runs: a UDP_SEGMENT control message per message
    private int[] runLengths; // send with runs: the datagrams of each message of the send under way
    private int[] runStarts; // send with runs: the first slot of each message of the send under way
    private boolean runs;
    // Receive only: the buffer and offset each slot's iovec points at, so that a slot whose buffer
    // stayed is not armed again (a receive loop keeps the buffers it did not fill in their slots);
    // and how many slots' headers the kernel may have written since they were last set.
    private final PacketBuffer[] armed;
    private final int[] armedOffset;
    private int written;
    private boolean dry; // the last recvmmsg came back short of its slots: the socket had run dry

    /** {@code size} slots in {@code arena}, each linked to its iovec and its AF_INET address. */
    public MmsgBatch(Arena arena, int size) {
        this.messages = arena.allocate(Structs.MMSGHDR, size);
        this.iovecs = arena.allocate(Structs.IOVEC, size);
        this.addresses = arena.allocate(Structs.SOCKADDR_IN, size);
        this.messagesAddress = messages.address();
        this.size = size;
        this.armed = new PacketBuffer[size];
        this.armedOffset = new int[size];
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
        written = size;
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

    /**
     * From now on {@link #send} sends runs of datagrams as one UDP GSO message each (see the class
     * comment); for a UDP socket's send batch, called once, before the first send.
     */
    public void sendRuns(Arena arena) {
        runControls = arena.allocate((long) SegmentBatch.CMSG_SPACE_U16 * size, 8);
        for (int i = 0; i < size; i++) SegmentBatch.udpSegmentControl(runControls, (long) i * SegmentBatch.CMSG_SPACE_U16);
        runLengths = new int[size];
        runStarts = new int[size];
        runs = true;
    }

    /** Sends every datagram as a message of its own from now on (the plain path). */
    public void stopRuns() {
        runs = false;
    }

    /** True while {@link #send} sends runs as one message each. */
    public boolean sendsRuns() {
        return runs;
    }

    /** Slot {@code i} sends {@code p}'s data to its peer address (and port, when {@code withPort}). */
    public void toSend(int i, PacketBuffer p, boolean withPort) {
        setIovec(i, p.address() + p.offset(), p.length());
        long sa = i * SOCKADDR;
        if (withPort) addresses.set(SocketNative.NET_U16, sa + Structs.SOCKADDR_IN_PORT, (short) p.peerPort());
        addresses.set(SocketNative.NET_U32, sa + Structs.SOCKADDR_IN_ADDR, p.peerAddress());
    }

    /**
     * Slots {@code [0..limit)} receive into {@code packets[0..limit)}, each from its offset to its
     * end. Only a slot whose buffer or offset changed gets its iovec again, and only the headers
     * the last receive let the kernel write get their lengths again: at a ping's rate a receive
     * fills one slot of 64, and arming them all twice per datagram cost more than the datagram.
     */
    private void arm(PacketBuffer[] packets, int limit) {
        for (int i = 0; i < limit; i++) {
            PacketBuffer p = packets[i];
            int off = p.offset();
            if (armed[i] != p || armedOffset[i] != off) {
                setIovec(i, p.address() + off, p.capacity() - off);
                armed[i] = p;
                armedOffset[i] = off;
            }
        }
        for (int i = 0; i < written; i++) {
            messages.set(ValueLayout.JAVA_INT, i * MMSG + Structs.MSGHDR_NAMELEN, (int) SOCKADDR);
            if (controls != null) messages.set(ValueLayout.JAVA_LONG, i * MMSG + Structs.MSGHDR_CONTROLLEN, CONTROL_SPACE);
        }
        written = 0;
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
        int messages = runLengths == null ? n : link(0, 0, n, runs);
        MemorySegment errno = out.errno();
        int sent = 0;
        int at = 0;
        while (at < messages) {
            int r = SocketNative.sendmmsg(errno, fd, messagesAddress + at * MMSG, messages - at, SocketNative.MSG_DONTWAIT);
            if (r > 0) {
                sent += datagrams(at, r);
                at += r;
                continue;
            }
            int e = NativeCall.errno(errno);
            Errno.Outcome o = Errno.sendResult("sendmmsg", out, e);
            if (o == Errno.Outcome.CLOSED) return CLOSED;
            if (o == Errno.Outcome.AGAIN) {
                if (!wait) return sent;
                if (out.await(FdNative.POLLOUT) == WakeableFd.WOKEN) return CLOSED;
            }
            if (o == Errno.Outcome.FAILED) {
                if (runLengths != null && runLengths[at] > 1 && (e == Errno.EIO || e == Errno.EINVAL || e == Errno.EMSGSIZE)) {
                    if (e == Errno.EIO && runs) {
                        runs = false; // this path cannot take GSO messages
                        LOG.log(Level.WARNING, "UDP GSO refused (errno " + e + "): sending runs of datagrams one per message from now on");
                    }
                    messages = link(runStarts[at], at, n, false); // this run and the rest, one datagram per message
                    continue;
                }
                at++; // refused: skip it, the caller counts the difference
            }
        }
        return sent;
    }

    // The datagrams of messages [at..at+count).
    private int datagrams(int at, int count) {
        if (runLengths == null) return count;
        int d = 0;
        for (int k = at; k < at + count; k++) d += runLengths[k];
        return d;
    }

    /*
     * Links the messages from message k on to slots [from..n), for a send with runs: each message
     * starts at a slot, points at that slot's address and iovec, and, with joinRuns, takes the
     * following slots' iovecs while they go to the same peer with datagrams as long (the last of a
     * run may be shorter), up to the kernel's most segments and bytes of one GSO message; without,
     * every slot is a message. Returns the number of messages linked in all (k included);
     * runStarts and runLengths hold each one's first slot and datagrams.
     */
    private int link(int from, int k, int n, boolean joinRuns) {
        for (int s = from; s < n; ) {
            long length = iovecs.get(ValueLayout.JAVA_LONG, s * IOV + Structs.IOVEC_LEN);
            long peer = addresses.get(ValueLayout.JAVA_LONG_UNALIGNED, s * SOCKADDR); // family, port, address
            int m = 1;
            if (joinRuns && length > 0) {
                int most = (int) Math.min(SegmentBatch.MAX_SEGMENTS_PER_MESSAGE, SegmentBatch.MAX_GSO_PAYLOAD / length);
                while (s + m < n && m < most) {
                    long next = iovecs.get(ValueLayout.JAVA_LONG, (s + m) * IOV + Structs.IOVEC_LEN);
                    if (next > length || next == 0 || addresses.get(ValueLayout.JAVA_LONG_UNALIGNED, (s + m) * SOCKADDR) != peer) break;
                    m++;
                    if (next < length) break; // a shorter datagram ends its run
                }
            }
            long msg = k * MMSG;
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_NAME, addresses.address() + s * SOCKADDR);
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_IOV, iovecs.address() + s * IOV);
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_IOVLEN, m);
            if (m > 1) {
                long c = (long) k * SegmentBatch.CMSG_SPACE_U16;
                runControls.set(ValueLayout.JAVA_SHORT, c + SegmentBatch.CMSG_HDR, (short) length);
                messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROL, runControls.address() + c);
                messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROLLEN, SegmentBatch.CMSG_SPACE_U16);
            } else {
                messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROL, 0L);
                messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROLLEN, 0L);
            }
            runStarts[k] = s;
            runLengths[k++] = m;
            s += m;
        }
        return k;
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
     * once more instead. A wait that lasts {@link WakeableFd#IDLE_MILLIS} gives the pages of
     * {@code packets[0..limit)} and of their pool's free buffers back ({@link PacketPool#discardIdle}).
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
            boolean idle = false; // waited IDLE_MILLIS for this receive: the buffers' pages are given back
            // recvmmsg stops short of its slots only where the socket runs dry (or holds an error,
            // which poll reports too): then a blocking receive polls first, and saves the call that
            // would find the socket empty.
            boolean empty = block && dry;
            while (true) {
                if (!empty) {
                    arm(packets, limit);
                    int r = SocketNative.recvmmsg(errno, fd, messagesAddress, limit, SocketNative.MSG_DONTWAIT);
                    written = Math.max(r, 1);
                    if (r > 0) {
                        dry = r < limit;
                        int kept = acceptor.accept(this, packets, r);
                        if (kept > 0) return kept;
                        empty = block && dry;
                        continue; // all were dropped: read again
                    }
                    dry = false;
                }
                Errno.Outcome o = empty ? Errno.Outcome.AGAIN : Errno.ioResult("recvmmsg", socket, NativeCall.errno(errno));
                empty = false;
                if (o == Errno.Outcome.CLOSED) return CLOSED;
                if (o == Errno.Outcome.AGAIN) {
                    if (!block) return 0;
                    if (beforeWait != null && beforeWait.getAsBoolean()) continue;
                    int revents = in.await(FdNative.POLLIN, idle ? -1 : WakeableFd.IDLE_MILLIS);
                    if (revents == WakeableFd.WOKEN) return CLOSED;
                    if (revents == WakeableFd.TIMED_OUT) {
                        // Idle: the armed buffers and the pool's free ones need not stay resident (no receive is in flight).
                        PacketPool.discardIdle(packets, 0, limit);
                        idle = true;
                    }
                }
            }
        } finally {
            in.exit();
        }
    }
}
