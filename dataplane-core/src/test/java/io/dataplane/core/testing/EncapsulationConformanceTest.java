package io.dataplane.core.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Encapsulation} must do, run against each by a subclass, on pool buffers
 * without a pipeline: node A's encapsulation wraps a packet for its peer B in place and B's
 * unwraps it byte for byte, each within the headroom and tailroom it declares, without moving the
 * inner bytes; every malformed datagram B gets is dropped under its own reason, and so is one from
 * an address that is no peer's; random bytes are never forwarded; a TCP super-packet is wrapped
 * whole where the encapsulation takes super-packets; a round trip allocates nothing. Every buffer
 * goes back to the pool.
 *
 * <p>A is 192.0.2.1 with the subnet 10.244.1.0/24, B is 192.0.2.2 with 10.244.2.0/24.
 */
public abstract class EncapsulationConformanceTest {
    /** Node A's public IP. */
    protected static final int A = Ipv4Address.parse("192.0.2.1");
    /** Node B's public IP. */
    protected static final int B = Ipv4Address.parse("192.0.2.2");
    /** An address that is no node's peer. */
    protected static final int STRANGER = Ipv4Address.parse("198.51.100.7");
    /** A pod on A. */
    protected static final int POD_A = Ipv4Address.parse("10.244.1.5");
    /** A pod on B. */
    protected static final int POD_B = Ipv4Address.parse("10.244.2.7");

    /**
     * A datagram B must drop.
     *
     * @param what what is wrong with it, for the message
     * @param reason the reason B drops it for
     * @param datagram the bytes as B's socket hands them over, from A
     */
    public record BadDatagram(String what, DropReason reason, byte[] datagram) {}

    /** Buffers for a 64 KiB super-packet behind the default headroom. */
    protected final PacketPool pool = new PacketPool(8, PacketPool.DEFAULT_HEADROOM + 65536 + 1024, PacketPool.DEFAULT_HEADROOM);

    private Encapsulation nodeA;
    private Encapsulation nodeB;

    /**
     * The encapsulation of the node at {@code self} ({@link #A} or {@link #B}) whose one peer is at
     * {@code peer}, for inner packets up to {@link #innerMtu}.
     */
    protected abstract Encapsulation encapsulation(int self, int peer);

    /** Node A's encapsulation, made once. */
    protected final Encapsulation nodeA() {
        if (nodeA == null) nodeA = encapsulation(A, B);
        return nodeA;
    }

    /** Node B's encapsulation, made once. */
    protected final Encapsulation nodeB() {
        if (nodeB == null) nodeB = encapsulation(B, A);
        return nodeB;
    }

    /** What A's route to B's subnet holds: the next hop {@link Encapsulation#encap} is given. */
    protected abstract int nextHopToB();

    /** The largest inner packet: the TUN's MTU. */
    protected abstract int innerMtu();

    /** Datagrams from A that B must drop, each with its reason; every reason the encapsulation's decap has should be here. */
    protected abstract List<BadDatagram> badDatagrams();

    /** What B delivers for {@code sent}: the same bytes unless the encapsulation changes them (flannel's udp lowers the TTL). */
    protected byte[] delivered(byte[] sent) {
        return sent;
    }

    /** The reason B drops a good datagram from {@link #STRANGER} for. */
    protected DropReason strangerReason() {
        return DropReason.UNKNOWN_PEER;
    }

    @AfterEach
    void everyBufferIsBack() {
        int out = pool.outstanding();
        pool.close();
        assertEquals(0, out, "buffers still out");
    }

    /** The datagram A sends B for {@code inner}, as B's socket hands it over. */
    protected byte[] datagram(byte[] inner) {
        PacketBuffer p = pool.acquire().put(inner);
        try {
            assertEquals(Encapsulation.FORWARD, nodeA().encap(p, nextHopToB()), "A wraps the packet");
            return p.toByteArray();
        } finally {
            p.release();
        }
    }

    /** B's verdict on {@code datagram} from {@code source}, the buffer released after. */
    protected int decapAtB(byte[] datagram, int source) {
        PacketBuffer p = pool.acquire().put(datagram).setPeer(source, 40000);
        try {
            int verdict = nodeB().decap(p);
            assertTrue(p.offset() >= 0 && p.offset() + p.length() <= p.capacity(), "data within the buffer");
            return verdict;
        } finally {
            p.release();
        }
    }

    private static byte[] ping(int dataLength) {
        return TestPackets.echoRequest(POD_A, POD_B, 64, 0x4242, 1, dataLength);
    }

    @Test
    void aRoundTripGivesTheInnerPacketByteForByteWithoutMovingIt() {
        Encapsulation a = nodeA();
        Encapsulation b = nodeB();
        List<byte[]> packets = List.of(ping(0), ping(56), ping(innerMtu() - 28), TestPackets.udp(POD_A, POD_B, 9, 40000, 53, 100));
        for (byte[] inner : packets) {
            PacketBuffer p = pool.acquire().put(inner);
            try {
                int at = p.offset();
                assertEquals(Encapsulation.FORWARD, a.encap(p, nextHopToB()), inner.length + " bytes");
                assertEquals(B, p.peerAddress(), "sent to B");
                int front = at - p.offset();
                assertTrue(front >= 0 && front <= a.headroom(), "wrote " + front + " bytes in front, headroom " + a.headroom());
                assertTrue(p.length() - front - inner.length <= a.tailroom(), "appended more than the tailroom");
                assertTrue(p.length() <= innerMtu() + a.overhead(), "the datagram fits the underlay");
                byte[] payload = Arrays.copyOfRange(inner, Ipv4Header.HEADER_LEN, inner.length);
                assertArrayEquals(payload, Arrays.copyOfRange(p.toByteArray(), front + Ipv4Header.HEADER_LEN, front + inner.length),
                        "the inner payload stays where it was read");
                p.setPeer(A, p.peerPort());
                assertEquals(Encapsulation.FORWARD, b.decap(p), "B unwraps it");
                assertArrayEquals(delivered(inner), p.toByteArray(), inner.length + " bytes delivered");
                assertEquals(at, p.offset(), "unwrapping moves the offset, not the bytes");
            } finally {
                p.release();
            }
        }
    }

    @Test
    void theDeclaredHeadroomIsEnough() {
        byte[] inner = ping(56);
        PacketBuffer p = pool.acquire();
        try {
            p.setData(nodeA().headroom(), 0).put(inner);
            assertEquals(Encapsulation.FORWARD, nodeA().encap(p, nextHopToB()));
            assertTrue(p.offset() >= 0);
            p.setData(0, 0).put(inner);
            int verdict = nodeA().encap(p, nextHopToB());
            if (verdict != Encapsulation.FORWARD) {
                assertEquals(DropReason.NO_ROOM.ordinal(), verdict, "no headroom at all");
                assertArrayEquals(inner, p.toByteArray(), "a packet without room is left as it was");
            }
        } finally {
            p.release();
        }
    }

    @Test
    void aRoundTripAllocatesNothing() {
        Encapsulation a = nodeA();
        Encapsulation b = nodeB();
        byte[] inner = TestPackets.udp(POD_A, POD_B, 9, 40000, 53, 1000);
        PacketBuffer p = pool.acquire();
        int headroom = p.offset();
        try {
            AllocationRounds.assertAllocatesNothing("encap at A and decap at B of a " + inner.length + "-byte packet", () -> {
                p.setData(headroom, 0).put(inner);
                assertEquals(Encapsulation.FORWARD, a.encap(p, nextHopToB()));
                p.setPeer(A, p.peerPort());
                assertEquals(Encapsulation.FORWARD, b.decap(p));
                assertEquals(inner.length, p.length());
            });
        } finally {
            p.release();
        }
    }

    @Test
    void everyBadDatagramIsDroppedUnderItsReasonAndGoodOnesStillPass() {
        byte[] good = datagram(ping(56));
        assertEquals(Encapsulation.FORWARD, decapAtB(good, A));
        assertEquals(strangerReason().ordinal(), decapAtB(good, STRANGER), "a good datagram from a stranger");
        List<BadDatagram> bad = badDatagrams();
        assertTrue(bad.size() >= 3, "a few bad inputs at least");
        for (BadDatagram d : bad) {
            int verdict = decapAtB(d.datagram(), A);
            assertEquals(d.reason().ordinal(), verdict, d.what() + ": got " + (verdict >= 0 ? DropReason.values()[verdict] : verdict));
            assertEquals(Encapsulation.FORWARD, decapAtB(good, A), "a good datagram after " + d.what());
        }
    }

    @Test
    void randomBytesAreNeverForwardedNorThrown() {
        byte[] good = datagram(ping(56));
        int header = good.length - ping(56).length;
        SplittableRandom random = new SplittableRandom(791);
        for (int i = 0; i < 5000; i++) {
            byte[] garbage = new byte[random.nextInt(0, 1600)];
            random.nextBytes(garbage);
            // Half of them behind a good tunnel header and IPv4 version byte, so the inner checks get garbage too.
            if (i % 2 == 0 && garbage.length > header) System.arraycopy(good, 0, garbage, 0, header + 1);
            int verdict = decapAtB(garbage, A);
            assertNotEquals(Encapsulation.FORWARD, verdict, "garbage " + i + " forwarded");
            assertNotEquals(Encapsulation.CONSUMED, verdict, "garbage " + i + " kept");
        }
    }

    @Test
    void aTcpSuperPacketIsWrappedWholeWhereTheEncapsulationTakesThem() {
        Encapsulation a = nodeA();
        assumeTrue(a.encapsulatesSuperPackets(), "this encapsulation takes no super-packets: the pipeline never hands it one");
        int mss = innerMtu() - 40;
        byte[] inner = TcpSegment.of(POD_A, 40000, POD_B, 5201, 1, 1, new byte[0], TcpSegment.pattern(3, mss * 3 + 100)).bytes();
        int plainFront = datagram(ping(56)).length - ping(56).length;
        PacketBuffer p = pool.acquire().put(inner).setGsoSize(mss);
        try {
            int at = p.offset();
            assertEquals(Encapsulation.FORWARD, a.encap(p, nextHopToB()));
            assertEquals(mss, p.gsoSize(), "still cut into segments of the same size");
            assertEquals(plainFront, at - p.offset(), "the same headers in front as for a plain packet");
            assertEquals(inner.length + plainFront, p.length(), "nothing appended");
            byte[] payload = Arrays.copyOfRange(inner, Ipv4Header.HEADER_LEN, inner.length);
            assertArrayEquals(payload, Arrays.copyOfRange(p.toByteArray(), plainFront + Ipv4Header.HEADER_LEN, p.length()),
                    "the segments' bytes as the TUN gave them");
        } finally {
            p.release();
        }
    }
}
