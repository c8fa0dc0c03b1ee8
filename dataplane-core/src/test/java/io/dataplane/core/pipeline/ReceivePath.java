package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;

/**
 * The real receive path of a pipeline without its threads, for tests in other modules: an
 * {@link IngressStage} writing through a {@link TunOutput.Direct} into {@code tun}, driven by the
 * test as a transport's receive thread drives it ({@link #onReceive}, {@link #expectsMore},
 * {@link #onIdle}). The stage holds packets back across batches if {@code transport} reports idle.
 */
public final class ReceivePath implements Transport.Receiver {
    private final Counters counters = new Counters();
    private final PathState state;
    private final IngressStage stage;

    /** The path from {@code transport} (replies go back through it) through {@code encap} into {@code tun}. */
    public ReceivePath(Transport transport, Encapsulation encap, TunnelDevice tun) {
        this.state = new PathState(tun.name());
        this.stage = new IngressStage(transport, encap, new TunOutput.Direct(tun, new Object(), counters, state), counters);
    }

    @Override
    public void onReceive(PacketBuffer[] batch, int count) {
        stage.onReceive(batch, count);
    }

    @Override
    public void onIdle() {
        stage.onIdle();
    }

    @Override
    public boolean expectsMore() {
        return stage.expectsMore();
    }

    /** The stage's counters: the drops and what went into the TUN. */
    public Counters counters() {
        return counters;
    }

    /** What a TUN write threw (the path records it and goes on counting), or null. */
    public Throwable failure() {
        return state.failure();
    }
}
