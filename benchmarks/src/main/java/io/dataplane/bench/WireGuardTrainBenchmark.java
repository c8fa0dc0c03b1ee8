package io.dataplane.bench;

import static io.dataplane.core.wire.NetworkOrder.U32;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.TcpHeader;
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
 * WireGuard with offload, the send and receive stages of the device on a 64 KiB TCP super-packet
 * of 47 segments (MSS 1368, what a TUN with TSO hands over at MTU 1420), with every transport cipher:
 *
 * <ul>
 *   <li>{@code sealTrain}: encap of the super-packet: cut into its segments in its own buffer,
 *       each padded and sealed with its own counter, a train of 47 messages (goal: 0 B/op);
 *   <li>{@code sealOpenTrain}: the same, then decap of each of the 47 messages in place on the
 *       peer, as the ingress stage does with a train received as one (open = sealOpenTrain - sealTrain).
 * </ul>
 * Per packet, divide by 47; one packet at a time is {@link WireGuardBenchmark}.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar WireGuardTrainBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class WireGuardTrainBenchmark extends StageAllocationProfiler.Window {
    private static final int MSS = 1368;
    private static final int TCP_HEADER = 32; // with timestamps
    private static final int HEADERS = Ipv4Header.HEADER_LEN + TCP_HEADER;
    private static final int SEGMENTS = 47;
    private static final int PAYLOAD = SEGMENTS * MSS - 700; // the last segment short

    /** Which ChaCha20-Poly1305 the devices use for transport data. */
    @Param({"SEGMENT", "JDK", "BY_SIZE", "VECTOR"})
    public TransportCipher cipher;
    private WireGuardPair pair;
    private PacketPool bigPool;
    private PacketBuffer buffer;
    private byte[] payload;
    private final Ipv4Header ip = new Ipv4Header();
    private final TcpHeader tcpHeader = new TcpHeader();

    /** Two devices in a session, and a buffer with room for the train. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        pair = WireGuardPair.inSession(cipher);
        bigPool = new PacketPool(1, PacketPool.DEFAULT_HEADROOM + 65536 + 1024 + 16 * 1024, PacketPool.DEFAULT_HEADROOM);
        buffer = bigPool.acquire();
        payload = new byte[PAYLOAD];
        for (int i = 0; i < PAYLOAD; i++) payload[i] = (byte) (i * 7);
    }

    /** Releases the buffer and closes the devices. */
    @TearDown(Level.Trial)
    public void tearDown() {
        buffer.release();
        bigPool.close();
        pair.close();
    }

    // The super-packet, written again before each encap (the train overwrote it): headers and payload.
    private void fillSuperPacket() {
        buffer.setData(PacketPool.DEFAULT_HEADROOM, HEADERS + PAYLOAD).setGsoSize(MSS).setGsoPrefix(0);
        MemorySegment s = buffer.segment();
        int o = buffer.offset();
        MemorySegment.copy(payload, 0, s, ValueLayout.JAVA_BYTE, o + HEADERS, PAYLOAD);
        ip.wrap(s, o).setVersion4AndIhl(5).setTotalLength(HEADERS + PAYLOAD).setFlagsAndFragmentOffset(Ipv4Header.FLAG_DF)
                .setTtl(64).setProtocol(Ipv4Header.PROTO_TCP).setSrcAddr(0x0af40105).setDstAddr(0x0af40207).fillChecksum();
        TcpHeader tcp = tcpHeader.wrap(s, o + Ipv4Header.HEADER_LEN).setSrcPort(40000).setDstPort(5201)
                .setSeqNum(1000).setAckNum(77).setDataOffset(TCP_HEADER / 4).setFlags(TcpHeader.FLAG_ACK).setWindow(512);
        s.set(U32, tcp.optionsOffset(), 0x0101080a); // NOP NOP timestamps
    }

    /** Encap of the super-packet: the train of its 47 sealed segments. */
    @Benchmark
    public int sealTrain() {
        fillSuperPacket();
        int v = pair.a.encap(buffer, pair.peerOfA.id());
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("encap verdict " + v);
        return buffer.length();
    }

    /** Encap on A, then decap of each message of the train on B, in place. */
    @Benchmark
    public int sealOpenTrain() {
        fillSuperPacket();
        int v = pair.a.encap(buffer, pair.peerOfA.id());
        if (v != Encapsulation.FORWARD) throw new IllegalStateException("encap verdict " + v);
        int size = buffer.gsoSize();
        int end = buffer.offset() + buffer.length();
        int opened = 0;
        buffer.setGsoSize(0).setGsoPrefix(0);
        for (int at = buffer.offset(); at < end; at += size) {
            buffer.setData(at, Math.min(size, end - at)).setPeer(WireGuardPair.ADDRESS_A, WireGuardPair.PORT);
            v = pair.b.decap(buffer);
            if (v != Encapsulation.FORWARD) throw new IllegalStateException("decap verdict " + v + " of message " + opened);
            opened++;
        }
        return opened;
    }
}
