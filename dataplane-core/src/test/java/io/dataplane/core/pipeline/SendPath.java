package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.RouteTable;

/**
 * The real send path of a pipeline without its threads, for tests in other modules: an
 * {@link EgressStage} that routes through {@code routes}, encapsulates with {@code encap}, sends
 * through {@code transport} and writes its replies (ICMP errors) through a {@link TunOutput.Direct}
 * into {@code tun}, driven by the test as the pipeline's TUN reader drives it ({@link #forward}).
 */
public final class SendPath {
    private final Counters counters = new Counters();
    private final PathState state;
    private final EgressStage stage;

    /** The path from {@code tun}'s reads through {@code encap} to {@code transport}. */
    public SendPath(Transport transport, Encapsulation encap, RouteTable routes, TunnelDevice tun) {
        this.state = new PathState(tun.name());
        this.stage = new EgressStage(transport, encap, routes, new TunOutput.Direct(tun, new Object(), counters, state), counters);
    }

    /** Forwards {@code batch[0..n)}, as read from the TUN; takes every buffer and clears the slots. */
    public void forward(PacketBuffer[] batch, int n) {
        stage.forward(batch, n);
    }

    /** Tells the stage the underlay's MTU (0: none known). */
    public void underlayMtu(int mtu) {
        stage.underlayMtu(mtu);
    }

    /** The stage's counters: what was sent, as segments, and the drops. */
    public Counters counters() {
        return counters;
    }

    /** What a TUN write of a reply threw (the path records it and goes on counting), or null. */
    public Throwable failure() {
        return state.failure();
    }
}
