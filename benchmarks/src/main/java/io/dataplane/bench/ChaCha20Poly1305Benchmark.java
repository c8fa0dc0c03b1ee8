package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.wireguard.crypto.ChaCha20Poly1305;
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
 * Our ChaCha20-Poly1305 alone (the {@code SEGMENT} transport cipher), sealing a padded inner packet
 * of {@code inner} bytes in place in a pool buffer, no device around it: the device's share of
 * {@link WireGuardBenchmark#seal} with {@code SEGMENT} is the difference.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar ChaCha20Poly1305Benchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class ChaCha20Poly1305Benchmark {
    /** Inner packet length, as in {@link WireGuardBenchmark}: 1400 or 92 (padded to 96). */
    @Param({"1400", "92"})
    public int inner;
    private final int[] key = ChaCha20Poly1305.key(new byte[32], 0);
    private long counter;
    private PacketPool pool;
    private PacketBuffer buffer;

    /** One pool buffer holding the inner packet. */
    @Setup(Level.Trial)
    public void setUp() {
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
        ChaCha20Poly1305.sealTransport(key, counter++, buffer.segment(), pool.headroom(), (inner + 15) & -16);
        return buffer.length();
    }
}
