package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import java.io.IOException;
import java.util.List;

/**
 * {@link Pipeline.TunWriter#RECEIVE_THREAD} and {@link Pipeline.TunWriter#THREAD}: an egress
 * thread of ours that blocks in the TUN read, the transport's own receive thread running the
 * ingress stage, and, with {@code THREAD}, a TUN writer thread behind a ring.
 */
final class ThreadPerDirectionRunner implements Runner {
    private final PathState state;
    private final TunnelDevice tun;
    private final Transport transport;
    private final List<AgentRunner> threads;
    private final List<PacketRing> rings;

    /**
     * Starts the transport's receive thread into {@code ingress}, then {@code threads} (the egress
     * thread, a TUN writer's); {@code rings} are those the threads drain, woken and emptied at close.
     */
    ThreadPerDirectionRunner(PathState state, TunnelDevice tun, Transport transport, IngressStage ingress, List<AgentRunner> threads,
            List<PacketRing> rings) throws IOException {
        this.state = state;
        this.tun = tun;
        this.transport = transport;
        this.threads = threads;
        this.rings = rings;
        transport.start(ingress);
        threads.forEach(AgentRunner::start);
    }

    /** The egress thread's agent: a blocking TUN read of up to a batch, then the egress stage. */
    static Agent tunReader(TunnelDevice tun, PacketPool tunPool, int batch, EgressStage egress) {
        ReadBatch buffers = new ReadBatch(tunPool, batch);
        return new Agent() {
            @Override
            public int doWork() throws IOException {
                int held = buffers.fill();
                // Every buffer is in flight: leave the packets queued in the kernel until some return.
                if (held == 0) return 0;
                int n = tun.read(buffers.buffers(), held);
                if (n == TunnelDevice.CLOSED) return CLOSED;
                egress.forward(buffers.buffers(), n);
                buffers.handedOn(n);
                return n;
            }

            @Override
            public void onClose() {
                buffers.release();
            }
        };
    }

    @Override
    public void close() {
        state.stop();
        transport.close(); // no more onReceive calls after this returns
        tun.close(); // wakes the egress thread blocked in read
        rings.forEach(PacketRing::wake);
        threads.forEach(AgentRunner::join);
        rings.forEach(PacketRing::clear);
    }
}
