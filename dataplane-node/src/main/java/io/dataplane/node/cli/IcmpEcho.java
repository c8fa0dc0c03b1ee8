package io.dataplane.node.cli;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Icmpv4Repr;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.raw.RawIpSocket;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * ICMP echo round trips from a pod address, as {@code ping -I POD} makes them: a raw ICMP socket
 * opened in the pod's network namespace and bound to its address, echo requests of 56 bytes of
 * data, each reply matched by identifier and sequence and timed. Needs CAP_NET_RAW (the demo runs
 * as root), nothing installed.
 */
final class IcmpEcho implements AutoCloseable {
    private static final int PROTO_ICMP = 1;
    private static final int DATA = 56;

    /** What a run of echo requests got back; the times are of the answered ones. */
    record Result(int sent, int received, double minMillis, double avgMillis, double maxMillis) {}

    private final RawIpSocket socket;
    private final PacketPool pool = new PacketPool(4);
    private final Icmpv4Header icmp = new Icmpv4Header();
    private final int identifier = ThreadLocalRandom.current().nextInt(0x10000);

    private IcmpEcho(RawIpSocket socket) {
        this.socket = socket;
    }

    /** Opens the socket in {@code ns}, bound to {@code source}. */
    static IcmpEcho open(NetNamespace ns, int source) throws IOException {
        RawIpSocket s = ns.call(() -> RawIpSocket.open(PROTO_ICMP, 4, false));
        try {
            s.bind(source);
            return new IcmpEcho(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Sends {@code count} echo requests to {@code destination}, one every {@code interval}, each
     * waiting at most {@code timeout} for its reply.
     */
    Result run(int destination, int count, Duration interval, Duration timeout) throws IOException {
        int received = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        double total = 0;
        for (int seq = 1; seq <= count; seq++) {
            long sent = System.nanoTime();
            send(destination, seq);
            long rtt = awaitReply(seq, sent, sent + timeout.toNanos());
            if (rtt >= 0) {
                double ms = rtt / 1e6;
                received++;
                total += ms;
                min = Math.min(min, ms);
                max = Math.max(max, ms);
            }
            long next = sent + interval.toNanos();
            for (long now = System.nanoTime(); now < next && seq < count; now = System.nanoTime()) LockSupport.parkNanos(next - now);
        }
        return received == 0 ? new Result(count, 0, 0, 0, 0) : new Result(count, received, min, total / received, max);
    }

    private void send(int destination, int seq) throws IOException {
        PacketBuffer b = pool.acquire();
        try {
            b.setLength(Icmpv4Header.HEADER_LEN + DATA);
            for (int i = 0; i < DATA; i++) b.segment().set(ValueLayout.JAVA_BYTE, b.offset() + Icmpv4Header.HEADER_LEN + i, (byte) (0x10 + i));
            Icmpv4Repr.echoRequest(identifier, seq).emit(icmp.wrap(b.segment(), b.offset()), b.length());
            b.setPeer(destination, 0);
            socket.send(new PacketBuffer[] {b}, 1);
        } finally {
            b.release();
        }
    }

    /** Nanoseconds from {@code sent} to the reply to {@code seq}, or -1 if none came by {@code deadline}. */
    private long awaitReply(int seq, long sent, long deadline) throws IOException {
        PacketBuffer[] in = new PacketBuffer[1];
        while (System.nanoTime() < deadline) {
            if (pool.acquire(in, 1) != 1) throw new IllegalStateException("ICMP echo pool ran dry");
            try {
                int n = socket.receiveNow(in, 1);
                if (n < 0) return -1;
                if (n == 1 && isReply(in[0], seq)) return System.nanoTime() - sent;
            } finally {
                in[0].release();
            }
            LockSupport.parkNanos(20_000);
        }
        return -1;
    }

    private boolean isReply(PacketBuffer p, int seq) {
        Icmpv4Header h = icmp.wrap(p.segment(), p.offset());
        return h.validate(p.length()) == Icmpv4Header.VALID && h.type() == Icmpv4Header.TYPE_ECHO_REPLY
                && h.identifier() == identifier && h.sequence() == seq && h.verifyChecksum(p.length());
    }

    @Override
    public void close() {
        socket.close();
        pool.close();
    }
}
