package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.wireguard.crypto.ChaCha20Poly1305;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
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
 * Our ChaCha20-Poly1305 alone, sealing (and opening) a padded inner packet of {@code inner} bytes in
 * place in a pool buffer, no device around it: {@code scalar} is the {@code SEGMENT} transport
 * cipher, {@code vector} the {@code VECTOR} one. The device's share of {@link WireGuardBenchmark#seal}
 * is the difference; open = sealOpen - seal.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar ChaCha20Poly1305Benchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class ChaCha20Poly1305Benchmark {
    /** Inner packet length, as in {@link WireGuardBenchmark}: 1400 or 92 (padded to 96). */
    @Param({"1400", "92"})
    public int inner;
    /** {@code scalar}: {@link ChaCha20Poly1305}; {@code vector}: {@link VectorChaCha20Poly1305}. */
    @Param({"scalar", "vector"})
    public String impl;
    private boolean vector;
    private final int[] key = ChaCha20Poly1305.key(new byte[32], 0);
    private long counter;
    private PacketPool pool;
    private PacketBuffer buffer;

    /** One pool buffer holding the inner packet. */
    @Setup(Level.Trial)
    public void setUp() {
        vector = impl.equals("vector");
        pool = new PacketPool(1);
        buffer = pool.acquire();
        WireGuardBenchmark.fillInner(buffer, inner);
    }

    /** Returns the buffer and frees the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        buffer.release();
        pool.close();
    }

    /** Seals the padded packet in place with the next counter. */
    @Benchmark
    public int seal() {
        int len = (inner + 15) & -16;
        if (vector) {
            VectorChaCha20Poly1305.sealTransport(key, counter++, buffer.segment(), pool.headroom(), len);
        } else {
            ChaCha20Poly1305.sealTransport(key, counter++, buffer.segment(), pool.headroom(), len);
        }
        return buffer.length();
    }

    /** Seals the padded packet in place, then opens it again. */
    @Benchmark
    public boolean sealOpen() {
        int len = (inner + 15) & -16;
        long c = counter++;
        if (vector) {
            VectorChaCha20Poly1305.sealTransport(key, c, buffer.segment(), pool.headroom(), len);
            return VectorChaCha20Poly1305.openTransport(key, c, buffer.segment(), pool.headroom(), len);
        }
        ChaCha20Poly1305.sealTransport(key, c, buffer.segment(), pool.headroom(), len);
        return ChaCha20Poly1305.openTransport(key, c, buffer.segment(), pool.headroom(), len);
    }
}
