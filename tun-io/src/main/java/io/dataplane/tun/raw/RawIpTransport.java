package io.dataplane.tun.raw;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.PollableTransport;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.sys.FdPoller;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link Transport} on a {@link RawIpSocket}: datagrams of one IP protocol (4 for ipip) to and
 * from underlay addresses, in recvmmsg/sendmmsg batches straight from and into pool buffers.
 *
 * <pre>
 * send(batch) on any thread
 *   --> send ring (JCTools MPSC, bounded: full = released, the caller counts RING_FULL)
 *   --> sender thread "dp-rawN-tx": drain up to batchSize --> sendmmsg (one iovec per buffer, no copy)
 *   --> release every buffer; datagrams the kernel refused count as SEND_FAILED
 *
 * or, with sendOnCaller, on the calling thread (callers take turns on a lock):
 *   --> sendmmsg without waiting --> release every buffer; refused (a full socket buffer too): SEND_FAILED
 *
 * receiver thread "dp-rawN-rx" (from start):
 *   acquire up to batchSize pool buffers --> recvmmsg into them at the headroom (no copy)
 *   --> Receiver.onReceive(batch, n), which now owns the filled buffers; the others wait for the next call
 * </pre>
 *
 * <p><b>Two modes.</b> In <em>payload mode</em> the kernel writes the outer IPv4 header on send and
 * the data received is the datagram's payload, as for UDP: the mode that {@code
 * TransportConformanceTest} holds to the SPI's letter. In <em>datagram mode</em> ({@link
 * RawIpTransportConfig#headerIncluded()}, {@code IP_HDRINCL}) the data is the whole IPv4 datagram
 * both ways: the caller writes the outer header in front of its payload (its encapsulation does, in
 * the buffer's headroom) and gets the received outer header back in front of the payload to check.
 * That is what ipip needs: RFC 2003 sets the outer DF bit from each inner packet, and a socket
 * option can only set it for all. With {@code IP_HDRINCL} the kernel still rewrites the total
 * length and the header checksum, fills a zero source address, and picks an identification for a
 * zero one unless DF is set ({@code raw_send_hdrinc}); it never fragments (a datagram above the
 * route's MTU is refused with EMSGSIZE, counted as {@code SEND_FAILED}).
 *
 * <p>The peer address of a received buffer is the outer source; its port is 0. The socket is opened
 * in the network namespace of the thread that calls {@link #open}; the threads merely use it.
 *
 * <p><b>Pool use.</b> Besides what the receiver holds, the receive thread keeps up to {@code
 * batchSize} buffers armed for the next recvmmsg (returned at close). When the pool is dry it
 * waits a millisecond at a time and leaves datagrams queued in the socket; the kernel drops what
 * overflows the socket's receive buffer ({@code /proc/net/raw} counts those).
 *
 * <p><b>Sending on the caller's thread</b> ({@link RawIpTransportConfig#sendOnCaller()}) saves the
 * ring and a wakeup of the sender thread per burst, which on a machine with few cores is much of
 * the cost; the price is that a datagram the kernel will not take at once (the socket's send
 * buffer is full) is dropped and counted instead of waiting in the ring.
 *
 * <p><b>Polled instead of started.</b> A caller that waits on the socket itself (its
 * {@link #pollFd() descriptor} with a TUN's, in an {@link FdPoller}: the pipeline's single-thread
 * mode) takes datagrams with {@link #receiveNow} on its own thread and never calls {@link #start};
 * then there is no receiver thread. With sendOnCaller as well, the transport has no thread at all.
 *
 * <p><b>Threads and counters.</b> {@link #counters()} are written by the sender thread, or with
 * sendOnCaller under the send lock. Nothing on the packet path allocates.
 */
public final class RawIpTransport implements PollableTransport {
    private static final Logger LOG = System.getLogger(RawIpTransport.class.getName());
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final RawIpTransportConfig config;
    private final PacketPool pool;
    private final RawIpSocket socket;
    private final PacketRing ring;
    private final Counters counters = new Counters();
    private final AtomicInteger producersInside = new AtomicInteger();
    private final Object sendLock = new Object();
    private final Thread senderThread;
    private Thread receiverThread;
    private boolean polled; // receiveNow was called: start is refused
    private volatile Receiver receiver;
    private volatile boolean closed;
    private volatile long received;
    private volatile long receiveCalls;

    private RawIpTransport(RawIpTransportConfig config, PacketPool pool, RawIpSocket socket) {
        this.config = config;
        this.pool = pool;
        this.socket = socket;
        this.ring = config.sendOnCaller() ? null : new PacketRing(config.ringCapacity(), true);
        this.senderThread = config.sendOnCaller() ? null
                : Thread.ofPlatform().name("dp-raw" + config.protocol() + "-tx").daemon().unstarted(this::sendLoop);
    }

    /**
     * Opens and binds the raw socket as {@code config} says, in the calling thread's network
     * namespace, and starts the sender thread; received datagrams will land in buffers of {@code
     * pool}. Nothing is read until {@link #start}; sending works at once.
     *
     * @throws IOException naming the call and the errno: EPERM without CAP_NET_RAW, EADDRNOTAVAIL
     *     when the bind address is no local address
     */
    public static RawIpTransport open(RawIpTransportConfig config, PacketPool pool) throws IOException {
        if (pool == null) throw new IllegalArgumentException("packet pool missing: pool=null");
        RawIpSocket socket = RawIpSocket.open(config.protocol(), config.batchSize(), config.headerIncluded());
        try {
            socket.setBufferSizes(config.receiveBufferBytes(), config.sendBufferBytes());
            if (config.bindAddress() != 0) socket.bind(config.bindAddress());
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        RawIpTransport t = new RawIpTransport(config, pool, socket);
        if (t.senderThread != null) t.senderThread.start();
        return t;
    }

    @Override
    public synchronized void start(Receiver receiver) {
        if (receiver == null) throw new IllegalArgumentException("receiver missing: receiver=null");
        if (closed) throw new IllegalStateException(this + " is closed");
        if (receiverThread != null) throw new IllegalStateException(this + " already started");
        if (polled) throw new IllegalStateException(this + " is polled (receiveNow): it cannot also be started");
        this.receiver = receiver;
        receiverThread = Thread.ofPlatform().name("dp-raw" + config.protocol() + "-rx").daemon().start(this::receiveLoop);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Clears {@code batch[0..count)}. In datagram mode each buffer's data must start with the
     * outer IPv4 header. After {@link #close()} every buffer is released at once and 0 is returned.
     * With {@link RawIpTransportConfig#sendOnCaller()} the datagrams are sent before this returns
     * and all count as accepted; those the kernel refused are counted as {@code SEND_FAILED}.
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
                sent = closed ? RawIpSocket.CLOSED : socket.trySend(batch, count);
            } catch (IOException e) {
                sent = 0;
            }
            if (sent != RawIpSocket.CLOSED && sent < count) counters.drop(DropReason.SEND_FAILED, count - sent);
        }
        PacketPool.releaseAll(batch, 0, count);
        return sent == RawIpSocket.CLOSED ? 0 : count;
    }

    /** 0: a raw IP socket has no port. */
    @Override
    public int localPort() {
        return 0;
    }

    @Override
    public int batchSize() {
        return config.batchSize();
    }

    /** The sender thread's counters: {@code SEND_FAILED} for every datagram the kernel refused. */
    @Override
    public Counters counters() {
        return counters;
    }

    /** The configuration this transport was opened with. */
    public RawIpTransportConfig config() {
        return config;
    }

    /** Datagrams handed to the receiver so far. */
    public long received() {
        return received;
    }

    /** recvmmsg calls that delivered datagrams so far (received / receiveCalls is the mean batch). */
    public long receiveCalls() {
        return receiveCalls;
    }

    // ---- sender thread ----

    private void sendLoop() {
        PacketBuffer[] batch = new PacketBuffer[config.batchSize()];
        try {
            while (!closed) {
                int n = ring.drain(batch, batch.length);
                if (n == 0) {
                    ring.await(IDLE_PARK_NANOS, TimeUnit.NANOSECONDS);
                    continue;
                }
                // Waits in poll while the socket's send buffer is full: the ring absorbs the burst meanwhile.
                int sent = socket.send(batch, n);
                if (sent == RawIpSocket.CLOSED) {
                    PacketPool.releaseAll(batch, 0, n);
                    break;
                }
                if (sent < n) counters.drop(DropReason.SEND_FAILED, n - sent);
                PacketPool.releaseAll(batch, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) LOG.log(Level.ERROR, this + ": sender stopped: " + e.getMessage());
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
        }
    }

    // ---- receiver thread ----

    private void receiveLoop() {
        int batchSize = config.batchSize();
        PacketBuffer[] batch = new PacketBuffer[batchSize];
        int headroom = pool.headroom();
        boolean datagrams = config.headerIncluded();
        Receiver r = receiver;
        int held = 0;
        try {
            while (!closed) {
                held += pool.acquire(batch, held, batchSize);
                if (held == 0) {
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    continue;
                }
                int n = socket.receive(batch, held);
                if (n == RawIpSocket.CLOSED) break;
                accepted(batch, n, headroom, datagrams);
                r.onReceive(batch, n);
                // The receiver owns batch[0..n) now; move the unfilled buffers down for the next call.
                int left = held - n;
                System.arraycopy(batch, n, batch, 0, left);
                Arrays.fill(batch, left, held, null);
                held = left;
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) LOG.log(Level.ERROR, this + ": receiver stopped: " + e.getMessage());
        } finally {
            PacketPool.releaseAll(batch, 0, held);
        }
    }

    // In datagram mode the outer header is part of the data; counts what is handed on.
    private void accepted(PacketBuffer[] batch, int n, int headroom, boolean datagrams) {
        if (datagrams) {
            // The socket moved the data past the outer header, back to where it was read.
            for (int i = 0; i < n; i++) {
                PacketBuffer p = batch[i];
                p.setData(headroom, p.length() + p.offset() - headroom);
            }
        }
        received = received + n;
        receiveCalls = receiveCalls + 1;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The buffers' data starts at the pool's headroom: in datagram mode the data is the whole
     * datagram, outer header included, as a receiver gets it.
     */
    @Override
    public int receiveNow(PacketBuffer[] packets, int count) throws IOException {
        if (!polled) {
            synchronized (this) {
                if (receiverThread != null) throw new IllegalStateException(this + " was started: its receiver thread receives");
                polled = true;
            }
        }
        int n = socket.receiveNow(packets, count);
        if (n == RawIpSocket.CLOSED) return CLOSED;
        if (n > 0) accepted(packets, n, pool.headroom(), config.headerIncluded());
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

    /**
     * Closes the socket, stops both threads and returns every buffer the transport held: those
     * waiting in the send ring and those armed for the next receive. Must not be called from the
     * receiver (the transport's own thread). Idempotent.
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
        return "RawIpTransport[protocol " + config.protocol() + " " + Ipv4Address.toString(config.bindAddress())
                + (config.headerIncluded() ? " IP_HDRINCL" : "") + "]";
    }
}
