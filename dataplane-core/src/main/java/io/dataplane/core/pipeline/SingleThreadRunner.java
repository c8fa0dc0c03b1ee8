package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.PollableTransport;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.TunnelDevice;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link Pipeline.TunWriter#SINGLE_THREAD}: one thread, "dp-path-NAME", takes whatever the TUN and
 * the transport have, a batch of each in turn, without blocking, and runs both stages; it looks
 * again at once while there was anything (a TUN write may have made the kernel queue an answer in
 * the TUN already). With both empty it spins for as long as {@link BusyPoll} says, then sleeps in a
 * {@link Poller} on both until either has input or close wakes it. Its agent is its own idle
 * strategy, because what it reads next is what the poller found ready.
 */
final class SingleThreadRunner implements Runner, Agent, IdleStrategy {
    private static final int FROM_TUN = 1; // bits of the poller's sources: List.of(tun, transport)
    private static final int FROM_NETWORK = 2;
    private static final int MAX_RECEIVE_BATCH = 1024;

    private final PathState state;
    private final PollableTunnelDevice tun;
    private final PollableTransport transport;
    private final EgressStage egress;
    private final IngressStage ingress;
    private final Poller poller;
    private final BusyPoll spin;
    private final ReadBatch fromTun;
    private final ReadBatch fromNetwork;
    private final AgentRunner thread;
    private int ready = FROM_TUN | FROM_NETWORK;
    private boolean poolDry;

    /** Opens the poller and starts the thread; TUN reads of up to {@code tunBatch} from {@code config.tunPool()}. */
    SingleThreadRunner(PathState state, PipelineConfig config, int tunBatch, EgressStage egress, IngressStage ingress) throws IOException {
        this.state = state;
        this.tun = (PollableTunnelDevice) config.tun();
        this.transport = (PollableTransport) config.transport();
        this.egress = egress;
        this.ingress = ingress;
        this.spin = new BusyPoll(config.busyPollNanos());
        this.fromTun = new ReadBatch(config.tunPool(), tunBatch);
        this.fromNetwork = new ReadBatch(config.pool(), Math.max(1, Math.min(transport.batchSize(), MAX_RECEIVE_BATCH)));
        this.poller = tun.pollers().open(List.of(tun, transport));
        this.thread = new AgentRunner("dp-path-" + tun.name(), "packet path", this, this, state);
        thread.start();
    }

    @Override
    public int doWork() throws IOException {
        // Another stage may hold a pool's buffers (WireGuard's packets staged for a handshake, from
        // the TUN's): the other direction still goes on, or the handshake's answer would never be read.
        boolean tunDry = fromTun.fill() == 0;
        boolean networkDry = fromNetwork.fill() == 0;
        poolDry = tunDry || networkDry;
        int work = 0;
        if ((ready & FROM_TUN) != 0 && !tunDry) {
            int n = tun.readNow(fromTun.buffers(), fromTun.held());
            if (n == TunnelDevice.CLOSED) return CLOSED;
            if (n > 0) {
                spin.moved(System.nanoTime());
                work += egress.forward(fromTun.buffers(), n);
                fromTun.handedOn(n);
            }
        }
        if ((ready & FROM_NETWORK) != 0 && !networkDry) {
            int n = transport.receiveNow(fromNetwork.buffers(), fromNetwork.held());
            if (n == PollableTransport.CLOSED) return CLOSED;
            if (n > 0) {
                spin.moved(System.nanoTime());
                work += ingress.forward(fromNetwork.buffers(), n);
                fromNetwork.handedOn(n);
            }
        }
        return work;
    }

    @Override
    public void idle(int workCount) throws IOException {
        if (poolDry) {
            // The poller would report input of the dry side at once: a moment's sleep, then both again.
            poolDry = false;
            LockSupport.parkNanos(IDLE_NANOS);
            ready = FROM_TUN | FROM_NETWORK;
            return;
        }
        // One look at both, also after work (a TUN write may have made the kernel queue an answer in the TUN already).
        ready = poller.await(0);
        while (ready == 0 && state.running() && spin.spin(System.nanoTime())) {
            Thread.yield(); // a producer on this CPU (the pod, a softirq's thread) may run first
            ready = poller.await(0);
        }
        if (ready == 0 && state.running()) ready = poller.await(-1);
    }

    @Override
    public void onClose() {
        fromTun.release();
        fromNetwork.release();
    }

    @Override
    public void close() {
        state.stop();
        // The thread waits on the device's and the transport's descriptors: stop it before they close.
        poller.wake();
        thread.join();
        transport.close();
        tun.close();
        poller.close();
    }
}
