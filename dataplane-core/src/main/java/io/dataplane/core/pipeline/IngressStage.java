package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import java.util.Arrays;

/**
 * Network to pod, for a batch the transport received: validate and decapsulate each datagram in
 * place, put what is for the pods into the {@link TunOutput}, send replies (ARP replies, handshake
 * responses) back through the transport (see {@link Pipeline} for the whole path). Allocates
 * nothing; one thread at a time, as a {@link Transport.Receiver} on the transport's thread or
 * called by the pipeline's own.
 */
final class IngressStage implements Transport.Receiver {
    private final Transport transport;
    private final Encapsulation encap;
    private final TunOutput toTun;
    private final Counters counters;
    private final PacketBuffer[] replies = new PacketBuffer[Pipeline.MAX_BATCH];

    /** A stage that writes through {@code toTun}, replies through {@code transport} and counts on {@code counters}. */
    IngressStage(Transport transport, Encapsulation encap, TunOutput toTun, Counters counters) {
        this.transport = transport;
        this.encap = encap;
        this.toTun = toTun;
        this.counters = counters;
    }

    @Override
    public void onReceive(PacketBuffer[] batch, int count) {
        forward(batch, count);
    }

    /**
     * Forwards {@code batch[0..count)}, which it takes (forwarded, replied or dropped and released);
     * the array's slots are left as they are, for the caller to reuse.
     *
     * @return {@code count}
     */
    int forward(PacketBuffer[] batch, int count) {
        int r = 0;
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            int verdict = encap.decap(p);
            if (verdict == Encapsulation.FORWARD) {
                toTun.add(p);
            } else if (verdict == Encapsulation.REPLY) {
                replies[r++] = p;
                if (r == replies.length) r = sendReplies(r);
            } else if (verdict != Encapsulation.CONSUMED) {
                counters.drop(verdict);
                p.release();
            }
        }
        toTun.flush();
        if (r > 0) sendReplies(r);
        return count;
    }

    private int sendReplies(int r) {
        int accepted = transport.send(replies, r);
        if (accepted < r) counters.drop(DropReason.RING_FULL, r - accepted);
        Arrays.fill(replies, 0, r, null);
        return 0;
    }
}
