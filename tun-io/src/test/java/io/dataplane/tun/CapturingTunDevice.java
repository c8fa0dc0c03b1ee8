package io.dataplane.tun;

import static io.dataplane.core.testing.TcpSegment.u32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.SocketPairs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * A real {@link TunDevice} as a node opens it (virtio_net_hdr, {@link TunOffload#CSUM} and
 * {@link TunOffload#TSO4}, io_uring on or off) over one end of an {@code AF_UNIX SOCK_SEQPACKET}
 * pair instead of a TUN ({@link TunDevice#overDescriptor}), for the fuzz drivers: no TUN, no root.
 * Each write goes through the device's own writer (its {@code SegmentJoiner}, codec, {@code write},
 * {@code writev} and io_uring batches); after each call this class reads every message from the
 * other end, each exactly what the kernel would have been given, virtio_net_hdr first, and keeps
 * them beside copies of the packets the call was given, taken before any was written.
 *
 * <p>The socket buffer holds a whole call (a bound of what the kernel charges per message), so the
 * device never meets EAGAIN, for which it would wait for room that only this thread could make.
 * The sender's buffer is the one that counts: AF_UNIX charges a message to its sender until it is
 * read, and consults no receive buffer. As root the buffer is forced to 32 MiB, which holds any
 * call; without CAP_NET_ADMIN {@code net.core.wmem_max} caps it (208 KiB by default, doubled by the
 * kernel), and a {@link #write} whose packets would not fit is given to the device in parts that
 * do, each a call of its own (a train, at most 128 packets in two 64 KiB buffers, fits in the default).
 * This descriptor refuses nothing, so a packet missing from the messages is a failure here.
 *
 * <p>Until the next {@link #clear}, {@link #refuse} makes the descriptor refuse as a TUN may: a
 * small send buffer, so that a message longer than it less 32 bytes is refused (EMSGSIZE, which
 * the device skips and its caller counts as {@code TUN_WRITE_FAILED}) and the device meets EAGAIN
 * whenever the buffer is full (it then waits for room), while a thread of this class reads the
 * messages during each call, stalling after every few for a while. Then a packet may be missing
 * from the messages only if it is in a run of missing packets too long for the buffer together
 * (where identical packets, a repeated segment, make the match ambiguous: in some match that holds)
 * (the run of a refused joined super-packet is among them); every other packet is on the
 * descriptor, whole and in order ({@link #refused()} counts the missing ones). Each call's reader
 * is stopped within {@value #STOP_SECONDS} s after the device returns, or the call fails; a call
 * that itself lasts {@value #STOP_SECONDS} s (a writer waiting for room that never comes) is ended
 * by the reader, which closes the device to wake it ({@link #hung()}: the device is spent), and fails.
 *
 * <p>Reads go through the device's reader: {@link #read} puts a test's header and packet on the
 * descriptor and the device reads them. One thread calls it.
 */
public final class CapturingTunDevice implements TunnelDevice {
    /** The packets one {@code write} or {@code writeTrain} call was given, and what went into the kernel for them. */
    public record Call(List<byte[]> given, int[] gsoSizes, List<Written> written) {}

    /**
     * One packet on the descriptor: the virtio_net_hdr and the packet behind it, made of {@code run}
     * given packets from {@code first} (1 if joined to none); {@code header} null where a
     * super-packet was not written (the device writes none that is not TCP or UDP over IPv4).
     */
    public record Written(int first, int run, byte[] header, byte[] packet) {}

    private static final int HDR = VirtioNetHeader.LENGTH;
    private static final int SO_SNDBUFFORCE = 32;
    // The socket's send buffer (the kernel doubles it): messages the reader has not taken are charged to it.
    private static final int SEND_BUFFER = 32 << 20;
    // Per message, a bound of what the kernel charges: data rounded up to a power of two, and the skb.
    private static final int MESSAGE_OVERHEAD = 1024;
    private static final int MAX_MESSAGE = 1 << 18; // larger than any packet the device writes, so a read never truncates
    // The kernel refuses a message of a datagram socket longer than its send buffer less this (af_unix.c).
    private static final int SEND_BUFFER_SLACK = 32;
    private static final int STOP_SECONDS = 10;
    private static final long IDLE_NANOS = 20_000; // the reader's pause when the descriptor holds nothing
    private static final MethodHandle GETSOCKOPT = NativeCall.downcall("getsockopt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private final int mtu;
    private final TunDevice device;
    private final int fd; // the device's end, which the device owns
    private final int peer; // the other end: what the device writes is read here
    private long room; // the send buffer the kernel gave the device's end
    private boolean refusing; // room is small, the reader runs during each call
    private Reader reader; // made on the first refuse
    private long refused;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment message = arena.allocate(MAX_MESSAGE, 8);
    private final MemorySegment errno = NativeCall.errnoSlot(arena);
    private final PacketBuffer[] reading = new PacketBuffer[1];
    private final List<Call> calls = new ArrayList<>();
    private long accepted;

    /** A device of {@code mtu} named {@code name}, its batches of writes through io_uring if {@code ioUring}. */
    public CapturingTunDevice(String name, int mtu, boolean ioUring) {
        this(name, mtu, ioUring, 0);
    }

    /** As above, with the send buffer {@code sendBuffer} asked for through {@code SO_SNDBUF} (0: as large as the process may). */
    CapturingTunDevice(String name, int mtu, boolean ioUring, int sendBuffer) {
        this.mtu = mtu;
        int[] ends = socketPair();
        try {
            if (sendBuffer == 0) setSendBuffer(ends[0]);
            else SocketNative.setsockopt(ends[0], SocketNative.SOL_SOCKET, SocketNative.SO_SNDBUF, sendBuffer, "SO_SNDBUF");
            this.room = sendBuffer(ends[0]);
        } catch (IOException | RuntimeException e) {
            FdNative.close(ends[0]);
            FdNative.close(ends[1]);
            arena.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        this.fd = ends[0];
        this.peer = ends[1];
        TunOptions options = TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4)).withIoUring(ioUring);
        try {
            this.device = TunDevice.overDescriptor(ends[0], name, options);
        } catch (IOException e) {
            FdNative.close(peer);
            arena.close();
            throw new UncheckedIOException(e);
        }
    }

    private static int[] socketPair() {
        return SocketPairs.unix(SocketPairs.SOCK_SEQPACKET | FdNative.O_NONBLOCK | FdNative.O_CLOEXEC);
    }

    // SO_SNDBUFFORCE where the process may (CAP_NET_ADMIN); else SO_SNDBUF, which net.core.wmem_max caps.
    private static void setSendBuffer(int fd) throws IOException {
        try {
            SocketNative.setsockopt(fd, SocketNative.SOL_SOCKET, SO_SNDBUFFORCE, SEND_BUFFER, "SO_SNDBUFFORCE");
        } catch (ErrnoException e) {
            SocketNative.setsockopt(fd, SocketNative.SOL_SOCKET, SocketNative.SO_SNDBUF, SEND_BUFFER, "SO_SNDBUF");
        }
    }

    private static long sendBuffer(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment slot = NativeCall.errnoSlot(a);
            MemorySegment value = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment length = a.allocateFrom(ValueLayout.JAVA_INT, 4);
            int r = (int) GETSOCKOPT.invokeExact(slot, fd, SocketNative.SOL_SOCKET, SocketNative.SO_SNDBUF, value, length);
            if (r < 0) throw Errno.exception("getsockopt(SO_SNDBUF)", NativeCall.errno(slot));
            return value.get(ValueLayout.JAVA_INT, 0);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /**
     * Forgets the calls so far and drops what is still on the descriptor (a run that failed midway
     * may leave some), so that one device serves run after run: opening one costs two io_uring
     * rings, a socket pair and two shared arenas, more than many a fuzz run.
     */
    public void clear() {
        drain();
        calls.clear();
        accepted = 0;
        refused = 0;
        if (refusing) {
            refusing = false;
            try {
                setSendBuffer(fd);
                room = sendBuffer(fd);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Until the next {@link #clear}: the device's send buffer is {@code sendBuffer} as {@code
     * SO_SNDBUF} sets it (the kernel doubles it, to 4608 bytes at least), and a thread reads its
     * messages during each call, pausing {@code stallMicros} after every {@code stallEvery}.
     */
    public void refuse(int sendBuffer, int stallEvery, int stallMicros) {
        drain();
        try {
            SocketNative.setsockopt(fd, SocketNative.SOL_SOCKET, SocketNative.SO_SNDBUF, sendBuffer, "SO_SNDBUF");
            room = sendBuffer(fd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        refusing = true;
        if (reader == null) reader = new Reader();
        reader.stallEvery = Math.max(1, stallEvery);
        reader.stallNanos = stallMicros * 1000L;
    }

    /** Packets given since the last {@link #clear} that are not on the descriptor (the device refused them); 0 unless {@link #refuse}d. */
    public long refused() {
        return refused;
    }

    /** Every write so far, in order. */
    public List<Call> calls() {
        return calls;
    }

    /** Packets written so far, each of a joined super-packet counted (what the writes returned). */
    public long accepted() {
        return accepted;
    }

    /** True if a call of a refusing descriptor lasted so long that its reader closed the device: it is spent, open another. */
    public boolean hung() {
        return reader != null && reader.hung;
    }

    /** True if the device's batches of writes go through io_uring (false where the kernel refuses it). */
    public boolean ioUring() {
        return device.ioUring();
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public int batchSize() {
        return device.batchSize();
    }

    /** Reads nothing: {@link #read(PacketBuffer, byte[], byte[])} hands a test's packet over instead. */
    @Override
    public int read(PacketBuffer[] packets, int count) {
        return CLOSED;
    }

    /**
     * Puts {@code header} (its first {@link VirtioNetHeader#LENGTH} bytes, zeros where shorter) and
     * {@code packet} on the descriptor and has the device read them into {@code b}: the packet at
     * the buffer's offset, the header in front, decoded (GSO size set, a single packet's partial
     * checksum completed).
     */
    public void read(PacketBuffer b, byte[] header, byte[] packet) {
        MemorySegment.copy(Arrays.copyOf(header, HDR), 0, message, ValueLayout.JAVA_BYTE, 0, HDR);
        MemorySegment.copy(packet, 0, message, ValueLayout.JAVA_BYTE, HDR, packet.length);
        long r = FdNative.write(errno, peer, message.address(), HDR + packet.length);
        assertEquals(HDR + packet.length, r, "test bed: the packet to read put on the descriptor");
        reading[0] = b;
        try {
            assertEquals(1, device.readNow(reading, 1), "the device reads the packet put on its descriptor");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            reading[0] = null;
        }
    }

    @Override
    public int write(PacketBuffer[] packets, int count) throws IOException {
        if (refusing) {
            Call call = given(count, i -> packets[i]);
            reader.start();
            int r;
            try {
                r = device.write(packets, count);
            } finally {
                reader.stop();
            }
            return taken(call, r);
        }
        int written = 0;
        for (int from = 0; from < count; ) {
            int n = fitting(packets, from, count);
            PacketBuffer[] part = n == count ? packets : Arrays.copyOfRange(packets, from, from + n);
            Call call = given(n, i -> part[i]);
            written += taken(call, device.write(part, n));
            from += n;
        }
        return written;
    }

    // How many packets from `from` the socket buffer holds at once: all of them as root, at least one.
    private int fitting(PacketBuffer[] packets, int from, int count) {
        long charge = 0;
        int n = 0;
        while (from + n < count) {
            charge += charge(packets[from + n].length());
            if (charge > room && n > 0) break;
            n++;
        }
        return n;
    }

    private static long charge(int length) {
        return 2L * (length + HDR) + MESSAGE_OVERHEAD;
    }

    @Override
    public int writeTrain(PacketTrain train) throws IOException {
        Call call = given(train.count(), train::select);
        if (!refusing) return taken(call, device.writeTrain(train));
        reader.start();
        int r;
        try {
            r = device.writeTrain(train);
        } finally {
            reader.stop();
        }
        return taken(call, r);
    }

    private Call given(int count, IntFunction<PacketBuffer> packet) {
        List<byte[]> bytes = new ArrayList<>(count);
        int[] gso = new int[count];
        long charge = 0;
        for (int i = 0; i < count; i++) {
            PacketBuffer p = packet.apply(i);
            bytes.add(p.toByteArray());
            gso[i] = p.gsoSize();
            charge += charge(p.length());
        }
        assertTrue(refusing || charge <= room, "test bed: a socket buffer of " + room + " bytes cannot hold this call of " + count
                + " packets (up to " + charge + " bytes)");
        Call call = new Call(bytes, gso, new ArrayList<>());
        calls.add(call);
        return call;
    }

    // Reads what the call put on the descriptor and matches it, message by message, to the packets given.
    private int taken(Call call, int result) {
        if (refusing && reader.hung) fail("the device's write did not return within " + STOP_SECONDS + " s: the reader closed it to wake it");
        List<byte[]> messages = refusing ? reader.taken() : new ArrayList<>();
        messages.addAll(drain());
        if (result == CLOSED) fail("the device reports itself closed");
        if (refusing) {
            List<Written> written = new ArrayList<>();
            if (!assign(call, messages, 0, 0, -1, written, new HashSet<>())) {
                fail("no match of the " + messages.size() + " messages on the descriptor to the " + call.given().size() + " packets given, in order,"
                        + " leaves missing only runs of packets too long together for the send buffer's " + (room - SEND_BUFFER_SLACK)
                        + " bytes: a packet the kernel did not refuse is lost, altered or out of order");
            }
            int inMessages = 0;
            for (int k = written.size() - 1; k >= 0; k--) { // assign adds them last first
                Written w = written.get(k);
                call.written().add(w);
                if (w.header() != null) inMessages += w.run();
            }
            int skipped = (int) call.written().stream().filter(w -> w.header() == null).count();
            refused += call.given().size() - inMessages - skipped;
            assertEquals(inMessages, result, "packets the device says it wrote against those its messages carry");
            accepted += result;
            return result;
        }
        List<byte[]> given = call.given();
        int j = 0;
        int inMessages = 0;
        for (int i = 0; i < given.size(); ) {
            if (call.gsoSizes()[i] != 0 && !takesSuperPacket(given.get(i))) {
                call.written().add(new Written(i, 1, null, null));
                i++;
                continue;
            }
            if (j == messages.size()) {
                fail("packet " + i + " of " + given.size() + " given to the TUN was not written (" + messages.size() + " messages)");
            }
            byte[] m = messages.get(j++);
            assertTrue(m.length >= HDR, "message " + (j - 1) + " holds a virtio_net_hdr: " + m.length + " bytes");
            byte[] header = Arrays.copyOf(m, HDR);
            byte[] p = Arrays.copyOfRange(m, HDR, m.length);
            int run = call.gsoSizes()[i] == 0 && gsoType(header) == VirtioNetHeader.GSO_TCPV4 ? joinedRun(call, i, header, p.length) : 1;
            call.written().add(new Written(i, run, header, p));
            inMessages += run;
            i += run;
        }
        if (j < messages.size()) fail((messages.size() - j) + " messages on the descriptor beyond the packets given");
        assertEquals(inMessages, result, "packets the device says it wrote against those its messages carry");
        accepted += result;
        return result;
    }

    /*
     * Matches messages [j..) to packets [i..) in order, a missing run open from runFrom (or -1): each message carries the packet
     * alone, its whole super-packet or a joined run from it; a packet no message carries is in a run of such packets too long
     * together for the send buffer (the kernel refused them). Identical packets (a repeated segment) make the match ambiguous:
     * this finds one that holds if there is any, remembering the states that led nowhere. Adds what it matched to `written`,
     * last first.
     */
    private boolean assign(Call call, List<byte[]> messages, int i, int j, int runFrom, List<Written> written, Set<Long> failed) {
        List<byte[]> given = call.given();
        if (i == given.size()) return j == messages.size() && (runFrom < 0 || tooLong(call, runFrom, i));
        long state = (long) i << 42 | (long) j << 21 | (runFrom + 1);
        if (failed.contains(state)) return false;
        if (call.gsoSizes()[i] != 0 && !takesSuperPacket(given.get(i))) {
            if (assign(call, messages, i + 1, j, runFrom, written, failed)) {
                written.add(new Written(i, 1, null, null));
                return true;
            }
            failed.add(state);
            return false;
        }
        if (j < messages.size() && messages.get(j).length >= HDR && isOf(call, i, messages.get(j)) && (runFrom < 0 || tooLong(call, runFrom, i))) {
            byte[] m = messages.get(j);
            byte[] header = Arrays.copyOf(m, HDR);
            byte[] p = Arrays.copyOfRange(m, HDR, m.length);
            int run = call.gsoSizes()[i] == 0 && gsoType(header) == VirtioNetHeader.GSO_TCPV4 ? runOf(call, i, header, p.length) : 1;
            // Lengths alike, another run: a repeated segment in it, whose payload may equal the next one's (the test pattern
            // repeats every 256 bytes), so the run must also be one the joiner may make, each segment where the last one ends.
            if (run > 1 && !(payloadsOf(call, i, run, header, p) && inSequence(call, i, run, header))) run = 0;
            if (run > 0 && assign(call, messages, i + run, j + 1, -1, written, failed)) {
                written.add(new Written(i, run, header, p));
                return true;
            }
        }
        if (assign(call, messages, i + 1, j, runFrom < 0 ? i : runFrom, written, failed)) return true;
        failed.add(state);
        return false;
    }

    // True if the joined super-packet p carries the payloads of the run of packets from i, in order.
    private static boolean payloadsOf(Call call, int i, int run, byte[] header, byte[] p) {
        int headers = new VirtioNetHeader().wrap(MemorySegment.ofArray(header), 0).hdrLen();
        int at = headers;
        for (int k = i; k < i + run; k++) {
            byte[] g = call.given().get(k);
            int data = g.length - headers;
            if (data < 0 || at + data > p.length || !Arrays.equals(p, at, at + data, g, headers, g.length)) return false;
            at += data;
        }
        return at == p.length;
    }

    // True if each TCP segment of the run of packets from i begins where the one before it ends.
    private static boolean inSequence(Call call, int i, int run, byte[] header) {
        int headers = new VirtioNetHeader().wrap(MemorySegment.ofArray(header), 0).hdrLen();
        for (int k = i + 1; k < i + run; k++) {
            byte[] before = call.given().get(k - 1);
            byte[] g = call.given().get(k);
            if (before.length < 28 || g.length < 28 || u32(g, 24) != u32(before, 24) + before.length - headers) return false;
        }
        return true;
    }

    // True if packets [from, to), each with its virtio_net_hdr, are together longer than the send buffer takes in one message.
    private boolean tooLong(Call call, int from, int to) {
        long bytes = 0;
        for (int k = from; k < to; k++) {
            if (call.gsoSizes()[k] == 0 || takesSuperPacket(call.given().get(k))) bytes += HDR + call.given().get(k).length;
        }
        return bytes > room - SEND_BUFFER_SLACK;
    }

    // True if message m carries packet i: the packet alone as given, its whole super-packet, or a joined one beginning with it.
    private static boolean isOf(Call call, int i, byte[] m) {
        byte[] g = call.given().get(i);
        if (m.length < HDR + 20 || g.length < 20) return Arrays.equals(m, HDR, m.length, g, 0, g.length);
        if (call.gsoSizes()[i] != 0) return m.length == HDR + g.length && Arrays.equals(m, HDR, HDR + 24, g, 0, 24);
        if (gsoType(Arrays.copyOf(m, HDR)) == VirtioNetHeader.GSO_TCPV4) {
            // Joined: the first segment's identification, addresses, ports and sequence number.
            return g.length >= 40 && m.length > HDR + g.length && Arrays.equals(m, HDR + 4, HDR + 6, g, 4, 6)
                    && Arrays.equals(m, HDR + 12, HDR + 28, g, 12, 28);
        }
        return Arrays.equals(m, HDR, m.length, g, 0, g.length);
    }

    // The packets from i whose payloads a joined super-packet of length bytes carries, or 0 if no run of them makes that length.
    private static int runOf(Call call, int i, byte[] header, int length) {
        int headers = new VirtioNetHeader().wrap(MemorySegment.ofArray(header), 0).hdrLen();
        List<byte[]> given = call.given();
        long total = given.get(i).length;
        int k = i + 1;
        while (total < length && k < given.size()) total += given.get(k++).length - headers;
        return total == length ? k - i : 0;
    }

    // The packets from i whose payloads a joined super-packet of length bytes carries: the first whole, then the others' payloads.
    private static int joinedRun(Call call, int i, byte[] header, int length) {
        int run = runOf(call, i, header, length);
        if (run == 0) fail("a joined super-packet of " + length + " bytes is no run of the packets given from " + i);
        return run;
    }

    private static int gsoType(byte[] header) {
        return new VirtioNetHeader().wrap(MemorySegment.ofArray(header), 0).gsoType();
    }

    // A reference of what a TUN's virtio_net_hdr can carry: a super-packet of TCP or UDP over IPv4 whose headers it holds.
    private static boolean takesSuperPacket(byte[] p) {
        if (p.length < 20 || (p[0] & 0xf0) != 0x40) return false;
        int ihl = (p[0] & 0x0f) * 4;
        int protocol = p[9] & 0xff;
        return ihl >= 20 && (protocol == 6 && p.length >= ihl + 20 || protocol == 17 && p.length >= ihl + 8);
    }

    private List<byte[]> drain() {
        List<byte[]> messages = new ArrayList<>();
        while (true) {
            long r = FdNative.read(errno, peer, message.address(), MAX_MESSAGE);
            if (r == 0) return messages; // the device's end closed: every message has a virtio_net_hdr, none is empty
            if (r < 0) {
                int e = NativeCall.errno(errno);
                if (Errno.outcome(e) == Errno.Outcome.AGAIN) return messages;
                if (Errno.outcome(e) != Errno.Outcome.RETRY) throw new UncheckedIOException(Errno.exception("read(test bed)", e));
                continue;
            }
            assertTrue(r < MAX_MESSAGE, "a message of " + r + " bytes fills the read");
            messages.add(message.asSlice(0, r).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /**
     * The reader of a refusing descriptor: between {@link #start} and {@link #stop} it reads each
     * message as it comes, and pauses after every {@code stallEvery} for {@code stallNanos}.
     */
    private final class Reader implements Runnable {
        private final Semaphore go = new Semaphore(0);
        private final Semaphore stopped = new Semaphore(0);
        private final Thread thread;
        private final List<byte[]> taken = new ArrayList<>();
        private volatile boolean stop;
        private volatile boolean closing;
        private volatile boolean hung; // a call outlasted STOP_SECONDS and this thread closed the device
        private long started; // when the call began, System.nanoTime()
        private Throwable failure;
        int stallEvery;
        long stallNanos;

        Reader() {
            thread = new Thread(this, "tun-fuzz-reader");
            thread.setDaemon(true);
            thread.start();
        }

        void start() {
            taken.clear();
            failure = null;
            stop = false;
            started = System.nanoTime();
            go.release();
        }

        void stop() {
            stop = true;
            try {
                if (!stopped.tryAcquire(STOP_SECONDS, TimeUnit.SECONDS)) fail("the descriptor's reader did not stop within " + STOP_SECONDS + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while stopping the descriptor's reader");
            }
            if (failure != null) throw new AssertionError("the descriptor's reader failed", failure);
        }

        // What it read in the last call, in order.
        List<byte[]> taken() {
            return new ArrayList<>(taken);
        }

        @Override
        public void run() {
            try (Arena own = Arena.ofConfined()) {
                MemorySegment buffer = own.allocate(MAX_MESSAGE, 8);
                MemorySegment slot = NativeCall.errnoSlot(own);
                while (true) {
                    go.acquireUninterruptibly();
                    if (closing) return;
                    try {
                        readUntilStopped(buffer, slot);
                    } catch (Throwable t) {
                        failure = t;
                    }
                    stopped.release();
                }
            }
        }

        private void readUntilStopped(MemorySegment buffer, MemorySegment slot) throws IOException {
            int sinceStall = 0;
            while (!stop) {
                if (!hung && System.nanoTime() - started > TimeUnit.SECONDS.toNanos(STOP_SECONDS)) {
                    hung = true;
                    device.close(); // wakes a writer waiting for room; its call returns CLOSED
                }
                long r = FdNative.read(slot, peer, buffer.address(), MAX_MESSAGE);
                if (r == 0) { // the device's end closed (hung): nothing more comes
                    LockSupport.parkNanos(IDLE_NANOS);
                    continue;
                }
                if (r < 0) {
                    int e = NativeCall.errno(slot);
                    if (Errno.outcome(e) == Errno.Outcome.AGAIN) LockSupport.parkNanos(IDLE_NANOS);
                    else if (Errno.outcome(e) != Errno.Outcome.RETRY) throw Errno.exception("read(test bed)", e);
                    continue;
                }
                if (r >= MAX_MESSAGE) throw new IOException("a message of " + r + " bytes fills the read");
                taken.add(buffer.asSlice(0, r).toArray(ValueLayout.JAVA_BYTE));
                if (++sinceStall >= stallEvery) {
                    sinceStall = 0;
                    if (stallNanos > 0) LockSupport.parkNanos(stallNanos);
                }
            }
        }

        void close() {
            closing = true;
            go.release();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(STOP_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closes the device and the other end of its descriptor. */
    @Override
    public void close() {
        if (reader != null) reader.close();
        device.close();
        FdNative.close(peer);
        arena.close();
    }
}
