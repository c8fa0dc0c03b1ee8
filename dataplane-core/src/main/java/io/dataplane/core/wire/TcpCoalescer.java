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
 * joins as well: its sum was deferred, not wrong, and the super-packet defers it the same way. The
 * TCP checksum of a segment in an {@link PacketBuffer#authenticated() authenticated} buffer is not
 * read: its encapsulation vouched for every byte (the kernel's WireGuard skips that check the same
 * way); its IPv4 header checksum still is.
 *
 * <p>{@link #finish} rewrites the first segment's headers for the whole run: IPv4 total length and
 * checksum, PSH if the last had it, and the TCP checksum field set to the pseudo-header sum, as a
 * NEEDS_CSUM packet carries it. One instance per thread; nothing allocates.
 */
public final class TcpCoalescer {
    /** Segments one super-packet joins at most. */
    public static final int MAX_SEGMENTS = 64;

    private static final int ACK = TcpHeader.FLAG_ACK;
    private static final int PSH = TcpHeader.FLAG_PSH;
    // Runs are of IPv4 headers without options, so every segment's TCP header is at this offset.
    private static final int IP_LEN = Ipv4Header.HEADER_LEN;

    private final Ipv4Header ipView = new Ipv4Header();
    private final TcpHeader tcp = new TcpHeader(); // the segment being looked at
    private final TcpHeader firstTcp = new TcpHeader();
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
        int flags = tcp.flags();
        if ((flags & ~PSH) != ACK) return false;
        if ((flags & PSH) != 0) return false; // nothing can follow a push: no run
        if (!checksumsValid(s, o, len, p.authenticated())) return false;
        firstTcp.wrap(s, o + IP_LEN);
        this.firstSegment = s;
        this.first = o;
        this.tcpHeader = thl;
        this.mss = len - IP_LEN - thl;
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
        int data = len - IP_LEN - thl;
        if (data > mss || IP_LEN + thl + payload + data > Ipv4Header.MAX_TOTAL_LEN) return false;
        int flags = tcp.flags();
        if ((flags & ~PSH) != ACK) return false;
        MemorySegment f = firstSegment;
        // IPv4: TOS, flags/fragment, TTL with protocol, both addresses (one 64-bit read).
        if (s.get(NetworkOrder.U8, o + Ipv4Header.DSCP_ECN) != f.get(NetworkOrder.U8, first + Ipv4Header.DSCP_ECN)
                || s.get(NetworkOrder.U16, o + Ipv4Header.FLAGS_FRAG) != f.get(NetworkOrder.U16, first + Ipv4Header.FLAGS_FRAG)
                || s.get(NetworkOrder.U16, o + Ipv4Header.TTL) != f.get(NetworkOrder.U16, first + Ipv4Header.TTL)
                || s.get(NetworkOrder.U64, o + Ipv4Header.SRC_ADDR) != f.get(NetworkOrder.U64, first + Ipv4Header.SRC_ADDR)) {
            return false;
        }
        TcpHeader ft = firstTcp;
        long options = tcp.optionsOffset();
        long firstOptions = ft.optionsOffset();
        if (tcp.ports() != ft.ports()
                || tcp.ackNum() != ft.ackNum()
                || tcp.seqNum() != ft.seqNum() + payload
                || MemorySegment.mismatch(s, options, options + tcp.optionsLength(), f, firstOptions, firstOptions + ft.optionsLength()) != -1) {
            return false;
        }
        if (!checksumsValid(s, o, len, q.authenticated())) return false; // last: the one check that reads the payload
        count++;
        payload += data;
        lastPayload = data;
        if ((flags & PSH) != 0) push = true;
        closed = push || data < mss;
        return true;
    }

    /**
     * The TCP header length of the TCP/IPv4 segment with payload at {@code o}, or -1 (checksums not
     * checked); on success {@link #tcp} views its TCP header.
     */
    private int segmentHeader(MemorySegment s, long o, int len) {
        if (len < IP_LEN + TcpHeader.HEADER_LEN || o + len > s.byteSize()) return -1;
        if (s.get(NetworkOrder.U8, o + Ipv4Header.VER_IHL) != 0x45) return -1; // IPv4, no options
        int total = Short.toUnsignedInt(s.get(NetworkOrder.U16, o + Ipv4Header.TOTAL_LEN));
        if (total != len || s.get(NetworkOrder.U8, o + Ipv4Header.PROTOCOL) != Ipv4Header.PROTO_TCP) return -1;
        if ((s.get(NetworkOrder.U16, o + Ipv4Header.FLAGS_FRAG) & (Ipv4Header.FLAG_MF | Ipv4Header.FRAG_OFFSET_MASK)) != 0) return -1;
        TcpHeader t = tcp.wrap(s, o + IP_LEN);
        int thl = t.headerLength();
        if (thl < TcpHeader.HEADER_LEN || IP_LEN + thl >= len) return -1; // no payload: a pure ACK stays alone
        if (t.urgentPointer() != 0) return -1;
        return thl;
    }

    /**
     * True if the IPv4 header checksum of the segment at {@code o} verifies and its TCP checksum
     * either verifies, is partial (the pseudo-header sum, {@link PartialChecksum}) or need not be
     * checked ({@code authenticated}).
     */
    private boolean checksumsValid(MemorySegment s, long o, int len, boolean authenticated) {
        Ipv4Header ip = ipView.wrap(s, o);
        if (!ip.verifyChecksum()) return false;
        if (authenticated) return true;
        int src = ip.srcAddr();
        int dst = ip.dstAddr();
        int l4 = len - IP_LEN;
        if (tcp.checksum() == InternetChecksum.pseudoHeaderSum(src, dst, Ipv4Header.PROTO_TCP, l4)) return true;
        return tcp.verifyChecksum(src, dst, l4);
    }

    /**
     * True if {@code p} is a segment a run may go on after: IPv4 without options, not a fragment,
     * TCP with payload and only ACK set (no PSH, which ends a run). Reads the headers without
     * checking checksums; false for anything shorter than the two headers.
     */
    public static boolean continuable(PacketBuffer p) {
        MemorySegment s = p.segment();
        long o = p.offset();
        int len = p.length();
        if (p.gsoSize() != 0 || len <= IP_LEN + TcpHeader.HEADER_LEN || o + len > s.byteSize()) return false;
        if (s.get(NetworkOrder.U8, o + Ipv4Header.VER_IHL) != 0x45 || s.get(NetworkOrder.U8, o + Ipv4Header.PROTOCOL) != Ipv4Header.PROTO_TCP) return false;
        if ((s.get(NetworkOrder.U16, o + Ipv4Header.FLAGS_FRAG) & (Ipv4Header.FLAG_MF | Ipv4Header.FRAG_OFFSET_MASK)) != 0) return false;
        int thl = (Byte.toUnsignedInt(s.get(NetworkOrder.U8, o + IP_LEN + TcpHeader.DATA_OFFSET)) >>> 4) * 4;
        return IP_LEN + thl < len && s.get(NetworkOrder.U8, o + IP_LEN + TcpHeader.FLAGS) == ACK;
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
        return IP_LEN + tcpHeader;
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
        int total = IP_LEN + tcpHeader + payload;
        Ipv4Header ip = ipView.wrap(s, o).setTotalLength(total).fillChecksum();
        TcpHeader t = tcp.wrap(s, o + IP_LEN);
        if (push) t.setFlags(t.flags() | PSH);
        t.setChecksum(InternetChecksum.pseudoHeaderSum(ip.srcAddr(), ip.dstAddr(), Ipv4Header.PROTO_TCP, total - IP_LEN));
        return total;
    }
}
