package io.dataplane.bench;

import io.dataplane.wireguard.TransportCipher;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole WireGuard handshake between two devices: initiation created and consumed, response
 * created and consumed, the confirming keepalive opened. Two X25519 key generations and six DH,
 * BLAKE2s and the JDK's AEAD; the transport cipher touches only the empty keepalive, so it is the
 * default's.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar WireGuardHandshakeBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class WireGuardHandshakeBenchmark {
    private WireGuardPair pair;

    /** Two devices that know each other. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        pair = new WireGuardPair(TransportCipher.BY_SIZE);
    }

    /** Closes the devices. */
    @TearDown(Level.Trial)
    public void tearDown() {
        pair.close();
    }

    /** One handshake, A initiating; 3 messages. */
    @Benchmark
    public int handshake() {
        return pair.handshake();
    }
}
