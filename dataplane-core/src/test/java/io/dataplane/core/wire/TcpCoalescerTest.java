package io.dataplane.core.wire;

import static io.dataplane.core.testing.TcpSegment.ACK;
import static io.dataplane.core.testing.TcpSegment.CWR;
import static io.dataplane.core.testing.TcpSegment.DF;
import static io.dataplane.core.testing.TcpSegment.ECE;
import static io.dataplane.core.testing.TcpSegment.FIN;
import static io.dataplane.core.testing.TcpSegment.MF;
import static io.dataplane.core.testing.TcpSegment.PSH;
import static io.dataplane.core.testing.TcpSegment.RST;
import static io.dataplane.core.testing.TcpSegment.SYN;
import static io.dataplane.core.testing.TcpSegment.URG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.testing.TestPackets;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpCoalescer} against segments built by {@link TcpSegment}, whose checksums come from a
 * plain RFC 1071 loop rather than {@link InternetChecksum}: which runs join, what the joined
 * headers say, and every way a segment stops a run or cannot start one.
 */
class TcpCoalescerTest {
    private static final int A = Ipv4Address.parse("10.244.1.2");
    private static final int B = Ipv4Address.parse("10.244.2.3");
    private static final int MSS = 1448;
    private static final int HEADERS = 20 + 32; // IPv4 without options, TCP with timestamps
    private static final int TSVAL = 0x01020304;
    private static final int TSECR = 0x0a0b0c0d;

    private final PacketPool pool = new PacketPool(80);
    private final List<PacketBuffer> held = new ArrayList<>();

    @AfterEach
    void releaseAll() {
        releaseHeld();
        assertEquals(0, pool.outstanding(), "buffers still out");
        pool.close();
    }

    /** The first segment of a flow A:40000 > B:5201, ACK only, timestamps, {@code payload} bytes. */
    private static TcpSegment first(int seq, int payload) {
        return TcpSegment.of(A, 40000, B, 5201, seq, 0x5000_0001, TcpSegment.timestamps(TSVAL, TSECR),
                TcpSegment.pattern(seq, payload)).withIdentification(0x1234);
    }

    /** The segment after {@code s} in its flow with {@code payload} bytes of data; everything else the same. */
    private static TcpSegment after(TcpSegment s, int payload) {
        return s.next(TcpSegment.pattern(s.seq() + s.payload().length, payload));
    }

    private PacketBuffer load(TcpSegment s) {
        return load(s.bytes());
    }

    private PacketBuffer load(byte[] packet) {
        PacketBuffer b = pool.acquire();
        assertNotNull(b, "pool ran dry");
        held.add(b);
        return b.put(packet);
    }

    private void releaseHeld() {
        for (PacketBuffer b : held) b.release();
        held.clear();
    }

    /** {@code p} with its IPv4 header checksum computed again (after a test changed a field). */
    private static byte[] refillIpChecksum(byte[] p) {
        int ihl = (p[0] & 0x0f) * 4;
        p[10] = 0;
        p[11] = 0;
        int c = ~TcpSegment.sum(p, 0, ihl, 0) & 0xffff;
        p[10] = (byte) (c >>> 8);
        p[11] = (byte) c;
        return p;
    }

    /** {@code p} with its TCP checksum computed again (after a test changed a field). */
    private static byte[] refillTcpChecksum(byte[] p) {
        int ihl = (p[0] & 0x0f) * 4;
        int total = TcpSegment.u16(p, 2);
        p[ihl + 16] = 0;
        p[ihl + 17] = 0;
        int pseudo = TcpSegment.pseudoHeaderSum(TcpSegment.u32(p, 12), TcpSegment.u32(p, 16), total - ihl);
        int c = ~TcpSegment.sum(p, ihl, total - ihl, pseudo) & 0xffff;
        p[ihl + 16] = (byte) (c >>> 8);
        p[ihl + 17] = (byte) c;
        return p;
    }

    @Test
    void joinsFullSegmentsAndAShortLastOneAndFinishWritesTheWholeRunsHeaders() {
        joinSixAndCheckFinish(true);
    }

    /** {@code p} with its TCP checksum partial: the pseudo-header sum, as a sender's kernel leaves it across a veth. */
    private static byte[] partial(byte[] p) {
        int ihl = (p[0] & 0x0f) * 4;
        int pseudo = TcpSegment.pseudoHeaderSum(TcpSegment.u32(p, 12), TcpSegment.u32(p, 16), TcpSegment.u16(p, 2) - ihl);
        p[ihl + 16] = (byte) (pseudo >>> 8);
        p[ihl + 17] = (byte) pseudo;
        return p;
    }

    @Test
    void segmentsWithPartialChecksumsJoinAsCompleteOnesDo() {
        // Every other segment partial: a run from a kernel sender mixes neither, but the check is per segment.
        List<TcpSegment> run = new ArrayList<>();
        run.add(first(7_000_000, MSS));
        for (int i = 1; i < 4; i++) run.add(after(run.getLast(), MSS));
        TcpCoalescer c = new TcpCoalescer();
        List<PacketBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < run.size(); i++) {
            byte[] p = run.get(i).bytes();
            buffers.add(load(i % 2 == 0 ? partial(p) : p));
        }
        assertTrue(c.start(buffers.get(0)), "a partial first segment starts a run");
        for (int i = 1; i < 4; i++) assertTrue(c.append(buffers.get(i)), "segment " + i);
        int total = c.finish(buffers.get(0));
        byte[] head = buffers.get(0).toByteArray();
        assertEquals(TcpSegment.pseudoHeaderSum(A, B, total - 20), TcpSegment.u16(head, 36), "the run's own partial sum");

        // Completed, the super-packet is the one segment a sender would have built with the whole payload.
        assertArrayEquals(run.get(0).withPayload(joinedPayload(run)).bytes(), completedSuperPacket(head, buffers));
    }

    @Test
    void aChecksumOneOffThePartialSumIsWrongAndNeitherStartsNorJoins() {
        TcpSegment s0 = first(8_000_000, MSS);
        TcpSegment s1 = after(s0, MSS);
        byte[] wrong0 = partial(s0.bytes());
        wrong0[37] ^= 0x01;
        assertFalse(new TcpCoalescer().start(load(wrong0)), "a wrong first segment");
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(load(partial(s0.bytes()))));
        byte[] wrong1 = partial(s1.bytes());
        wrong1[37] ^= 0x01;
        assertFalse(c.append(load(wrong1)), "a wrong continuation");
        assertTrue(c.append(load(partial(s1.bytes()))), "the same segment partial continues the run");
    }

    @Test
    void anAuthenticatedSegmentJoinsWithoutItsTcpChecksumReadButNotWithABadIpChecksum() {
        TcpSegment s0 = first(9_000_000, MSS);
        TcpSegment s1 = after(s0, MSS);
        TcpSegment s2 = after(s1, MSS);
        byte[] wrongTcp = s1.bytes();
        wrongTcp[37] ^= 0x01;
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(load(s0)));
        assertFalse(c.append(load(wrongTcp)), "not authenticated: the TCP checksum is checked");
        assertTrue(c.append(load(wrongTcp).setAuthenticated(true)), "authenticated: the TCP checksum is not read");
        byte[] wrongIp = s2.bytes();
        wrongIp[10] ^= 0x01;
        assertFalse(c.append(load(wrongIp).setAuthenticated(true)), "the IPv4 header checksum still is");
        assertTrue(c.append(load(s2).setAuthenticated(true)));
        byte[] wrongFirst = first(9_100_000, MSS).bytes();
        wrongFirst[37] ^= 0x01;
        assertFalse(new TcpCoalescer().start(load(wrongFirst)), "a wrong first segment");
        assertTrue(new TcpCoalescer().start(load(wrongFirst).setAuthenticated(true)), "the same, authenticated");
    }

    @Test
    void withoutPshOnTheLastTheJoinedFlagsStayAckOnly() {
        joinSixAndCheckFinish(false);
    }

    private void joinSixAndCheckFinish(boolean pushLast) {
        List<TcpSegment> run = new ArrayList<>();
        run.add(first(1_000_000, MSS));
        for (int i = 1; i < 5; i++) run.add(after(run.getLast(), MSS));
        TcpSegment last = after(run.getLast(), 700);
        run.add(pushLast ? last.withFlags(ACK | PSH) : last);
        List<PacketBuffer> buffers = new ArrayList<>();
        for (TcpSegment s : run) buffers.add(load(s));
        List<byte[]> before = new ArrayList<>();
        for (PacketBuffer b : buffers) before.add(b.toByteArray());

        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(buffers.get(0)));
        assertEquals(1, c.count());
        for (int i = 1; i < 6; i++) assertTrue(c.append(buffers.get(i)), "segment " + i);
        assertEquals(6, c.count());
        assertEquals(MSS, c.mss());
        assertEquals(HEADERS, c.headerLength());
        assertEquals(700, c.lastPayload());
        // Deciding reads only: no buffer changed before finish.
        for (int i = 0; i < 6; i++) assertArrayEquals(before.get(i), buffers.get(i).toByteArray(), "segment " + i + " changed by append");

        int total = HEADERS + 5 * MSS + 700;
        assertEquals(total, c.finish(buffers.get(0)));
        byte[] head = buffers.get(0).toByteArray();
        assertEquals(HEADERS + MSS, head.length, "finish changes headers, not the buffer's length");
        assertEquals(total, TcpSegment.u16(head, 2), "IPv4 total length");
        assertEquals(0xffff, TcpSegment.sum(head, 0, 20, 0), "IPv4 header checksum does not verify");
        assertEquals(TcpSegment.pseudoHeaderSum(A, B, total - 20), TcpSegment.u16(head, 36),
                "TCP checksum field: the pseudo-header sum over the whole L4 length");
        assertEquals(pushLast ? ACK | PSH : ACK, head[33] & 0xff, "TCP flags");
        // Nothing else of the first buffer changed: total length, IPv4 checksum, flags, TCP checksum only.
        byte[] original = before.get(0);
        for (int i = 0; i < head.length; i++) {
            if (i == 2 || i == 3 || i == 10 || i == 11 || i == 33 || i == 36 || i == 37) continue;
            assertEquals(original[i], head[i], "byte " + i + " of the first segment");
        }
        for (int i = 1; i < 6; i++) assertArrayEquals(before.get(i), buffers.get(i).toByteArray(), "segment " + i + " changed by finish");

        // What the kernel gets: the first buffer, then each other one's payload. Completing its partial
        // checksum (sum of the L4 bytes with the field as it is, complemented) must give exactly the
        // one segment a sender would have built with the whole payload.
        TcpSegment expected = run.get(0).withPayload(joinedPayload(run)).withFlags(pushLast ? ACK | PSH : ACK);
        assertArrayEquals(expected.bytes(), completedSuperPacket(head, buffers), "the super-packet with its checksum completed");
    }

    /**
     * What the kernel gets for a joined run, its partial checksum completed (the sum of the L4
     * bytes with the field as it is, complemented): the first buffer ({@code head}, after finish),
     * then each other one's payload.
     */
    private static byte[] completedSuperPacket(byte[] head, List<PacketBuffer> buffers) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(head);
        for (int i = 1; i < buffers.size(); i++) {
            byte[] p = buffers.get(i).toByteArray();
            wire.write(p, HEADERS, p.length - HEADERS);
        }
        byte[] joined = wire.toByteArray();
        int completed = ~TcpSegment.sum(joined, 20, joined.length - 20, 0) & 0xffff;
        joined[36] = (byte) (completed >>> 8);
        joined[37] = (byte) completed;
        return joined;
    }

    /** The payloads of {@code run}, one after the other. */
    private static byte[] joinedPayload(List<TcpSegment> run) {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        for (TcpSegment t : run) payload.writeBytes(t.payload());
        return payload.toByteArray();
    }

    @Test
    void sequenceNumbersWrapAroundWithinARun() {
        TcpSegment s0 = first(-1000, MSS); // 0xfffffc18: the run crosses 2^32
        TcpSegment s1 = after(s0, MSS);
        TcpSegment s2 = after(s1, MSS);
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(load(s0)));
        assertTrue(c.append(load(s1)));
        assertTrue(c.append(load(s2)));
        assertEquals(3, c.count());
        assertFalse(c.append(load(after(s2, MSS).withSeq(s2.seq() + MSS + 1))), "a gap after the wrap");
    }

    /** A way to turn a segment fit for a run into one that is not: other bytes, or a GSO size on its buffer. */
    private record Spoiler(String name, Function<TcpSegment, byte[]> spoil, int gsoSize) {
        static Spoiler of(String name, Function<TcpSegment, TcpSegment> change) {
            return new Spoiler(name, s -> change.apply(s).bytes(), 0);
        }

        static Spoiler bytes(String name, Function<TcpSegment, byte[]> spoil) {
            return new Spoiler(name, spoil, 0);
        }

        static final Spoiler SUPER_PACKET = new Spoiler("a super-packet (gsoSize != 0)", TcpSegment::bytes, MSS);

        /** The spoiled {@code s} in a buffer of {@code test}'s pool. */
        PacketBuffer load(TcpCoalescerTest test, TcpSegment s) {
            return test.load(spoil.apply(s)).setGsoSize(gsoSize);
        }
    }

    /** Segments that neither start nor continue a run: what makes a segment unfit in itself. */
    private static List<Spoiler> unfitSegments() {
        return List.of(
                Spoiler.of("SYN", s -> s.withFlags(ACK | SYN)),
                Spoiler.of("FIN", s -> s.withFlags(ACK | FIN)),
                Spoiler.of("RST", s -> s.withFlags(ACK | RST)),
                Spoiler.of("URG", s -> s.withFlags(ACK | URG).withUrgent(10)),
                Spoiler.of("URG flag without a pointer", s -> s.withFlags(ACK | URG)),
                Spoiler.of("ECE", s -> s.withFlags(ACK | ECE)),
                Spoiler.of("CWR", s -> s.withFlags(ACK | CWR)),
                Spoiler.of("no ACK", s -> s.withFlags(0)),
                Spoiler.of("PSH without ACK", s -> s.withFlags(PSH)),
                Spoiler.of("an urgent pointer without URG", s -> s.withUrgent(10)),
                Spoiler.of("no payload", s -> s.withPayload(new byte[0])),
                Spoiler.of("IPv4 options (IHL 6)", s -> s.withIpOptions(new byte[] {1, 1, 1, 0})),
                Spoiler.of("a first fragment (MF)", s -> s.withFragmentWord(MF)),
                Spoiler.of("a later fragment (offset)", s -> s.withFragmentWord(DF | 185)),
                Spoiler.bytes("a bad TCP checksum (a payload bit flipped)", s -> {
                    byte[] p = s.bytes();
                    p[p.length - 3] ^= 0x40;
                    return p;
                }),
                Spoiler.bytes("a bad TCP checksum (the window changed)", s -> {
                    byte[] p = s.bytes();
                    p[34] ^= 0x01;
                    return p;
                }),
                Spoiler.bytes("a bad IPv4 header checksum", s -> {
                    byte[] p = s.bytes();
                    p[10] ^= 0x01;
                    return p;
                }),
                Spoiler.bytes("not TCP (protocol 17)", s -> {
                    byte[] p = s.bytes();
                    p[9] = 17;
                    return refillIpChecksum(p);
                }),
                Spoiler.bytes("IPv6 in the version field", s -> {
                    byte[] p = s.bytes();
                    p[0] = 0x65;
                    return p;
                }),
                Spoiler.bytes("a TCP data offset below 5", s -> {
                    byte[] p = s.bytes();
                    p[32] = 0x40;
                    return refillTcpChecksum(p);
                }),
                Spoiler.bytes("a TCP data offset beyond the packet", s -> {
                    byte[] p = s.withPayload(new byte[4]).bytes(); // 56 bytes; data offset 15 says 20 + 60
                    p[32] = (byte) 0xf0;
                    return refillTcpChecksum(p);
                }),
                Spoiler.bytes("an IPv4 total length short of the buffer (padding)", s -> {
                    byte[] p = s.bytes();
                    return Arrays.copyOf(p, p.length + 4);
                }),
                Spoiler.bytes("an IPv4 total length beyond the buffer", s -> {
                    byte[] p = s.bytes();
                    return Arrays.copyOf(p, p.length - 1);
                }));
    }

    /** Segments fit in themselves that must not continue this particular run. */
    private static List<Spoiler> otherFlowOrPlace() {
        return List.of(
                Spoiler.of("another source address", s -> s.withAddresses(A + 1, B)),
                Spoiler.of("another destination address", s -> s.withAddresses(A, B + 1)),
                Spoiler.of("another source port", s -> s.withPorts(40001, 5201)),
                Spoiler.of("another destination port", s -> s.withPorts(40000, 5202)),
                Spoiler.of("another acknowledgment number", s -> s.withAck(s.ack() + 1)),
                Spoiler.of("another TOS (DSCP)", s -> s.withTos(0x10)),
                Spoiler.of("another TOS (ECN CE)", s -> s.withTos(0x03)),
                Spoiler.of("another TTL", s -> s.withTtl(63)),
                Spoiler.of("no DF", s -> s.withFragmentWord(0)),
                Spoiler.of("other option bytes (TSval)", s -> s.withOptions(TcpSegment.timestamps(TSVAL + 1, TSECR))),
                Spoiler.of("other option bytes (TSecr)", s -> s.withOptions(TcpSegment.timestamps(TSVAL, TSECR + 1))),
                Spoiler.of("a shorter TCP header (no options)", s -> s.withOptions(new byte[0])),
                Spoiler.of("a longer TCP header (timestamps and 4 NOPs)", s -> s.withOptions(concat(TcpSegment.timestamps(TSVAL, TSECR), new byte[] {1, 1, 1, 1}))),
                Spoiler.of("a sequence gap of one byte", s -> s.withSeq(s.seq() + 1)),
                Spoiler.of("a sequence overlap of one byte", s -> s.withSeq(s.seq() - 1)),
                Spoiler.of("the previous segment again", s -> s.withSeq(s.seq() - MSS)),
                Spoiler.of("a segment longer than the first", s -> s.withPayload(TcpSegment.pattern(1, MSS + 1))));
    }

    @Test
    void eachSpoiledContinuationIsRefusedAndLeavesTheRunAsItWas() {
        List<Spoiler> spoilers = new ArrayList<>(unfitSegments());
        spoilers.addAll(otherFlowOrPlace());
        spoilers.add(Spoiler.SUPER_PACKET);
        for (Spoiler spoiler : spoilers) {
            TcpSegment s0 = first(7_000_000, MSS);
            TcpSegment s1 = after(s0, MSS);
            TcpSegment s2 = after(s1, MSS);
            PacketBuffer b0 = load(s0);
            TcpCoalescer c = new TcpCoalescer();
            assertTrue(c.start(b0), spoiler.name());
            assertTrue(c.append(load(s1)), spoiler.name());

            PacketBuffer bad = spoiler.load(this, s2);
            byte[] badBefore = bad.toByteArray();
            assertFalse(c.append(bad), "appended " + spoiler.name());
            assertEquals(2, c.count(), spoiler.name());
            assertEquals(MSS, c.mss(), spoiler.name());
            assertEquals(HEADERS, c.headerLength(), spoiler.name());
            assertEquals(MSS, c.lastPayload(), spoiler.name());
            assertArrayEquals(badBefore, bad.toByteArray(), spoiler.name() + ": the refused buffer changed");

            // The run goes on with the right segment as if the refused one had never been offered.
            assertTrue(c.append(load(s2)), "after " + spoiler.name());
            assertEquals(3, c.count(), spoiler.name());
            assertEquals(HEADERS + 3 * MSS, c.finish(b0), spoiler.name());
            releaseHeld();
        }
    }

    @Test
    void noUnfitSegmentStartsARun() {
        List<Spoiler> spoilers = new ArrayList<>(unfitSegments());
        spoilers.add(Spoiler.of("PSH on the first", s -> s.withFlags(ACK | PSH)));
        spoilers.add(Spoiler.bytes("a UDP datagram", s -> TestPackets.udp(A, B, 64, 40000, 5201, MSS)));
        spoilers.add(Spoiler.bytes("an ICMP echo request", s -> TestPackets.echoRequest(A, B, 64, 1, 1, MSS)));
        spoilers.add(Spoiler.SUPER_PACKET);
        for (Spoiler spoiler : spoilers) {
            PacketBuffer b = spoiler.load(this, first(1, MSS));
            byte[] before = b.toByteArray();
            assertFalse(new TcpCoalescer().start(b), "started with " + spoiler.name());
            assertArrayEquals(before, b.toByteArray(), spoiler.name() + ": start changed the buffer");
            releaseHeld();
        }
        // The unspoiled segment does start one: the refusals above are the spoilers' doing.
        assertTrue(new TcpCoalescer().start(load(first(1, MSS))));
    }

    @Test
    void nothingFollowsAShortSegment() {
        TcpSegment s0 = first(42, MSS);
        TcpSegment s1 = after(s0, 500);
        PacketBuffer b0 = load(s0);
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(b0));
        assertTrue(c.append(load(s1)));
        assertEquals(500, c.lastPayload());
        for (int length : new int[] {1, 499, 500, MSS}) {
            assertFalse(c.append(load(after(s1, length))), "a segment of " + length + " after a short one");
        }
        assertFalse(c.append(load(after(s1, 500).withFlags(ACK | PSH))), "a PSH segment after a short one");
        assertEquals(2, c.count());
        assertEquals(500, c.lastPayload());
        assertEquals(HEADERS + MSS + 500, c.finish(b0));
        assertEquals(ACK, b0.toByteArray()[33] & 0xff, "no PSH was joined");
    }

    @Test
    void nothingFollowsAPshSegmentAndFinishCarriesThePsh() {
        TcpSegment s0 = first(42, MSS);
        TcpSegment s1 = after(s0, MSS).withFlags(ACK | PSH);
        PacketBuffer b0 = load(s0);
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(b0));
        assertTrue(c.append(load(s1)), "a full segment with PSH ends a run, it joins it");
        assertFalse(c.append(load(after(s1, MSS))), "a full segment after PSH");
        assertFalse(c.append(load(after(s1, 10))), "a short segment after PSH");
        assertEquals(2, c.count());
        assertEquals(HEADERS + 2 * MSS, c.finish(b0));
        assertEquals(ACK | PSH, b0.toByteArray()[33] & 0xff);
    }

    @Test
    void atMostMaxSegmentsJoin() {
        TcpSegment s = first(5, 100);
        PacketBuffer b0 = load(s);
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(b0));
        for (int i = 1; i < TcpCoalescer.MAX_SEGMENTS; i++) {
            s = after(s, 100);
            assertTrue(c.append(load(s)), "segment " + i);
        }
        assertEquals(TcpCoalescer.MAX_SEGMENTS, c.count());
        assertFalse(c.append(load(after(s, 100))), "segment " + TcpCoalescer.MAX_SEGMENTS);
        assertFalse(c.append(load(after(s, 50))), "a short one after the last");
        assertEquals(TcpCoalescer.MAX_SEGMENTS, c.count());
        assertEquals(HEADERS + 100 * TcpCoalescer.MAX_SEGMENTS, c.finish(b0));
        assertEquals(ACK, b0.toByteArray()[33] & 0xff);
    }

    @Test
    void theRunStaysWithin65535BytesAndMayEndExactlyThere() {
        TcpSegment s = first(9, MSS);
        PacketBuffer b0 = load(s);
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.start(b0));
        for (int i = 1; i < 45; i++) {
            s = after(s, MSS);
            assertTrue(c.append(load(s)), "segment " + i);
        }
        int room = Ipv4Header.MAX_TOTAL_LEN - (HEADERS + 45 * MSS); // 323 bytes
        assertEquals(323, room);
        assertFalse(c.append(load(after(s, MSS))), "a full segment past 65535");
        assertFalse(c.append(load(after(s, room + 1))), "one byte past 65535");
        assertEquals(45, c.count());
        assertTrue(c.append(load(after(s, room))), "exactly 65535");
        assertEquals(46, c.count());
        assertEquals(Ipv4Header.MAX_TOTAL_LEN, c.finish(b0));
        byte[] head = b0.toByteArray();
        assertEquals(0xffff, TcpSegment.u16(head, 2));
        assertEquals(0xffff, TcpSegment.sum(head, 0, 20, 0), "IPv4 header checksum");
        assertEquals(TcpSegment.pseudoHeaderSum(A, B, 0xffff - 20), TcpSegment.u16(head, 36));
    }

    @Test
    void startBeginsAFreshRun() {
        TcpCoalescer c = new TcpCoalescer();
        TcpSegment s0 = first(100, MSS);
        assertTrue(c.start(load(s0)));
        assertTrue(c.append(load(after(s0, 10))));
        assertFalse(c.append(load(after(after(s0, 10), 10))), "closed by the short segment");
        // Another flow with a smaller segment size: nothing of the closed run is left over.
        TcpSegment t0 = first(200, 600).withPorts(40002, 5201);
        PacketBuffer b = load(t0);
        assertTrue(c.start(b));
        assertEquals(1, c.count());
        assertEquals(600, c.mss());
        assertEquals(600, c.lastPayload());
        assertFalse(c.append(load(after(s0, MSS))), "the old flow");
        assertTrue(c.append(load(after(t0, 600))));
        assertEquals(HEADERS + 1200, c.finish(b));
    }

    @Test
    void truncatedBuffersOfEveryLengthAreRefusedWithoutThrowing() {
        // 60 bytes: 20 IPv4, 32 TCP, 8 payload. Each truncation sits at the very end of its slot,
        // so a read past the data would leave the segment and throw.
        TcpSegment whole = first(77, 8);
        byte[] full = whole.bytes();
        assertEquals(60, full.length);
        TcpSegment previous = first(77 - MSS, MSS);
        for (int length = 0; length <= 60; length++) {
            byte[] cut = Arrays.copyOf(full, length);
            PacketBuffer b = pool.acquire();
            held.add(b);
            b.setData(b.capacity() - length, length);
            b.segment().asSlice(b.offset(), length).copyFrom(MemorySegment.ofArray(cut));
            boolean complete = length == 60;
            assertEquals(complete, new TcpCoalescer().start(b), "start with " + length + " bytes");
            TcpCoalescer c = new TcpCoalescer();
            assertTrue(c.start(load(previous)));
            assertEquals(complete, c.append(b), "append of " + length + " bytes");
            releaseHeld();
        }
        // Headers that agree with the shorter length: no payload left (up to 52 bytes) is no run either.
        for (int length = 40; length <= 52; length++) {
            byte[] p = Arrays.copyOf(full, length);
            p[2] = (byte) (length >>> 8);
            p[3] = (byte) length;
            refillIpChecksum(p);
            refillTcpChecksum(p);
            assertFalse(new TcpCoalescer().start(load(p)), "start with a consistent " + length + "-byte packet");
            releaseHeld();
        }
    }

    @Test
    void continuableIsAnAckOnlySegmentWithPayloadOfPlainIpv4() {
        TcpSegment s = first(1000, MSS);
        assertTrue(TcpCoalescer.continuable(load(s)));
        assertTrue(TcpCoalescer.continuable(load(s.withOptions(new byte[40]).withPayload(new byte[1]))), "the longest TCP header, one byte of data");
        assertFalse(TcpCoalescer.continuable(load(s.withFlags(ACK | PSH))), "PSH ends a run");
        assertFalse(TcpCoalescer.continuable(load(s.withFlags(ACK | FIN))));
        assertFalse(TcpCoalescer.continuable(load(s.withPayload(new byte[0]))), "a pure ACK");
        assertFalse(TcpCoalescer.continuable(load(s.withIpOptions(new byte[] {1, 1, 1, 0}))));
        assertFalse(TcpCoalescer.continuable(load(s.withFragmentWord(MF))));
        byte[] udp = s.bytes();
        udp[9] = 17;
        assertFalse(TcpCoalescer.continuable(load(udp)), "not TCP");
        assertFalse(TcpCoalescer.continuable(load(s).setGsoSize(MSS)), "a super-packet");
        byte[] cut = Arrays.copyOf(s.bytes(), 39);
        assertFalse(TcpCoalescer.continuable(load(cut)), "shorter than the two headers");
        byte[] headerBeyond = Arrays.copyOf(s.withOptions(new byte[0]).withPayload(new byte[1]).bytes(), 41);
        headerBeyond[32] = (byte) 0xf0; // data offset 15: a 60-byte TCP header in 21 bytes of IP payload
        assertFalse(TcpCoalescer.continuable(load(headerBeyond)), "a TCP header longer than the packet");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
