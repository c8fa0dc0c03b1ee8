package io.dataplane.bench;

import static io.dataplane.core.wire.NetworkOrder.U32;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.TcpCoalescer;
import io.dataplane.core.wire.TcpHeader;
import io.dataplane.core.wire.TcpSegments;
import java.lang.foreign.Arena;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The userspace half of the TCP offload, per 64 KiB of TCP payload in 1398-byte segments (47 of
 * them, timestamps on, as a TUN with MTU 1450 hands them over), 0 B/op:
 * <ul>
 *   <li>{@code cutSuperPacket}: {@link TcpSegments} checks a TSO super-packet behind a 22-byte
 *       VXLAN prefix and writes every segment's headers (IPv4 with its checksum, TCP with the full
 *       checksum over header and payload slice); the payload is only read, for the checksums;</li>
 *   <li>{@code joinSegments}: {@link TcpCoalescer} verifies 47 received segments' TCP checksums,
 *       joins them into one run and rewrites the first one's headers for the super-packet.</li>
 * </ul>
 * Both are dominated by summing the 64 KiB once; a syscall saved per segment is worth far more.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar TcpOffloadBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class TcpOffloadBenchmark extends StageAllocationProfiler.Window {
    private static final int MSS = 1398;
    private static final int TCP_HEADER = 32; // with timestamps
    private static final int HEADERS = Ipv4Header.HEADER_LEN + TCP_HEADER;
    private static final int SEGMENTS = 47;
    private static final int PREFIX = 22;
    private static final int SRC = 0x0af40101;
    private static final int DST = 0x0af40201;

    private PacketPool bigPool;
    private PacketPool pool;
    private PacketBuffer superPacket;
    private final PacketBuffer[] received = new PacketBuffer[SEGMENTS];
    private final byte[] firstHeaders = new byte[HEADERS];
    private final TcpSegments segments = new TcpSegments();
    private final TcpCoalescer coalescer = new TcpCoalescer();
    private Arena arena;
    private MemorySegment scratch;

    /** One super-packet of 47 segments' payload behind a VXLAN prefix, and the 47 segments one by one. */
    @Setup(Level.Trial)
    public void setUp() {
        bigPool = new PacketPool(1, PacketPool.DEFAULT_HEADROOM + 66 * 1024, PacketPool.DEFAULT_HEADROOM);
        pool = new PacketPool(SEGMENTS);
        arena = Arena.ofConfined();
        scratch = arena.allocate(TcpSegments.MAX_HEADER_LENGTH);
        int payload = SEGMENTS * MSS - 700; // the last segment short
        superPacket = bigPool.acquire();
        superPacket.setLength(PREFIX + HEADERS + payload).setGsoSize(MSS);
        MemorySegment s = superPacket.segment();
        int o = superPacket.offset();
        for (int i = 0; i < payload; i++) s.set(ValueLayout.JAVA_BYTE, o + PREFIX + HEADERS + i, (byte) (i * 7));
        writeHeaders(s, o + PREFIX, HEADERS + payload, 1000);
        pool.acquire(received, SEGMENTS);
        for (int k = 0; k < SEGMENTS; k++) {
            PacketBuffer p = received[k];
            int len = k < SEGMENTS - 1 ? MSS : payload - (SEGMENTS - 1) * MSS;
            p.setLength(HEADERS + len);
            MemorySegment.copy(s, o + PREFIX + HEADERS + (long) k * MSS, p.segment(), p.offset() + HEADERS, len);
            writeHeaders(p.segment(), p.offset(), HEADERS + len, 1000 + k * MSS)
                    .fillChecksum(SRC, DST, TCP_HEADER + len);
        }
        MemorySegment.copy(received[0].segment(), ValueLayout.JAVA_BYTE, received[0].offset(), firstHeaders, 0, HEADERS);
    }

    // The IPv4 header (checksum filled) and the TCP header (checksum not) of a segment from port 5201 to 40000.
    private static TcpHeader writeHeaders(MemorySegment s, int ip, int total, int seq) {
        new Ipv4Header().wrap(s, ip).setVersion4AndIhl(5).setTotalLength(total).setFlagsAndFragmentOffset(Ipv4Header.FLAG_DF)
                .setTtl(64).setProtocol(Ipv4Header.PROTO_TCP).setSrcAddr(SRC).setDstAddr(DST).fillChecksum();
        TcpHeader tcp = new TcpHeader().wrap(s, ip + Ipv4Header.HEADER_LEN).setSrcPort(5201).setDstPort(40000)
                .setSeqNum(seq).setAckNum(77).setDataOffset(TCP_HEADER / 4).setFlags(TcpHeader.FLAG_ACK).setWindow(512);
        s.set(U32, tcp.optionsOffset(), 0x0101080a); // NOP NOP timestamps
        return tcp;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        superPacket.release();
        PacketPool.releaseAll(received, 0, SEGMENTS);
        bigPool.close();
        pool.close();
        arena.close();
    }

    /** All 47 segments' headers of a 64 KiB super-packet, checksums included. */
    @Benchmark
    public int cutSuperPacket() {
        if (segments.prepare(superPacket, PREFIX) != TcpSegments.VALID) throw new IllegalStateException("not a super-packet");
        int n = segments.segments();
        for (int i = 0; i < n; i++) segments.writeHeader(i, scratch, 0);
        return n;
    }

    /** 47 received segments checked and joined into one super-packet. */
    @Benchmark
    public int joinSegments() {
        PacketBuffer first = received[0];
        MemorySegment.copy(firstHeaders, 0, first.segment(), ValueLayout.JAVA_BYTE, first.offset(), HEADERS);
        if (!coalescer.start(first)) throw new IllegalStateException("first segment refused");
        for (int k = 1; k < SEGMENTS; k++) {
            if (!coalescer.append(received[k])) throw new IllegalStateException("segment " + k + " refused");
        }
        return coalescer.finish(first);
    }
}
