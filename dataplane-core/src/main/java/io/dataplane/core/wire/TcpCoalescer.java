package io.dataplane.core.wire;

import io.dataplane.core.buffer.PacketBuffer;
import java.lang.foreign.MemorySegment;

/**
 * Joins consecutive segments of one TCP flow, each in a buffer of its own, into one super-packet
 * for a TUN with a virtio_net_hdr, as the kernel's GRO does ({@code tcp_gro_receive}): the first
 * segment's headers describe the whole, the later segments add only their payload (the writer
 * gathers them with {@code writev}, no copy), and the kernel takes the result up as one packet.
 *
 * <p>A run starts with a segment of IPv4 without options, not a fragment, carrying TCP with payload,
 * only ACK set (PSH may end a run, no SYN, FIN, RST, URG, ECE or CWR). A segment continues it when it
 * has the same addresses, TOS, TTL and DF bit, the same ports, acknowledgment number, header length
 * and options, its sequence number is the next byte expected, its payload is no longer than the
 * first's (the segment size) and the one before it was of full size, and its flags are ACK or
 * ACK|PSH (PSH ends the run). The total stays within 65535 bytes and {@link #MAX_SEGMENTS}.
 * Every segment's IPv4 header checksum and TCP checksum are verified first: the super-packet goes
 * to the kernel with a partial checksum (NEEDS_CSUM), which the kernel does not check again, and
 * with the first header's checksum computed anew, so a corrupt segment is never joined (written
 * alone, the kernel checks and drops it). A segment whose TCP checksum is partial (the
 * pseudo-header sum a sender's kernel leaves for whoever transmits it, {@link PartialChecksum})
 * joins as well: its sum was deferred, not wrong, and the super-packet defers it the same way.
 *
 * <p>{@link #finish} rewrites the first segment's headers for the whole run: IPv4 total length and
 * checksum, PSH if the last had it, and the TCP checksum field set to the pseudo-header sum, as a
 * NEEDS_CSUM packet carries it. One instance per thread; nothing allocates.
 */
public final class TcpCoalescer {
    /** Segments one super-packet joins at most. */
    public static final int MAX_SEGMENTS = 64;

    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int TCP_SEQ = 4;
    private static final int TCP_ACK = 8;
    private static final int TCP_OFFSET = 12;
    private static final int TCP_FLAGS = 13;
    private static final int TCP_CHECKSUM = 16;
    private static final int TCP_URGENT = 18;

    private final Ipv4Header ipView = new Ipv4Header();
    private MemorySegment firstSegment;
    private long first; // the first segment's IPv4 header
    private int tcpHeader;
    private int mss;
    private int count;
    private int payload; // bytes of payload in the run
    private int lastPayload;
    private boolean closed; // the last segment had PSH or was short: nothing may follow
    private boolean push;

    /**
     * Starts a run with {@code p} (its data one IPv4 packet). False if it cannot head one; then the
     * other methods say nothing about it.
     */
    public boolean start(PacketBuffer p) {
        if (p.gsoSize() != 0) return false;
        MemorySegment s = p.segment();
        long o = p.offset();
        int len = p.length();
        int thl = segmentHeader(s, o, len);
        if (thl < 0) return false;
        int flags = Byte.toUnsignedInt(s.get(NetworkOrder.U8, o + 20 + TCP_FLAGS));
        if ((flags & ~PSH) != ACK) return false;
        if ((flags & PSH) != 0) return false; // nothing can follow a push: no run
        if (!checksumsValid(s, o, len)) return false;
        this.firstSegment = s;
        this.first = o;
        this.tcpHeader = thl;
        this.mss = len - 20 - thl;
        this.count = 1;
        this.payload = mss;
        this.lastPayload = mss;
        this.closed = false;
        this.push = false;
        return true;
    }

    /** Adds {@code q} to the run if it continues it (see the class comment); false leaves the run as it was. */
    public boolean append(PacketBuffer q) {
        if (closed || count == MAX_SEGMENTS || q.gsoSize() != 0) return false;
        MemorySegment s = q.segment();
        long o = q.offset();
        int len = q.length();
        int thl = segmentHeader(s, o, len);
        if (thl != tcpHeader) return false;
        int data = len - 20 - thl;
        if (data > mss || 20 + thl + payload + data > Ipv4Header.MAX_TOTAL_LEN) return false;
        int flags = Byte.toUnsignedInt(s.get(NetworkOrder.U8, o + 20 + TCP_FLAGS));
        if ((flags & ~PSH) != ACK) return false;
        MemorySegment f = firstSegment;
        // IPv4: TOS (byte 1), flags/fragment (6-7), TTL (8), protocol (9), addresses (12-19).
        if (s.get(NetworkOrder.U8, o + 1) != f.get(NetworkOrder.U8, first + 1)
                || s.get(NetworkOrder.U16, o + 6) != f.get(NetworkOrder.U16, first + 6)
                || s.get(NetworkOrder.U16, o + 8) != f.get(NetworkOrder.U16, first + 8)
                || s.get(NetworkOrder.U64, o + 12) != f.get(NetworkOrder.U64, first + 12)) {
            return false;
        }
        long t = o + 20;
        long ft = first + 20;
        if (s.get(NetworkOrder.U32, t) != f.get(NetworkOrder.U32, ft) // ports
                || s.get(NetworkOrder.U32, t + TCP_ACK) != f.get(NetworkOrder.U32, ft + TCP_ACK)
                || s.get(NetworkOrder.U32, t + TCP_SEQ) != f.get(NetworkOrder.U32, ft + TCP_SEQ) + payload
                || MemorySegment.mismatch(s, t + 20, t + thl, f, ft + 20, ft + thl) != -1) {
            return false;
        }
        if (!checksumsValid(s, o, len)) return false; // last: the one check that reads the payload
        count++;
        payload += data;
        lastPayload = data;
        if ((flags & PSH) != 0) push = true;
        closed = push || data < mss;
        return true;
    }

    /** The TCP header length of the TCP/IPv4 segment with payload at {@code o}, or -1 (checksums not checked). */
    private static int segmentHeader(MemorySegment s, long o, int len) {
        if (len < 40 || o + len > s.byteSize()) return -1;
        if (s.get(NetworkOrder.U8, o) != 0x45) return -1; // IPv4, no options
        int total = Short.toUnsignedInt(s.get(NetworkOrder.U16, o + 2));
        if (total != len || s.get(NetworkOrder.U8, o + 9) != Ipv4Header.PROTO_TCP) return -1;
        if ((s.get(NetworkOrder.U16, o + 6) & (Ipv4Header.FLAG_MF | Ipv4Header.FRAG_OFFSET_MASK)) != 0) return -1;
        int thl = (Byte.toUnsignedInt(s.get(NetworkOrder.U8, o + 20 + TCP_OFFSET)) >>> 4) * 4;
        if (thl < 20 || 20 + thl >= len) return -1; // no payload: a pure ACK stays alone
        if (s.get(NetworkOrder.U16, o + 20 + TCP_URGENT) != 0) return -1;
        return thl;
    }

    /**
     * True if the IPv4 header checksum of the segment at {@code o} verifies and its TCP checksum
     * either verifies or is partial (the pseudo-header sum, {@link PartialChecksum}).
     */
    private static boolean checksumsValid(MemorySegment s, long o, int len) {
        if (InternetChecksum.sum(s, o, 20) != 0xffff) return false;
        int src = s.get(NetworkOrder.U32, o + 12);
        int dst = s.get(NetworkOrder.U32, o + 16);
        int sum = InternetChecksum.pseudoHeaderSum(src, dst, Ipv4Header.PROTO_TCP, len - 20);
        if (Short.toUnsignedInt(s.get(NetworkOrder.U16, o + 20 + TCP_CHECKSUM)) == sum) return true;
        return InternetChecksum.sum(s, o + 20, len - 20, sum) == 0xffff;
    }

    /** Segments in the run. */
    public int count() {
        return count;
    }

    /** The segment size: the first segment's payload length. */
    public int mss() {
        return mss;
    }

    /** Bytes of IPv4 and TCP header in front of the first segment's payload. */
    public int headerLength() {
        return 20 + tcpHeader;
    }

    /** Payload bytes of the last segment added. */
    public int lastPayload() {
        return lastPayload;
    }

    /**
     * Rewrites the first segment's headers ({@code first} is the buffer {@link #start} was given)
     * for the whole run, with a partial TCP checksum (the pseudo-header sum) for NEEDS_CSUM.
     *
     * @return the super-packet's IPv4 total length
     */
    public int finish(PacketBuffer first) {
        MemorySegment s = first.segment();
        long o = first.offset();
        int total = 20 + tcpHeader + payload;
        Ipv4Header ip = ipView.wrap(s, o).setTotalLength(total).fillChecksum();
        long t = o + 20;
        if (push) s.set(NetworkOrder.U8, t + TCP_FLAGS, (byte) (s.get(NetworkOrder.U8, t + TCP_FLAGS) | PSH));
        int pseudo = InternetChecksum.pseudoHeaderSum(ip.srcAddr(), ip.dstAddr(), Ipv4Header.PROTO_TCP, total - 20);
        s.set(NetworkOrder.U16, t + TCP_CHECKSUM, (short) pseudo);
        return total;
    }
}
