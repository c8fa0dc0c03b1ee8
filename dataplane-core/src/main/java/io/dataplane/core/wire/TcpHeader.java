package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;
import static io.dataplane.core.wire.NetworkOrder.U8;

import java.lang.foreign.MemorySegment;

/**
 * A view of a TCP header (RFC 9293) at an offset of a {@link MemorySegment}, re-pointed with
 * {@link #wrap}. The TCP offloads read and rewrite it: {@link TcpSegments} cuts a super-packet into
 * segments, {@link TcpCoalescer} joins segments into one, the TUN fills a virtio_net_hdr from it.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |       |       |R|E|G|K|H|T|N|N|                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Options (Data Offset - 5 words)               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>The checksum covers the IPv4 pseudo-header and the whole segment, whose length the TCP header
 * does not carry, so the checksum methods take the addresses and the length.
 *
 * <p><b>Untrusted input.</b> Call {@link #checkLen(int)} once with the bytes of the IP payload;
 * after it returns true, {@link #headerLength()} bytes from the offset are inside the buffer and
 * the accessors read freely. It answers true or false rather than a drop reason: nothing drops a
 * packet for its TCP header, the offloads that read it leave a packet they cannot use to the
 * kernel's TCP. {@link #setDataOffset} invalidates it.
 */
public final class TcpHeader {
    /** Offset of the source port. */
    public static final int SRC_PORT = 0;
    /** Offset of the destination port. */
    public static final int DST_PORT = 2;
    /** Offset of the sequence number. */
    public static final int SEQ_NUM = 4;
    /** Offset of the acknowledgment number. */
    public static final int ACK_NUM = 8;
    /** Offset of the data offset (high nibble: header length in 32-bit words) and the reserved bits. */
    public static final int DATA_OFFSET = 12;
    /** Offset of the flags byte ({@link #FLAG_FIN} to {@link #FLAG_CWR}). */
    public static final int FLAGS = 13;
    /** Offset of the window. */
    public static final int WINDOW = 14;
    /** Offset of the checksum. */
    public static final int CHECKSUM = 16;
    /** Offset of the urgent pointer. */
    public static final int URGENT = 18;
    /** Length of a header without options (data offset 5). */
    public static final int HEADER_LEN = URGENT + 2;
    /** Length of a header with the most options (data offset 15). */
    public static final int MAX_HEADER_LEN = 60;

    /** FIN: the sender has no more data. */
    public static final int FLAG_FIN = 0x01;
    /** SYN: synchronize sequence numbers. */
    public static final int FLAG_SYN = 0x02;
    /** RST: reset the connection. */
    public static final int FLAG_RST = 0x04;
    /** PSH: push the data to the application. */
    public static final int FLAG_PSH = 0x08;
    /** ACK: the acknowledgment number is significant. */
    public static final int FLAG_ACK = 0x10;
    /** URG: the urgent pointer is significant. */
    public static final int FLAG_URG = 0x20;
    /** ECE: ECN echo (RFC 3168). */
    public static final int FLAG_ECE = 0x40;
    /** CWR: congestion window reduced (RFC 3168). */
    public static final int FLAG_CWR = 0x80;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the header starting at {@code offset} of {@code segment}. */
    public TcpHeader wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    /** The segment this view reads. */
    public MemorySegment segment() {
        return segment;
    }

    /** The offset of the header in {@link #segment()}. */
    public long offset() {
        return offset;
    }

    /**
     * True if the header fits in {@code available} bytes from the view's offset (the IP payload
     * length; fewer if the segment ends sooner): the 20 fixed bytes are there, and the data offset
     * is at least 5 and the header it gives no longer than the bytes available. Never throws and
     * never reads outside the segment, for any bytes and any {@code available} (a negative one
     * counts as 0). Does not verify the checksum (see {@link #verifyChecksum}).
     */
    public boolean checkLen(int available) {
        long limit = Bounds.limit(segment, offset, available);
        if (limit < HEADER_LEN) return false;
        int headerLen = headerLength();
        return headerLen >= HEADER_LEN && headerLen <= limit;
    }

    /** The source port. */
    public int srcPort() {
        return Short.toUnsignedInt(segment.get(U16, offset + SRC_PORT));
    }

    /** The destination port. */
    public int dstPort() {
        return Short.toUnsignedInt(segment.get(U16, offset + DST_PORT));
    }

    /** Both ports as one 32-bit word (source port high), for comparing the ports of two segments in one read. */
    public int ports() {
        return segment.get(U32, offset + SRC_PORT);
    }

    /** The sequence number (32 bits, modulo 2^32: compare with subtraction). */
    public int seqNum() {
        return segment.get(U32, offset + SEQ_NUM);
    }

    /** The acknowledgment number (32 bits). */
    public int ackNum() {
        return segment.get(U32, offset + ACK_NUM);
    }

    /** The data offset field: header length in 32-bit words. */
    public int dataOffset() {
        return Byte.toUnsignedInt(segment.get(U8, offset + DATA_OFFSET)) >>> 4;
    }

    /** The header length in bytes (data offset times 4), options included. */
    public int headerLength() {
        return dataOffset() << 2;
    }

    /** The flags byte ({@link #FLAG_FIN}, {@link #FLAG_SYN}, ... {@link #FLAG_CWR}). */
    public int flags() {
        return Byte.toUnsignedInt(segment.get(U8, offset + FLAGS));
    }

    /** The window field (unscaled). */
    public int window() {
        return Short.toUnsignedInt(segment.get(U16, offset + WINDOW));
    }

    /** The checksum field. */
    public int checksum() {
        return Short.toUnsignedInt(segment.get(U16, offset + CHECKSUM));
    }

    /** The urgent pointer. */
    public int urgentPointer() {
        return Short.toUnsignedInt(segment.get(U16, offset + URGENT));
    }

    /** Offset in {@link #segment()} of the options ({@link #optionsLength()} bytes). */
    public long optionsOffset() {
        return offset + HEADER_LEN;
    }

    /** Length of the options in bytes (header length minus 20). */
    public int optionsLength() {
        return headerLength() - HEADER_LEN;
    }

    /** Offset in {@link #segment()} where the payload (after options) starts. */
    public long payloadOffset() {
        return offset + headerLength();
    }

    /** Sets the source port. */
    public TcpHeader setSrcPort(int port) {
        segment.set(U16, offset + SRC_PORT, (short) port);
        return this;
    }

    /** Sets the destination port. */
    public TcpHeader setDstPort(int port) {
        segment.set(U16, offset + DST_PORT, (short) port);
        return this;
    }

    /** Sets the sequence number. */
    public TcpHeader setSeqNum(int seq) {
        segment.set(U32, offset + SEQ_NUM, seq);
        return this;
    }

    /** Sets the acknowledgment number. */
    public TcpHeader setAckNum(int ack) {
        segment.set(U32, offset + ACK_NUM, ack);
        return this;
    }

    /** Sets the data offset (header length in 32-bit words), keeping the reserved bits; invalidates {@link #checkLen}. */
    public TcpHeader setDataOffset(int words) {
        int reserved = segment.get(U8, offset + DATA_OFFSET) & 0x0f;
        segment.set(U8, offset + DATA_OFFSET, (byte) ((words << 4) | reserved));
        return this;
    }

    /** Sets the flags byte. */
    public TcpHeader setFlags(int flags) {
        segment.set(U8, offset + FLAGS, (byte) flags);
        return this;
    }

    /** Sets the window field. */
    public TcpHeader setWindow(int window) {
        segment.set(U16, offset + WINDOW, (short) window);
        return this;
    }

    /** Sets the checksum field. */
    public TcpHeader setChecksum(int checksum) {
        segment.set(U16, offset + CHECKSUM, (short) checksum);
        return this;
    }

    /** Sets the urgent pointer. */
    public TcpHeader setUrgentPointer(int urgent) {
        segment.set(U16, offset + URGENT, (short) urgent);
        return this;
    }

    /**
     * The checksum to transmit for the segment of {@code length} bytes (header and payload) under the
     * pseudo-header of {@code srcAddr} and {@code dstAddr}, whatever the field holds now. The length
     * must be at least 20 and inside the segment.
     */
    public int computeChecksum(int srcAddr, int dstAddr, int length) {
        int sum = InternetChecksum.pseudoHeaderSum(srcAddr, dstAddr, Ipv4Header.PROTO_TCP, length);
        sum = InternetChecksum.sum(segment, offset, CHECKSUM, sum);
        sum = InternetChecksum.sum(segment, offset + URGENT, length - URGENT, sum);
        return InternetChecksum.finish(sum);
    }

    /** True if the segment of {@code length} bytes, checksum field included, verifies under the pseudo-header of {@code srcAddr} and {@code dstAddr}. */
    public boolean verifyChecksum(int srcAddr, int dstAddr, int length) {
        int sum = InternetChecksum.pseudoHeaderSum(srcAddr, dstAddr, Ipv4Header.PROTO_TCP, length);
        return InternetChecksum.sum(segment, offset, length, sum) == 0xffff;
    }

    /** Computes the checksum (see {@link #computeChecksum}) and writes it into the field. */
    public TcpHeader fillChecksum(int srcAddr, int dstAddr, int length) {
        return setChecksum(computeChecksum(srcAddr, dstAddr, length));
    }

    @Override
    public String toString() {
        if (segment == null) return "TcpHeader[unwrapped]";
        return "TcpHeader[" + srcPort() + " -> " + dstPort() + " seq=" + Integer.toUnsignedString(seqNum())
                + " ack=" + Integer.toUnsignedString(ackNum()) + " flags=0x" + Integer.toHexString(flags())
                + " hlen=" + headerLength() + " win=" + window() + "]";
    }
}
