package io.dataplane.bench;

import static io.dataplane.core.wire.NetworkOrder.U32;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.wireguard.TransportCipher;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * WireGuard transport data in place on an inner packet of {@code inner} bytes (1400: a full TCP
 * segment; 92: a 64-byte UDP datagram), through the device's encap and decap as the pipeline calls
 * them, with every transport cipher ({@code cipher} parameter): ours over MemorySegment
 * ({@code SEGMENT}, no allocation), the JDK's ({@code JDK}, intrinsics, about 2.2 KiB of garbage per
 * packet), ours below 256 bytes, the JDK's above ({@code BY_SIZE}), and ours with ChaCha20 in vector
 * lanes ({@code VECTOR}, no allocation).
 *
 * <ul>
 *   <li>{@code seal}: encap of one packet with an established session (goal: 0 B/op);
 *   <li>{@code sealOpen}: encap on one device, then decap of the same buffer on its peer (open =
 *       sealOpen - seal).
 * </ul>
 * Our cipher alone is {@link ChaCha20Poly1305Benchmark} (the device's share of {@code seal} with
 * {@code SEGMENT} is the difference); the handshake is {@link WireGuardHandshakeBenchmark}. Neither
 * depends on these parameters.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar WireGuardBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class WireGuardBenchmark extends StageAllocationProfiler.Window {

    /** Which ChaCha20-Poly1305 the devices use for transport data. */
    @Param({"SEGMENT", "JDK", "BY_SIZE", "VECTOR"})
    public TransportCipher cipher;
    /** Inner packet length: a full-size TCP segment (1400) or what a 64-byte UDP datagram makes (92, padded to 96). */
    @Param({"1400", "92"})
    public int inner;
    private WireGuardPair pair;
    private PacketBuffer buffer;

    /** Two devices with an established session, and one buffer holding the inner packet. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        pair = WireGuardPair.inSession(cipher);
        buffer = pair.pool.acquire();
        fillInner(buffer, inner);
    }

    /** An IPv4 header from 10.244.1.5 to 10.244.2.7 at the start of {@code inner} bytes after the headroom. */
    static void fillInner(PacketBuffer p, int inner) {
        p.setData(p.pool().headroom(), inner);
        MemorySegment s = p.segment();
        int off = p.offset();
        s.set(ValueLayout.JAVA_BYTE, off, (byte) 0x45);
        s.set(ValueLayout.JAVA_BYTE, off + 2, (byte) (inner >>> 8));
        s.set(ValueLayout.JAVA_BYTE, off + 3, (byte) inner);
        s.set(U32, off + 12, 0x0af40105); // 10.244.1.5
        s.set(U32, off + 16, 0x0af40207); // 10.244.2.7
    }

    /** Releases the buffer and closes the devices. */
    @TearDown(Level.Trial)
    public void tearDown() {
        buffer.release();
        pair.close();
    }

    /** Encap of the packet: header into the headroom, padding and tag into the tailroom. */
    @Benchmark
    public int seal() {
        buffer.setData(pair.pool.headroom(), inner);
        int v = pair.a.encap(buffer, pair.peerOfA.id());
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("encap verdict " + v);
        return buffer.length();
    }

    /** Encap on A, then decap of the same buffer on B: seal and open in place. */
    @Benchmark
    public int sealOpen() {
        fillInner(buffer, inner);
        int v = pair.a.encap(buffer, pair.peerOfA.id());
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("encap verdict " + v);
        buffer.setPeer(WireGuardPair.ADDRESS_A, WireGuardPair.PORT);
        v = pair.b.decap(buffer);
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("decap verdict " + v);
        return buffer.length();
    }
}
