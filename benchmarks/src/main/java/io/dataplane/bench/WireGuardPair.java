package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.wireguard.NoisePrivateKey;
import io.dataplane.wireguard.PeerConfig;
import io.dataplane.wireguard.TransportCipher;
import io.dataplane.wireguard.WireGuardClock;
import io.dataplane.wireguard.WireGuardConfig;
import io.dataplane.wireguard.WireGuardDevice;
import io.dataplane.wireguard.WireGuardPeer;
import io.dataplane.wireguard.WireGuardTimings;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Two WireGuard devices, A (192.0.2.1, pods 10.244.1.0/24) and B (192.0.2.2, 10.244.2.0/24), each
 * the other's peer, whose datagrams land in queues instead of a socket: what the WireGuard
 * benchmarks run on. Keys never age, there is no flood interval and the rekey timeout is immediate,
 * so one handshake may start right after the other; neither device ever goes under load (cookie
 * replies, then the rate limiter), which at hundreds of handshakes a second they otherwise would.
 */
public final class WireGuardPair implements AutoCloseable {
    /** A's underlay address. */
    public static final int ADDRESS_A = io.dataplane.core.wire.Ipv4Address.parse("192.0.2.1");
    /** B's underlay address. */
    public static final int ADDRESS_B = io.dataplane.core.wire.Ipv4Address.parse("192.0.2.2");
    /** Both devices' UDP port. */
    public static final int PORT = 51820;

    /** Monotonic time from the system, but a wall clock that moves a second per call, so back-to-back initiations have fresh TAI64N timestamps. */
    static final class SteppingClock implements WireGuardClock {
        private long epoch = 1_700_000_000L * 1_000_000_000L;

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long epochNanos() {
            return epoch += 1_000_000_000L;
        }
    }

    /** The buffers of both devices. */
    public final PacketPool pool = new PacketPool(64);
    /** What A sent by itself (handshakes, keepalives, staged packets), and B. */
    public final ArrayDeque<PacketBuffer> outA = new ArrayDeque<>();
    public final ArrayDeque<PacketBuffer> outB = new ArrayDeque<>();
    /** The device at {@link #ADDRESS_A}, pods 10.244.1.0/24. */
    public final WireGuardDevice a;
    /** The device at {@link #ADDRESS_B}, pods 10.244.2.0/24. */
    public final WireGuardDevice b;
    /** B, as A's peer. */
    public final WireGuardPeer peerOfA;

    /** The two devices with {@code cipher} for transport data, not yet in a session. */
    public WireGuardPair(TransportCipher cipher) throws Exception {
        WireGuardTimings t = new WireGuardTimings(1L << 60, -1L - (1L << 13), Duration.ofDays(1).toNanos(),
                Duration.ofDays(2).toNanos(), 1, 1, 0, Duration.ofSeconds(10).toNanos(), Duration.ofSeconds(120).toNanos(), 0,
                Duration.ofSeconds(1).toNanos());
        NoisePrivateKey keyA = NoisePrivateKey.generate();
        NoisePrivateKey keyB = NoisePrivateKey.generate();
        a = new WireGuardDevice(config(keyA, t, cipher), new RouteTable(), pool, outA::add);
        b = new WireGuardDevice(config(keyB, t, cipher), new RouteTable(), pool, outB::add);
        peerOfA = a.addPeer(PeerConfig.of(keyB.publicKey(), ADDRESS_B, PORT, List.of(Ipv4Prefix.parse("10.244.2.0/24"))));
        b.addPeer(PeerConfig.of(keyA.publicKey(), ADDRESS_A, PORT, List.of(Ipv4Prefix.parse("10.244.1.0/24"))));
    }

    private static WireGuardConfig config(NoisePrivateKey key, WireGuardTimings t, TransportCipher cipher) {
        return WireGuardConfig.of(key).with(t, new SteppingClock()).with(cipher).withHandshakeLoadThreshold(Integer.MAX_VALUE);
    }

    /** A whole handshake, A initiating, with the confirming keepalive; returns the messages it took (3). */
    public int handshake() {
        peerOfA.initiateHandshake();
        int n = 0;
        while (!outA.isEmpty() || !outB.isEmpty()) {
            n += deliver(outA, b, ADDRESS_A, outB);
            n += deliver(outB, a, ADDRESS_B, outA);
        }
        if (n != 3) throw new IllegalStateException("handshake took " + n + " messages");
        return n;
    }

    /**
     * Two devices with {@code cipher} after a whole handshake, and, for a vector cipher, once the
     * devices seal with it (they use the scalar one until it is compiled): what a benchmark of
     * transport data measures.
     */
    public static WireGuardPair inSession(TransportCipher cipher) throws Exception {
        WireGuardPair pair = new WireGuardPair(cipher);
        pair.handshake();
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (cipher.vector() && !VectorChaCha20Poly1305.isWarm()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("vector cipher not warm after 300 s");
            Thread.sleep(10);
        }
        return pair;
    }

    /** Delivers every datagram in {@code from} to {@code to}'s decap; replies go back into {@code replies}. */
    private static int deliver(ArrayDeque<PacketBuffer> from, WireGuardDevice to, int srcAddress, ArrayDeque<PacketBuffer> replies) {
        int n = 0;
        PacketBuffer p;
        while ((p = from.poll()) != null) {
            n++;
            p.setPeer(srcAddress, PORT);
            int v = to.decap(p);
            if (v == Encapsulation.REPLY) {
                replies.add(p);
            } else if (v != Encapsulation.CONSUMED) {
                p.release();
                if (v != Encapsulation.FORWARD) throw new IllegalStateException("handshake message dropped: verdict " + v);
            }
        }
        return n;
    }

    /** Closes both devices, releases what they sent and frees the pool; throws if a buffer is still out. */
    @Override
    public void close() {
        a.close();
        b.close();
        PacketBuffer p;
        while ((p = outA.poll()) != null) p.release();
        while ((p = outB.poll()) != null) p.release();
        if (pool.outstanding() != 0) throw new IllegalStateException("buffers outstanding: " + pool.outstanding());
        pool.close();
    }
}
