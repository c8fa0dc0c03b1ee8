package io.dataplane.node;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.table.RouteTable;
import io.dataplane.tun.TunDevice;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * One TUN queue's packet path in an {@link OverlayNode}: the queue's descriptor, its buffers, the
 * encapsulation and transport of its backend lane, and the {@link Pipeline} that runs them. A node
 * has one per queue ({@link PacketPathOptions#queues()}); they share the backend's tables and
 * nothing else, so no two queues' threads write the same memory on the packet path.
 *
 * @param tun the queue's descriptor of the TUN
 * @param pool the buffers of every stage but the TUN reads
 * @param tunPool the buffers of the TUN reads: {@code pool}, or super-packet buffers with offload
 * @param transport the lane's transport
 * @param pipeline the running path
 */
record QueuePath(TunDevice tun, PacketPool pool, PacketPool tunPool, Transport transport, Pipeline pipeline) {

    /** Starts the path of one queue on the threads {@code packetPath} names. */
    static QueuePath start(TunDevice tun, PacketPool pool, PacketPool tunPool, Encapsulation encap, Transport transport, RouteTable routes,
            PacketPathOptions packetPath) throws IOException {
        Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, transport, encap, routes, pool)
                .withTunPool(tunPool).withTunWriter(packetPath.tunWriter()).withTunRing(packetPath.tunRing())
                .withBusyPollNanos(TimeUnit.MICROSECONDS.toNanos(packetPath.busyPollMicros())));
        return new QueuePath(tun, pool, tunPool, transport, pipeline);
    }

    /** Buffers of the queue's pools out now. */
    int buffersInUse() {
        return pool.outstanding() + (tunPool != pool ? tunPool.outstanding() : 0);
    }

    /** Buffers the queue's pools hold in all. */
    int capacity() {
        return pool.capacity() + (tunPool != pool ? tunPool.capacity() : 0);
    }

    /** Frees the queue's pools; only once every buffer is back. */
    void closePools() {
        pool.close();
        if (tunPool != pool) tunPool.close();
    }
}
