package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.wireguard.NoisePrivateKey;
import io.dataplane.wireguard.PeerConfig;
import io.dataplane.wireguard.TransportCipher;
import io.dataplane.wireguard.WireGuardClock;
import io.dataplane.wireguard.WireGuardConfig;
import io.dataplane.wireguard.WireGuardDevice;
import io.dataplane.wireguard.WireGuardPeer;
import io.dataplane.wireguard.WireGuardTimings;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * WireGuard in place on an inner packet of {@code inner} bytes (1400: a full TCP segment; 92: a
 * 64-byte UDP datagram), through the device's encap and decap as the pipeline calls them, and a
 * whole handshake (initiation created and consumed, response created and consumed, the confirming
 * keepalive opened). Each with every transport cipher ({@code cipher} parameter): ours over
 * MemorySegment ({@code SEGMENT}, no allocation), the JDK's ({@code JDK}, intrinsics, about 2.2 KiB
 * of garbage per packet) and ours below 256 bytes, the JDK's above ({@code BY_SIZE}).
 *
 * <ul>
 *   <li>{@code seal}: encap of one packet with an established session (goal: 0 B/op);
 *   <li>{@code sealOpen}: encap on one device, then decap of the same buffer on its peer (open =
 *       sealOpen - seal);
 *   <li>{@code cipherSeal}: our ChaCha20-Poly1305 alone on the same bytes, whatever the parameter (the device's share is
 *       seal - cipherSeal);
 *   <li>{@code handshake}: two X25519 key generations and six DH, BLAKE2s, the JDK's AEAD.
 * </ul>
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar WireGuardBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class WireGuardBenchmark {
    private static final java.lang.foreign.ValueLayout.OfInt BE_INT =
            java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final int ADDRESS_A = Ipv4Address.parse("192.0.2.1");
    private static final int ADDRESS_B = Ipv4Address.parse("192.0.2.2");

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

    private PacketPool pool;
    private final ArrayDeque<PacketBuffer> outA = new ArrayDeque<>();
    private final ArrayDeque<PacketBuffer> outB = new ArrayDeque<>();
    private WireGuardDevice a;
    private WireGuardDevice b;
    private WireGuardPeer peerOfA; // B, as A's peer
    private PacketBuffer buffer;
    /** Which ChaCha20-Poly1305 the devices use for transport data. */
    @Param({"SEGMENT", "JDK", "BY_SIZE"})
    public TransportCipher cipher;
    /** Inner packet length: a full-size TCP segment (1400) or what a 64-byte UDP datagram makes (92, padded to 96). */
    @Param({"1400", "92"})
    public int inner;
    private final int[] rawKey = io.dataplane.wireguard.crypto.ChaCha20Poly1305.key(new byte[32], 0);
    private long rawCounter;

    /** Two devices with an established session, and one buffer holding the inner packet. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        pool = new PacketPool(64);
        // Keys that never age during a run, no flood interval and an immediate rekey timeout so the
        // handshake benchmark may start one handshake right after the other.
        WireGuardTimings t = new WireGuardTimings(1L << 60, -1L - (1L << 13), Duration.ofDays(1).toNanos(),
                Duration.ofDays(2).toNanos(), 1, 1, 0, Duration.ofSeconds(10).toNanos(), Duration.ofSeconds(120).toNanos(), 0,
                Duration.ofSeconds(1).toNanos());
        NoisePrivateKey keyA = NoisePrivateKey.generate();
        NoisePrivateKey keyB = NoisePrivateKey.generate();
        // Both sides see hundreds of handshake messages a second here, which would put them under load
        // (cookie replies, then the rate limiter) part way through a run.
        a = new WireGuardDevice(WireGuardConfig.of(keyA).with(t, new SteppingClock()).with(cipher).withHandshakeLoadThreshold(Integer.MAX_VALUE),
                new RouteTable(), pool, outA::add);
        b = new WireGuardDevice(WireGuardConfig.of(keyB).with(t, new SteppingClock()).with(cipher).withHandshakeLoadThreshold(Integer.MAX_VALUE),
                new RouteTable(), pool, outB::add);
        peerOfA = a.addPeer(PeerConfig.of(keyB.publicKey(), ADDRESS_B, 51820, List.of(Ipv4Prefix.parse("10.244.2.0/24"))));
        b.addPeer(PeerConfig.of(keyA.publicKey(), ADDRESS_A, 51820, List.of(Ipv4Prefix.parse("10.244.1.0/24"))));
        handshake();
        buffer = pool.acquire();
        fillInner(buffer, inner);
    }

    private static void fillInner(PacketBuffer p, int inner) {
        p.setData(p.pool().headroom(), inner);
        MemorySegment s = p.segment();
        int off = p.offset();
        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off, (byte) 0x45);
        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 2, (byte) (inner >>> 8));
        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 3, (byte) inner);
        s.set(BE_INT, off + 12, 0x0af40105); // 10.244.1.5
        s.set(BE_INT, off + 16, 0x0af40207); // 10.244.2.7
    }

    /** Releases the buffers and frees the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        buffer.release();
        a.close();
        b.close();
        drain(outA);
        drain(outB);
        if (pool.outstanding() != 0) throw new IllegalStateException("buffers outstanding: " + pool.outstanding());
        pool.close();
    }

    private static void drain(ArrayDeque<PacketBuffer> q) {
        PacketBuffer p;
        while ((p = q.poll()) != null) p.release();
    }

    /** Encap of the packet: header into the headroom, padding and tag into the tailroom. */
    @Benchmark
    public int seal() {
        buffer.setData(pool.headroom(), inner);
        int v = a.encap(buffer, peerOfA.id());
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("encap verdict " + v);
        return buffer.length();
    }

    /** Our cipher alone ({@code SEGMENT}, whatever the parameter): ChaCha20-Poly1305 sealing the padded packet in place, no device around it. */
    @Benchmark
    public int cipherSeal() {
        io.dataplane.wireguard.crypto.ChaCha20Poly1305.sealTransport(rawKey, rawCounter++, buffer.segment(), pool.headroom(),
                (inner + 15) & -16);
        return buffer.length();
    }

    /** Encap on A, then decap of the same buffer on B: seal and open in place. */
    @Benchmark
    public int sealOpen() {
        fillInner(buffer, inner);
        int v = a.encap(buffer, peerOfA.id());
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("encap verdict " + v);
        buffer.setPeer(ADDRESS_A, 51820);
        v = b.decap(buffer);
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("decap verdict " + v);
        return buffer.length();
    }

    /** A whole handshake between the two devices, with the confirming keepalive. */
    @Benchmark
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

    /** Delivers every datagram in {@code from} to {@code to}'s decap; replies go back into {@code replies}. */
    private static int deliver(ArrayDeque<PacketBuffer> from, WireGuardDevice to, int srcAddress, ArrayDeque<PacketBuffer> replies) {
        int n = 0;
        PacketBuffer p;
        while ((p = from.poll()) != null) {
            n++;
            p.setPeer(srcAddress, 51820);
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
}
