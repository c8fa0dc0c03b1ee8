package io.dataplane.tun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.pipeline.ReceivePath;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.KernelPartialPackets;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.CapturingTunDevice;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fuzzes a tunnel's whole receive path, as a node runs it: datagrams and GRO trains from the socket
 * through the real decapsulation, {@code IngressStage} with its hold-back, {@code TunOutput} holding
 * a train that ends mid-run, and the real TUN writer ({@code SegmentJoiner}, virtio_net_hdr codec,
 * {@code write}, {@code writev} and io_uring batches) on a descriptor that keeps each packet
 * ({@link CapturingTunDevice}). The input is a script (a byte reader that gives zeros once spent):
 *
 * <pre>
 * byte 0            the transport reports idle (hold-back on) unless it is a multiple of 4;
 *                   bit 2: the TUN's batches of writes are plain writes, else io_uring's;
 *                   bit 3: the TUN refuses ({@link CapturingTunDevice#refuse}), then
 *   u8, u8            its send buffer 2048 + 256 * u8 bytes (SO_SNDBUF); its reader pausing
 *                   25 * (u8 &gt;&gt;&gt; 3) microseconds after every 1 + (u8 &amp; 7) messages
 * then, per step    op: op % 4 == 0 an idle moment (expectsMore, then onIdle), else a batch of
 *                   1 + (op / 4) % 4 receives, each:
 *   kind            kind &amp; 7: 0 raw bytes; 1, 2 one TCP segment; 3, 4, 5 a GRO train of segments
 *                   (5: its GRO size then moved by a signed byte, so the datagrams are cut elsewhere);
 *                   6 a train of raw bytes; 7 one super-packet whole (UDP if bit 5, else TCP), with a
 *                   GRO size (the kernel's UDP tunnel GSO) or none.
 *                   (kind &gt;&gt; 3) &amp; 3 == 3: from an address the input names, else from the peer;
 *                   bit 5: PSH on the last segment; bit 6: partial TCP checksums; bit 7: flow 1, else 0
 *   then            the sizes, and for segments up to 3 mutations (a flipped byte, a cut, other
 *                   flags or sequence number with checksums fixed, two swapped, one repeated),
 *                   their count's byte m % 4; of a train where the tunnel has keepalives
 *                   ({@link TunnelUnderTest#keepalives}), (m &gt;&gt;&gt; 2) &amp; 3: 1 a keepalive after its
 *                   segments, 2 the train all keepalives, 3 a keepalive after its segments and
 *                   one padded to the GRO size among them (no message as the peer sealed it)
 * </pre>
 *
 * Segments are of two TCP flows with timestamps, each continuing where the last left off, so runs
 * reach the coalescer. After the script, one last idle moment; then, for every input:
 *
 * <ul>
 *   <li>no exception, no failure recorded by a TUN write, every buffer back in the pool;
 *   <li>written + dropped + replied + keepalives consumed == datagrams received (a train's datagrams
 *       each counted), the keepalives consumed those received as the peer sealed them, each once
 *       (fewer only by keepalives dropped as {@code POOL_EXHAUSTED});
 *   <li>every packet given to the TUN that it did not take counted as {@code TUN_WRITE_FAILED};
 *   <li>what the TUN was given is, in order, inner packets of the datagrams received, as they came
 *       (TOS, TTL and the IPv4 checksum aside, which a decapsulation may change); where the tunnel
 *       seals, of datagrams as the peer sealed them (no forged one), and, where it rejects replays,
 *       no two of datagrams alike;
 *   <li>every packet written is one the kernel takes: see {@link TunWriteChecks}.
 * </ul>
 */
public final class ReceiveFuzzing {
    static final int POD_SRC = Ipv4Address.parse("10.244.2.7");
    static final int POD_DST = Ipv4Address.parse("10.244.1.5");
    private static final int MAX_STEPS = 24;
    private static final int TSVAL = 123456; // one for all segments: a sender's burst carries one timestamp, and only equal options join
    private static final int MAX_TRAIN = 65000;
    // Enough for a batch, the train held and the 64 single packets the hold-back may gather.
    private static final PacketPool POOL = new PacketPool(96, 65536 + PacketPool.DEFAULT_HEADROOM, PacketPool.DEFAULT_HEADROOM);

    private ReceiveFuzzing() {}

    /** What one input made: the datagrams the path received (a train's each), in order, and the path's counters. */
    public record Received(List<byte[]> datagrams, Counters counters) {}

    /** Runs the script {@code input} through {@code tunnel}'s receive path, checks what came out, and returns what went in. */
    public static Received run(TunnelUnderTest tunnel, byte[] input) {
        Script in = new Script(input);
        int mode = in.u8();
        CapturingTransport transport = new CapturingTransport(mode % 4 != 0, true);
        CapturingTunDevice tun = TunWriteChecks.device(tunnel, (mode & 4) == 0);
        if ((mode & 8) != 0) {
            int buffer = in.u8();
            int stalls = in.u8();
            tun.refuse(2048 + 256 * buffer, 1 + (stalls & 7), 25 * (stalls >>> 3));
        }
        Encapsulation encap = tunnel.encapsulation();
        ReceivePath path = new ReceivePath(transport, encap, tun);
        Sender sender = new Sender(tunnel, encap, in);
        PacketBuffer[] batch = new PacketBuffer[4];
        for (int step = 0; step < MAX_STEPS && in.more(); step++) {
            int op = in.u8();
            if (op % 4 == 0) {
                assertTrue(!path.expectsMore() || transport.reportsIdle(), "a path that finishes every batch expects no more");
                path.onIdle();
                continue;
            }
            int n = 0;
            for (int k = 1 + (op >>> 2) % 4; k > 0; k--) {
                PacketBuffer p = sender.next();
                if (p != null) batch[n++] = p;
            }
            if (n > 0) path.onReceive(batch, n);
            Arrays.fill(batch, null);
        }
        path.onIdle();
        if (path.failure() != null) throw new AssertionError("a TUN write failed", path.failure());
        assertEquals(0, POOL.outstanding(), "buffers outstanding after the input");

        Counters c = path.counters();
        List<byte[]> given = new ArrayList<>();
        for (CapturingTunDevice.Call call : tun.calls()) given.addAll(call.given());
        assertEquals(given.size(), c.ingressPackets(), "packets counted as ingress against those given to the TUN");
        assertEquals(given.size() - tun.accepted(), c.dropped(DropReason.TUN_WRITE_FAILED),
                "packets given to the TUN that it did not take (" + tun.refused() + " refused) against TUN_WRITE_FAILED");
        List<byte[]> inners = new ArrayList<>(sender.received.size());
        for (byte[] d : sender.received) inners.add(tunnel.inner(d));
        long keepalives = keepalives(tunnel, sender.received, inners);
        long consumed = sender.received.size() - tun.accepted() - c.droppedTotal() - transport.sent.size();
        assertTrue(consumed <= keepalives && consumed >= keepalives - c.dropped(DropReason.POOL_EXHAUSTED),
                "datagrams received " + sender.received.size() + " against written " + tun.accepted() + " + dropped " + c.droppedTotal()
                        + " + replied " + transport.sent.size() + " + keepalives consumed (" + keepalives + " received as the peer sealed them)");
        inOrder(tunnel, sender.received, inners, given);
        TunWriteChecks.check(tun.calls());
        return new Received(sender.received, c);
    }

    // Each packet given to the TUN is the inner packet of a datagram received after the one before it was; where the tunnel
    // rejects replays, of no datagram whose copy gave one already.
    private static void inOrder(TunnelUnderTest tunnel, List<byte[]> received, List<byte[]> inners, List<byte[]> given) {
        Set<ByteBuffer> delivered = new HashSet<>();
        int j = 0;
        for (int i = 0; i < given.size(); i++) {
            byte[] g = given.get(i);
            while (j < received.size() && !carries(inners.get(j), g)) j++;
            if (j == received.size()) fail("packet " + i + " given to the TUN (" + g.length + " bytes) is no datagram's inner packet in order");
            if (tunnel.rejectsReplays() && !delivered.add(ByteBuffer.wrap(received.get(j)))) {
                fail("packet " + i + " given to the TUN (" + g.length + " bytes) is a replayed datagram's");
            }
            j++;
        }
    }

    // Keepalives received as the peer sealed them (no inner bytes), each message counted once: a repeat is a replay.
    private static long keepalives(TunnelUnderTest tunnel, List<byte[]> received, List<byte[]> inners) {
        if (!tunnel.keepalives()) return 0;
        Set<ByteBuffer> seen = new HashSet<>();
        for (int i = 0; i < received.size(); i++) {
            if (inners.get(i) != null && inners.get(i).length == 0) seen.add(ByteBuffer.wrap(received.get(i)));
        }
        return seen.size();
    }

    private static boolean carries(byte[] datagramInner, byte[] inner) {
        if (datagramInner == null || inner.length > datagramInner.length) return false;
        for (int k = 0; k < inner.length; k++) {
            if (k == 1 || k == 8 || k == 10 || k == 11) continue; // TOS (ECN), TTL, IPv4 checksum
            if (datagramInner[k] != inner[k]) return false;
        }
        return true;
    }

    /** The peer: makes each receive from the script and keeps the datagrams in the order the stage sees them. */
    private static final class Sender {
        private final TunnelUnderTest tunnel;
        private final Encapsulation encap;
        private final Script in;
        private final int[] seq = {1000, 0x7fffff00};
        private final int[] port = {40000, 40001};
        final List<byte[]> received = new ArrayList<>();

        Sender(TunnelUnderTest tunnel, Encapsulation encap, Script in) {
            this.tunnel = tunnel;
            this.encap = encap;
            this.in = in;
        }

        // The next receive as a buffer, or null when the pool is dry (then nothing was received).
        PacketBuffer next() {
            int kind = in.u8();
            int source = ((kind >>> 3) & 3) == 3 ? in.u32() : tunnel.peer();
            boolean push = (kind & 0x20) != 0;
            boolean partial = (kind & 0x40) != 0;
            int flow = kind >>> 7;
            int maxPayload = tunnel.innerMtu() - 20 - 32;
            byte[] bytes;
            int gso = 0;
            switch (kind & 7) {
                case 0 -> bytes = in.bytes(in.u16() % 1600);
                case 1, 2 -> bytes = segments(flow, 1, 1 + in.u16() % maxPayload, push, partial, false)[0];
                case 3, 4, 5 -> {
                    int count = 1 + in.u8() % 64;
                    int mss = 1 + in.u16() % maxPayload;
                    byte[][] d = segments(flow, count, mss, push, partial, tunnel.keepalives());
                    for (byte[] x : d) gso = Math.max(gso, x.length);
                    bytes = train(d, gso);
                    if ((kind & 7) == 5) gso = Math.max(1, gso + (byte) in.u8()); // a GRO size the datagrams do not have
                }
                case 6 -> {
                    gso = 1 + in.u16() % 1600;
                    bytes = in.bytes(in.u16() % 8000);
                }
                default -> {
                    int payload = maxPayload + 1 + in.u16() % 30000;
                    byte[] big = push ? KernelPartialPackets.udpSuperPacket(POD_SRC, POD_DST, payload) : segment(flow, payload, TcpSegment.ACK, true);
                    bytes = tunnel.datagram(big);
                    gso = in.u16() % 2000;
                }
            }
            PacketBuffer p = POOL.acquire();
            if (p == null) return null;
            p.put(bytes).setPeer(source, tunnel.peerPort()).setGsoSize(gso);
            if (gso == 0 || encap.wholeSuperPacket(p)) {
                received.add(bytes);
            } else {
                for (int at = 0; at < bytes.length; at += gso) received.add(Arrays.copyOfRange(bytes, at, Math.min(at + gso, bytes.length)));
            }
            return p;
        }

        // count datagrams of flow's next segments, mss bytes of payload each but the last (shorter), mutated as the script says;
        // where keepalives, with keepalives as the script says.
        private byte[][] segments(int flow, int count, int mss, boolean push, boolean partial, boolean keepalives) {
            int last = count == 1 ? mss : 1 + in.u16() % mss;
            int datagramLength = tunnel.datagram(new byte[20 + 32 + mss]).length;
            int mutations = in.u8();
            int withKeepalives = keepalives ? (mutations >>> 2) & 3 : 0;
            int extra = withKeepalives == 3 ? 2 : withKeepalives == 1 ? 1 : 0; // keepalives added, each at most one datagram long
            count = Math.max(1, Math.min(count, MAX_TRAIN / datagramLength - extra));
            byte[][] d;
            if (withKeepalives == 2) {
                d = new byte[count][];
                for (int i = 0; i < count; i++) d[i] = tunnel.datagram(new byte[0]);
            } else {
                int among = withKeepalives == 3 && count > 1 ? 1 + in.u8() % (count - 1) : -1; // before segment `among`
                d = new byte[count + (withKeepalives == 0 ? 0 : withKeepalives == 3 && among > 0 ? 2 : 1)][];
                int k = 0;
                for (int i = 0; i < count; i++) {
                    if (i == among) d[k++] = tunnel.datagram(new byte[0]);
                    boolean end = i == count - 1;
                    d[k++] = tunnel.datagram(segment(flow, end ? last : mss, end && push ? TcpSegment.ACK | TcpSegment.PSH : TcpSegment.ACK, partial));
                }
                if (withKeepalives != 0) d[k] = tunnel.datagram(new byte[0]);
            }
            for (int m = mutations % 4; m > 0; m--) mutate(d, in.u8() % d.length, in.u8() % 6, in.u16());
            return d;
        }

        private byte[] segment(int flow, int payload, int flags, boolean partial) {
            int s = seq[flow];
            seq[flow] = s + payload;
            byte[] p = TcpSegment.of(POD_SRC, port[flow], POD_DST, 5201, s, 1, TcpSegment.timestamps(TSVAL, 7), TcpSegment.pattern(s, payload))
                    .withFlags(flags).bytes();
            if (partial) {
                int field = 20 + 16;
                int sum = TcpSegment.pseudoHeaderSum(POD_SRC, POD_DST, p.length - 20);
                p[field] = (byte) (sum >>> 8);
                p[field + 1] = (byte) sum;
            }
            return p;
        }

        private void mutate(byte[][] d, int i, int op, int arg) {
            byte[] x = d[i];
            int inner = tunnel.innerOffset(x);
            switch (op) {
                case 0 -> {
                    if (x.length > 0) x[arg % x.length] ^= (byte) ((arg >>> 8) | 1);
                }
                case 1 -> d[i] = Arrays.copyOf(x, x.length == 0 ? 0 : arg % x.length);
                case 2 -> {
                    if (inner + 40 <= x.length) {
                        x[inner + 33] = (byte) arg;
                        fixChecksums(x, inner);
                    }
                }
                case 3 -> {
                    if (inner + 40 <= x.length) {
                        int s = TcpSegment.u32(x, inner + 24) + arg - 0x8000;
                        for (int k = 0; k < 4; k++) x[inner + 24 + k] = (byte) (s >>> (24 - 8 * k));
                        fixChecksums(x, inner);
                    }
                }
                case 4 -> {
                    d[i] = d[(i + 1) % d.length];
                    d[(i + 1) % d.length] = x;
                }
                default -> d[i] = d[(i + d.length - 1) % d.length].clone();
            }
        }

        // Valid IPv4 and TCP checksums for the TCP/IPv4 packet at inner (no options), as far as the datagram holds it.
        private static void fixChecksums(byte[] x, int inner) {
            int total = Math.min(TcpSegment.u16(x, inner + 2), x.length - inner);
            if (total < 40) return;
            put16(x, inner + 10, 0);
            put16(x, inner + 10, ~TcpSegment.sum(x, inner, 20, 0));
            put16(x, inner + 36, 0);
            int pseudo = TcpSegment.pseudoHeaderSum(TcpSegment.u32(x, inner + 12), TcpSegment.u32(x, inner + 16), total - 20);
            put16(x, inner + 36, ~TcpSegment.sum(x, inner + 20, total - 20, pseudo));
        }

        private static void put16(byte[] x, int at, int v) {
            x[at] = (byte) (v >>> 8);
            x[at + 1] = (byte) v;
        }

        // The datagrams back to back, each padded to gso bytes but the last: one buffer as UDP GRO hands it up.
        private static byte[] train(byte[][] d, int gso) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < d.length; i++) out.writeBytes(i == d.length - 1 ? d[i] : Arrays.copyOf(d[i], gso));
            return out.toByteArray();
        }
    }
}
