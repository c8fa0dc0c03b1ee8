package io.dataplane.tun.udp;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
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
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link Transport} on a {@link UdpSocket} with no event loop: {@link #send} runs
 * {@code sendmmsg} on the caller's thread, and one receive thread of its own runs {@code recvmmsg}
 * and hands each batch to the receiver.
 *
 * <pre>
 * send(batch) on the pipeline's egress thread
 *   --> sendmmsg straight from the pool buffers (no copy, no ring, no wakeup of another thread)
 *   --> the buffers go back to the pool (the kernel has copied them)
 *
 * thread "dp-udp-rx-PORT": acquire up to batchSize pool buffers
 *   --> recvmmsg into them at the pool's headroom (blocks in poll while the socket is empty)
 *   --> Receiver.onReceive(batch, n), which now owns them
 * </pre>
 *
 * <p>Why besides {@link UdpTransport} (Netty): on a machine with few cores every thread handoff
 * costs a wakeup and a context switch, and the packet path's work is mostly the kernel's anyway.
 * Sending on the thread that read the TUN saves the ring, the event loop's wakeup and Netty's
 * per-datagram objects; receiving on a plain thread saves Netty's per-datagram {@code DatagramPacket}
 * and sender address. The price: {@link #send} never queues, so a datagram the kernel will not take
 * right now (a full socket send buffer: EAGAIN) is dropped and counted ({@code SEND_FAILED}) instead
 * of waiting in a ring for writability.
 *
 * <p><b>Polled instead of started.</b> A caller that waits on the socket itself (its
 * {@link #pollFd() descriptor} with a TUN's, in an {@link FdPoller}: the pipeline's single-thread
 * mode) takes datagrams with {@link #receiveNow} on its own thread and never calls {@link #start};
 * then there is no receive thread at all.
 *
 * <p>{@link #send} is safe from any thread (senders take turns on a lock: the pipeline's egress
 * thread, and its receive thread for replies). Counters: {@code SEND_FAILED} for datagrams the
 * kernel refused, {@code OVERSIZE} for datagrams larger than a buffer (dropped, never handed on
 * cut short). While the pool is dry the receive thread waits a millisecond at a time and leaves
 * datagrams in the socket, whose receive buffer overflows (the kernel counts those) before any
 * buffer is lost.
 */
public final class DirectUdpTransport implements PollableTransport {
    private static final Logger LOG = System.getLogger(DirectUdpTransport.class.getName());
    private static final long POOL_DRY_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final UdpTransportConfig config;
    private final PacketPool pool;
    private final UdpSocket socket;
    private final Counters counters = new Counters();
    private final Object sendLock = new Object();
    private Thread receiveThread;
    private boolean polled; // receiveNow was called: start is refused
    private long truncatedSeen; // by whichever thread receives
    private volatile boolean closed;

    private DirectUdpTransport(UdpTransportConfig config, PacketPool pool, UdpSocket socket) {
        this.config = config;
        this.pool = pool;
        this.socket = socket;
    }

    /**
     * Binds a UDP socket as {@code config} says (its ring capacity is unused) in the calling
     * thread's network namespace; received datagrams land in buffers of {@code pool}. Nothing is
     * read until {@link #start}; sending works at once.
     *
     * @throws IOException naming the address and port when the bind fails
     */
    public static DirectUdpTransport open(UdpTransportConfig config, PacketPool pool) throws IOException {
        int buffers = Math.max(config.receiveBufferBytes(), config.sendBufferBytes());
        UdpSocket socket = UdpSocket.open(config.bindAddress(), config.port(), config.batchSize(), buffers);
        return new DirectUdpTransport(config, pool, socket);
    }

    @Override
    public synchronized void start(Receiver receiver) {
        if (closed) throw new IllegalStateException(this + " is closed");
        if (receiveThread != null) throw new IllegalStateException(this + " already started");
        if (polled) throw new IllegalStateException(this + " is polled (receiveNow): it cannot also be started");
        receiveThread = Thread.ofPlatform().name("dp-udp-rx-" + socket.localPort()).daemon().unstarted(() -> receiveLoop(receiver));
        receiveThread.start();
    }

    private void receiveLoop(Receiver receiver) {
        int batchSize = config.batchSize();
        PacketBuffer[] batch = new PacketBuffer[batchSize];
        int held = 0;
        try {
            while (!closed) {
                held += pool.acquire(batch, held, batchSize);
                if (held == 0) {
                    LockSupport.parkNanos(POOL_DRY_PARK_NANOS);
                    continue;
                }
                int n = socket.receive(batch, held);
                if (n == UdpSocket.CLOSED) break;
                countTruncated();
                receiver.onReceive(batch, n);
                // The receiver owns batch[0..n) now; the unfilled ones move to the front.
                int left = held - n;
                System.arraycopy(batch, n, batch, 0, left);
                Arrays.fill(batch, left, held, null);
                held = left;
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) LOG.log(Level.ERROR, "receiving on " + this + " stopped: " + e.getMessage(), e);
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
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
                if (receiveThread != null) throw new IllegalStateException(this + " was started: its receive thread receives");
                polled = true;
            }
        }
        int n = socket.receiveNow(packets, count);
        if (n == UdpSocket.CLOSED) return CLOSED;
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

    /**
     * {@inheritDoc}
     *
     * <p>Sends at once on the calling thread and releases the buffers; a datagram the kernel
     * refuses is counted as {@code SEND_FAILED}, not returned as refused: the return value is
     * {@code count} while open, 0 once closed. Clears {@code batch[0..count)}.
     */
    @Override
    public int send(PacketBuffer[] batch, int count) {
        if (closed) {
            PacketPool.releaseAll(batch, 0, count);
            return 0;
        }
        int sent;
        synchronized (sendLock) {
            sent = socket.send(batch, 0, count);
        }
        PacketPool.releaseAll(batch, 0, count);
        if (sent == UdpSocket.CLOSED) return 0;
        if (sent < count) counters.drop(DropReason.SEND_FAILED, count - sent);
        return count;
    }

    /** True: {@link UdpSocket#send} cuts TCP super-packets into datagrams (UDP GSO, no copy). */
    @Override
    public boolean sendsSuperPackets() {
        return true;
    }

    @Override
    public int localPort() {
        return socket.localPort();
    }

    @Override
    public int batchSize() {
        return config.batchSize();
    }

    @Override
    public Counters counters() {
        return counters;
    }

    /** The configuration this transport was opened with. */
    public UdpTransportConfig config() {
        return config;
    }

    /**
     * Closes the socket, which wakes the receive thread; waits for it to end (it returns the
     * buffers it held). Sends after this release their buffers at once. Must not be called from
     * the receiver. Idempotent.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) return;
            closed = true;
            t = receiveThread;
        }
        if (t == Thread.currentThread()) throw new IllegalStateException(this + " closed from its own receive thread");
        // Waits for senders inside sendmmsg; later ones find the socket closed and release their buffers.
        socket.close();
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) LOG.log(Level.WARNING, "receive thread of " + this + " did not stop within 5 s");
        }
    }

    @Override
    public String toString() {
        return "DirectUdpTransport[" + Ipv4Address.toString(config.bindAddress()) + ":" + socket.localPort() + "]";
    }
}
