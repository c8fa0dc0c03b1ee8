package io.dataplane.core.wire;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * Cuts a TCP-over-IPv4 super-packet (what a TUN with TSO hands over: one IPv4 and TCP header in
 * front of up to 64 KiB of payload, and a segment size) into the packets the kernel would have
 * sent instead, as its own TCP segmentation does ({@code tcp_gso_segment}, {@code inet_gso_segment}).
 * The payload never moves: {@link #writeHeader} writes segment {@code i}'s headers somewhere else
 * and {@link #payloadOffset}/{@link #payloadLength} say which slice of the super-packet follows
 * them, so a sender can hand both to the kernel in one scatter-gather call.
 *
 * <pre>
 * super-packet at p.offset():  [prefix][IPv4 ihl][TCP thl][payload: n * mss, the last one shorter]
 * segment i:                   [prefix][IPv4'    ][TCP'    ][payload slice i]
 *   prefix   the encapsulation's headers (VXLAN + inner Ethernet: 22 bytes; flannel udp: none), copied
 *   IPv4'    total length of the segment, identification + i, header checksum
 *   TCP'     sequence + i * mss; FIN and PSH on the last segment only, CWR on the first only;
 *            full checksum (pseudo-header, header, payload slice)
 * </pre>
 *
 * <p>{@link #prepare} checks everything the segments are built from and never reads outside the
 * buffer's data; after it returns {@link #VALID}, the other methods describe that super-packet until
 * the next {@code prepare}. One instance per thread; nothing allocates.
 */
public final class TcpSegments {
    /** {@link #prepare}'s result for a super-packet that can be segmented. */
    public static final int VALID = -1;
    /** Longest headers of one segment: a 22-byte VXLAN prefix and IPv4 and TCP headers of 60 bytes each. */
    public static final int MAX_HEADER_LENGTH = 22 + Ipv4Header.MAX_HEADER_LEN + TcpHeader.MAX_HEADER_LEN;
    /** Bytes of encapsulation in front of the IPv4 header that this class copies at most. */
    public static final int MAX_PREFIX = 22;

    private final Ipv4Header ipView = new Ipv4Header();
    private final TcpHeader tcpView = new TcpHeader();
    private final Ipv4Header segmentIp = new Ipv4Header();
    private final TcpHeader segmentTcp = new TcpHeader();
    private MemorySegment s;
    private long start; // the super-packet's first byte (the prefix)
    private int prefix;
    private int ipLength;
    private int tcpLength;
    private int mss;
    private int payload;
    private int segments;
    private int srcAddr;
    private int dstAddr;
    private int identification;
    private int sequence;
    private int flags;

    /**
     * Reads the super-packet in {@code p} (segment size {@link PacketBuffer#gsoSize()}), whose IPv4
     * header starts {@code prefix} bytes into its data.
     *
     * @return {@link #VALID}, or the ordinal of {@link DropReason#BAD_SUPER_PACKET} when it is no
     *     TCP-over-IPv4 super-packet that can be cut: no segment size, a prefix over {@link #MAX_PREFIX},
     *     an invalid IPv4 header, a fragment, another protocol, a TCP header that does not fit, a
     *     total length other than the data's, or no payload
     */
    public int prepare(PacketBuffer p, int prefix) {
        int gso = p.gsoSize();
        int length = p.length();
        if (gso <= 0 || prefix < 0 || prefix > MAX_PREFIX || length < prefix) return bad();
        MemorySegment seg = p.segment();
        long ipAt = (long) p.offset() + prefix;
        Ipv4Header ip = ipView.wrap(seg, ipAt);
        if (ip.validate(length - prefix) != Ipv4Header.VALID) return bad();
        if (ip.protocol() != Ipv4Header.PROTO_TCP || ip.isFragment() || ip.totalLength() != length - prefix) return bad();
        int ihl = ip.headerLength();
        int l4 = ip.totalLength() - ihl;
        TcpHeader tcp = tcpView.wrap(seg, ipAt + ihl);
        if (!tcp.checkLen(l4)) return bad();
        int thl = tcp.headerLength();
        int data = l4 - thl;
        if (data == 0) return bad();
        this.s = seg;
        this.start = p.offset();
        this.prefix = prefix;
        this.ipLength = ihl;
        this.tcpLength = thl;
        this.mss = gso;
        this.payload = data;
        this.segments = (data + gso - 1) / gso;
        this.srcAddr = ip.srcAddr();
        this.dstAddr = ip.dstAddr();
        this.identification = ip.identification();
        this.sequence = tcp.seqNum();
        this.flags = tcp.flags();
        return VALID;
    }

    private static int bad() {
        return DropReason.BAD_SUPER_PACKET.ordinal();
    }

    /** Segments the super-packet makes. */
    public int segments() {
        return segments;
    }

    /** Bytes of headers in front of every segment's payload: the prefix, the IPv4 and the TCP header. */
    public int headerLength() {
        return prefix + ipLength + tcpLength;
    }

    /** The segment size: payload bytes of every segment but the last. */
    public int mss() {
        return mss;
    }

    /** Where segment {@code i}'s payload starts, in the buffer's segment (an absolute offset, not from the data's start). */
    public long payloadOffset(int i) {
        return start + headerLength() + (long) i * mss;
    }

    /** Payload bytes of segment {@code i}. */
    public int payloadLength(int i) {
        return i < segments - 1 ? mss : payload - (segments - 1) * mss;
    }

    /**
     * Writes segment {@code i}'s {@link #headerLength()} bytes of headers at {@code at} in {@code dst}
     * (not overlapping the super-packet), checksums included.
     */
    public void writeHeader(int i, MemorySegment dst, long at) {
        writeHeader(i, dst, at, s, payloadOffset(i));
    }

    /**
     * As {@link #writeHeader(int, MemorySegment, long)}, with segment {@code i}'s payload read for
     * the checksum at {@code payloadAt} in {@code payload}, where it was moved to (an encapsulation
     * that lays the segments out in the super-packet's own buffer); the headers are read from the
     * super-packet, so its first {@link #headerLength()} bytes stay unchanged until the last call.
     */
    public void writeHeader(int i, MemorySegment dst, long at, MemorySegment payload, long payloadAt) {
        int hl = headerLength();
        MemorySegment.copy(s, start, dst, at, hl);
        int len = payloadLength(i);
        long ipAt = at + prefix;
        segmentIp.wrap(dst, ipAt)
                .setTotalLength(ipLength + tcpLength + len)
                .setIdentification((identification + i) & 0xffff)
                .fillChecksum();
        int f = flags;
        if (i != segments - 1) f &= ~(TcpHeader.FLAG_FIN | TcpHeader.FLAG_PSH);
        if (i != 0) f &= ~TcpHeader.FLAG_CWR;
        TcpHeader tcp = segmentTcp.wrap(dst, ipAt + ipLength).setSeqNum(sequence + i * mss).setFlags(f).setChecksum(0);
        int sum = InternetChecksum.pseudoHeaderSum(srcAddr, dstAddr, Ipv4Header.PROTO_TCP, tcpLength + len);
        sum = InternetChecksum.sum(dst, tcp.offset(), tcpLength, sum);
        // The TCP header is a multiple of 4 bytes long, so the payload's words line up with its sum.
        sum = InternetChecksum.sum(payload, payloadAt, len, sum);
        tcp.setChecksum(InternetChecksum.finish(sum));
    }
}
