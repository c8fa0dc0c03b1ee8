package io.dataplane.tun.testing;

import static io.dataplane.core.testing.TcpSegment.u16;
import static io.dataplane.core.testing.TcpSegment.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.tun.CapturingTunDevice;
import io.dataplane.tun.VirtioNetHeader;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a TUN with a virtio_net_hdr takes, checked on the bytes the real writer put on a
 * {@link CapturingTunDevice}'s descriptor, by the RFC 1071 loop of {@link TcpSegment} rather than the product's checksum code:
 *
 * <ul>
 *   <li>every packet: IPv4, its total length the bytes written, its header checksum good;
 *   <li>a single packet goes as it was given, behind a zero header, or behind NEEDS_CSUM at its
 *       TCP or UDP checksum if that holds the pseudo-header sum, which completing makes good;
 *   <li>a super-packet the decapsulation forwarded whole goes behind a GSO header of its protocol
 *       (TCPV4 or UDP_L4) with its segment size, NEEDS_CSUM at its L4 checksum, which holds the
 *       pseudo-header sum over its length, and headers within it;
 *   <li>a joined super-packet: GSO TCPV4, NEEDS_CSUM at the TCP checksum, {@code hdr_len} the
 *       headers and {@code gso_size} the first segment's payload; its headers the first segment's
 *       (length, checksums and PSH aside), its payload the joined segments' payloads in order,
 *       its completed checksum good; and the segments joined are each of good (or partial)
 *       checksums, of one flow, in sequence, of full size but the last, with ACK and PSH only on
 *       the last;
 *   <li>every packet given is written but a super-packet that is not TCP or UDP over IPv4 whose
 *       headers it holds (checked as the messages are matched to the packets given, in
 *       {@link CapturingTunDevice}).
 * </ul>
 */
final class TunWriteChecks {
    private static final int NEEDS_CSUM = VirtioNetHeader.F_NEEDS_CSUM;
    private static final int TCP = 6;
    private static final int UDP = 17;

    private TunWriteChecks() {}

    // The fuzz runs' TUNs, one per inner MTU and io_uring or not, cleared for each run; they last as long as the JVM.
    private static final Map<List<Integer>, CapturingTunDevice> DEVICES = new HashMap<>();

    /**
     * The TUN of a fuzz run, no calls in it yet: a {@link CapturingTunDevice} for {@code tunnel}'s
     * inner MTU, its batches of writes through io_uring if {@code ioUring} (skipped, or failed where
     * skips are failures, where the kernel refuses io_uring). One thread.
     */
    static CapturingTunDevice device(TunnelUnderTest tunnel, boolean ioUring) {
        List<Integer> key = List.of(tunnel.innerMtu(), ioUring ? 1 : 0);
        CapturingTunDevice spent = DEVICES.get(key);
        if (spent != null && spent.hung()) { // an earlier run's write hung and was ended by closing the device
            DEVICES.remove(key);
            spent.close();
        }
        CapturingTunDevice tun = DEVICES.computeIfAbsent(key, k -> new CapturingTunDevice("fuzz0", tunnel.innerMtu(), ioUring));
        Prerequisites.require(tun.ioUring() == ioUring, "the kernel refuses io_uring (kernel.io_uring_disabled, or a seccomp filter): "
                + "the TUN's io_uring writes cannot be fuzzed");
        tun.clear();
        return tun;
    }

    static void check(List<CapturingTunDevice.Call> calls) {
        for (CapturingTunDevice.Call call : calls) {
            for (CapturingTunDevice.Written w : call.written()) {
                if (w.header() == null) continue; // a super-packet no virtio_net_hdr can carry: the device matched it
                VirtioNetHeader h = new VirtioNetHeader().wrap(MemorySegment.ofArray(w.header()), 0);
                byte[] p = w.packet();
                ipv4(p);
                if (w.run() > 1) {
                    joined(h, p, call.given().subList(w.first(), w.first() + w.run()));
                } else if (call.gsoSizes()[w.first()] != 0) {
                    whole(h, p, call.given().get(w.first()), call.gsoSizes()[w.first()]);
                } else {
                    single(h, p, call.given().get(w.first()));
                }
            }
        }
    }

    private static void ipv4(byte[] p) {
        assertTrue(p.length >= 20 && (p[0] & 0xf0) == 0x40, "an IPv4 packet");
        int ihl = (p[0] & 0x0f) * 4;
        assertTrue(ihl >= 20 && ihl <= p.length, "IHL " + ihl + " within " + p.length + " bytes");
        assertEquals(p.length, u16(p, 2), "IPv4 total length against the bytes written");
        assertEquals(0xffff, TcpSegment.sum(p, 0, ihl, 0), "IPv4 header checksum");
    }

    private static void single(VirtioNetHeader h, byte[] p, byte[] given) {
        assertArrayEquals(given, p, "a single packet is written as it was given");
        assertEquals(VirtioNetHeader.GSO_NONE, h.gsoType());
        assertEquals(0, h.gsoSize());
        if ((h.flags() & NEEDS_CSUM) == 0) {
            assertEquals(List.of(0, 0, 0, 0), List.of(h.flags(), h.hdrLen(), h.csumStart(), h.csumOffset()), "no offload: a zero header");
            return;
        }
        int ihl = (p[0] & 0x0f) * 4;
        assertEquals(ihl, h.csumStart(), "csum_start at the L4 header");
        int protocol = p[9] & 0xff;
        assertEquals(protocol == TCP ? 16 : protocol == UDP ? 6 : -1, h.csumOffset(), "csum_offset of protocol " + protocol);
        assertTrue(h.csumStart() + h.csumOffset() + 2 <= p.length, "checksum field within the packet");
        assertEquals(pseudoSum(p, protocol), u16(p, ihl + h.csumOffset()), "NEEDS_CSUM only where the field holds the pseudo-header sum");
        completesGood(p, ihl, h.csumOffset(), protocol);
    }

    private static void whole(VirtioNetHeader h, byte[] p, byte[] given, int gsoSize) {
        int ihl = (p[0] & 0x0f) * 4;
        int protocol = p[9] & 0xff;
        assertTrue(protocol == TCP || protocol == UDP, "a super-packet of TCP or UDP, not " + protocol);
        int csumOffset = protocol == TCP ? 16 : 6;
        int l4Header = protocol == TCP ? (p[ihl + 12] >>> 4 & 0x0f) * 4 : 8;
        assertEquals(protocol == TCP ? VirtioNetHeader.GSO_TCPV4 : VirtioNetHeader.GSO_UDP_L4, h.gsoType(), "gso_type");
        assertEquals(NEEDS_CSUM, h.flags(), "flags");
        assertEquals(gsoSize, h.gsoSize(), "gso_size");
        assertTrue(gsoSize > 0, "a segment size");
        assertEquals(ihl, h.csumStart(), "csum_start");
        assertEquals(csumOffset, h.csumOffset(), "csum_offset");
        assertEquals(ihl + l4Header, h.hdrLen(), "hdr_len");
        assertTrue(h.hdrLen() <= p.length, "headers within the packet");
        byte[] unchanged = p.clone();
        unchanged[ihl + csumOffset] = given[ihl + csumOffset];
        unchanged[ihl + csumOffset + 1] = given[ihl + csumOffset + 1];
        assertArrayEquals(given, unchanged, "a super-packet is written as given, its L4 checksum field aside");
        assertEquals(pseudoSum(p, protocol), u16(p, ihl + csumOffset), "the pseudo-header sum in the L4 checksum field");
    }

    private static void joined(VirtioNetHeader h, byte[] p, List<byte[]> segments) {
        byte[] first = segments.get(0);
        int thl = (first[32] >>> 4 & 0x0f) * 4;
        int headers = 20 + thl;
        int mss = first.length - headers;
        assertEquals(0x45, first[0] & 0xff, "joined segments have IPv4 headers without options");
        assertEquals(NEEDS_CSUM, h.flags(), "flags");
        assertEquals(VirtioNetHeader.GSO_TCPV4, h.gsoType(), "gso_type");
        assertEquals(headers, h.hdrLen(), "hdr_len");
        assertEquals(mss, h.gsoSize(), "gso_size: the first segment's payload");
        assertEquals(20, h.csumStart(), "csum_start");
        assertEquals(16, h.csumOffset(), "csum_offset");
        assertTrue(p.length <= 65535, "a super-packet within 64 KiB");

        int lastFlags = segments.getLast()[33] & 0xff;
        int seq = u32(first, 24);
        byte[] payload = new byte[0];
        for (int k = 0; k < segments.size(); k++) {
            byte[] s = segments.get(k);
            String which = "segment " + k + " of " + segments.size();
            assertEquals(0xffff, TcpSegment.sum(s, 0, 20, 0), which + ": IPv4 checksum good");
            int field = u16(s, 36);
            assertTrue(TcpSegment.sum(s, 20, s.length - 20, pseudoSum(s, TCP)) == 0xffff || field == pseudoSum(s, TCP),
                    which + ": TCP checksum good or partial");
            assertEquals(0x45, s[0] & 0xff, which + ": IPv4 without options");
            assertEquals(0, u16(s, 6) & 0x3fff, which + ": not a fragment");
            assertEquals(TCP, s[9], which + ": TCP");
            assertArrayEquals(Arrays.copyOfRange(first, 12, 24), Arrays.copyOfRange(s, 12, 24), which + ": addresses and ports");
            assertEquals(u32(first, 28), u32(s, 28), which + ": acknowledgment number");
            assertEquals(thl, (s[32] >>> 4 & 0x0f) * 4, which + ": TCP header length");
            assertEquals(seq, u32(s, 24), which + ": sequence number");
            int data = s.length - headers;
            assertTrue(data > 0 && data <= mss, which + ": payload " + data + " of segment size " + mss);
            if (k < segments.size() - 1) assertEquals(mss, data, which + ": full size");
            int flags = s[33] & 0xff;
            assertTrue(flags == TcpSegment.ACK || (k == segments.size() - 1 && flags == (TcpSegment.ACK | TcpSegment.PSH)), which + ": flags " + flags);
            seq += data;
            byte[] more = Arrays.copyOf(payload, payload.length + data);
            System.arraycopy(s, headers, more, payload.length, data);
            payload = more;
        }
        assertArrayEquals(payload, Arrays.copyOfRange(p, headers, p.length), "the payload is the segments' payloads in order");

        byte[] expected = Arrays.copyOf(first, headers);
        byte[] got = Arrays.copyOf(p, headers);
        for (int at : new int[] {2, 3, 10, 11, 36, 37}) expected[at] = got[at] = 0; // lengths and checksums, checked above and below
        expected[33] = (byte) (first[33] | lastFlags & TcpSegment.PSH);
        assertArrayEquals(expected, got, "the first segment's headers, PSH if the last had it");
        assertEquals(pseudoSum(p, TCP), u16(p, 36), "the pseudo-header sum in the TCP checksum field");
        completesGood(p, 20, 16, TCP);
    }

    // Completes the checksum as the kernel does for NEEDS_CSUM and checks it as a receiver would.
    private static void completesGood(byte[] p, int start, int csumOffset, int protocol) {
        byte[] c = p.clone();
        int sum = ~TcpSegment.sum(c, start, c.length - start, 0) & 0xffff;
        c[start + csumOffset] = (byte) (sum >>> 8);
        c[start + csumOffset + 1] = (byte) sum;
        int pseudo = l4PseudoSum(u32(c, 12), u32(c, 16), protocol, c.length - start);
        assertEquals(0xffff, TcpSegment.sum(c, start, c.length - start, pseudo), "the completed L4 checksum verifies");
    }

    private static int pseudoSum(byte[] p, int protocol) {
        int ihl = (p[0] & 0x0f) * 4;
        return l4PseudoSum(u32(p, 12), u32(p, 16), protocol, u16(p, 2) - ihl);
    }

    private static int l4PseudoSum(int src, int dst, int protocol, int length) {
        long s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        return (int) s;
    }
}
