package io.dataplane.tun.testing;

import static io.dataplane.core.testing.TcpSegment.u16;
import static io.dataplane.core.testing.TcpSegment.u32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.pipeline.SendPath;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.CapturingTunDevice;
import io.dataplane.tun.VirtioNetHeader;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes a tunnel's whole send path, as a node runs it: packets as a TUN with a virtio_net_hdr
 * reads them (the real device's reader on a descriptor, {@link CapturingTunDevice#read}) through
 * the real {@code EgressStage} (underlay MTU, route lookup, encapsulation, super-packets prepared
 * for cutting, ICMP errors into the real TUN writer) to a transport that sends each super-packet
 * through the real {@code SegmentBatch.send}, and each train an encapsulation sealed through the
 * real {@code SegmentBatch.sendTrain}, over loopback, and keeps the datagrams that arrive ({@link
 * CapturingTransport}): with UDP GSO for a UDP tunnel, one datagram per segment for a raw IP
 * tunnel ({@link TunnelUnderTest#rawIp}), as each one's transport sends. What a datagram carries is what the tunnel's peer takes
 * out of it ({@link TunnelUnderTest#inners}: opened, where the tunnel seals).
 * The input is a script (zeros once spent):
 *
 * <pre>
 * u16               bit 14: the TUN refuses ({@link CapturingTunDevice#refuse}), then
 *   u8, u8            its send buffer 2048 + 256 * u8 bytes (SO_SNDBUF); its reader pausing
 *                   25 * (u8 &gt;&gt;&gt; 3) microseconds after every 1 + (u8 &amp; 7) messages;
 *                   the other 15 bits: the underlay MTU, none if a multiple of 3, else
 *                   200 + it % 1400; bit 15 also: the TUN's batches of writes are plain
 *                   writes, else io_uring's
 * then, per step    a batch of 1 + op % 4 reads (1 + op % 16 where the TUN refuses), each:
 *   kind            kind &amp; 3: 0 any header and any bytes; 1 one TCP packet (a zero header, or
 *                   NEEDS_CSUM with a partial checksum if bit 2); 2, 3 a TCP super-packet with
 *                   the header a kernel writes (GSO TCPV4, NEEDS_CSUM, its segment size);
 *                   bit 3: to an address the input names, else to a pod of the peer
 *   then            sizes, and for generated packets up to 3 mutations (a header byte set, a
 *                   packet byte flipped, a cut)
 * </pre>
 *
 * <p>What the TUN is given here is ICMP errors, at most 96 bytes each: the descriptor never refuses
 * one as too long for its send buffer (EMSGSIZE), but a batch of more of them than the smallest
 * buffer holds (six) meets EAGAIN whenever its reader pauses, and the writer waits for room in the
 * middle of the egress stage's batch. Hence the larger batches where the TUN refuses.
 *
 * Then, for every input:
 * <ul>
 *   <li>no exception, no failure recorded by a TUN write, every buffer back in the pool;
 *   <li>packets read == handed to the transport + dropped (but {@code TUN_WRITE_FAILED}) + refused
 *       by the transport ({@code SEND_FAILED}, as the socket transport counts a buffer {@code
 *       SegmentBatch} refuses) + ICMP errors given to the TUN not counted as drops: an error the TUN
 *       refuses is counted once, as given; every error given counted as ingress, and every one the
 *       TUN did not take as {@code TUN_WRITE_FAILED}; each write returned, and the descriptor's
 *       reader stopped, within 10 s (see {@link CapturingTunDevice}); the transport refuses exactly
 *       the super-packets with a datagram longer than its socket sends (one segment of a nearly 64 KiB inner packet:
 *       EMSGSIZE over 65507 bytes of UDP payload, or over a raw IPv4 datagram of 65535); the
 *       egress count is the datagrams that arrived and those the refused ones would have made;
 *   <li>every buffer handed over goes to the peer, and every datagram carries inner bytes (opens);
 *   <li>what was handed over is, in order, packets as read: a single packet's datagram carries it
 *       (TOS, TTL and IPv4 checksum aside; zero-padded where the tunnel pads), or its one segment
 *       (a super-packet of one segment); a super-packet's datagrams each carry a valid TCP/IPv4
 *       segment (total length, both checksums by the RFC 1071 loop, sequence numbers in order, no
 *       segment longer than the first), their payloads the super-packet's in order (up to its IPv4
 *       total length);
 *   <li>the ICMP errors written into the TUN are packets a TUN takes ({@link TunWriteChecks}), their
 *       ICMP checksum good; where it refuses, every error missing from the descriptor one of a run too
 *       long together for its send buffer, the others whole and in order.
 * </ul>
 */
public final class SendFuzzing {
    static final int POD_SRC = ReceiveFuzzing.POD_DST;
    static final int POD_DST = ReceiveFuzzing.POD_SRC;
    private static final int MAX_STEPS = 16;
    private static final int REFUSING = 0x4000; // of the script's first u16
    private static final int READS = 4; // most reads in a batch
    private static final int READS_REFUSING = 16; // where the TUN refuses: more ICMP errors in one write than its smallest buffer holds
    private static final int MAX_SUPER_PACKET = 65535;
    private static final PacketPool POOL = new PacketPool(16, 65536 + PacketPool.DEFAULT_HEADROOM, PacketPool.DEFAULT_HEADROOM);

    private SendFuzzing() {}

    /** Runs the script {@code input} through {@code tunnel}'s send path and checks what came out. */
    public static void run(TunnelUnderTest tunnel, byte[] input) {
        try (CapturingTransport transport = new CapturingTransport(false, !tunnel.rawIp())) {
            run(tunnel, input, transport);
        }
    }

    private static void run(TunnelUnderTest tunnel, byte[] input, CapturingTransport transport) {
        Script in = new Script(input);
        int head = in.u16();
        int mtu = head & ~REFUSING;
        CapturingTunDevice tun = TunWriteChecks.device(tunnel, (mtu & 0x8000) == 0);
        boolean refusing = (head & REFUSING) != 0;
        if (refusing) {
            int buffer = in.u8();
            int stalls = in.u8();
            tun.refuse(2048 + 256 * buffer, 1 + (stalls & 7), 25 * (stalls >>> 3));
        }
        RouteTable routes = new RouteTable();
        routes.add(Ipv4Prefix.parse("10.244.2.0/24"), tunnel.nextHop());
        SendPath path = new SendPath(transport, tunnel.encapsulation(), routes, tun);
        if (mtu % 3 != 0) path.underlayMtu(200 + mtu % 1400);
        List<byte[]> read = new ArrayList<>();
        List<Boolean> readSuperPackets = new ArrayList<>(); // the TUN's header made each a super-packet
        PacketBuffer[] batch = new PacketBuffer[READS_REFUSING];
        for (int step = 0; step < MAX_STEPS && in.more(); step++) {
            int n = 0;
            for (int k = 1 + in.u8() % (refusing ? READS_REFUSING : READS); k > 0; k--) {
                PacketBuffer p = POOL.acquire();
                if (p == null) break;
                Read r = next(in, tunnel);
                tun.read(p, r.header, r.packet);
                read.add(p.toByteArray());
                readSuperPackets.add(p.gsoSize() != 0);
                batch[n++] = p;
            }
            path.forward(batch, n);
        }
        if (path.failure() != null) throw new AssertionError("a TUN write failed", path.failure());
        assertEquals(0, POOL.outstanding(), "buffers outstanding after the input");
        if (transport.beyondTestBed) return; // a super-packet of more datagrams than an unprivileged socket holds

        Counters c = path.counters();
        List<byte[]> replies = new ArrayList<>();
        for (CapturingTunDevice.Call call : tun.calls()) replies.addAll(call.given());
        long fragmentationNeeded = replies.stream().filter(r -> r.length > 21 && r[9] == 1 && r[20] == 3 && r[21] == 4).count();
        long refused = transport.counters().droppedTotal(); // SEND_FAILED: what SegmentBatch refused
        long tunRefused = c.dropped(DropReason.TUN_WRITE_FAILED); // a reply given to the TUN, counted again if it refused it
        assertEquals(replies.size(), c.ingressPackets(), "ICMP errors counted as ingress against those given to the TUN");
        assertEquals(replies.size() - tun.accepted(), tunRefused,
                "ICMP errors given to the TUN that it did not take (" + tun.refused() + " refused) against TUN_WRITE_FAILED");
        assertEquals(read.size(), transport.sent.size() + c.droppedTotal() - tunRefused + refused + replies.size() - fragmentationNeeded,
                "packets read against sent " + transport.sent.size() + " + dropped " + c.droppedTotal() + " (" + tunRefused
                        + " of them ICMP errors the TUN refused) + refused by the transport " + refused + " + replied " + replies.size());
        assertEquals(transport.tooLong, refused, "super-packets and trains SegmentBatch refused (SEND_FAILED) against those with a datagram"
                + " over " + transport.largestDatagram() + " bytes, which the kernel refuses (EMSGSIZE): the stage hands over only"
                + " what it can cut, and loopback takes the rest");
        assertEquals(transport.sent.stream().mapToInt(s -> s.datagrams().size()).sum() + transport.refusedDatagrams, c.egressPackets(),
                "egress packets against datagrams that arrived + those of what the transport refused");
        inOrder(tunnel, read, readSuperPackets, opened(tunnel, transport.sent));
        TunWriteChecks.check(tun.calls());
        for (byte[] r : replies) {
            if (r.length > 20 && r[9] == 1) assertEquals(0xffff, TcpSegment.sum(r, (r[0] & 0x0f) * 4, r.length - (r[0] & 0x0f) * 4, 0), "ICMP checksum");
        }
    }

    // What was sent, each datagram replaced by the inner bytes it carries (opened, where the tunnel seals), in the order sent.
    private static List<CapturingTransport.Sent> opened(TunnelUnderTest tunnel, List<CapturingTransport.Sent> sent) {
        List<CapturingTransport.Sent> opened = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            CapturingTransport.Sent s = sent.get(i);
            assertEquals(Ipv4Address.toString(tunnel.peer()) + ":" + tunnel.peerPort(), Ipv4Address.toString(s.peerAddress()) + ":" + s.peerPort(),
                    "buffer " + i + " goes to the peer");
            List<byte[]> inners = new ArrayList<>();
            for (int k = 0; k < s.datagrams().size(); k++) {
                byte[] inner = tunnel.inner(s.datagrams().get(k));
                if (inner == null) fail("datagram " + k + " of buffer " + i + " handed to the transport carries no inner packet (does not open)");
                inners.add(inner);
            }
            opened.add(new CapturingTransport.Sent(s.superPacket(), inners, s.peerAddress(), s.peerPort()));
        }
        return opened;
    }

    private record Read(byte[] header, byte[] packet) {}

    private static Read next(Script in, TunnelUnderTest tunnel) {
        int kind = in.u8();
        int dst = (kind & 8) != 0 ? in.u32() : POD_DST;
        byte[] header = new byte[VirtioNetHeader.LENGTH];
        VirtioNetHeader h = new VirtioNetHeader().wrap(MemorySegment.ofArray(header), 0);
        byte[] p;
        switch (kind & 3) {
            case 0 -> {
                header = in.bytes(VirtioNetHeader.LENGTH);
                p = in.bytes(in.u16() % 3000);
                return new Read(header, p);
            }
            case 1 -> {
                p = segment(dst, in.u16() % (tunnel.innerMtu() - 52));
                if ((kind & 4) != 0) {
                    partial(p);
                    h.set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, 0, 0, 20, 16);
                }
            }
            default -> {
                p = segment(dst, 1 + in.u16() % (MAX_SUPER_PACKET - 52));
                partial(p);
                int gso = 1 + in.u16() % 2000;
                h.set(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 52, gso, 20, 16);
            }
        }
        for (int m = in.u8() % 4; m > 0; m--) {
            int op = in.u8() % 3;
            int arg = in.u16();
            switch (op) {
                case 0 -> header[arg % header.length] = (byte) (arg >>> 8);
                case 1 -> p[arg % p.length] ^= (byte) ((arg >>> 8) | 1);
                default -> p = Arrays.copyOf(p, 1 + arg % p.length);
            }
        }
        return new Read(header, p);
    }

    private static byte[] segment(int dst, int payload) {
        return TcpSegment.of(POD_SRC, 40000, dst, 5201, 1000, 1, TcpSegment.timestamps(99, 7), TcpSegment.pattern(1000, payload)).bytes();
    }

    // The TCP checksum field set to the pseudo-header sum, as a sender's kernel leaves a packet with NEEDS_CSUM.
    private static void partial(byte[] p) {
        int sum = TcpSegment.pseudoHeaderSum(u32(p, 12), u32(p, 16), p.length - 20);
        p[36] = (byte) (sum >>> 8);
        p[37] = (byte) sum;
    }

    // Each buffer handed over carries a packet read, in order (the first from there on that it carries), and a super-packet's
    // datagrams are its valid segments. A single datagram carries a packet read, or a super-packet's one valid segment.
    private static void inOrder(TunnelUnderTest tunnel, List<byte[]> read, List<Boolean> readSuperPackets, List<CapturingTransport.Sent> sent) {
        int j = 0;
        for (int i = 0; i < sent.size(); i++) {
            CapturingTransport.Sent s = sent.get(i);
            while (j < read.size() && !carries(tunnel, s, read.get(j), readSuperPackets.get(j))) j++;
            if (j == read.size()) fail("buffer " + i + " handed to the transport carries no packet read, in order (" + s.datagrams().size() + " datagrams)");
            if (s.superPacket()) {
                String invalid = invalidSegment(tunnel, s, read.get(j));
                if (invalid != null) fail(invalid);
            }
            j++;
        }
    }

    private static boolean carries(TunnelUnderTest tunnel, CapturingTransport.Sent s, byte[] packet, boolean superPacket) {
        if (s.superPacket()) return superPacket && cutFrom(tunnel, s, packet);
        return masked(tunnel, s.datagrams().getFirst(), packet)
                || superPacket && cutFrom(tunnel, s, packet) && invalidSegment(tunnel, s, packet) == null;
    }

    // The datagrams carry the super-packet's flow and, in order, its sequence and payload.
    private static boolean cutFrom(TunnelUnderTest tunnel, CapturingTransport.Sent s, byte[] packet) {
        if (packet.length < 40) return false;
        int ihl = (packet[0] & 0x0f) * 4;
        if (ihl < 20 || ihl + 20 > packet.length) return false;
        int headers = ihl + (packet[ihl + 12] >>> 4 & 0x0f) * 4;
        if (headers < ihl + 20) return false;
        int end = Math.min(packet.length, u16(packet, 2)); // what follows the IPv4 packet is no payload of it
        int at = headers;
        for (byte[] inner : s.datagrams()) {
            byte[] d = unpadded(tunnel, inner);
            if (headers > d.length) return false;
            int data = d.length - headers;
            if (at + data > end
                    || !Arrays.equals(d, 12, 20, packet, 12, 20) // addresses
                    || !Arrays.equals(d, ihl, ihl + 4, packet, ihl, ihl + 4) // ports
                    || u32(d, ihl + 4) != u32(packet, ihl + 4) + (at - headers) // sequence number
                    || !Arrays.equals(d, headers, d.length, packet, at, at + data)) {
                return false;
            }
            at += data;
        }
        return at == end;
    }

    // What is wrong with the super-packet's segments the datagrams carry, or null.
    private static String invalidSegment(TunnelUnderTest tunnel, CapturingTransport.Sent s, byte[] packet) {
        int ihl = (packet[0] & 0x0f) * 4;
        int headers = ihl + (packet[ihl + 12] >>> 4 & 0x0f) * 4;
        int mss = -1;
        int offset = 0;
        for (int k = 0; k < s.datagrams().size(); k++) {
            byte[] seg = unpadded(tunnel, s.datagrams().get(k));
            String which = "segment " + k + " of " + s.datagrams().size();
            int data = seg.length - headers;
            if (k == 0) mss = data;
            if (data <= 0 || data > mss) return which + ": payload " + data + ", the first's " + mss;
            if (seg.length != u16(seg, 2)) return which + ": IPv4 total length " + u16(seg, 2) + " of " + seg.length + " bytes";
            if (TcpSegment.sum(seg, 0, ihl, 0) != 0xffff) return which + ": IPv4 checksum";
            if (TcpSegment.sum(seg, ihl, seg.length - ihl, TcpSegment.pseudoHeaderSum(u32(seg, 12), u32(seg, 16), seg.length - ihl)) != 0xffff) {
                return which + ": TCP checksum";
            }
            if (u32(seg, ihl + 4) != u32(packet, ihl + 4) + offset) return which + ": sequence number";
            offset += data;
        }
        return null;
    }

    // A segment's inner bytes without the padding a sealing tunnel adds: cut to the IPv4 total length when exactly zeros
    // up to the padded length of that follow it; otherwise as they are (then the total length does not match them).
    private static byte[] unpadded(TunnelUnderTest tunnel, byte[] inner) {
        if (inner.length < 4) return inner;
        int total = u16(inner, 2);
        if (total >= inner.length || tunnel.paddedLength(total) != inner.length) return inner;
        for (int k = total; k < inner.length; k++) {
            if (inner[k] != 0) return inner;
        }
        return Arrays.copyOf(inner, total);
    }

    // The datagram's inner bytes are packet (or its start, cut to its IPv4 total length; or it whole, zero-padded as the
    // tunnel pads), TOS, TTL and IPv4 checksum aside.
    private static boolean masked(TunnelUnderTest tunnel, byte[] inner, byte[] packet) {
        int length = inner.length; // the packet, or the IPv4 packet at its start, or the packet padded
        if (length < 20) return false;
        if (length > packet.length) {
            if (length != tunnel.paddedLength(packet.length)) return false;
            for (int k = packet.length; k < length; k++) {
                if (inner[k] != 0) return false;
            }
            length = packet.length;
        }
        for (int k = 0; k < length; k++) {
            if (k == 1 || k == 8 || k == 10 || k == 11) continue;
            if (inner[k] != packet[k]) return false;
        }
        return true;
    }
}
