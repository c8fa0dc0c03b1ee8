package io.dataplane.core.pipeline;

import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.PollableTransport;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import java.io.IOException;
import java.util.List;

/**
 * Moves packets between a {@link TunnelDevice} and a {@link Transport} through an
 * {@link Encapsulation}, in batches, in place: two stages ({@code EgressStage},
 * {@code IngressStage}) that take a batch and return a work count, driven by the threads of one of
 * three modes ({@link TunWriter}). {@link #start} assembles it from a {@link PipelineConfig}, and
 * this is the one place the packet path is written down.
 *
 * <h2>The default: {@link TunWriter#RECEIVE_THREAD}, two threads, no ring</h2>
 * The library's, the CLI's and the benchmarks' path. Names in quotes are threads; NAME is the
 * TUN's name.
 * <pre>
 * Egress, pod -&gt; network: thread "dp-egress-NAME"
 *   take readBatch(TUN batch) buffers of the TUN pool      dry: park 1 ms; the packets wait in the kernel
 *   TunnelDevice.read(batch), blocking                      data at the headroom; with TSO a TCP super-packet
 *                                                           of up to 64 KiB comes whole (gsoSize set)
 *   EgressStage.forward(batch), each packet:
 *     longer than the underlay MTU (underlayMtu) allows:   a super-packet gets a smaller segment size; a lone
 *                                                           one with DF: ICMP fragmentation needed (REPLY),
 *                                                           FRAGMENTATION_NEEDED
 *     Ipv4Header.validate                                   drop: TRUNCATED, NOT_IPV4, BAD_IHL, ...
 *     RouteTable.lookup(destination), LPM                   miss: Encapsulation.noRoute: NO_ROUTE, or an ICMP
 *                                                           error (REPLY) for the TUN
 *     Encapsulation.encap(packet, nextHop), in place        headers into the headroom, peer endpoint set
 *     super-packet: TcpSegments.prepare, gsoPrefix set      drop: BAD_SUPER_PACKET (cannot be cut, or the
 *                                                           encapsulation or the transport takes none)
 *     (WireGuard: encap cuts and seals each segment in the buffer: a TRAIN of datagrams, sent as it is)
 *   Transport.send(forwarded), on this thread               sendmmsg from the buffers; not taken: RING_FULL,
 *                                                           refused by the kernel: SEND_FAILED
 *     &gt;&gt; super-packets are CUT here: the datagrams of their segments, UDP GSO, payload not copied;
 *        a GSO message the path's MTU refuses goes again one datagram each, fragmented by the kernel
 *   TunnelDevice.write(replies), on this thread             refused: TUN_WRITE_FAILED
 *
 * Ingress, network -&gt; pod: the transport's receive thread (SocketTransport's "dp-udp-PORT-rx")
 *   recvmmsg into up to a batch of pool buffers             with 64 KiB buffers (UDP GRO): a train of datagrams
 *                                                           from one sender in one buffer (gsoSize set)
 *   IngressStage.forward(batch), the transport's Receiver, each datagram (each of a train, in place):
 *     Encapsulation.decap(packet), in place                 outer and tunnel header checked, data offset moved
 *                                                           to the inner packet; drop: UNKNOWN_PEER, ... (in a
 *                                                           train the bad datagram alone)
 *     REPLY (ARP reply, handshake response)                 Transport.send back to the sender, on this thread
 *                                                           (from a train: copied into a buffer of its own)
 *   TunnelDevice.write(up to MAX_BATCH), on this thread     refused: TUN_WRITE_FAILED; held from one recvmmsg
 *                                                           to the next until the socket is empty (onIdle: a
 *                                                           recvmmsg short of its batch, or one that finds none)
 *     a train: TunnelDevice.writeTrain(PacketTrain)         its inner packets, offsets into the one buffer; a train
 *                                                           that ends mid-run waits for the next, which joins it
 *                                                           (a super-packet the sender sent as two GSO messages)
 *     &gt;&gt; TCP segments are JOINED here: consecutive segments of one flow enter the kernel as one
 *        super-packet (TunDevice with TSO, TcpCoalescer; for a train the payloads
 *        gathered from the one buffer)
 * </pre>
 * <b>Locks.</b> None contended while traffic flows. Route, neighbor and FDB lookups read published
 * tables without locks. The TUN takes one writer at a time, so the receive thread and the egress
 * thread share one monitor around the write, which the egress thread takes only for its rare
 * replies; the transport's senders take turns the same way (the egress thread, and the receive
 * thread for its rare replies). No thread handoff: the thread that read a packet also sends or writes it, which on a
 * machine with few cores saves a wakeup per hop; and a receive thread busy writing reads no more
 * datagrams, so a burst waits in the socket's receive buffer rather than being dropped from a ring.
 *
 * <h2>{@link TunWriter#THREAD}: three threads, one ring</h2>
 * <pre>
 * thread "dp-egress-NAME": as above; replies go into the TUN ring
 * the transport's receive thread: decap as above, then into the TUN ring (PacketRing, lock-free, tunRing slots)
 *                                                           full: RING_FULL, never blocks, buffer released
 * thread "dp-ingress-NAME": drain up to a TUN read batch from the ring, TunnelDevice.write (joined as above)
 * a train (one buffer, many packets) is written by the receive thread itself, under the TUN's lock
 * </pre>
 * Receiving and writing overlap, at the price of a wakeup per burst.
 *
 * <h2>{@link TunWriter#SINGLE_THREAD}: one thread</h2>
 * <pre>
 * thread "dp-path-NAME":
 *   TunnelDevice.readNow (no blocking), EgressStage.forward    as above
 *   Transport.receiveNow (no blocking), IngressStage.forward    as above, TUN writes on this thread
 *   one Poller look at both; nothing: spin (BusyPoll window), then sleep in the Poller on both
 * </pre>
 * Needs a {@link PollableTunnelDevice} and a {@link PollableTransport} (whose own receive thread
 * is never started). A round trip wakes two threads (one per node) instead of four: after the TUN
 * write of a request the kernel has usually queued the pod's answer in the TUN already, and the
 * same thread, still running, takes it. With a busy-poll window ({@code BusyPoll}) the thread keeps
 * looking instead of sleeping until that long has passed since the last packet it moved. No
 * overlap of the two directions: the price on a machine with many cores and both directions loaded.
 *
 * <h2>Buffers, counters, close</h2>
 * A buffer has one owner: a read batch until the device or socket fills it, then the stage, then
 * whoever it is handed to (the transport by send, a ring by offer, the device's write); every drop
 * releases its buffer. Every stage counts on {@link Counters} of its own thread ({@link #counters}).
 * {@link #close} stops the threads, closes the transport and the device, and leaves every buffer
 * back in its pool.
 */
public final class Pipeline implements AutoCloseable {
    /**
     * Most packets the pipeline moves in one step: a TUN read, one send of the egress stage, one
     * TUN write, a batch of replies. A device with a larger {@link TunnelDevice#batchSize()} is read
     * {@code MAX_BATCH} at a time ({@link #readBatch}).
     */
    public static final int MAX_BATCH = 64;

    private final PipelineConfig config;
    private final PathState state;
    private final EgressStage egress;
    private final Counters egressCounters;
    private final Counters ingressCounters;
    private final Counters writerCounters;
    private final Runner runner;

    /** Which threads run the packet path: the three modes drawn in the class comment. */
    public enum TunWriter {
        /** A TUN writer thread of its own, fed through a ring by the transport's receive thread. */
        THREAD,
        /** The transport's receive thread writes into the TUN, right after decapsulation; no ring, no extra thread (the default). */
        RECEIVE_THREAD,
        /**
         * The pipeline's only thread, which also reads the TUN and receives from the transport: it
         * waits on both at once through a {@link Poller}. Needs a {@link PollableTunnelDevice} and a
         * {@link PollableTransport}; the transport's own receive thread is never started.
         */
        SINGLE_THREAD
    }

    private Pipeline(PipelineConfig config, PathState state, EgressStage egress, Counters egressCounters, Counters ingressCounters,
            Counters writerCounters, Runner runner) {
        this.config = config;
        this.state = state;
        this.egress = egress;
        this.egressCounters = egressCounters;
        this.ingressCounters = ingressCounters;
        this.writerCounters = writerCounters;
        this.runner = runner;
    }

    /**
     * How many packets the pipeline reads from a device whose {@link TunnelDevice#batchSize()} is
     * {@code deviceBatch} at once: that many, at most {@link #MAX_BATCH}, at least 1. A pool must
     * hold this many buffers for the TUN reads besides what the other stages hold.
     */
    public static int readBatch(int deviceBatch) {
        return Math.max(1, Math.min(deviceBatch, MAX_BATCH));
    }

    /**
     * Assembles the path {@code config} describes and starts its threads (the transport's receive
     * thread included, unless {@link TunWriter#SINGLE_THREAD}).
     *
     * @throws IOException when the transport cannot start or the poller cannot be had
     * @throws IllegalArgumentException if {@link TunWriter#SINGLE_THREAD} is asked of a device and
     *     transport that no one poller can wait on together
     */
    public static Pipeline start(PipelineConfig config) throws IOException {
        TunnelDevice tun = config.tun();
        Transport transport = config.transport();
        PathState state = new PathState(tun.name());
        Counters egressCounters = new Counters();
        Counters ingressCounters = new Counters();
        Counters writerCounters = new Counters(); // the TUN writer thread's; stays zero in the other modes
        int tunBatch = readBatch(tun.batchSize());
        Object tunWriteLock = new Object(); // one writer in the device at a time
        EgressStage egress;
        Runner runner;
        switch (config.tunWriter()) {
            case RECEIVE_THREAD, SINGLE_THREAD -> {
                egress = new EgressStage(transport, config.encap(), config.routes(),
                        new TunOutput.Direct(tun, tunWriteLock, egressCounters, state), egressCounters);
                IngressStage ingress = new IngressStage(transport, config.encap(),
                        new TunOutput.Direct(tun, tunWriteLock, ingressCounters, state), ingressCounters);
                runner = config.tunWriter() == TunWriter.SINGLE_THREAD
                        ? new SingleThreadRunner(state, config, tunBatch, egress, ingress)
                        : new ThreadPerDirectionRunner(state, tun, transport, ingress, List.of(egressThread(config, tunBatch, egress, state)),
                                List.of());
            }
            case THREAD -> {
                PacketRing tunRing = new PacketRing(config.tunRing(), true);
                egress = new EgressStage(transport, config.encap(), config.routes(),
                        new TunOutput.Ring(tunRing, egressCounters, new TunOutput.Direct(tun, tunWriteLock, egressCounters, state)), egressCounters);
                IngressStage ingress = new IngressStage(transport, config.encap(),
                        new TunOutput.Ring(tunRing, ingressCounters, new TunOutput.Direct(tun, tunWriteLock, ingressCounters, state)),
                        ingressCounters);
                TunOutput.Direct writes = new TunOutput.Direct(tun, tunWriteLock, writerCounters, state);
                AgentRunner writer = new AgentRunner("dp-ingress-" + tun.name(), "TUN writer", () -> writes.writeFrom(tunRing, tunBatch),
                        IdleStrategy.awaitRing(tunRing), state);
                runner = new ThreadPerDirectionRunner(state, tun, transport, ingress,
                        List.of(writer, egressThread(config, tunBatch, egress, state)), List.of(tunRing));
            }
            default -> throw new AssertionError(config.tunWriter());
        }
        return new Pipeline(config, state, egress, egressCounters, ingressCounters, writerCounters, runner);
    }

    private static AgentRunner egressThread(PipelineConfig config, int tunBatch, EgressStage egress, PathState state) {
        TunnelDevice tun = config.tun();
        return new AgentRunner("dp-egress-" + tun.name(), "egress", ThreadPerDirectionRunner.tunReader(tun, config.tunPool(), tunBatch, egress),
                IdleStrategy.parkWhenIdle(), state);
    }

    /** What the pipeline was assembled from. */
    public PipelineConfig config() {
        return config;
    }

    /** Which threads run the path. */
    public TunWriter tunWriter() {
        return config.tunWriter();
    }

    /** The counters of every stage, the transport's included, for {@link Counters.Snapshot#of}. */
    public List<Counters> counters() {
        return List.of(egressCounters, ingressCounters, writerCounters, config.transport().counters());
    }

    /**
     * Tells the egress stage the underlay's MTU (0: none known, the default), which bounds what one
     * datagram carries: a super-packet whose segments would not fit is cut smaller, a lone packet
     * with DF that would not fit is answered with ICMP fragmentation needed ({@code
     * FRAGMENTATION_NEEDED}), as the kernel's tunnels do. Any thread, any time.
     */
    public void underlayMtu(int mtu) {
        egress.underlayMtu(mtu);
    }

    /** TCP super-packets handed to the transport whole so far (each counted in the egress counters as its segments). */
    public long superPacketsSent() {
        return egress.superPacketsSent();
    }

    /** The error that stopped a stage, or null while all run. */
    public Throwable failure() {
        return state.failure();
    }

    /** True until {@link #close} or until a stage fails. */
    public boolean isRunning() {
        return state.running() && state.failure() == null;
    }

    /** Stops the threads, closes the transport and the device, and returns every buffer to its pool. */
    @Override
    public void close() {
        runner.close();
    }
}
