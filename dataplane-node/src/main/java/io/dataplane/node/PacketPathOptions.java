package io.dataplane.node;

import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.tun.TunOptions;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;

/**
 * How a node's packet path is laid out: how many packets each stage moves at once and holds at
 * most (and so how many packet buffers the node allocates), and which thread writes into the TUN.
 * The path itself, stage by stage and thread by thread, is drawn where it is assembled:
 * {@link Pipeline}. The {@link SocketDriver#THREAD} socket driver adds a send ring in front of
 * the socket (capacity {@code transportRing}), drained by a sender thread.
 *
 * <p>A ring that is full drops (counted as {@code RING_FULL}); larger rings absorb longer bursts at
 * the price of memory and of queueing delay under overload. Without rings a slow stage makes the
 * one before it wait, and the kernel's queues (the TUN's transmit queue, the socket's receive
 * buffer) absorb the burst or drop from it. The pool holds one buffer for every place a packet can
 * wait ({@link #poolSize()}), so the pool never runs dry before a ring is full.
 *
 * @param tunBatch packets per TUN read (1-1024); the pipeline reads at most {@link Pipeline#MAX_BATCH} at once
 * @param tunRing capacity of the ring from the socket's thread to the TUN writer (a power of two, 2 or more)
 * @param transportBatch datagrams per recvmmsg and sendmmsg (1-1024)
 * @param transportRing capacity of the transport's send ring (a power of two, 2 or more)
 * @param poolBuffers packet buffers to allocate, or 0 for {@link #poolSize()}
 * @param tunWriter which thread writes decapsulated packets into the TUN: one of its own behind
 *     the TUN ring, or the socket's receive thread itself (then {@code tunRing} is unused)
 * @param socket which thread sends on the underlay socket ({@link SocketTransport}, UDP or raw IP)
 * @param tunQueueLength the TUN's transmit queue length ({@code txqueuelen}): packets the kernel
 *     holds for the TUN reader before it drops; 0 keeps the kernel's default (500)
 * @param busyPollMicros with {@link Pipeline.TunWriter#SINGLE_THREAD}: how long after the last
 *     packet it moved the thread keeps polling before it sleeps (0-1000000 us; 0: sleeps at once).
 *     Longer than the gap between a flow's packets keeps the thread awake while the flow lasts.
 * @param offload TCP segmentation offload where the path can use it (the udp, vxlan, ipip and
 *     wireguard backends on the {@link SocketDriver#DIRECT} socket; wireguard not with a TUN writer
 *     thread of its own): the TUN hands over TCP super-packets of up to 64 KiB
 *     (TSO), which the socket sends as the datagrams of their segments, the payload not copied
 *     (UDP with GSO; the raw IP socket of ipip one sendmmsg of one datagram per segment; wireguard
 *     seals each segment on its own and sends the train with GSO). One TUN
 *     read and one send instead of some 45 of each for a full super-packet. Received TCP segments
 *     enter the TUN joined. With the receive thread as TUN writer a UDP socket also receives with UDP GRO: a train of
 *     datagrams from one peer in one 64 KiB buffer, decapsulated datagram by datagram in place and
 *     written into the TUN joined. A UDP socket sends a run of equally long datagrams to one peer
 *     in a batch as one GSO message too. Ignored where the path cannot use it.
 * @param queues TUN queues (1-{@value #MAX_QUEUES}): above 1 a multi-queue TUN ({@code IFF_MULTI_QUEUE}),
 *     whose flows the kernel spreads over its queues, and per queue a packet path of its own with
 *     its threads, its buffers ({@link #poolSize()} each) and its UDP socket, the sockets of all queues
 *     bound to the one port ({@code SO_REUSEPORT}) and the received datagrams spread over them by
 *     their inner flow ({@link io.dataplane.tun.udp.FlowSteering}); the udp and vxlan backends only
 * @param ioUring TUN reads and writes in batches through io_uring, one {@code io_uring_enter} per
 *     batch instead of one system call per packet; where the kernel refuses io_uring the TUN says
 *     so in one log line and takes one call per packet
 */
public record PacketPathOptions(int tunBatch, int tunRing, int transportBatch, int transportRing, int poolBuffers,
        Pipeline.TunWriter tunWriter, SocketDriver socket, int tunQueueLength, int busyPollMicros, boolean offload, int queues,
        boolean ioUring) {

    /** Which thread sends on the underlay socket; a plain thread of the transport receives either way. */
    public enum SocketDriver {
        /** A sender thread of the transport's own drains a send ring (capacity {@code transportRing}). */
        THREAD,
        /** The TUN reader sends with sendmmsg itself: no ring ({@code transportRing} unused), no sender thread. */
        DIRECT
    }

    /** Default TUN batch: as wireguard-go's. */
    public static final int DEFAULT_TUN_BATCH = TunOptions.DEFAULT_BATCH_SIZE;
    /** Default TUN ring: the pipeline's. */
    public static final int DEFAULT_TUN_RING = PipelineConfig.DEFAULT_TUN_RING;
    /** Default transport batch. */
    public static final int DEFAULT_TRANSPORT_BATCH = UdpTransportConfig.DEFAULT_BATCH_SIZE;
    /** Default transport send ring: a few dozen TUN batches. */
    public static final int DEFAULT_TRANSPORT_RING = 1024;
    /** Default TUN writer: the pipeline's, the receive thread (one thread handoff and one wakeup less per packet). */
    public static final Pipeline.TunWriter DEFAULT_TUN_WRITER = PipelineConfig.DEFAULT_TUN_WRITER;
    /** Default socket driver: direct, the sending stage's own thread sends (one thread handoff fewer per packet). */
    public static final SocketDriver DEFAULT_SOCKET = SocketDriver.DIRECT;
    /**
     * Default TUN transmit queue: 2000 packets. The kernel's 500 overflows whenever the TUN reader
     * loses its core for a few milliseconds to other work, and a single TCP flow then retransmits by
     * the thousand; 2000 holds such a pause (benchmarks/README.md has the figures). The price is
     * queueing delay while a flow fills it (up to 2000 packets' worth).
     */
    public static final int DEFAULT_TUN_QUEUE_LENGTH = 2000;
    /** Default busy polling: none. */
    public static final int DEFAULT_BUSY_POLL_MICROS = 0;
    /** Default offload: on, where the path can use it. */
    public static final boolean DEFAULT_OFFLOAD = true;
    /**
     * Default TUN queues: one, a single-queue TUN and one packet path. A second queue's path lets
     * the node use a second core for other flows; where cores are few and shared with the pods it
     * costs more than it gains (benchmarks/README.md has the figures), so it is asked for.
     */
    public static final int DEFAULT_QUEUES = 1;
    /** The most TUN queues the options accept: every queue has its threads, its socket and its buffers. */
    public static final int MAX_QUEUES = 64;
    /** Default TUN system calls: one io_uring_enter per batch, where the kernel allows io_uring. */
    public static final boolean DEFAULT_IO_URING = true;
    /** The longest busy poll the options accept, in microseconds. */
    public static final int MAX_BUSY_POLL_MICROS = 1_000_000;

    /** Checks every field; the message names the field and the value. */
    public PacketPathOptions {
        checkBatch("tunBatch", tunBatch);
        checkRing("tunRing", tunRing);
        checkBatch("transportBatch", transportBatch);
        checkRing("transportRing", transportRing);
        if (poolBuffers < 0) throw new IllegalArgumentException("pool size negative: poolBuffers=" + poolBuffers);
        if (tunWriter == null) throw new IllegalArgumentException("TUN writer missing: tunWriter=null");
        if (socket == null) throw new IllegalArgumentException("socket driver missing: socket=null");
        if (tunQueueLength < 0) throw new IllegalArgumentException("TUN queue length negative: tunQueueLength=" + tunQueueLength);
        if (busyPollMicros < 0 || busyPollMicros > MAX_BUSY_POLL_MICROS) {
            throw new IllegalArgumentException("busy-poll time out of range: busyPollMicros=" + busyPollMicros + " (0-" + MAX_BUSY_POLL_MICROS + ")");
        }
        if (queues < 1 || queues > MAX_QUEUES) throw new IllegalArgumentException("TUN queues out of range: queues=" + queues + " (1-" + MAX_QUEUES + ")");
    }

    /** The same options without busy polling ({@code busyPollMicros} 0), with the default offload. */
    public PacketPathOptions(int tunBatch, int tunRing, int transportBatch, int transportRing, int poolBuffers,
            Pipeline.TunWriter tunWriter, SocketDriver socket, int tunQueueLength) {
        this(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, 0, DEFAULT_OFFLOAD, DEFAULT_QUEUES,
                DEFAULT_IO_URING);
    }

    /** The defaults above, pool sized from them. */
    public static PacketPathOptions defaults() {
        return new PacketPathOptions(DEFAULT_TUN_BATCH, DEFAULT_TUN_RING, DEFAULT_TRANSPORT_BATCH, DEFAULT_TRANSPORT_RING, 0,
                DEFAULT_TUN_WRITER, DEFAULT_SOCKET, DEFAULT_TUN_QUEUE_LENGTH, DEFAULT_BUSY_POLL_MICROS, DEFAULT_OFFLOAD, DEFAULT_QUEUES,
                DEFAULT_IO_URING);
    }

    /**
     * Buffers the node allocates: {@code poolBuffers} if set, else one for every place a packet can
     * wait: the egress thread's TUN batch, the transport's send ring and the sender thread's batch
     * (with a sender thread only), the buffers armed for the next recvmmsg and the batch being decapsulated
     * (with the receive thread as TUN writer: what it holds back for the TUN from one recvmmsg to
     * the next, up to a TUN write's worth, {@link Pipeline#MAX_BATCH}), the TUN ring and the TUN
     * writer's batch (when there is a writer thread); plus a third, which also leaves every place
     * its buffer while an encapsulation holds packets back for a handshake (WireGuard stages up to
     * a quarter of its pool).
     */
    public int poolSize() {
        if (poolBuffers != 0) return poolBuffers;
        int ring = tunWriter == Pipeline.TunWriter.THREAD ? tunRing + Pipeline.readBatch(tunBatch) : 0;
        int sendRing = socket == SocketDriver.THREAD ? transportRing + transportBatch : 0;
        // The single thread decapsulates and writes the batch it received before it arms the next one.
        int receiving = switch (tunWriter) {
            case SINGLE_THREAD -> transportBatch;
            case RECEIVE_THREAD -> transportBatch + Pipeline.MAX_BATCH;
            case THREAD -> 2 * transportBatch;
        };
        int places = tunBatch + sendRing + receiving + ring;
        return places + (places + 2) / 3;
    }

    /**
     * Super-packet buffers (64 KiB each) the node allocates for the TUN reads where it takes TCP
     * super-packets from the TUN ({@code offload}), one for every place such a buffer can wait: the
     * egress thread's TUN batch, and 16 for what the path makes of its own (handshake messages and
     * keepalives, a datagram copied out of a train); with {@code receiveTrains} (trains received
     * into these buffers, and the backend's own buffers taken from them) also the buffers armed
     * for the next recvmmsg and a TUN write's worth ({@link Pipeline#MAX_BATCH}) held back for the
     * TUN from one recvmmsg to the next, while the next one is armed. Plus a third for what an
     * encapsulation holds back for a handshake: WireGuard stages up to a quarter of its pool.
     */
    public int tunPoolSize(boolean receiveTrains) {
        int places = Pipeline.readBatch(tunBatch) + 16 + (receiveTrains ? transportBatch + Pipeline.MAX_BATCH : 0);
        return places + (places + 2) / 3;
    }

    /** These options with another TUN batch. */
    public PacketPathOptions withTunBatch(int tunBatch) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another TUN ring. */
    public PacketPathOptions withTunRing(int tunRing) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another transport batch. */
    public PacketPathOptions withTransportBatch(int transportBatch) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another transport send ring. */
    public PacketPathOptions withTransportRing(int transportRing) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with a fixed number of buffers (0: computed). */
    public PacketPathOptions withPoolBuffers(int poolBuffers) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another TUN writer. */
    public PacketPathOptions withTunWriter(Pipeline.TunWriter tunWriter) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another socket driver. */
    public PacketPathOptions withSocket(SocketDriver socket) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another TUN transmit queue length (0: the kernel's default). */
    public PacketPathOptions withTunQueueLength(int tunQueueLength) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another busy-poll time (single-thread mode only). */
    public PacketPathOptions withBusyPollMicros(int busyPollMicros) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with TCP segmentation offload on or off. */
    public PacketPathOptions withOffload(boolean offload) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with another number of TUN queues, each with a packet path of its own (1: a single-queue TUN). */
    public PacketPathOptions withQueues(int queues) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    /** These options with TUN batches through io_uring on or off. */
    public PacketPathOptions withIoUring(boolean ioUring) {
        return new PacketPathOptions(tunBatch, tunRing, transportBatch, transportRing, poolBuffers, tunWriter, socket, tunQueueLength, busyPollMicros,
                offload, queues, ioUring);
    }

    private static void checkBatch(String name, int value) {
        if (value < 1 || value > 1024) throw new IllegalArgumentException("batch size out of range: " + name + "=" + value + " (1-1024)");
    }

    private static void checkRing(String name, int value) {
        if (value < 2 || Integer.bitCount(value) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two >= 2: " + name + "=" + value);
        }
    }
}
