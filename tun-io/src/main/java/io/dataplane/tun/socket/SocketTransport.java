package io.dataplane.tun.socket;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.PollableTransport;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.tun.raw.RawIpSocket;
import io.dataplane.tun.raw.RawIpTransportConfig;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdPoller;
import io.dataplane.tun.sys.TimerSlack;
import io.dataplane.tun.udp.FlowSteering;
import io.dataplane.tun.udp.UdpSocket;
import io.dataplane.tun.udp.UdpTransportConfig;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The library's {@link Transport} over FFM system calls, for UDP ({@link #udp}) and raw IP
 * ({@link #rawIp}): datagrams to and from underlay addresses in {@code recvmmsg}/{@code sendmmsg}
 * batches straight from and into pool buffers, with no event loop. The two differ only in their
 * {@link TransportSocket}; the threads, the ring, the counters and the pool are this class's.
 *
 * <pre>
 * send(batch), sending on the caller (the default): on the calling thread, callers taking turns on a lock
 *   --> sendmmsg without waiting (TCP super-packets as their segments, no copy: UDP GSO; raw IP one datagram each)
 *   --> release every buffer; refused (a full socket buffer too): SEND_FAILED
 *
 * send(batch), with a sender thread: on any thread
 *   --> send ring (bounded MPSC: full = released, the caller counts RING_FULL)
 *   --> sender thread "dp-LABEL-tx": drain up to batchSize --> sendmmsg, waiting in poll while the
 *       socket's send buffer is full --> release every buffer; refused: SEND_FAILED
 *
 * receive thread "dp-LABEL-rx" (from start): acquire up to batchSize pool buffers
 *   --> recvmmsg into them at the headroom, waiting in poll while the socket is empty; before the wait
 *       Receiver.onIdle() (what it held back goes on), or, where the receiver expectsMore() (a TCP run
 *       cut mid-way), one sleep of LINGER_NANOS and one more try first
 *   --> Receiver.onReceive(batch, n), which now owns the filled buffers; the others wait for the next call
 *   --> n below the buffers armed (recvmmsg stopped where the socket ran dry): Receiver.onIdle() at once,
 *       unless the receiver expectsMore(); the next receive then polls before it calls recvmmsg
 * </pre>
 *
 * <p><b>Sending on the caller's thread</b> saves the ring and a wakeup of another thread per burst,
 * which on a machine with few cores is much of the cost; the price is that a datagram the kernel
 * will not take at once (a full socket send buffer: EAGAIN) is dropped and counted instead of
 * waiting in the ring.
 *
 * <p><b>Polled instead of started.</b> A caller that waits on the socket itself (its
 * {@link #pollFd() descriptor} with a TUN's, in an {@link FdPoller}: the pipeline's single-thread
 * mode) takes datagrams with {@link #receiveNow} on its own thread and never calls {@link #start};
 * then there is no receive thread. Sending on the caller as well, the transport has no thread at all.
 *
 * <p><b>Pool use.</b> Besides what the receiver holds, the receive thread keeps up to {@code
 * batchSize} buffers armed for the next {@code recvmmsg} (returned at close). While the pool is dry
 * it waits a millisecond at a time and leaves datagrams in the socket, whose receive buffer
 * overflows (the kernel counts those) before any buffer is lost.
 *
 * <p><b>Counters.</b> {@code SEND_FAILED} for datagrams the kernel refused, written under the send
 * lock or by the sender thread; {@code OVERSIZE} for datagrams larger than a buffer (dropped, never
 * handed on cut short), written by whichever thread receives. Nothing on the packet path allocates.
 */
public final class SocketTransport implements PollableTransport {
    private static final Logger LOG = System.getLogger(SocketTransport.class.getName());
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * The receive thread's one sleep before it calls an empty socket idle while its receiver {@linkplain
     * Receiver#expectsMore expects more}. The thread's {@linkplain TimerSlack timer slack} is 1 us, so the
     * sleep lasts this and a wakeup (30-40 us in all on a VM), not up to 50 us more.
     */
    static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(20);

    /**
     * Opens {@link #udp} transports with the defaults of {@link UdpTransportConfig#of} (sending on
     * the caller): the UDP backends' default factory.
     */
    public static final TransportFactory UDP_SOCKETS = (address, port, pool) -> udp(UdpTransportConfig.of(address, port), pool);

    private final TransportSocket socket;
    private final PacketPool pool;
    private final int batchSize;
    private final PacketRing ring; // null: sends on the caller's thread
    private final Counters counters = new Counters();
    private final AtomicInteger producersInside = new AtomicInteger();
    private final Object sendLock = new Object();
    private final Thread senderThread;
    private Thread receiverThread;
    private boolean polled; // receiveNow was called: start is refused
    private long truncatedSeen; // by whichever thread receives
    private volatile boolean closed;

    private SocketTransport(TransportSocket socket, PacketPool pool, boolean sendOnCaller, int ringCapacity) {
        this.socket = socket;
        this.pool = pool;
        this.batchSize = socket.batchSize();
        this.ring = sendOnCaller ? null : new PacketRing(ringCapacity, true);
        this.senderThread = sendOnCaller ? null
                : Thread.ofPlatform().name("dp-" + socket.label() + "-tx").daemon().unstarted(this::sendLoop);
    }

    /**
     * Drives {@code socket}, which it owns from now on (closing the transport closes it); received
     * datagrams land in buffers of {@code pool}. Starts the sender thread unless {@code sendOnCaller}.
     * Nothing is read until {@link #start} or {@link #receiveNow}; sending works at once.
     *
     * @param ringCapacity datagrams the send ring holds (a power of two, 2 or more); unused with {@code sendOnCaller}
     */
    public static SocketTransport open(TransportSocket socket, PacketPool pool, boolean sendOnCaller, int ringCapacity) {
        if (pool == null) throw new IllegalArgumentException("packet pool missing: pool=null");
        SocketTransport t = new SocketTransport(socket, pool, sendOnCaller, ringCapacity);
        if (t.senderThread != null) t.senderThread.start();
        return t;
    }

    /** Bytes a buffer must hold after its offset for the socket to receive trains of datagrams: the largest UDP payload. */
    public static final int TRAIN_BYTES = 65535;

    /**
     * Binds a UDP socket as {@code config} says, in the calling thread's network namespace.
     * The socket cuts TCP super-packets into datagrams ({@link #sendsSuperPackets()}). When {@code
     * pool}'s buffers hold {@link #TRAIN_BYTES} after their headroom and {@link
     * UdpTransportConfig#receiveTrains()} allows it, it also receives trains of
     * datagrams from one sender as one buffer each ({@code UDP_GRO}: {@link UdpSocket#enableGro}),
     * which the receiver gets with the datagram size in {@link PacketBuffer#gsoSize()}, and drops
     * a datagram longer than {@link UdpTransportConfig#largestDatagram()} as {@code OVERSIZE}; with
     * smaller buffers every datagram comes on its own. With {@link UdpTransportConfig#sendRuns()} a
     * run of equally long datagrams to one peer in a send goes out as one UDP GSO message
     * ({@link UdpSocket#enableSendRuns}). A caller of {@link #receiveNow} on such a
     * transport passes buffers as large, or a train is dropped as {@code OVERSIZE}.
     *
     * @throws IOException naming the address and port when the bind fails
     */
    public static SocketTransport udp(UdpTransportConfig config, PacketPool pool) throws IOException {
        return udp(config, pool, null);
    }

    /**
     * As {@link #udp(UdpTransportConfig, PacketPool)}, and with {@code steering} the socket is one of
     * a group bound to the same address and port, each taking the flows {@code steering} gives it
     * ({@link UdpSocket#open(int, int, int, int, FlowSteering)}): one transport per queue of a node.
     *
     * @param steering the group's steering, or null for a socket of its own
     * @throws IOException naming the address and port when the bind fails
     */
    public static SocketTransport udp(UdpTransportConfig config, PacketPool pool, FlowSteering steering) throws IOException {
        if (pool == null) throw new IllegalArgumentException("packet pool missing: pool=null");
        int buffers = Math.max(config.receiveBufferBytes(), config.sendBufferBytes());
        UdpSocket socket = UdpSocket.open(config.bindAddress(), config.port(), config.batchSize(), buffers, steering);
        if (config.receiveTrains() && pool.bufferSize() - pool.headroom() >= TRAIN_BYTES) {
            socket.enableGro(config.largestDatagram() != 0 ? config.largestDatagram() : UdpTransportConfig.MAX_DATAGRAM);
        }
        if (config.sendRuns()) socket.enableSendRuns();
        return open(socket, pool, config.sendOnCaller(), config.ringCapacity());
    }

    /**
     * Opens and binds a raw IP socket as {@code config} says, in the calling thread's network
     * namespace. In datagram mode ({@link RawIpTransportConfig#headerIncluded()}) the data is the
     * whole IPv4 datagram both ways: the caller writes the outer header in front of its payload, and
     * gets the received outer header in front of the payload to check, the data starting at the
     * pool's headroom. In payload mode the kernel writes the outer header and the data received is
     * the payload, as for UDP. The peer of a received buffer is the outer source; its port is 0.
     *
     * @throws IOException naming the call and the errno: EPERM without CAP_NET_RAW, EADDRNOTAVAIL
     *     when the bind address is no local address
     */
    public static SocketTransport rawIp(RawIpTransportConfig config, PacketPool pool) throws IOException {
        if (pool == null) throw new IllegalArgumentException("packet pool missing: pool=null");
        RawIpSocket socket = RawIpSocket.open(config.protocol(), config.batchSize(), config.headerIncluded(), config.headerIncluded());
        try {
            socket.setBufferSizes(config.receiveBufferBytes(), config.sendBufferBytes());
            if (config.bindAddress() != 0) socket.bind(config.bindAddress());
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        return open(socket, pool, config.sendOnCaller(), config.ringCapacity());
    }

    @Override
    public synchronized void start(Receiver receiver) {
        if (receiver == null) throw new IllegalArgumentException("receiver missing: receiver=null");
        if (closed) throw new IllegalStateException(this + " is closed");
        if (receiverThread != null) throw new IllegalStateException(this + " already started");
        if (polled) throw new IllegalStateException(this + " is polled (receiveNow): it cannot also be started");
        receiverThread = Thread.ofPlatform().name("dp-" + socket.label() + "-rx").daemon().start(() -> receiveLoop(receiver));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Clears {@code batch[0..count)}. Sending on the caller, the datagrams are sent before this
     * returns and all count as accepted while open; those the kernel refused are counted as {@code
     * SEND_FAILED}. After {@link #close()} every buffer is released at once and 0 is returned.
     */
    @Override
    public int send(PacketBuffer[] batch, int count) {
        if (ring == null) return sendNow(batch, count);
        producersInside.incrementAndGet();
        try {
            if (closed) {
                PacketPool.releaseAll(batch, 0, count);
                return 0;
            }
            return ring.offer(batch, count);
        } finally {
            producersInside.decrementAndGet();
        }
    }

    private int sendNow(PacketBuffer[] batch, int count) {
        int sent;
        synchronized (sendLock) {
            try {
                sent = closed ? TransportSocket.CLOSED : socket.send(batch, count, false);
            } catch (IOException e) {
                sent = 0; // an unusable descriptor (sockets do not report one): all counted as refused
            }
            if (sent != TransportSocket.CLOSED && sent < count) counters.drop(DropReason.SEND_FAILED, count - sent);
        }
        PacketPool.releaseAll(batch, 0, count);
        return sent == TransportSocket.CLOSED ? 0 : count;
    }

    private void sendLoop() {
        PacketBuffer[] batch = new PacketBuffer[batchSize];
        try {
            while (!closed) {
                int n = ring.drain(batch, batch.length);
                if (n == 0) {
                    ring.await(IDLE_PARK_NANOS, TimeUnit.NANOSECONDS);
                    continue;
                }
                // Waits in poll while the socket's send buffer is full: the ring absorbs the burst meanwhile.
                int sent = socket.send(batch, n, true);
                if (sent != TransportSocket.CLOSED && sent < n) counters.drop(DropReason.SEND_FAILED, n - sent);
                PacketPool.releaseAll(batch, 0, n);
                if (sent == TransportSocket.CLOSED) break;
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) LOG.log(Level.ERROR, this + ": sender stopped: " + e.getMessage(), e);
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
        }
    }

    /**
     * The receive thread's words with its receiver where the socket is empty: after a receive that
     * took fewer datagrams than it had room for ({@link #drained}), and where the next one finds
     * nothing, before the wait in poll. While the receiver expects more: one sleep of {@link
     * #LINGER_NANOS} and one more try; then {@link Receiver#onIdle}, once for each stretch of
     * datagrams received. {@code lingered} is reset before each receive.
     */
    private static final class EmptySocket implements BooleanSupplier {
        private final Receiver receiver;
        private boolean lingered;
        private boolean told; // onIdle was called after the last datagrams received

        EmptySocket(Receiver receiver) {
            this.receiver = receiver;
        }

        /** Datagrams came: what the receiver holds is news again. */
        void received() {
            told = false;
        }

        /**
         * The receive returned fewer datagrams than it had buffers for: {@code recvmmsg} stops
         * only where the socket ran dry, so the socket was empty a moment ago. What the receiver
         * holds goes on now, unless it ends in a TCP run whose next segments are likely on their
         * way (those wait for the linger of the next, empty receive).
         */
        void drained() {
            if (receiver.expectsMore()) return;
            told = true;
            receiver.onIdle();
        }

        @Override
        public boolean getAsBoolean() {
            if (!lingered && receiver.expectsMore()) {
                // A TCP run cut mid-way: its next segments are likely on their way; one short sleep gathers them into one write.
                lingered = true;
                LockSupport.parkNanos(LINGER_NANOS);
                return true;
            }
            if (!told) {
                told = true;
                receiver.onIdle();
            }
            return false;
        }
    }

    private void receiveLoop(Receiver receiver) {
        // The linger is a sleep of microseconds: with the thread's default slack of 50 us it would last four times as long.
        int slackErrno = TimerSlack.set(TimerSlack.PACKET_THREAD_NANOS);
        if (slackErrno != 0) LOG.log(Level.DEBUG, this + ": timer slack stays at the default: prctl " + Errno.name(slackErrno));
        PacketBuffer[] batch = new PacketBuffer[batchSize];
        EmptySocket empty = new EmptySocket(receiver);
        int held = 0;
        try {
            while (!closed) {
                held += pool.acquire(batch, held, batchSize);
                if (held == 0) {
                    receiver.onIdle(); // what it holds may be what the pool lacks
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    continue;
                }
                empty.lingered = false;
                int n = socket.receive(batch, held, empty);
                if (n == TransportSocket.CLOSED) break;
                countTruncated();
                empty.received();
                receiver.onReceive(batch, n);
                // A lone datagram (a ping) reaches the TUN now, not after one more recvmmsg that finds the socket empty.
                if (n < held) empty.drained();
                // The receiver owns batch[0..n) now; the last unfilled ones take their slots and the
                // rest stay where they are armed, so the next receive arms only the slots that changed.
                int left = held - n;
                for (int i = 0, moved = Math.min(n, left); i < moved; i++) batch[i] = batch[held - 1 - i];
                Arrays.fill(batch, left, held, null);
                held = left;
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) LOG.log(Level.ERROR, this + ": receiver stopped: " + e.getMessage(), e);
        } finally {
            PacketPool.releaseAll(batch, 0, held);
            try {
                receiver.onIdle();
            } catch (RuntimeException e) {
                if (!closed) LOG.log(Level.ERROR, this + ": receiver failed as it stopped: " + e.getMessage(), e);
            }
        }
    }

    // Datagrams the socket dropped as too large for their buffer, counted once each.
    private void countTruncated() {
        long truncated = socket.truncated();
        if (truncated != truncatedSeen) {
            counters.drop(DropReason.OVERSIZE, (int) (truncated - truncatedSeen));
            truncatedSeen = truncated;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Datagrams too large for their buffer are dropped and counted as {@code OVERSIZE}.
     */
    @Override
    public int receiveNow(PacketBuffer[] packets, int count) throws IOException {
        if (!polled) {
            synchronized (this) {
                if (receiverThread != null) throw new IllegalStateException(this + " was started: its receive thread receives");
                polled = true;
            }
        }
        int n = socket.receive(packets, count, false);
        if (n == TransportSocket.CLOSED) return CLOSED;
        countTruncated();
        return n;
    }

    /** The socket's descriptor. */
    @Override
    public int pollFd() {
        return socket.fd();
    }

    /** {@link FdPoller#FACTORY}: polled together with a {@code TunDevice}. */
    @Override
    public Poller.Factory pollers() {
        return FdPoller.FACTORY;
    }

    /** As the socket: true for both, which cut TCP super-packets into datagrams (no copy; UDP with GSO). */
    @Override
    public boolean sendsSuperPackets() {
        return socket.sendsSuperPackets();
    }

    /** True for UDP: trains of sealed datagrams go out as they are, with UDP GSO where the kernel takes it. */
    @Override
    public boolean sendsTrains() {
        return socket instanceof UdpSocket;
    }

    /** Datagrams received so far, those of trains included ({@link TransportSocket#received()}). */
    public long received() {
        return socket.received();
    }

    /** Trains of datagrams received as one buffer so far (UDP GRO); 0 where the socket takes datagrams one by one. */
    public long trainsReceived() {
        return socket.trainsReceived();
    }

    /** Datagrams that came in trains so far: divided by {@link #trainsReceived()}, the datagrams per train. */
    public long trainDatagrams() {
        return socket.trainDatagrams();
    }

    /** True if the socket receives trains of datagrams as one buffer (UDP GRO). */
    public boolean receivesTrains() {
        return socket instanceof UdpSocket u && u.gro();
    }

    /**
     * True: the receive thread calls {@link Receiver#onIdle} each time the socket is empty, before
     * it waits in poll (where recvmmsg finds it empty, or already where a receive took fewer
     * datagrams than it had buffers for: no extra system call), when the pool is dry, and as it stops. While the receiver {@linkplain Receiver#expectsMore expects more} it sleeps
     * {@code LINGER_NANOS} once and tries again before it calls the socket empty.
     */
    @Override
    public boolean reportsIdle() {
        return true;
    }

    /** The bound port; 0 for a raw IP socket, which has no port. */
    @Override
    public int localPort() {
        return socket.localPort();
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    /**
     * Closes the socket, stops the threads and returns every buffer the transport held: those
     * waiting in the send ring and those armed for the next receive. Sends after this release their
     * buffers at once. Must not be called from the receiver (the transport's own thread). Idempotent.
     */
    @Override
    public void close() {
        Thread rx;
        synchronized (this) {
            if (closed) return;
            closed = true;
            rx = receiverThread;
        }
        if (rx == Thread.currentThread()) throw new IllegalStateException(this + " closed from its own receive thread");
        // Producers that saw closed == false finish their offer before the ring is cleared below.
        while (producersInside.get() != 0) Thread.onSpinWait();
        socket.close(); // wakes both threads out of poll; waits for a caller inside sendmmsg
        if (ring != null) {
            ring.wake();
            join(senderThread);
        }
        if (rx != null) join(rx);
        if (ring != null) ring.clear();
    }

    private void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) LOG.log(Level.WARNING, this + ": thread " + t.getName() + " did not stop within 5 s");
    }

    @Override
    public String toString() {
        return "SocketTransport[" + socket + (ring == null ? "" : ", sender thread") + "]";
    }
}
