package io.dataplane.bench;

import io.dataplane.core.wire.InternetChecksum;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.core.wire.PartialChecksum;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
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
 * The Internet checksum on off-heap packet memory: an IPv4 header (goal at most 5 ns), 1500 bytes
 * of payload (goal at most 100 ns, about what wireguard-go's unrolled Go loop takes), the RFC 1624
 * incremental update a router does when it decrements the TTL, and the look for a partial
 * transport checksum that every TUN write makes.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar ChecksumBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class ChecksumBenchmark {
    private Arena arena;
    private MemorySegment packet;
    private final Ipv4Header ip = new Ipv4Header();

    /** Off-heap memory shaped like a packet buffer: an IPv4 header at offset 64 and 1500 random bytes after it. */
    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        packet = arena.allocate(2048, 64);
        SplittableRandom random = new SplittableRandom(1071);
        for (long i = 0; i < packet.byteSize(); i++) packet.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        ip.wrap(packet, 64);
        Ipv4Repr.of(Ipv4Address.parse("10.244.1.1"), Ipv4Address.parse("10.244.2.1"), Ipv4Header.PROTO_UDP, 64, 1480).emit(ip);
    }

    /** Restores a TTL the decrement benchmark can keep decrementing. */
    @Setup(Level.Iteration)
    public void resetTtl() {
        ip.setTtl(255).fillChecksum();
    }

    /** Frees the memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** The header checksum of a 20-byte IPv4 header, as a sender fills it in. */
    @Benchmark
    public int ipv4HeaderChecksum() {
        return ip.computeChecksum();
    }

    /** Summing 20 bytes through the general entry point (no field skipped). */
    @Benchmark
    public int checksum20Bytes() {
        return InternetChecksum.checksum(packet, 64, 20);
    }

    /** The checksum of 1500 bytes. */
    @Benchmark
    public int checksum1500Bytes() {
        return InternetChecksum.checksum(packet, 64, 1500);
    }

    /** TTL decrement with the RFC 1624 incremental checksum update (wraps from 2 back to 255). */
    /**
     * What every TUN write pays to tell a partial transport checksum ({@link PartialChecksum#field})
     * on a packet whose checksum is not partial, the common case: its IPv4 header and checksum
     * field read, the pseudo-header summed.
     */
    @Benchmark
    public int partialChecksumLookup() {
        return PartialChecksum.field(packet, 64, 1500);
    }

    @Benchmark
    public int decrementTtl() {
        if (ip.decrementTtl() != Ipv4Header.VALID) ip.setTtl(255).fillChecksum();
        return ip.checksum();
    }
}
