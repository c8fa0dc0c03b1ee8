package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.PollableTransport;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.table.RouteTable;

/**
 * Everything a {@link Pipeline} is assembled from: the device, the transport, the encapsulation,
 * the routes, the buffers, and which threads run it. Start from {@link #of} (the default threads,
 * one pool) and change what differs with the {@code with...} methods.
 *
 * @param tun the pod side, read into buffers of {@code tunPool}
 * @param transport the network side, receiving into buffers of {@code pool}
 * @param encap the encapsulation; both pools' headroom must cover its {@link Encapsulation#headroom()}
 * @param routes destination prefix to next hop, as the encapsulation reads next hops
 * @param pool the buffers of every stage but the TUN reads
 * @param tunPool the buffers TUN reads take: {@code pool} itself, or a pool of buffers as large as
 *     a TCP super-packet (64 KiB and the headroom) for a TUN that hands those over (TSO). A
 *     super-packet goes to the transport whole when the encapsulation
 *     {@link Encapsulation#encapsulatesSuperPackets() takes} and the transport
 *     {@link Transport#sendsSuperPackets() sends} super-packets, with
 *     {@link PacketBuffer#gsoPrefix()} set to the encapsulation's header length; otherwise it is
 *     dropped as {@code BAD_SUPER_PACKET}
 * @param tunWriter which threads run the path (see {@link Pipeline})
 * @param tunRing capacity of the ring from the receive thread to the TUN writer thread, at least 2;
 *     read with {@link Pipeline.TunWriter#THREAD} only
 * @param busyPollNanos how long after the last packet it moved the one thread of
 *     {@link Pipeline.TunWriter#SINGLE_THREAD} keeps looking for more before it sleeps, 0 or more
 *     (0: it sleeps at once); read with that mode only
 */
public record PipelineConfig(TunnelDevice tun, Transport transport, Encapsulation encap, RouteTable routes, PacketPool pool,
        PacketPool tunPool, Pipeline.TunWriter tunWriter, int tunRing, long busyPollNanos) {

    /** The threads a pipeline runs on unless told otherwise: the library's, the CLI's and the benchmarks' default. */
    public static final Pipeline.TunWriter DEFAULT_TUN_WRITER = Pipeline.TunWriter.RECEIVE_THREAD;
    /** The TUN ring unless told otherwise: a few dozen receive batches. */
    public static final int DEFAULT_TUN_RING = 1024;

    /**
     * Checks every field; the message names the field and the value.
     *
     * @throws IllegalArgumentException for a missing part, a pool whose headroom does not cover the
     *     encapsulation's, a ring below 2, a negative busy-poll time, or
     *     {@link Pipeline.TunWriter#SINGLE_THREAD} with a device or transport that cannot be polled
     */
    public PipelineConfig {
        present("tun", tun);
        present("transport", transport);
        present("encap", encap);
        present("routes", routes);
        present("pool", pool);
        present("tunPool", tunPool);
        present("tunWriter", tunWriter);
        if (tunRing < 2) throw new IllegalArgumentException("ring capacity too small: tunRing=" + tunRing + " (min 2)");
        if (busyPollNanos < 0) throw new IllegalArgumentException("busy-poll time negative: busyPollNanos=" + busyPollNanos);
        int headroom = Math.min(pool.headroom(), tunPool.headroom());
        if (headroom < encap.headroom()) {
            throw new IllegalArgumentException("pool headroom too small for the encapsulation: headroom=" + headroom
                    + " (needs " + encap.headroom() + ")");
        }
        if (tunWriter == Pipeline.TunWriter.SINGLE_THREAD
                && !(tun instanceof PollableTunnelDevice && transport instanceof PollableTransport)) {
            throw new IllegalArgumentException("SINGLE_THREAD needs a pollable device and transport: tun=" + tun
                    + (tun instanceof PollableTunnelDevice ? "" : " (not a PollableTunnelDevice)") + ", transport=" + transport
                    + (transport instanceof PollableTransport ? "" : " (not a PollableTransport)"));
        }
    }

    /**
     * A path with the default threads ({@link #DEFAULT_TUN_WRITER}), the default ring and no busy
     * polling, every stage taking buffers from {@code pool}.
     */
    public static PipelineConfig of(TunnelDevice tun, Transport transport, Encapsulation encap, RouteTable routes, PacketPool pool) {
        return new PipelineConfig(tun, transport, encap, routes, pool, pool, DEFAULT_TUN_WRITER, DEFAULT_TUN_RING, 0);
    }

    /** This path with TUN reads from another pool (super-packets: see {@link #tunPool()}). */
    public PipelineConfig withTunPool(PacketPool tunPool) {
        return new PipelineConfig(tun, transport, encap, routes, pool, tunPool, tunWriter, tunRing, busyPollNanos);
    }

    /** This path on other threads. */
    public PipelineConfig withTunWriter(Pipeline.TunWriter tunWriter) {
        return new PipelineConfig(tun, transport, encap, routes, pool, tunPool, tunWriter, tunRing, busyPollNanos);
    }

    /** This path with another TUN ring capacity ({@link Pipeline.TunWriter#THREAD} only). */
    public PipelineConfig withTunRing(int tunRing) {
        return new PipelineConfig(tun, transport, encap, routes, pool, tunPool, tunWriter, tunRing, busyPollNanos);
    }

    /** This path with another busy-poll time ({@link Pipeline.TunWriter#SINGLE_THREAD} only). */
    public PipelineConfig withBusyPollNanos(long busyPollNanos) {
        return new PipelineConfig(tun, transport, encap, routes, pool, tunPool, tunWriter, tunRing, busyPollNanos);
    }

    private static void present(String field, Object value) {
        if (value == null) throw new IllegalArgumentException("pipeline part missing: " + field + "=null");
    }
}
