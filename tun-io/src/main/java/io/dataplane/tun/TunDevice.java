package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.InternetChecksum;
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
 * descriptor behind a 10-byte {@link VirtioNetHeader} ({@code TUNSETVNETHDRSZ} = 10). Read puts
 * it in the 10 bytes in front of the buffer's data, where a {@link VirtioNetHeader} view can read
 * it, and sets the buffer's {@link PacketBuffer#gsoSize() gsoSize} for a super-packet (0 otherwise).
 * A single packet with a partial checksum (NEEDS_CSUM, with the CSUM offload) has its checksum
 * completed here, so what read returns is always a valid packet, except the segments of a
 * super-packet, whose header keeps NEEDS_CSUM for the segmenter. Write puts a header in those 10
 * bytes of headroom: for a single packet all zero, or NEEDS_CSUM (see below); for
 * {@code gsoSize != 0} a GSO header (TCPV4 or UDP_L4 from the IPv4 protocol) with NEEDS_CSUM,
 * writing the pseudo-header sum into the L4 checksum field, as the kernel expects of a
 * super-packet. Buffers need an offset of at least 10.
 * A super-packet larger than the buffer is cut at the buffer's end (its IPv4 total length then
 * exceeds the data, which IPv4 validation drops); with TSO/USO use buffers of 64 KiB.
 *
 * <p><b>Partial checksums on write.</b> A kernel that sends across a veth defers TCP and UDP
 * checksums ({@code CHECKSUM_PARTIAL}); a kernel VXLAN or IPIP device there puts inner packets on
 * the wire whose checksum field holds only the pseudo-header sum ({@link PartialChecksum}), and
 * the TUN's kernel would drop them as corrupt. {@link #write} hands such a packet on as the
 * sender's kernel meant it: with the virtio_net_hdr, NEEDS_CSUM at the transport header (what
 * {@code virtio_net_hdr_to_skb} in {@code tun_get_user} turns back into {@code CHECKSUM_PARTIAL},
 * completed by {@code skb_checksum_help} only if the packet leaves through a device that needs
 * it); without it, completed in software. Finding one costs a look at the IPv4 header and the
 * checksum field; a checksum that is neither complete nor partial is written as it is, and the
 * kernel's TCP or UDP drops it and counts it.
 *
 * <p><b>Joined writes.</b> With {@link TunOffload#TSO4} among the offloads, {@link #write} also
 * does what GRO does for a NIC: consecutive segments of one TCP flow in the batch (as
 * {@link TcpCoalescer} decides, each checksum verified or partial) go into the kernel as one TCP
 * super-packet, the first buffer with its rewritten headers and the payload of the others gathered
 * by one {@code writev}, no copy. The kernel's TCP then takes up one packet where it would have
 * taken up dozens. {@link #coalesced()} counts the packets written so.
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
    private static final ValueLayout.OfShort NET_U16 = SocketNative.NET_U16;
    private static final ValueLayout.OfInt NET_U32 = SocketNative.NET_U32;
    private static final int IPPROTO_TCP = 6;
    private static final int IPPROTO_UDP = 17;

    private final String name;
    private final int queueIndex;
    private final boolean multiQueue;
    private final TunOptions options;
    private final WakeableFd fd;
    private final int fdNumber;
    private final int controlFd;
    private final int hdrLen;
    private final VirtioNetHeader readHeader = new VirtioNetHeader();
    private final VirtioNetHeader writeHeader = new VirtioNetHeader();
    private final TcpCoalescer coalescer; // writer only; null unless TSO4: then TCP segments are joined
    private final MemorySegment writeIovecs; // writer only: the iovecs of a coalesced write
    private final TunTrainWriter trainWriter; // writer only; null unless TSO4
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
        this.hdrLen = options.vnetHeader() ? VNET_HDR_LEN : 0;
        boolean join = options.offloads().contains(TunOffload.TSO4);
        this.coalescer = join ? new TcpCoalescer() : null;
        this.writeIovecs = join ? Arena.ofAuto().allocate(16L * TcpCoalescer.MAX_SEGMENTS, 8) : null;
        this.trainWriter = join ? new TunTrainWriter(this) : null;
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
     * for the first. See the class comment for the virtio_net_hdr.
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
            while (true) {
                int n = 0;
                while (n < limit) {
                    PacketBuffer b = packets[n];
                    int off = b.offset();
                    if (off < hdrLen) throw noHeadroom(b, off);
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
                    if (hdrLen != 0) acceptHeader(b, off, len);
                    else b.setGsoSize(0); // a reused buffer may still say super-packet
                    n++;
                }
                if (n > 0 || !block) return n;
                if (pollReportedError) {
                    throw new ErrnoException("read(" + name + ")", Errno.EBADFD,
                            "poll reported an error on the descriptor but read has nothing to say; the device was removed");
                }
                int revents = in.await(FdNative.POLLIN);
                if (revents == WakeableFd.WOKEN) return CLOSED;
                pollReportedError = (revents & FdNative.POLLIN) == 0;
            }
        } finally {
            in.exit();
        }
    }

    private IllegalArgumentException noHeadroom(PacketBuffer b, int off) {
        return new IllegalArgumentException("buffer offset leaves no room for the virtio_net_hdr on " + name
                + ": offset=" + off + " (need " + hdrLen + ")");
    }

    // Sets the GSO size from the header; completes a single packet's partial checksum.
    private void acceptHeader(PacketBuffer b, int off, int len) {
        MemorySegment s = b.segment();
        VirtioNetHeader h = readHeader.wrap(s, off - VNET_HDR_LEN);
        int gsoType = h.gsoType() & ~VirtioNetHeader.GSO_ECN;
        if (gsoType != VirtioNetHeader.GSO_NONE) {
            b.setGsoSize(h.gsoSize());
            return;
        }
        b.setGsoSize(0);
        if ((h.flags() & VirtioNetHeader.F_NEEDS_CSUM) != 0) {
            int start = h.csumStart();
            int csumOffset = h.csumOffset();
            if (start + csumOffset + 2 <= len) {
                PartialChecksum.complete(s, off, start, csumOffset, len);
                h.flags(h.flags() & ~VirtioNetHeader.F_NEEDS_CSUM);
            }
        }
    }

    /**
     * Writes {@code packets[0..count)}, each from its offset for its length; returns how many the
     * kernel took. A packet it refuses (EINVAL: malformed; EIO: the device is down) is skipped.
     *
     * @throws ErrnoException naming the device if the device itself fails (EBADFD: it was removed)
     */
    @Override
    public int write(PacketBuffer[] packets, int count) throws IOException {
        WakeableFd.Direction out = fd.writing();
        if (!out.enter()) return CLOSED;
        try {
            MemorySegment errno = out.errno();
            int written = 0;
            for (int i = 0; i < count; i++) {
                PacketBuffer b = packets[i];
                if (coalescer != null && i + 1 < count && coalescer.start(b)) {
                    int run = 1;
                    while (i + run < count && coalescer.append(packets[i + run])) run++;
                    if (run > 1) {
                        int r = writeCoalesced(out, errno, packets, i, run);
                        if (r == CLOSED) return CLOSED;
                        written += r;
                        i += run - 1;
                        continue;
                    }
                }
                int off = b.offset();
                int len = b.length();
                if (hdrLen != 0) {
                    if (off < hdrLen) throw noHeadroom(b, off);
                    if (!prepareHeader(b, off, len)) continue;
                } else {
                    int field = PartialChecksum.field(b.segment(), off, len);
                    if (field >= 0) PartialChecksum.complete(b.segment(), off, field);
                }
                long start = b.address() + off - hdrLen;
                long total = (long) len + hdrLen;
                while (true) {
                    long r = FdNative.write(errno, fdNumber, start, total);
                    if (r >= 0) {
                        written++;
                        break;
                    }
                    Errno.Outcome o = Errno.sendResult("write", name, NativeCall.errno(errno));
                    if (o == Errno.Outcome.CLOSED) return CLOSED;
                    if (o == Errno.Outcome.AGAIN && out.await(FdNative.POLLOUT) == WakeableFd.WOKEN) return CLOSED;
                    if (o == Errno.Outcome.FAILED) break; // refused this packet: the caller counts it
                }
            }
            return written;
        } finally {
            out.exit();
        }
    }

    /**
     * Writes {@code packets[from..from+run)}, which {@link #coalescer} joined, as one TCP super-packet:
     * the first buffer with its virtio_net_hdr (GSO TCPV4, NEEDS_CSUM) and rewritten headers, then
     * the payload of each of the others, gathered by one {@code writev}. Returns {@code run} if the
     * kernel took it, 0 if it refused it, or {@link #CLOSED}.
     */
    private int writeCoalesced(WakeableFd.Direction out, MemorySegment errno, PacketBuffer[] packets, int from, int run)
            throws IOException {
        int headers = coalescer.headerLength();
        for (int k = 1; k < run; k++) {
            PacketBuffer q = packets[from + k];
            writeIovecs.set(ValueLayout.JAVA_LONG, 16L * k, q.address() + q.offset() + headers);
            writeIovecs.set(ValueLayout.JAVA_LONG, 16L * k + 8, q.length() - headers);
        }
        return writeJoined(out, errno, coalescer, packets[from], run);
    }

    /**
     * Writes a run that {@code joined} accepted, {@code first} (the buffer its run started with,
     * data on the first segment) and the payloads of the others already in {@link #joinIovecs}
     * {@code [1..run)}, as one super-packet; returns {@code run}, 0 if refused, or {@link #CLOSED}.
     */
    int writeJoined(TcpCoalescer joined, PacketBuffer first, int run) throws IOException {
        WakeableFd.Direction out = fd.writing();
        if (!out.enter()) return CLOSED;
        try {
            return writeJoined(out, out.errno(), joined, first, run);
        } finally {
            out.exit();
        }
    }

    /** The iovecs of a joined write, one per segment (writer only), for {@link #writeJoined}. */
    MemorySegment joinIovecs() {
        return writeIovecs;
    }

    private int writeJoined(WakeableFd.Direction out, MemorySegment errno, TcpCoalescer joined, PacketBuffer b, int run) throws IOException {
        int off = b.offset();
        if (off < hdrLen) throw noHeadroom(b, off);
        int headers = joined.headerLength();
        int firstLength = b.length();
        joined.finish(b);
        writeHeader.wrap(b.segment(), off - VNET_HDR_LEN)
                .set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, headers, joined.mss(), 20, 16);
        MemorySegment iov = writeIovecs;
        iov.set(ValueLayout.JAVA_LONG, 0, b.address() + off - hdrLen);
        iov.set(ValueLayout.JAVA_LONG, 8, (long) firstLength + hdrLen);
        while (true) {
            long r = FdNative.writev(errno, fdNumber, iov.address(), run);
            if (r >= 0) {
                coalesced += run;
                return run;
            }
            Errno.Outcome o = Errno.sendResult("writev", name, NativeCall.errno(errno));
            if (o == Errno.Outcome.CLOSED) return CLOSED;
            if (o == Errno.Outcome.AGAIN && out.await(FdNative.POLLOUT) == WakeableFd.WOKEN) return CLOSED;
            if (o == Errno.Outcome.FAILED) return 0; // refused: the caller counts them
        }
    }

    /**
     * Writes the packets of {@code train} in order; with {@link TunOffload#TSO4} among the offloads,
     * consecutive segments of one TCP flow in it go in as one super-packet, as in {@link #write}
     * ({@link TunTrainWriter}), the payloads gathered from the one buffer.
     */
    @Override
    public int writeTrain(PacketTrain train) throws IOException {
        return trainWriter == null ? PollableTunnelDevice.super.writeTrain(train) : trainWriter.write(train);
    }

    /** Packets written as part of a coalesced super-packet so far (0 unless TSO4 is among the offloads). */
    public long coalesced() {
        return coalesced;
    }

    // Writes the virtio_net_hdr in front of the packet. False if a super-packet is not TCP or UDP over IPv4.
    private boolean prepareHeader(PacketBuffer b, int off, int len) {
        MemorySegment s = b.segment();
        VirtioNetHeader h = writeHeader.wrap(s, off - VNET_HDR_LEN);
        int gsoSize = b.gsoSize();
        if (gsoSize == 0) {
            int field = PartialChecksum.field(s, off, len);
            if (field < 0) {
                h.clear();
            } else {
                int ihl = (s.get(ValueLayout.JAVA_BYTE, off) & 0x0f) * 4;
                h.set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, field + 2, 0, ihl, field - ihl);
            }
            return true;
        }
        if (len < 20) return false;
        int verIhl = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off));
        int ihl = (verIhl & 0x0f) * 4;
        if ((verIhl >>> 4) != 4 || ihl < 20) return false;
        int protocol = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off + 9));
        int gsoType;
        int l4HeaderLen;
        int csumOffset;
        if (protocol == IPPROTO_TCP) {
            if (len < ihl + 20) return false;
            gsoType = VirtioNetHeader.GSO_TCPV4;
            l4HeaderLen = (Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off + ihl + 12)) >>> 4) * 4;
            csumOffset = 16;
        } else if (protocol == IPPROTO_UDP) {
            if (len < ihl + 8) return false;
            gsoType = VirtioNetHeader.GSO_UDP_L4;
            l4HeaderLen = 8;
            csumOffset = 6;
        } else {
            return false;
        }
        int l4Len = len - ihl;
        // The kernel completes the checksum per segment from the pseudo-header sum over the whole L4 length.
        int pseudo = InternetChecksum.pseudoHeaderSum(s.get(NET_U32, off + 12), s.get(NET_U32, off + 16), protocol, l4Len);
        s.set(NET_U16, off + ihl + csumOffset, (short) pseudo);
        h.set(VirtioNetHeader.F_NEEDS_CSUM, gsoType, ihl + l4HeaderLen, gsoSize, ihl, csumOffset);
        return true;
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
            }
        }
    }

    @Override
    public String toString() {
        return "TunDevice[" + name + (multiQueue ? " queue " + queueIndex : "") + (options.vnetHeader() ? " vnet_hdr " + options.offloads() : "") + "]";
    }
}
