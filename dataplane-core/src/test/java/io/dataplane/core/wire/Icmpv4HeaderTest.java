package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Icmpv4HeaderTest {
    /** The echo request inside frame 1 of kernel-vxlan-flannel1-ping.pcap (ping's default 56 data bytes). */
    static final byte[] GOLDEN_ECHO = Bytes.of(
            0x08,             // type 8, echo request
            0x00,             // code 0
            0x02, 0x43,       // checksum (tshark: correct)
            0x56, 0xcd,       // identifier 0x56cd
            0x00, 0x01,       // sequence 1
            // data: ping's struct timeval, then bytes 0x10..0x37
            0x1f, 0x28, 0x01, 0x6b, 0x00, 0x00, 0x00, 0x00, 0xb2, 0x88, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
            0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
            0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37);
    static final Icmpv4Repr GOLDEN_ECHO_REPR = Icmpv4Repr.echoRequest(0x56cd, 1);

    /**
     * "Fragmentation needed, next-hop MTU 1450" for a 1500-byte VXLAN datagram 192.0.2.1 -> 192.0.2.2
     * with DF. Checksums summed by an independent RFC 1071 loop; tshark calls both correct.
     */
    static final byte[] GOLDEN_FRAG_NEEDED = Bytes.of(
            0x03,             // type 3, destination unreachable
            0x04,             // code 4, fragmentation needed and DF set
            0x2e, 0x38,       // checksum
            0x00, 0x00,       // unused
            0x05, 0xaa,       // next-hop MTU 1450 (RFC 1191)
            // quoted IPv4 header
            0x45, 0x00, 0x05, 0xdc,  // version 4, IHL 5, total length 1500
            0x12, 0x34, 0x40, 0x00,  // identification 0x1234, DF
            0x40, 0x11, 0x9e, 0xd9,  // TTL 64, UDP, header checksum
            0xc0, 0x00, 0x02, 0x01,  // source 192.0.2.1
            0xc0, 0x00, 0x02, 0x02,  // destination 192.0.2.2
            // first 8 bytes of the original datagram: its UDP header
            0xa2, 0x39, 0x21, 0x18,  // ports 41529 -> 8472
            0x05, 0xc8, 0x00, 0x00); // length 1480, no checksum
    static final Icmpv4Repr GOLDEN_FRAG_NEEDED_REPR = Icmpv4Repr.fragmentationNeeded(1450);

    @Test
    void deconstructEcho() {
        Icmpv4Header icmp = new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_ECHO), 0);
        assertEquals(Icmpv4Header.VALID, icmp.validate(64));
        assertEquals(Icmpv4Header.TYPE_ECHO_REQUEST, icmp.type());
        assertEquals(0, icmp.code());
        assertEquals(0x0243, icmp.checksum());
        assertEquals(0x56cd, icmp.identifier());
        assertEquals(1, icmp.sequence());
        assertEquals(0x56cd0001, icmp.restOfHeader());
        assertFalse(icmp.isError());
        assertEquals(8, icmp.payloadOffset());
        assertTrue(icmp.verifyChecksum(64));
        assertEquals(0x0243, icmp.computeChecksum(64));
    }

    @Test
    void constructEcho() {
        byte[] bytes = Arrays.copyOf(GOLDEN_ECHO, 64);
        Arrays.fill(bytes, 0, 8, (byte) 0);
        new Icmpv4Header().wrap(MemorySegment.ofArray(bytes), 0)
                .setType(8).setCode(0).setIdentifier(0x56cd).setSequence(1).fillChecksum(64);
        assertArrayEquals(GOLDEN_ECHO, bytes);
    }

    @Test
    void parseEcho() {
        Icmpv4Repr repr = Icmpv4Repr.parse(new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_ECHO), 0));
        assertEquals(GOLDEN_ECHO_REPR, repr);
        assertEquals(0x56cd, repr.identifier());
        assertEquals(1, repr.sequence());
    }

    @Test
    void emitEcho() {
        byte[] bytes = Arrays.copyOf(GOLDEN_ECHO, 64);
        Arrays.fill(bytes, 0, 8, (byte) 0x99);
        GOLDEN_ECHO_REPR.emit(new Icmpv4Header().wrap(MemorySegment.ofArray(bytes), 0), 64);
        assertArrayEquals(GOLDEN_ECHO, bytes);
    }

    @Test
    void deconstructFragmentationNeeded() {
        Icmpv4Header icmp = new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_FRAG_NEEDED), 0);
        assertEquals(Icmpv4Header.VALID, icmp.validate(36));
        assertEquals(Icmpv4Header.TYPE_DEST_UNREACHABLE, icmp.type());
        assertEquals(Icmpv4Header.CODE_FRAGMENTATION_NEEDED, icmp.code());
        assertEquals(1450, icmp.nextHopMtu());
        assertTrue(icmp.isError());
        assertTrue(icmp.verifyChecksum(36));
        Ipv4Header quoted = icmp.quotedHeader(new Ipv4Header());
        assertEquals(8, quoted.offset());
        assertEquals(1500, quoted.totalLength());
        assertEquals("192.0.2.1", Ipv4Address.toString(quoted.srcAddr()));
        assertEquals(Ipv4Header.PROTO_UDP, quoted.protocol());
        assertTrue(quoted.dontFragment());
        assertTrue(quoted.verifyChecksum());
        UdpHeader quotedUdp = new UdpHeader().wrap(quoted.segment(), quoted.payloadOffset());
        assertEquals(8472, quotedUdp.dstPort());
    }

    @Test
    void constructFragmentationNeeded() {
        byte[] bytes = Arrays.copyOf(GOLDEN_FRAG_NEEDED, 36);
        Arrays.fill(bytes, 0, 8, (byte) 0);
        new Icmpv4Header().wrap(MemorySegment.ofArray(bytes), 0).setType(3).setCode(4).setNextHopMtu(1450).fillChecksum(36);
        assertArrayEquals(GOLDEN_FRAG_NEEDED, bytes);
    }

    @Test
    void parseFragmentationNeeded() {
        Icmpv4Repr repr = Icmpv4Repr.parse(new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_FRAG_NEEDED), 0));
        assertEquals(GOLDEN_FRAG_NEEDED_REPR, repr);
        assertEquals(1450, repr.nextHopMtu());
    }

    @Test
    void emitFragmentationNeeded() {
        byte[] bytes = Arrays.copyOf(GOLDEN_FRAG_NEEDED, 36);
        Arrays.fill(bytes, 0, 8, (byte) 0x55);
        GOLDEN_FRAG_NEEDED_REPR.emit(new Icmpv4Header().wrap(MemorySegment.ofArray(bytes), 0), 36);
        assertArrayEquals(GOLDEN_FRAG_NEEDED, bytes);
    }

    @Test
    void truncated() {
        for (int n = 0; n < 8; n++) {
            Icmpv4Header icmp = new Icmpv4Header().wrap(MemorySegment.ofArray(Arrays.copyOf(GOLDEN_ECHO, n)), 0);
            assertEquals(DropReason.TRUNCATED.ordinal(), icmp.validate(n), "length " + n);
            assertEquals(DropReason.TRUNCATED.ordinal(), icmp.validate(64), "segment of " + n);
        }
        assertEquals(Icmpv4Header.VALID, new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_ECHO), 0).validate(8), "echo without data");
    }

    @Test
    void errorWithoutAWholeQuotedHeader() {
        for (int n = 8; n < 28; n++) {
            Icmpv4Header icmp = new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_FRAG_NEEDED), 0);
            assertEquals(DropReason.ICMP_BAD_QUOTE.ordinal(), icmp.validate(n), "length " + n);
        }
        assertEquals(Icmpv4Header.VALID, new Icmpv4Header().wrap(MemorySegment.ofArray(GOLDEN_FRAG_NEEDED), 0).validate(28),
                "the quoted header without the 8 data bytes is still usable");
        byte[] bytes = Arrays.copyOf(GOLDEN_FRAG_NEEDED, 36);
        MemorySegment s = MemorySegment.ofArray(bytes);
        Icmpv4Header icmp = new Icmpv4Header().wrap(s, 0);
        bytes[8] = 0x65; // quoted version 6
        assertEquals(DropReason.ICMP_BAD_QUOTE.ordinal(), icmp.validate(36));
        bytes[8] = 0x44; // quoted IHL 4
        assertEquals(DropReason.ICMP_BAD_QUOTE.ordinal(), icmp.validate(36));
        bytes[8] = 0x47; // quoted IHL 7: 28 bytes, exactly the 36 - 8 available
        assertEquals(Icmpv4Header.VALID, icmp.validate(36));
        bytes[8] = 0x48; // quoted IHL 8: 32 bytes, beyond them
        assertEquals(DropReason.ICMP_BAD_QUOTE.ordinal(), icmp.validate(36));
        // Every error type quotes; an echo does not care what follows it.
        bytes[8] = 0x45;
        for (int type : new int[] {3, 4, 5, 11, 12}) {
            icmp.setType(type);
            assertEquals(Icmpv4Header.VALID, icmp.validate(36), "type " + type);
            assertEquals(DropReason.ICMP_BAD_QUOTE.ordinal(), icmp.validate(20), "type " + type);
        }
        icmp.setType(Icmpv4Header.TYPE_ECHO_REPLY);
        assertEquals(Icmpv4Header.VALID, icmp.validate(20));
    }

    @Test
    void validateNeverThrows() {
        SplittableRandom random = new SplittableRandom(792);
        Icmpv4Header icmp = new Icmpv4Header();
        Ipv4Header quoted = new Ipv4Header();
        for (int round = 0; round < 100_000; round++) {
            byte[] bytes = new byte[random.nextInt(48)];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) random.nextInt(256);
            if (bytes.length > 0) bytes[0] = (byte) random.nextInt(14);
            if (bytes.length > 8 && random.nextBoolean()) bytes[8] = (byte) (0x40 | random.nextInt(16));
            int available = random.nextInt(8) == 0 ? random.nextInt() : random.nextInt(50);
            icmp.wrap(MemorySegment.ofArray(bytes), 0);
            if (icmp.validate(available) == Icmpv4Header.VALID) {
                Icmpv4Repr.parse(icmp);
                int length = (int) Math.min(available, bytes.length);
                icmp.verifyChecksum(length);
                if (icmp.isError()) {
                    icmp.quotedHeader(quoted);
                    assertTrue(8 + quoted.headerLength() <= length);
                    quoted.computeChecksum();
                    Ipv4Repr.parse(quoted.setTotalLength(quoted.headerLength()));
                }
            }
        }
    }

    @Test
    void reprRejectsBadFields() {
        assertEquals("next-hop MTU out of range: nextHopMtu=67 (68-65535)",
                assertThrows(IllegalArgumentException.class, () -> Icmpv4Repr.fragmentationNeeded(67)).getMessage());
        assertEquals("ICMP identifier out of range: identifier=65536 (0-65535)",
                assertThrows(IllegalArgumentException.class, () -> Icmpv4Repr.echoReply(65536, 0)).getMessage());
        assertEquals("ICMP type out of range: type=256 (0-255)",
                assertThrows(IllegalArgumentException.class, () -> new Icmpv4Repr(256, 0, 0)).getMessage());
        assertEquals(new Icmpv4Repr(11, 0, 0), Icmpv4Repr.timeExceeded(Icmpv4Header.CODE_TTL_EXCEEDED));
        assertEquals(new Icmpv4Repr(3, 1, 0), Icmpv4Repr.destinationUnreachable(Icmpv4Header.CODE_HOST_UNREACHABLE));
        assertEquals(new Icmpv4Repr(0, 0, 0xffff0002), Icmpv4Repr.echoReply(0xffff, 2));
        assertEquals(0xffff, Icmpv4Repr.echoReply(0xffff, 2).identifier());
    }
}
