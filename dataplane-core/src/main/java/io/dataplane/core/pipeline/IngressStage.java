package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import java.lang.foreign.MemorySegment;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.PeerEntry;
import java.util.Arrays;

/**
 * Network to pod, for a batch the transport received: validate and decapsulate each datagram in
 * place, put what is for the pods into the {@link TunOutput}, send replies (ARP replies, handshake
 * responses) back through the transport (see {@link Pipeline} for the whole path). Allocates
 * nothing; one thread at a time, as a {@link Transport.Receiver} on the transport's thread or
 * called by the pipeline's own.
 *
 * <p>A buffer with a {@link PacketBuffer#gsoSize() gsoSize} is a train of datagrams the socket
 * received as one (UDP GRO): each {@code gsoSize} bytes but the last. Each datagram is decapsulated
 * in place on its own, as if it had come alone, and the packets for the pods go to the TUN together
 * as a {@link PacketTrain}, which the device joins into super-packets; a datagram that fails is
 * dropped alone and counted, the others go on. A reply from inside a train (rare: an ARP request
 * in a train) is copied into a buffer of its own, since the train's buffer goes to the TUN; so is,
 * before its decapsulation, a datagram the encapsulation says it {@link
 * Encapsulation#decapsInOwnBuffer decapsulates in a buffer of its own} (WireGuard's handshake
 * messages and keepalives). A copy that finds the pool dry has what is held back for the TUN
 * (below) written first, which gives its buffers back, and asks again; only a pool still dry
 * drops the datagram ({@code POOL_EXHAUSTED}). What the encapsulation finds to be one whole super-packet instead
 * ({@link Encapsulation#wholeSuperPacket}) is decapsulated as one datagram, its GRO size left for
 * decap. A datagram of a train that decap would forward as a super-packet of its own is dropped as
 * {@code OVERSIZE}: a train's packets enter the TUN as single packets.
 *
 * <p>Where the encapsulation sets the datagram's {@link PacketBuffer#peerEntry() peer entry} (it
 * found the source among its peers with the check it makes anyway), what goes to the TUN counts on
 * that peer, and so does a datagram dropped after the check; a train's counts go to its peer once.
 * The clock is read once per batch, for the peers' time of the last packet.
 *
 * <p>On the thread of a transport that {@link Transport#reportsIdle() reports idle}, what goes
 * to the TUN is held back from one batch to the next until the socket is empty ({@link #onIdle})
 * or a TUN write's worth has gathered: the segments of one TCP flow that a receive cut between two
 * batches still join into one super-packet, as NAPI's GRO holds its packets until its poll ends.
 * A packet waits no longer than the socket has more datagrams ready at once, or, where the last
 * one held is a TCP segment its flow's next ones may join ({@link #expectsMore}), than the
 * transport's moment of waiting for them.
 */
final class IngressStage implements Transport.Receiver {
    private final Transport transport;
    private final Encapsulation encap;
    private final TunOutput toTun;
    private final Counters counters;
    private final PacketBuffer[] replies = new PacketBuffer[Pipeline.MAX_BATCH];
    private final PacketTrain train = new PacketTrain();
    private final boolean holdBack; // onReceive leaves the TUN writes to onIdle
    private long now; // of this batch, 0 until a peer is counted

    /** A stage that writes through {@code toTun}, replies through {@code transport} and counts on {@code counters}. */
    IngressStage(Transport transport, Encapsulation encap, TunOutput toTun, Counters counters) {
        this.transport = transport;
        this.encap = encap;
        this.toTun = toTun;
        this.counters = counters;
        this.holdBack = transport.reportsIdle();
    }

    @Override
    public void onReceive(PacketBuffer[] batch, int count) {
        forward(batch, count, !holdBack);
    }

    /** Writes what the batches before held back for the TUN. */
    @Override
    public void onIdle() {
        toTun.flush();
    }

    /** True if what is held back for the TUN ends with a TCP segment that the next ones of its flow may join. */
    @Override
    public boolean expectsMore() {
        return holdBack && toTun.holdsOpenRun();
    }

    /**
     * Forwards {@code batch[0..count)}, which it takes (forwarded, replied or dropped and released),
     * the TUN writes included; the array's slots are left as they are, for the caller to reuse.
     *
     * @return {@code count}
     */
    int forward(PacketBuffer[] batch, int count) {
        return forward(batch, count, true);
    }

    // As forward(batch, count); without flush, the packets for the TUN may wait in toTun for the next batch.
    private int forward(PacketBuffer[] batch, int count, boolean flush) {
        int r = 0;
        now = 0;
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            if (p.gsoSize() != 0 && !encap.wholeSuperPacket(p)) {
                r = forwardTrain(p, r);
                continue;
            }
            r = forwardOne(p, r);
        }
        if (flush) toTun.flush();
        if (r > 0) sendReplies(r);
        return count;
    }

    // Decapsulates each datagram of the train in p, hands the packets to the TUN as one train; returns the replies pending.
    private int forwardTrain(PacketBuffer p, int r) {
        int size = p.gsoSize();
        int end = p.offset() + p.length();
        int peerAddress = p.peerAddress();
        int peerPort = p.peerPort();
        p.setGsoSize(0);
        train.reset(p);
        PeerEntry peer = null;
        int packets = 0;
        long bytes = 0;
        int drops = 0;
        for (int at = p.offset(); at < end; at += size) {
            p.setData(at, Math.min(size, end - at)).setPeer(peerAddress, peerPort);
            if (encap.decapsInOwnBuffer(p)) {
                r = forwardAlone(p, r);
                continue;
            }
            int verdict = encap.decap(p);
            if (peer == null && verdict != Encapsulation.CONSUMED) peer = p.peerEntry();
            if (verdict == Encapsulation.FORWARD && p.gsoSize() != 0) {
                p.setGsoSize(0);
                verdict = DropReason.OVERSIZE.ordinal();
            }
            if (verdict == Encapsulation.FORWARD) {
                if (train.add(p.offset(), p.length())) {
                    packets++;
                    bytes += p.length();
                } else {
                    counters.drop(DropReason.TRAIN_TOO_LONG);
                    drops++;
                }
            } else if (verdict == Encapsulation.REPLY) {
                PacketBuffer reply = copyOf(p);
                if (reply == null) continue;
                replies[r++] = reply;
                if (r == replies.length) r = sendReplies(r);
            } else if (verdict != Encapsulation.CONSUMED) {
                counters.drop(verdict);
                drops++;
            }
        }
        if (peer != null) {
            // One source address, so one peer for the whole train.
            if (packets > 0) peer.countReceived(packets, bytes, now());
            if (drops > 0) peer.dropReceived(drops, now());
        }
        if (train.count() == 0) {
            p.release();
        } else {
            toTun.add(train);
        }
        train.clear();
        return r;
    }

    // Decapsulates the datagram in p, a buffer of its own, and hands it on; returns the replies pending.
    private int forwardOne(PacketBuffer p, int r) {
        int verdict = encap.decap(p);
        // A consumed datagram is the encapsulation's (WireGuard may have sent or released it): never read again.
        PeerEntry peer = verdict == Encapsulation.CONSUMED ? null : p.peerEntry();
        if (verdict == Encapsulation.FORWARD) {
            if (peer != null) peer.countReceived(1, p.length(), now());
            toTun.add(p);
        } else if (verdict == Encapsulation.REPLY) {
            replies[r++] = p;
            if (r == replies.length) r = sendReplies(r);
        } else if (verdict != Encapsulation.CONSUMED) {
            counters.drop(verdict);
            if (peer != null) peer.dropReceived(1, now());
            p.release();
        }
        return r;
    }

    // A datagram of a train that its decapsulation may keep or rewrite: copied into a buffer of its own first. Returns the replies pending.
    private int forwardAlone(PacketBuffer datagram, int r) {
        PacketBuffer p = copyOf(datagram);
        return p == null ? r : forwardOne(p, r);
    }

    // The wall-clock time of this batch, read once.
    private long now() {
        if (now == 0) now = System.currentTimeMillis();
        return now;
    }

    // The data and peer of p in a fresh buffer of its pool, or null (counted) when the pool is dry.
    // What this thread holds back for the TUN may be what the pool lacks: written first, then asked again.
    private PacketBuffer copyOf(PacketBuffer p) {
        PacketBuffer q = p.pool().acquire();
        if (q == null) {
            toTun.flush();
            q = p.pool().acquire();
        }
        if (q == null || q.capacity() - q.offset() < p.length()) {
            if (q != null) q.release();
            counters.drop(DropReason.POOL_EXHAUSTED);
            return null;
        }
        MemorySegment.copy(p.segment(), p.offset(), q.segment(), q.offset(), p.length());
        q.setLength(p.length()).setPeer(p.peerAddress(), p.peerPort());
        return q;
    }

    private int sendReplies(int r) {
        int accepted = transport.send(replies, r);
        if (accepted < r) counters.drop(DropReason.RING_FULL, r - accepted);
        Arrays.fill(replies, 0, r, null);
        return 0;
    }
}
