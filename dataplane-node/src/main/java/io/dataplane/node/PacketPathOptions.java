package io.dataplane.node;

import io.dataplane.tun.TunOptions;
import io.dataplane.tun.udp.UdpTransportConfig;

/**
 * How many packets each stage of a node's packet path moves at once and holds at most, and so how
 * many packet buffers the node allocates.
 *
 * <pre>
 * TUN --read tunBatch--> egress thread --send--> transport ring (transportRing) --sendmmsg transportBatch--> socket
 * TUN <--write-- TUN writer <-- TUN ring (tunRing) <-- decap <--recvmmsg transportBatch-- socket
 * </pre>
 *
 * A ring that is full drops (counted as {@code RING_FULL}); larger rings absorb longer bursts at
 * the price of memory and of queueing delay under overload. The pool holds one buffer for every
 * place a packet can wait ({@link #poolSize()}), so the pool never runs dry before a ring is full.
 *
 * @param tunBatch packets per TUN read (1-1024)
 * @param tunRing capacity of the ring from the socket's thread to the TUN writer (a power of two, 2 or more)
 * @param transportBatch datagrams per recvmmsg and sendmmsg (1-1024)
 * @param transportRing capacity of the transport's send ring (a power of two, 2 or more)
 * @param poolBuffers packet buffers to allocate, or 0 for {@link #poolSize()}
 */
public record PathSizes(int tunBatch, int tunRing, int transportBatch, int transportRing, int poolBuffers) {
    /** Default TUN batch: as wireguard-go's. */
    public static final int DEFAULT_TUN_BATCH = TunOptions.DEFAULT_BATCH_SIZE;
    /** Default TUN ring: a few dozen receive batches. */
    public static final int DEFAULT_TUN_RING = 1024;
    /** Default transport batch. */
    public static final int DEFAULT_TRANSPORT_BATCH = UdpTransportConfig.DEFAULT_BATCH_SIZE;
    /** Default transport send ring: a few dozen TUN batches. */
    public static final int DEFAULT_TRANSPORT_RING = 1024;

    /** Checks every field; the message names the field and the value. */
    public PathSizes {
        checkBatch("tunBatch", tunBatch);
        checkRing("tunRing", tunRing);
        checkBatch("transportBatch", transportBatch);
        checkRing("transportRing", transportRing);
        if (poolBuffers < 0) throw new IllegalArgumentException("pool size negative: poolBuffers=" + poolBuffers);
    }

    /** The defaults above, pool sized from them. */
    public static PathSizes defaults() {
        return new PathSizes(DEFAULT_TUN_BATCH, DEFAULT_TUN_RING, DEFAULT_TRANSPORT_BATCH, DEFAULT_TRANSPORT_RING, 0);
    }

    /**
     * Buffers the node allocates: {@code poolBuffers} if set, else one for every place a packet can
     * wait: the egress thread's TUN batch, the transport's send ring, what Netty holds before and in
     * sendmmsg (two batches), the buffers armed for the next recvmmsg and the batch being decapsulated,
     * the TUN ring and the TUN writer's batch; plus a quarter for slack.
     */
    public int poolSize() {
        if (poolBuffers != 0) return poolBuffers;
        int places = tunBatch + transportRing + 2 * transportBatch + 2 * transportBatch + tunRing + Math.min(tunBatch, 64);
        return places + places / 4;
    }

    /** These sizes with another TUN batch. */
    public PathSizes withTunBatch(int tunBatch) {
        return new PathSizes(tunBatch, tunRing, transportBatch, transportRing, poolBuffers);
    }

    /** These sizes with another TUN ring. */
    public PathSizes withTunRing(int tunRing) {
        return new PathSizes(tunBatch, tunRing, transportBatch, transportRing, poolBuffers);
    }

    /** These sizes with another transport batch. */
    public PathSizes withTransportBatch(int transportBatch) {
        return new PathSizes(tunBatch, tunRing, transportBatch, transportRing, poolBuffers);
    }

    /** These sizes with another transport send ring. */
    public PathSizes withTransportRing(int transportRing) {
        return new PathSizes(tunBatch, tunRing, transportBatch, transportRing, poolBuffers);
    }

    /** These sizes with a fixed number of buffers (0: computed). */
    public PathSizes withPoolBuffers(int poolBuffers) {
        return new PathSizes(tunBatch, tunRing, transportBatch, transportRing, poolBuffers);
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
