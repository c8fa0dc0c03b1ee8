package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.PartialChecksum;
import io.dataplane.core.wire.TcpCoalescer;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.FdPoller;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.WakeableFd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A Linux TUN device (one queue of it) as a {@link TunnelDevice}, pollable
 * ({@link PollableTunnelDevice}): IPv4 packets without a packet information header
 * ({@code IFF_TUN | IFF_NO_PI}), read and written in batches.
 *
 * <p><b>Opening.</b> {@link #open(String, TunOptions)} creates the device, or attaches to an
 * existing one of that name ({@code ip tuntap add} made, or another process's). The device lives
 * in the network namespace of the thread that opens it (see {@code NetNamespace}); the descriptor
 * stays there, so any thread may read and write it afterwards. {@link #openQueues} opens a
 * multi-queue device ({@code IFF_MULTI_QUEUE}), one descriptor and one {@code TunDevice} per queue;
 * the kernel spreads flows across the queues. A device that this process created goes away when
 * its last queue is closed.
 *
 * <p><b>Reading.</b> {@link #read} fills the caller's buffers, each at its current offset (the
 * pool's headroom), and keeps reading while the kernel has packets, up to the batch size; with
 * none there it blocks in {@code poll} until one arrives or {@link #close} wakes it; {@link #readNow}
 * returns 0 instead, for a thread that waits on the descriptor ({@link #pollFd()}) together with
 * others through an {@link FdPoller}. One thread reads and one thread writes at a time; they may
 * run concurrently.
 *
 * <p><b>virtio_net_hdr.</b> With {@link TunOptions#vnetHeader()} every packet crosses the
 * descriptor behind a 10-byte {@link VirtioNetHeader} ({@code TUNSETVNETHDRSZ} = 10), in the 10
 * bytes in front of the buffer's data: buffers need an offset of at least 10. Read leaves the
 * kernel's header there for a {@link VirtioNetHeader} view and sets the buffer's
 * {@link PacketBuffer#gsoSize() gsoSize} for a super-packet (0 otherwise); a single packet with a
 * partial checksum (NEEDS_CSUM, with the CSUM offload) has it completed, so what read returns is
 * a valid packet or a super-packet whose header keeps NEEDS_CSUM for the segmenter. Write puts a
 * header there: for {@code gsoSize != 0} a GSO header (TCPV4 or UDP_L4 from the IPv4 protocol) with
 * NEEDS_CSUM and the pseudo-header sum in the L4 checksum field, as the kernel expects of a
 * super-packet; for a single packet all zero, or NEEDS_CSUM (below). A super-packet larger than
 * the buffer is cut at the buffer's end (its IPv4 total length then exceeds the data, which IPv4
 * validation drops); with TSO/USO use buffers of 64 KiB.
 *
 * <p><b>Partial checksums on write.</b> A kernel VXLAN or IPIP device that sends across a veth
 * puts inner TCP and UDP packets on the wire whose checksum holds only the pseudo-header sum
 * ({@link PartialChecksum}); the TUN's kernel would drop them as corrupt. {@link #write} hands
 * such a packet on as the sender's kernel meant it: with the virtio_net_hdr, as NEEDS_CSUM at its
 * transport header, for whichever device needs the sum to complete it; without, completed in
 * software. Finding one costs a look at the IPv4 header and the checksum field; a checksum that is
 * neither complete nor partial is written as it is, for the kernel's TCP or UDP to drop and count.
 *
 * <p><b>Joined writes.</b> With {@link TunOffload#TSO4} among the offloads, {@link #write} and
 * {@link #writeTrain} also do what GRO does for a NIC: consecutive segments of one TCP flow (as
 * {@link TcpCoalescer} decides, each checksum verified or partial) go into the kernel as one TCP
 * super-packet, the first with its rewritten headers and the payload of the others gathered by one
 * {@code writev}, no copy. {@link #coalesced()} counts the packets written so.
 *
 * <p><b>io_uring.</b> With {@link TunOptions#ioUring()} a batch of reads, and a batch of writes,
 * each goes to the kernel in one {@code io_uring_enter} instead of one system call per packet
 * (see {@code TunIoUring}); where the kernel refuses io_uring the device says so in one log line
 * and makes one call per packet ({@link #ioUring()} tells which). A write of one packet is one
 * {@code write} either way, and fewer than four reads, or writes of single packets, are plain
 * calls, which cost less than the ring for so few.
 *
 * <p><b>Errors.</b> Setup errors name the call, the device and the errno
 * ({@code "ioctl(TUNSETIFF, tun0) failed: errno=1 (EPERM): needs root or CAP_NET_ADMIN"}, and the
 * same hint when opening {@code /dev/net/tun} itself is refused, EACCES or EPERM); a
 * device removed under an open descriptor makes read and write throw with EBADFD instead of hanging.
 */
public final class TunDevice implements PollableTunnelDevice {
    private static final String TUN_PATH = "/dev/net/tun";
    private static final String NEEDS_RIGHT = "needs root or CAP_NET_ADMIN";
    private static final int VNET_HDR_LEN = VirtioNetHeader.LENGTH;

    private final String name;
    private final int queueIndex;
    private final boolean multiQueue;
    private final TunOptions options;
    private final WakeableFd fd;
    private final int fdNumber;
    private final int controlFd;
    private final int hdrLen; // bytes in front of every packet on the descriptor: the virtio_net_hdr, or none
    private final VnetHeaderCodec readCodec;
    private final VnetHeaderCodec writeCodec;
    private final SegmentJoiner joiner; // writer only; null unless TSO4: then TCP segments are joined
    private final TunIoUring uring; // null: one read or write system call per packet
    private volatile long coalesced;
    private boolean controlClosed;

    private TunDevice(String name, int queueIndex, boolean multiQueue, TunOptions options, WakeableFd fd, int controlFd) {
        this.name = name;
        this.queueIndex = queueIndex;
        this.multiQueue = multiQueue;
        this.options = options;
        this.fd = fd;
        this.fdNumber = fd.fd();
        this.controlFd = controlFd;
        this.readCodec = new VnetHeaderCodec(name, options.vnetHeader());
        this.writeCodec = new VnetHeaderCodec(name, options.vnetHeader());
        this.hdrLen = readCodec.length();
        this.joiner = options.offloads().contains(TunOffload.TSO4) ? new SegmentJoiner(writeCodec) : null;
        // Only a descriptor that is not a TUN (overDescriptor: no control socket) may leave a write with EAGAIN.
        boolean mayRefuseWrites = controlFd < 0;
        this.uring = options.ioUring() ? TunIoUring.open(this, fdNumber, mayRefuseWrites, options.batchSize(), readCodec, writeCodec) : null;
    }

    /** Creates or attaches to the TUN device {@code name} with the {@link TunOptions#defaults() defaults}. */
    public static TunDevice open(String name) throws IOException {
        return open(name, TunOptions.defaults());
    }

    /**
     * Creates or attaches to the single-queue TUN device {@code name} ({@code "tun%d"} lets the
     * kernel pick a number; {@link #name()} says which) in the calling thread's network namespace.
     *
     * @throws IllegalArgumentException naming the name when the kernel would refuse it (longer than 15 bytes, ...)
     * @throws ErrnoException naming the call and errno: EPERM (or EACCES opening {@code /dev/net/tun})
     *     without CAP_NET_ADMIN, EBUSY when
     *     another descriptor holds the device, EINVAL when it is multi-queue or not a TUN
     */
    public static TunDevice open(String name, TunOptions options) throws IOException {
        InterfaceName.check(name);
        return openQueue(name, 0, false, options);
    }

    /**
     * Creates or attaches to the multi-queue TUN device {@code name} with {@code queues} queues,
     * returning one device per queue (index 0 to queues-1). Either all open or none.
     */
    public static List<TunDevice> openQueues(String name, int queues, TunOptions options) throws IOException {
        InterfaceName.check(name);
        if (queues < 1 || queues > 256) throw new IllegalArgumentException("TUN queue count out of range: queues=" + queues + " (1-256)");
        List<TunDevice> opened = new ArrayList<>(queues);
        try {
            String actual = name;
            for (int q = 0; q < queues; q++) {
                TunDevice d = openQueue(actual, q, true, options);
                opened.add(d);
                actual = d.name; // a "tun%d" pattern resolves on the first queue; the others join it
            }
            return List.copyOf(opened);
        } catch (IOException | RuntimeException e) {
            for (TunDevice d : opened) d.close();
            throw e;
        }
    }

    private static TunDevice openQueue(String name, int queueIndex, boolean multiQueue, TunOptions options) throws IOException {
        int flags = TunNative.IFF_TUN | TunNative.IFF_NO_PI
                | (multiQueue ? TunNative.IFF_MULTI_QUEUE : 0)
                | (options.vnetHeader() ? TunNative.IFF_VNET_HDR : 0);
        int tunFd = openDevice(FdNative.O_RDWR | FdNative.O_NONBLOCK | FdNative.O_CLOEXEC);
        int controlFd = -1;
        try (Arena arena = Arena.ofConfined()) {
            String actual = attach(arena, tunFd, name, flags);
            if (options.vnetHeader()) {
                MemorySegment size = arena.allocateFrom(ValueLayout.JAVA_INT, VNET_HDR_LEN);
                TunNative.ioctlPointer(tunFd, TunNative.TUNSETVNETHDRSZ, size, "TUNSETVNETHDRSZ, " + actual);
                // Always set, also to 0: an attached device may carry offloads a previous owner enabled.
                TunNative.ioctlValue(tunFd, TunNative.TUNSETOFFLOAD, TunOffload.flags(options.offloads()),
                        "TUNSETOFFLOAD " + options.offloads() + ", " + actual);
            }
            controlFd = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_DGRAM, 0, "AF_INET, SOCK_DGRAM");
            WakeableFd wfd = new WakeableFd(tunFd, actual);
            return new TunDevice(actual, queueIndex, multiQueue, options, wfd, controlFd);
        } catch (IOException | RuntimeException e) {
            FdNative.close(tunFd);
            FdNative.close(controlFd);
            throw e;
        }
    }

    /**
     * A device over {@code fd} instead of a TUN, with the reader and the writer {@code options} make
     * (virtio_net_hdr, joined writes, io_uring) and nothing set on the descriptor: {@code fd} is
     * any nonblocking descriptor that keeps one packet per {@code write} or {@code writev}, such as
     * one end of an {@code AF_UNIX SOCK_SEQPACKET} pair, which io_uring's write ops serve as they
     * serve a TUN. It exists for the fuzz targets of tun-io's test-jar, which read back from the
     * other end exactly the bytes a kernel would have been given, without a TUN and without root;
     * a node never opens one. Takes ownership of {@code fd} (closed on failure too). {@link #mtu()}
     * and {@link #index()} are a TUN's and throw here.
     */
    static TunDevice overDescriptor(int fd, String name, TunOptions options) throws ErrnoException {
        try {
            return new TunDevice(name, 0, false, options, new WakeableFd(fd, name), -1);
        } catch (ErrnoException | RuntimeException e) {
            FdNative.close(fd);
            throw e;
        }
    }

    // Opens /dev/net/tun; without the right (EACCES where the node is mode 0600, EPERM) the error says what to do.
    private static int openDevice(int flags) throws ErrnoException {
        try {
            return FdNative.open(TUN_PATH, flags, 0);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EACCES && e.errno() != Errno.EPERM) throw e;
            throw new ErrnoException(e.call(), e.errno(), NEEDS_RIGHT);
        }
    }

    private static String attach(Arena arena, int tunFd, String name, int flags) throws ErrnoException {
        try {
            MemorySegment ifr = TunNative.ioctlIfreq(arena, tunFd, TunNative.TUNSETIFF, "TUNSETIFF", name, flags);
            return InterfaceName.read(ifr, 0);
        } catch (ErrnoException e) {
            String hint = switch (e.errno()) {
                case Errno.EPERM, Errno.EACCES -> NEEDS_RIGHT;
                case Errno.EBUSY -> "another descriptor holds the single-queue device " + name;
                case Errno.EINVAL -> name + " exists as another kind of device, or its multi-queue mode differs";
                default -> null;
            };
            throw new ErrnoException(e.call(), e.errno(), hint);
        }
    }

    /** True if this machine lets the process open a TUN device (probed once: /dev/net/tun, TUNSETIFF). */
    public static boolean isAvailable() {
        return Probe.CAUSE == null;
    }

    /** Why {@link #isAvailable()} is false ({@code "open(/dev/net/tun) failed: errno=2 (ENOENT)"}), or null. */
    public static String unavailabilityCause() {
        return Probe.CAUSE;
    }

    private static final class Probe {
        static final String CAUSE = probe();

        // Creates a transient device with a kernel-chosen name; it vanishes with the descriptor.
        private static String probe() {
            int tunFd;
            try {
                tunFd = openDevice(FdNative.O_RDWR | FdNative.O_CLOEXEC);
            } catch (ErrnoException e) {
                return e.getMessage();
            } catch (RuntimeException | LinkageError e) {
                return "native calls unavailable: " + e;
            }
            try (Arena arena = Arena.ofConfined()) {
                attach(arena, tunFd, "tun%d", TunNative.IFF_TUN | TunNative.IFF_NO_PI);
                return null;
            } catch (ErrnoException e) {
                return e.getMessage();
            } finally {
                FdNative.close(tunFd);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** The MTU the kernel has for the device now ({@code SIOCGIFMTU}). */
    @Override
    public int mtu() {
        return interfaceInt(TunNative.SIOCGIFMTU, "SIOCGIFMTU");
    }

    /** The device's interface index ({@code SIOCGIFINDEX}). */
    public int index() {
        return interfaceInt(TunNative.SIOCGIFINDEX, "SIOCGIFINDEX");
    }

    private synchronized int interfaceInt(long request, String requestName) {
        if (fd.isClosed()) throw new IllegalStateException("TUN device " + name + " is closed");
        try {
            return TunNative.interfaceInt(controlFd, request, requestName, name);
        } catch (ErrnoException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int batchSize() {
        return options.batchSize();
    }

    /** This descriptor's queue, 0 for a single-queue device. */
    public int queueIndex() {
        return queueIndex;
    }

    /** True if the device was opened with {@code IFF_MULTI_QUEUE}. */
    public boolean isMultiQueue() {
        return multiQueue;
    }

    /** The options the device was opened with. */
    public TunOptions options() {
        return options;
    }

    /**
     * Reads up to {@code min(count, batchSize())} packets: as many as the kernel has now, blocking
     * for the first. See the class comment for the virtio_net_hdr. A wait that lasts {@link
     * WakeableFd#IDLE_MILLIS} gives the pages of the buffers and of their pool's free ones back
     * ({@link PacketPool#discardIdle}): a quiet node keeps no more resident than its traffic needs now.
     *
     * @throws IllegalArgumentException if a buffer's offset leaves no room for the virtio_net_hdr
     * @throws ErrnoException naming the device and errno if the device fails (EBADFD: it was removed)
     */
    @Override
    public int read(PacketBuffer[] packets, int count) throws IOException {
        return read(packets, count, true);
    }

    /**
     * As {@link #read}, but returns 0 when no packet is waiting instead of blocking.
     *
     * @throws IllegalArgumentException if a buffer's offset leaves no room for the virtio_net_hdr
     * @throws ErrnoException naming the device and errno if the device fails (EBADFD: it was removed)
     */
    @Override
    public int readNow(PacketBuffer[] packets, int count) throws IOException {
        return read(packets, count, false);
    }

    /** The TUN descriptor: readable while the kernel has packets for us. */
    @Override
    public int pollFd() {
        return fdNumber;
    }

    /** {@link FdPoller#FACTORY}: this device can be polled with sockets of tun-io. */
    @Override
    public Poller.Factory pollers() {
        return FdPoller.FACTORY;
    }

    private int read(PacketBuffer[] packets, int count, boolean block) throws IOException {
        int limit = Math.min(count, options.batchSize());
        if (limit <= 0) return 0;
        WakeableFd.Direction in = fd.reading();
        if (!in.enter()) return CLOSED;
        try {
            MemorySegment errno = in.errno();
            boolean pollReportedError = false;
            boolean idle = false; // waited IDLE_MILLIS for this read: the buffers' pages are given back
            while (true) {
                int n = uring != null ? uring.read(errno, packets, limit) : readEach(errno, packets, limit);
                if (n == CLOSED) return CLOSED;
                if (n > 0 || !block) return n;
                if (pollReportedError) {
                    // poll said POLLERR and read has nothing: the kernel is unregistering the device. The
                    // user sees the same words as when read itself says EBADFD a moment later.
                    throw Errno.exception("read(" + name + ")", Errno.EBADFD);
                }
                int revents = in.await(FdNative.POLLIN, idle ? -1 : WakeableFd.IDLE_MILLIS);
                if (revents == WakeableFd.WOKEN) return CLOSED;
                if (revents == WakeableFd.TIMED_OUT) {
                    // Idle: the armed buffers and the pool's free ones need not stay resident (no read is in flight).
                    PacketPool.discardIdle(packets, 0, limit);
                    idle = true;
                    continue;
                }
                pollReportedError = (revents & FdNative.POLLIN) == 0;
            }
        } finally {
            in.exit();
        }
    }

    // Reads packet by packet until the kernel has none or the batch is full; the number read, or CLOSED.
    int readEach(MemorySegment errno, PacketBuffer[] packets, int limit) throws IOException {
        int n = 0;
        while (n < limit) {
            PacketBuffer b = packets[n];
            readCodec.checkHeadroom(b);
            int off = b.offset();
            long room = (long) b.capacity() - off + hdrLen;
            long r = FdNative.read(errno, fdNumber, b.address() + off - hdrLen, room);
            if (r < 0) {
                int e = NativeCall.errno(errno);
                Errno.Outcome o = Errno.outcome(e);
                if (o == Errno.Outcome.RETRY) continue;
                if (o == Errno.Outcome.AGAIN) break;
                if (o == Errno.Outcome.CLOSED) return CLOSED;
                if (n > 0) break; // hand over what we have; the error comes back on the next call
                throw Errno.exception("read(" + name + ")", e);
            }
            int len = (int) Math.min(r, room) - hdrLen;
            if (len < 0) continue; // shorter than the virtio_net_hdr: nothing a kernel sends
            b.setLength(len);
            readCodec.decode(b);
            n++;
        }
        return n;
    }

    /**
     * Writes {@code packets[0..count)}, each from its offset for its length; returns how many the
     * kernel took. A packet it refuses (EINVAL: malformed; EIO: the device is down) is skipped.
     *
     * @throws IllegalArgumentException if a buffer's offset leaves no room for the virtio_net_hdr
     * @throws ErrnoException naming the device if the device itself fails (EBADFD: it was removed)
     */
    @Override
    public int write(PacketBuffer[] packets, int count) throws IOException {
        WakeableFd.Direction out = fd.writing();
        if (!out.enter()) return CLOSED;
        try {
            MemorySegment errno = out.errno();
            if (uring != null && count > 1) return uring.write(out, errno, packets, count);
            int written = 0;
            for (int i = 0; i < count; ) {
                int run = joiner == null ? 1 : joiner.join(packets, i, count);
                int r = run > 1 ? writeJoined(out, errno, packets[i], run) : writeOne(out, errno, packets[i]);
                if (r == CLOSED) return CLOSED;
                written += r;
                i += run;
            }
            return written;
        } finally {
            out.exit();
        }
    }

    /**
     * Writes the packets of {@code train} in order; with {@link TunOffload#TSO4} among the offloads,
     * consecutive segments of one TCP flow in it go in as one super-packet, as in {@link #write},
     * the payloads gathered from the one buffer; with io_uring the other packets go in together, a
     * ring's worth per system call, as a batch of {@link #write} does.
     */
    @Override
    public int writeTrain(PacketTrain train) throws IOException {
        if (joiner == null && (uring == null || train.count() < 2)) return PollableTunnelDevice.super.writeTrain(train);
        WakeableFd.Direction out = fd.writing();
        if (!out.enter()) return CLOSED;
        try {
            MemorySegment errno = out.errno();
            if (uring != null && train.count() > 1) return uring.writeTrain(out, errno, train);
            int written = 0;
            for (int i = 0; i < train.count(); ) {
                int run = joiner.join(train, i);
                PacketBuffer first = train.select(i);
                int r = run > 1 ? writeJoined(out, errno, first, run) : writeOne(out, errno, first);
                if (r == CLOSED) return CLOSED;
                written += r;
                i += run;
            }
            return written;
        } finally {
            out.exit();
        }
    }

    /** The joiner of TCP segments, or null without TSO4. */
    SegmentJoiner joiner() {
        return joiner;
    }

    /** True if batches of reads and writes go through io_uring; false where the kernel refused it, or {@link TunOptions#ioUring()} is off. */
    public boolean ioUring() {
        return uring != null;
    }

    /** Batches of reads that went through io_uring so far (0 without it); smaller batches are plain reads. */
    long ringReads() {
        return uring != null ? uring.ringReads() : 0;
    }

    /** Packets written as part of a coalesced super-packet so far (0 unless TSO4 is among the offloads). */
    public long coalesced() {
        return coalesced;
    }

    // Writes one packet behind its virtio_net_hdr; returns 1, 0 if refused (the caller counts it), or CLOSED.
    int writeOne(WakeableFd.Direction out, MemorySegment errno, PacketBuffer b) throws IOException {
        return writeCodec.encode(b) ? writeEncoded(out, errno, b) : 0;
    }

    // Writes one packet whose virtio_net_hdr is in place, waiting for room; returns 1, 0 if refused, or CLOSED.
    int writeEncoded(WakeableFd.Direction out, MemorySegment errno, PacketBuffer b) throws IOException {
        long start = b.address() + b.offset() - hdrLen;
        long total = (long) b.length() + hdrLen;
        while (true) {
            long r = FdNative.write(errno, fdNumber, start, total);
            if (r >= 0) return 1;
            Errno.Outcome o = Errno.sendResult("write", name, NativeCall.errno(errno));
            if (o == Errno.Outcome.CLOSED) return CLOSED;
            if (o == Errno.Outcome.AGAIN && out.await(FdNative.POLLOUT) == WakeableFd.WOKEN) return CLOSED;
            if (o == Errno.Outcome.FAILED) return 0;
        }
    }

    // Writes the run the joiner found, first, as one super-packet; returns run, 0 if refused (the caller counts them), or CLOSED.
    int writeJoined(WakeableFd.Direction out, MemorySegment errno, PacketBuffer first, int run) throws IOException {
        int r = writeGathered(out, errno, joiner.finish(first), run);
        if (r <= 0) return r;
        coalesced += run;
        return run;
    }

    // Writes one packet gathered from count iovecs, waiting for room; returns 1, 0 if refused, or CLOSED.
    int writeGathered(WakeableFd.Direction out, MemorySegment errno, long iovecs, int count) throws IOException {
        while (true) {
            long r = FdNative.writev(errno, fdNumber, iovecs, count);
            if (r >= 0) return 1;
            Errno.Outcome o = Errno.sendResult("writev", name, NativeCall.errno(errno));
            if (o == Errno.Outcome.CLOSED) return CLOSED;
            if (o == Errno.Outcome.AGAIN && out.await(FdNative.POLLOUT) == WakeableFd.WOKEN) return CLOSED;
            if (o == Errno.Outcome.FAILED) return 0;
        }
    }

    /**
     * Closes this queue's descriptor, waking a reader blocked in {@link #read} (it returns
     * {@link #CLOSED}) and waiting until no call is inside the descriptor. A device this process
     * created is removed by the kernel once its last queue closes. Idempotent.
     */
    @Override
    public void close() {
        fd.close();
        synchronized (this) {
            if (!controlClosed) {
                controlClosed = true;
                FdNative.close(controlFd);
                if (uring != null) uring.close();
            }
        }
    }

    @Override
    public String toString() {
        return "TunDevice[" + name + (multiQueue ? " queue " + queueIndex : "") + (options.vnetHeader() ? " vnet_hdr " + options.offloads() : "")
                + (uring != null ? " io_uring" : "") + "]";
    }
}
