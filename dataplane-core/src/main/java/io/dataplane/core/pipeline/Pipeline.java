package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.PollableTransport;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.TcpSegments;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Moves packets between a {@link TunnelDevice} and a {@link Transport} through an
 * {@link Encapsulation}, in batches, in place, on three threads (or two, or one: see {@link TunWriter}).
 *
 * <pre>
 * Egress (pod -> network), thread "dp-egress-TUN":
 *   acquire buffers -> tun.read(batch) into the headroom
 *     -> check the IPv4 header (version, IHL, total length)      bad: drop, counted by reason
 *     -> routes.lookup(destination)                              miss: encap.noRoute -> REPLY into the TUN ring
 *     -> encap.encap(packet, nextHop) in place (peer endpoint set)
 *     -> collect FORWARD packets -> transport.send(batch)        its ring full: RING_FULL
 *
 * Ingress (network -> pod), the transport's receive thread:
 *   transport delivers a batch -> encap.decap(packet) in place
 *     -> FORWARD: tunRing.offer                                  full: RING_FULL
 *     -> REPLY (ARP reply, handshake response): transport.send
 *
 * TUN writer, thread "dp-ingress-TUN":
 *   tunRing.drain(batch) -> tun.write(batch) -> release
 * </pre>
 *
 * <p>With {@link TunWriter#RECEIVE_THREAD} there is no TUN writer thread and no TUN ring: the
 * transport's receive thread writes what it decapsulated straight into the TUN, in the batch it
 * received, and the egress thread writes its rare replies (ICMP errors) itself; a lock keeps the
 * two writers apart. One thread handoff and one wakeup less per packet, which on a machine with
 * few cores is worth more than the overlap of receiving and writing; and a receive thread that is
 * busy writing reads no more datagrams, so a burst waits in the socket's receive buffer instead of
 * being dropped from a full ring.
 *
 * <p>With {@link TunWriter#SINGLE_THREAD} one thread, "dp-path-TUN", does all of it: it waits on
 * the TUN and the socket together through a {@link Poller} and takes a batch from each in turn
 * without blocking. A round trip then wakes two threads (one per node) instead of four: after the
 * TUN write of a request the kernel has usually queued the pod's answer in the TUN already, and
 * the same thread, still running, takes it. With {@code busyPollNanos} above 0 the thread also
 * spins (looks again instead of sleeping) until that long has passed since the last packet it moved
 * ({@link BusyPoll}): while traffic flows no packet has to wake it, and after a quiet window it
 * sleeps. No overlap of the two directions: the price on a machine with many cores and both
 * directions loaded.
 *
 * <p>Every stage keeps its own {@link Counters} (one writer each). Packets change owner only by
 * being offered to a ring or handed to the transport; every drop releases its buffer. {@link #close}
 * stops the threads, closes the device and transport, and leaves every buffer back in the pool.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Pipeline.class.getName());
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final TunnelDevice tun;
    private final Transport transport;
    private final Encapsulation encap;
    private final RouteTable routes;
    private final PacketPool pool;
    private final PacketPool tunPool; // TUN reads: as pool, or one of 64 KiB buffers for super-packets
    private final int batchSize;
    private final TunWriter tunWriterMode;
    private final PacketRing tunRing;
    private final Object tunWriteLock = new Object();
    private final Counters egress = new Counters();
    private final Counters ingress = new Counters();
    private final Counters tunWriter = new Counters();
    private final Thread egressThread; // the one thread with TunWriter.SINGLE_THREAD
    private final Thread writerThread; // null unless TunWriter.THREAD
    private final Poller poller; // null unless TunWriter.SINGLE_THREAD
    private final long busyPollNanos;
    private volatile boolean running = true;
    private volatile Throwable failure;

    /** Which thread writes decapsulated packets into the TUN. */
    public enum TunWriter {
        /** A thread of its own, fed through a ring by the transport's receive thread (the default). */
        THREAD,
        /** The transport's receive thread, right after decapsulation; no ring, no extra thread. */
        RECEIVE_THREAD,
        /**
         * The pipeline's only thread, which also reads the TUN and receives from the transport: it
         * waits on both at once through a {@link Poller}. Needs a {@link PollableTunnelDevice} and a
         * {@link PollableTransport}; the transport's own receive thread is never started.
         */
        SINGLE_THREAD
    }

    /**
     * Assembles and starts a pipeline with a TUN writer thread. The pool's headroom must cover the encapsulation's.
     *
     * @param ringSize capacity of the ring from the receive thread to the TUN writer
     */
    public Pipeline(TunnelDevice tun, Transport transport, Encapsulation encap, RouteTable routes, PacketPool pool, int ringSize)
            throws IOException {
        this(tun, transport, encap, routes, pool, ringSize, TunWriter.THREAD);
    }

    /**
     * Assembles and starts a pipeline. The pool's headroom must cover the encapsulation's.
     *
     * @param ringSize capacity of the ring from the receive thread to the TUN writer (used only
     *     with {@link TunWriter#THREAD})
     * @param tunWriter which thread writes into the TUN
     */
    public Pipeline(TunnelDevice tun, Transport transport, Encapsulation encap, RouteTable routes, PacketPool pool, int ringSize,
            TunWriter tunWriter) throws IOException {
        this(tun, transport, encap, routes, pool, ringSize, tunWriter, 0);
    }

    /**
     * Assembles and starts a pipeline. The pool's headroom must cover the encapsulation's.
     *
     * @param ringSize capacity of the ring from the receive thread to the TUN writer (used only
     *     with {@link TunWriter#THREAD})
     * @param tunWriter which thread writes into the TUN
     * @param busyPollNanos with {@link TunWriter#SINGLE_THREAD}: how long after the last packet it
     *     moved the thread keeps looking for more before it sleeps (see the class comment); 0 sleeps
     *     at once. Unused in the other modes.
     * @throws IllegalArgumentException if {@link TunWriter#SINGLE_THREAD} is asked of a device or
     *     transport that is not pollable, or of two that no one poller can wait on together
     */
    public Pipeline(TunnelDevice tun, Transport transport, Encapsulation encap, RouteTable routes, PacketPool pool, int ringSize,
            TunWriter tunWriter, long busyPollNanos) throws IOException {
        this(tun, transport, encap, routes, pool, ringSize, tunWriter, busyPollNanos, pool);
    }

    /**
     * Assembles and starts a pipeline whose TUN reads take buffers from {@code tunPool}: for a TUN
     * that hands over super-packets (TSO), a pool of buffers as large as one (64 KiB and the
     * headroom), while the transport and the other stages stay with {@code pool}. A super-packet
     * goes to the transport whole when it {@link Transport#sendsSuperPackets() sends them}, with
     * {@link PacketBuffer#gsoPrefix()} set to the encapsulation's header length; otherwise it is
     * dropped as {@code BAD_SUPER_PACKET} (also when the encapsulation does not
     * {@link Encapsulation#encapsulatesSuperPackets() take them}), as is one that {@link TcpSegments} cannot cut.
     * Both pools' headroom must cover the encapsulation's.
     *
     * @param busyPollNanos see the constructor above
     */
    public Pipeline(TunnelDevice tun, Transport transport, Encapsulation encap, RouteTable routes, PacketPool pool, int ringSize,
            TunWriter tunWriter, long busyPollNanos, PacketPool tunPool) throws IOException {
        if (busyPollNanos < 0) throw new IllegalArgumentException("busy-poll time negative: busyPollNanos=" + busyPollNanos);
        if (tunWriter == TunWriter.SINGLE_THREAD
                && !(tun instanceof PollableTunnelDevice && transport instanceof PollableTransport)) {
            throw new IllegalArgumentException("SINGLE_THREAD needs a pollable device and transport: tun=" + tun
                    + (tun instanceof PollableTunnelDevice ? "" : " (not a PollableTunnelDevice)") + ", transport=" + transport
                    + (transport instanceof PollableTransport ? "" : " (not a PollableTransport)"));
        }
        if (Math.min(pool.headroom(), tunPool.headroom()) < encap.headroom()) {
            throw new IllegalArgumentException("pool headroom too small for the encapsulation: headroom="
                    + Math.min(pool.headroom(), tunPool.headroom()) + " (needs " + encap.headroom() + ")");
        }
        this.tun = tun;
        this.transport = transport;
        this.encap = encap;
        this.routes = routes;
        this.pool = pool;
        this.tunPool = tunPool;
        this.superPackets = encap.encapsulatesSuperPackets() && transport.sendsSuperPackets();
        this.batchSize = Math.max(1, Math.min(tun.batchSize(), 64));
        this.tunWriterMode = tunWriter;
        this.tunRing = tunWriter == TunWriter.THREAD ? new PacketRing(ringSize, true) : null;
        this.busyPollNanos = busyPollNanos;
        String name = tun.name();
        if (tunWriter == TunWriter.SINGLE_THREAD) {
            PollableTunnelDevice pollableTun = (PollableTunnelDevice) tun;
            PollableTransport pollableTransport = (PollableTransport) transport;
            this.poller = pollableTun.pollers().open(List.of(pollableTun, pollableTransport));
            this.writerThread = null;
            this.egressThread = Thread.ofPlatform().name("dp-path-" + name).daemon()
                    .unstarted(() -> pollLoop(pollableTun, pollableTransport));
            egressThread.start();
            return;
        }
        this.poller = null;
        this.writerThread = tunWriter == TunWriter.THREAD
                ? Thread.ofPlatform().name("dp-ingress-" + name).daemon().unstarted(this::writeLoop)
                : null;
        this.egressThread = Thread.ofPlatform().name("dp-egress-" + name).daemon().unstarted(this::readLoop);
        transport.start(this::onReceive);
        if (writerThread != null) writerThread.start();
        egressThread.start();
    }

    /** Which thread writes into the TUN. */
    public TunWriter tunWriter() {
        return tunWriterMode;
    }

    // ---- egress: TUN -> network ----

    private void readLoop() {
        PacketBuffer[] batch = new PacketBuffer[batchSize];
        PacketBuffer[] toSend = new PacketBuffer[batchSize];
        Ipv4Header ip = new Ipv4Header();
        int held = 0;
        try {
            while (running) {
                held += tunPool.acquire(batch, held, batchSize);
                if (held == 0) {
                    // Every buffer is in flight: leave packets queued in the kernel until some return.
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    continue;
                }
                int n = tun.read(batch, held);
                if (n == TunnelDevice.CLOSED) break;
                egressBatch(batch, n, toSend, ip);
                held = compact(batch, n, held);
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                failure = e;
                LOG.log(Level.ERROR, "egress of " + tun.name() + " stopped: " + e.getMessage());
            }
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
        }
    }

    /**
     * Routes and encapsulates {@code batch[0..n)}, read from the TUN, and sends what goes to the
     * network in one call; clears {@code batch[0..n)}.
     */
    private void egressBatch(PacketBuffer[] batch, int n, PacketBuffer[] toSend, Ipv4Header ip) throws IOException {
        int sends = 0;
        for (int i = 0; i < n; i++) {
            PacketBuffer p = batch[i];
            batch[i] = null;
            int innerLength = p.length();
            int innerOffset = p.offset();
            int verdict = p.gsoSize() == 0 || superPackets ? route(p, ip) : DropReason.BAD_SUPER_PACKET.ordinal();
            if (verdict == Encapsulation.FORWARD && p.gsoSize() != 0) verdict = checkSuperPacket(p, innerOffset - p.offset());
            if (verdict == Encapsulation.FORWARD) {
                if (p.gsoSize() == 0) {
                    egress.countEgress(innerLength);
                } else {
                    int cut = segments.segments();
                    superPacketsSent = superPacketsSent + 1;
                    egress.countEgress(cut, innerLength + (cut - 1) * (segments.headerLength() - p.gsoPrefix()));
                }
                toSend[sends++] = p;
            } else if (verdict == Encapsulation.REPLY) {
                p.setGsoSize(0); // an ICMP error about a super-packet is one small packet
                replyIntoTun(p);
            } else if (verdict != Encapsulation.CONSUMED) {
                egress.drop(verdict);
                p.release();
            }
        }
        if (sends > 0) {
            int accepted = transport.send(toSend, sends);
            if (accepted < sends) egress.drop(DropReason.RING_FULL, sends - accepted);
            java.util.Arrays.fill(toSend, 0, sends, null);
        }
    }

    private final TcpSegments segments = new TcpSegments(); // egress thread only
    private final boolean superPackets; // the encapsulation and the transport both take them
    private volatile long superPacketsSent; // written by the egress thread only

    /** A super-packet the transport can send as its segments gets its prefix set; FORWARD, or why not. */
    private int checkSuperPacket(PacketBuffer p, int prefix) {
        int bad = segments.prepare(p, prefix);
        if (bad != TcpSegments.VALID) return bad;
        p.setGsoPrefix(prefix);
        return Encapsulation.FORWARD;
    }

    // An ICMP error (or the like) from the encapsulation goes back into the TUN.
    private final PacketBuffer[] oneReply = new PacketBuffer[1]; // egress thread only

    private void replyIntoTun(PacketBuffer p) throws IOException {
        if (tunRing != null) {
            if (!tunRing.offer(p)) egress.drop(DropReason.RING_FULL);
            return;
        }
        oneReply[0] = p;
        try {
            int written;
            synchronized (tunWriteLock) {
                written = tun.write(oneReply, 1);
            }
            if (written == 0) egress.drop(DropReason.TUN_WRITE_FAILED);
        } finally {
            oneReply[0] = null;
            p.release();
        }
    }

    private int route(PacketBuffer p, Ipv4Header ip) {
        ip.wrap(p.segment(), p.offset());
        int bad = ip.validate(p.length());
        if (bad >= 0) return bad;
        long hop = routes.lookup(ip.dstAddr());
        if (hop == RouteTable.NO_ROUTE) return encap.noRoute(p);
        return encap.encap(p, (int) hop);
    }

    /**
     * After a read consumed {@code used} buffers from the front (handed on, whoever owns them now),
     * moves the unused ones down and clears the rest, so the array holds only buffers still ours.
     */
    private static int compact(PacketBuffer[] batch, int used, int held) {
        int left = held - used;
        if (used > 0) {
            System.arraycopy(batch, used, batch, 0, left);
            java.util.Arrays.fill(batch, left, held, null);
        }
        return left;
    }

    // ---- ingress: network -> TUN ----

    // Touched only by the transport's receive thread.
    private final PacketBuffer[] replies = new PacketBuffer[64];
    private final PacketBuffer[] toTun = new PacketBuffer[64];

    private void onReceive(PacketBuffer[] batch, int count) {
        int r = 0;
        int t = 0;
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            int verdict = encap.decap(p);
            if (verdict == Encapsulation.FORWARD) {
                if (tunRing != null) {
                    if (!tunRing.offer(p)) ingress.drop(DropReason.RING_FULL);
                } else {
                    toTun[t++] = p;
                    if (t == toTun.length) t = writeIntoTun(t);
                }
            } else if (verdict == Encapsulation.REPLY) {
                replies[r++] = p;
                if (r == replies.length) r = flushReplies(r);
            } else if (verdict != Encapsulation.CONSUMED) {
                ingress.drop(verdict);
                p.release();
            }
        }
        if (t > 0) writeIntoTun(t);
        if (r > 0) flushReplies(r);
    }

    /** {@link TunWriter#RECEIVE_THREAD}: writes {@code toTun[0..n)} on the receive thread and releases them. */
    private int writeIntoTun(int n) {
        try {
            int written;
            synchronized (tunWriteLock) {
                written = running ? tun.write(toTun, n) : TunnelDevice.CLOSED;
            }
            if (written == TunnelDevice.CLOSED) {
                ingress.drop(DropReason.TUN_WRITE_FAILED, n);
            } else {
                for (int i = 0; i < n; i++) ingress.countIngress(toTun[i].length());
                if (written < n) ingress.drop(DropReason.TUN_WRITE_FAILED, n - written);
            }
        } catch (IOException | RuntimeException e) {
            ingress.drop(DropReason.TUN_WRITE_FAILED, n);
            if (running && failure == null) {
                failure = e;
                LOG.log(Level.ERROR, "TUN writes of " + tun.name() + " stopped: " + e.getMessage());
            }
        } finally {
            PacketPool.releaseAll(toTun, 0, n);
        }
        return 0;
    }

    private int flushReplies(int r) {
        int accepted = transport.send(replies, r);
        if (accepted < r) ingress.drop(DropReason.RING_FULL, r - accepted);
        java.util.Arrays.fill(replies, 0, r, null);
        return 0;
    }

    private void writeLoop() {
        PacketBuffer[] batch = new PacketBuffer[batchSize];
        try {
            while (running) {
                int n = tunRing.drain(batch, batchSize);
                if (n == 0) {
                    tunRing.await(IDLE_PARK_NANOS, TimeUnit.NANOSECONDS);
                    continue;
                }
                int written = tun.write(batch, n);
                if (written == TunnelDevice.CLOSED) {
                    PacketPool.releaseAll(batch, 0, n);
                    break;
                }
                for (int i = 0; i < n; i++) tunWriter.countIngress(batch[i].length());
                if (written < n) tunWriter.drop(DropReason.TUN_WRITE_FAILED, n - written);
                PacketPool.releaseAll(batch, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                failure = e;
                LOG.log(Level.ERROR, "TUN writer of " + tun.name() + " stopped: " + e.getMessage());
            }
        } finally {
            PacketPool.releaseAll(batch, 0, batch.length);
        }
    }


    // ---- single thread: both directions, one poller ----

    private static final int FROM_TUN = 1; // bit of the poller's sources: List.of(tun, transport)
    private static final int FROM_NETWORK = 2;

    /**
     * {@link TunWriter#SINGLE_THREAD}: takes whatever the TUN and the transport have, a batch of
     * each in turn, without blocking; looks again at once while there was anything (a TUN write may
     * have made the kernel queue an answer in the TUN already); when both are empty, spins for as
     * long as {@link BusyPoll} says, then sleeps in the poller until either has input or close
     * wakes it.
     */
    private void pollLoop(PollableTunnelDevice tunIn, PollableTransport networkIn) {
        PacketBuffer[] fromTun = new PacketBuffer[batchSize];
        PacketBuffer[] toSend = new PacketBuffer[batchSize];
        int receiveBatch = Math.max(1, Math.min(networkIn.batchSize(), 1024));
        PacketBuffer[] fromNetwork = new PacketBuffer[receiveBatch];
        Ipv4Header ip = new Ipv4Header();
        BusyPoll spin = new BusyPoll(busyPollNanos);
        int tunHeld = 0;
        int networkHeld = 0;
        int ready = FROM_TUN | FROM_NETWORK;
        try {
            while (running) {
                tunHeld += tunPool.acquire(fromTun, tunHeld, batchSize);
                networkHeld += pool.acquire(fromNetwork, networkHeld, receiveBatch);
                if (tunHeld == 0 || networkHeld == 0) {
                    // The pool is dry (another stage holds the buffers: a WireGuard handshake queue): the
                    // poller would report input this thread cannot take. Look again in a millisecond.
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    ready = FROM_TUN | FROM_NETWORK;
                    continue;
                }
                if ((ready & FROM_TUN) != 0) {
                    int n = tunIn.readNow(fromTun, tunHeld);
                    if (n == TunnelDevice.CLOSED) break;
                    if (n > 0) {
                        spin.moved(System.nanoTime());
                        egressBatch(fromTun, n, toSend, ip);
                        tunHeld = compact(fromTun, n, tunHeld);
                    }
                }
                if ((ready & FROM_NETWORK) != 0) {
                    int n = networkIn.receiveNow(fromNetwork, networkHeld);
                    if (n == PollableTransport.CLOSED) break;
                    if (n > 0) {
                        spin.moved(System.nanoTime());
                        onReceive(fromNetwork, n); // owns fromNetwork[0..n) now
                        networkHeld = compact(fromNetwork, n, networkHeld);
                    }
                }
                // One look at both (a TUN write may have made the kernel queue an answer in the TUN already).
                ready = poller.await(0);
                while (ready == 0 && running && spin.spin(System.nanoTime())) {
                    Thread.yield(); // a producer on this CPU (the pod, a softirq's thread) may run first
                    ready = poller.await(0);
                }
                if (ready == 0 && running) ready = poller.await(-1);
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                failure = e;
                LOG.log(Level.ERROR, "packet path of " + tun.name() + " stopped: " + e.getMessage());
            }
        } finally {
            PacketPool.releaseAll(fromTun, 0, fromTun.length);
            PacketPool.releaseAll(fromNetwork, 0, fromNetwork.length);
        }
    }

    // ---- control ----

    /** The counters of every stage, the transport's included, for {@link Counters.Snapshot#of}. */
    public List<Counters> counters() {
        return List.of(egress, ingress, tunWriter, transport.counters());
    }

    /** TCP super-packets handed to the transport whole so far (each counted in the egress counters as its segments). */
    public long superPacketsSent() {
        return superPacketsSent;
    }

    /** The error that stopped a stage, or null while all run. */
    public Throwable failure() {
        return failure;
    }

    /** True until {@link #close} or until a stage fails. */
    public boolean isRunning() {
        return running && failure == null;
    }

    /** Stops the threads, closes the transport and the device, and returns every buffer to the pool. */
    @Override
    public void close() {
        running = false;
        if (poller != null) {
            // The thread waits on the device's and the transport's descriptors: stop it before they close.
            poller.wake();
            join(egressThread);
            transport.close();
            tun.close();
            poller.close();
            return;
        }
        transport.close(); // no more onReceive calls after this returns
        tun.close(); // wakes the egress thread blocked in read
        if (tunRing != null) tunRing.wake();
        join(egressThread);
        if (writerThread != null) join(writerThread);
        if (tunRing != null) tunRing.clear();
    }

    private static void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) LOG.log(Level.WARNING, "thread " + t.getName() + " did not stop within 5 s");
    }
}
