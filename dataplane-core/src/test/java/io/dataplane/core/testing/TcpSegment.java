package io.dataplane.core.testing;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A TCP/IPv4 segment as tests describe it, and its bytes with valid checksums: the IPv4 header
 * checksum and the TCP checksum are computed here with a plain RFC 1071 loop over big-endian words,
 * independent of the project's {@code InternetChecksum}, so the tests of the code that uses that
 * class do not check it against itself. {@link #parse} reads one back (replies a kernel sent).
 *
 * @param src IPv4 source address
 * @param dst IPv4 destination address
 * @param tos the TOS byte (DSCP and ECN)
 * @param ttl time to live
 * @param identification the IPv4 identification
 * @param fragmentWord the IPv4 flags and fragment offset word ({@link #DF}, {@link #MF}, offset in 8-byte units)
 * @param ipOptions IPv4 options (a multiple of 4 bytes; empty for IHL 5)
 * @param srcPort TCP source port
 * @param dstPort TCP destination port
 * @param seq sequence number
 * @param ack acknowledgment number
 * @param flags the TCP flags byte ({@link #ACK}, {@link #PSH}, ...)
 * @param window the window field
 * @param urgent the urgent pointer
 * @param options TCP options (a multiple of 4 bytes)
 * @param payload the data
 */
public record TcpSegment(int src, int dst, int tos, int ttl, int identification, int fragmentWord, byte[] ipOptions,
        int srcPort, int dstPort, int seq, int ack, int flags, int window, int urgent, byte[] options, byte[] payload) {
    /** TCP flag bits. */
    public static final int FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40, CWR = 0x80;
    /** IPv4 flag bits of {@link #fragmentWord}. */
    public static final int DF = 0x4000, MF = 0x2000;
    private static final int PROTO_TCP = 6;

    /** Checks the option lengths, so a test's mistake shows here rather than as a strange refusal. */
    public TcpSegment {
        if (ipOptions.length % 4 != 0 || ipOptions.length > 40) throw new IllegalArgumentException("IPv4 options: " + ipOptions.length + " bytes");
        if (options.length % 4 != 0 || options.length > 40) throw new IllegalArgumentException("TCP options: " + options.length + " bytes");
    }

    /** An ACK-only segment with DF, TTL 64, TOS 0, window 65535 and {@code options}, from src:srcPort to dst:dstPort. */
    public static TcpSegment of(int src, int srcPort, int dst, int dstPort, int seq, int ack, byte[] options, byte[] payload) {
        return new TcpSegment(src, dst, 0, 64, 0, DF, new byte[0], srcPort, dstPort, seq, ack, ACK, 65535, 0, options, payload);
    }

    /** The 12 bytes NOP, NOP, timestamps (kind 8, length 10) that Linux puts in every segment of a connection. */
    public static byte[] timestamps(int tsval, int tsecr) {
        return ByteBuffer.allocate(12).put((byte) 1).put((byte) 1).put((byte) 8).put((byte) 10).putInt(tsval).putInt(tsecr).array();
    }

    /** {@code length} bytes of a pattern that depends on {@code seed}, so a misplaced or reordered byte shows. */
    public static byte[] pattern(int seed, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (seed * 131 + i * 7 + (i >>> 8));
        return b;
    }

    /** The TCP header length in bytes. */
    public int tcpHeaderLength() {
        return 20 + options.length;
    }

    /** The IPv4 header length in bytes. */
    public int ipHeaderLength() {
        return 20 + ipOptions.length;
    }

    /** The IPv4 total length. */
    public int totalLength() {
        return ipHeaderLength() + tcpHeaderLength() + payload.length;
    }

    /** The packet, IPv4 header first, both checksums valid. */
    public byte[] bytes() {
        int ihl = ipHeaderLength();
        int thl = tcpHeaderLength();
        ByteBuffer b = ByteBuffer.allocate(totalLength());
        b.put((byte) (0x40 | ihl / 4)).put((byte) tos).putShort((short) totalLength()).putShort((short) identification)
                .putShort((short) fragmentWord).put((byte) ttl).put((byte) PROTO_TCP).putShort((short) 0)
                .putInt(src).putInt(dst).put(ipOptions);
        b.putShort((short) srcPort).putShort((short) dstPort).putInt(seq).putInt(ack)
                .put((byte) (thl / 4 << 4)).put((byte) flags).putShort((short) window).putShort((short) 0).putShort((short) urgent)
                .put(options).put(payload);
        byte[] p = b.array();
        putU16(p, 10, ~sum(p, 0, ihl, 0) & 0xffff);
        putU16(p, ihl + 16, ~sum(p, ihl, p.length - ihl, pseudoHeaderSum(src, dst, p.length - ihl)) & 0xffff);
        return p;
    }

    /** Reads a TCP/IPv4 packet (no checks beyond its lengths; see {@link #checksumsValid}). */
    public static TcpSegment parse(byte[] p) {
        int ihl = (p[0] & 0x0f) * 4;
        int total = u16(p, 2);
        if (p[9] != PROTO_TCP || total > p.length || ihl + 20 > total) throw new IllegalArgumentException("not a TCP/IPv4 packet of " + p.length + " bytes");
        int thl = (p[ihl + 12] >>> 4 & 0x0f) * 4;
        return new TcpSegment(u32(p, 12), u32(p, 16), p[1] & 0xff, p[8] & 0xff, u16(p, 4), u16(p, 6),
                Arrays.copyOfRange(p, 20, ihl), u16(p, ihl), u16(p, ihl + 2), u32(p, ihl + 4), u32(p, ihl + 8),
                p[ihl + 13] & 0xff, u16(p, ihl + 14), u16(p, ihl + 18),
                Arrays.copyOfRange(p, ihl + 20, ihl + thl), Arrays.copyOfRange(p, ihl + thl, total));
    }

    /** True if the IPv4 header checksum and the TCP checksum of packet {@code p} verify. */
    public static boolean checksumsValid(byte[] p) {
        int ihl = (p[0] & 0x0f) * 4;
        int total = u16(p, 2);
        return sum(p, 0, ihl, 0) == 0xffff
                && sum(p, ihl, total - ihl, pseudoHeaderSum(u32(p, 12), u32(p, 16), total - ihl)) == 0xffff;
    }

    /** The TSval of the timestamps option, or -1 if there is none. */
    public long tsval() {
        int i = 0;
        while (i < options.length) {
            int kind = options[i] & 0xff;
            if (kind == 0) break;
            if (kind == 1) {
                i++;
                continue;
            }
            if (i + 1 >= options.length) break;
            int len = options[i + 1] & 0xff;
            if (kind == 8 && len == 10 && i + 10 <= options.length) return Integer.toUnsignedLong(u32(options, i + 2));
            if (len < 2) break;
            i += len;
        }
        return -1;
    }

    /** A copy with other TCP flags. */
    public TcpSegment withFlags(int newFlags) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, newFlags, window, urgent, options, payload);
    }

    /** A copy with another sequence number. */
    public TcpSegment withSeq(int newSeq) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, newSeq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with another acknowledgment number. */
    public TcpSegment withAck(int newAck) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, newAck, flags, window, urgent, options, payload);
    }

    /** A copy with other addresses. */
    public TcpSegment withAddresses(int newSrc, int newDst) {
        return new TcpSegment(newSrc, newDst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with other ports. */
    public TcpSegment withPorts(int newSrcPort, int newDstPort) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, newSrcPort, newDstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with another TOS byte. */
    public TcpSegment withTos(int newTos) {
        return new TcpSegment(src, dst, newTos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with another TTL. */
    public TcpSegment withTtl(int newTtl) {
        return new TcpSegment(src, dst, tos, newTtl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with another identification. */
    public TcpSegment withIdentification(int newId) {
        return new TcpSegment(src, dst, tos, ttl, newId, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with another flags and fragment offset word. */
    public TcpSegment withFragmentWord(int newWord) {
        return new TcpSegment(src, dst, tos, ttl, identification, newWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with IPv4 options. */
    public TcpSegment withIpOptions(byte[] newIpOptions) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, newIpOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, payload);
    }

    /** A copy with another window. */
    public TcpSegment withWindow(int newWindow) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, newWindow, urgent, options, payload);
    }

    /** A copy with another urgent pointer. */
    public TcpSegment withUrgent(int newUrgent) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, newUrgent, options, payload);
    }

    /** A copy with other TCP options. */
    public TcpSegment withOptions(byte[] newOptions) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, newOptions, payload);
    }

    /** A copy with another payload. */
    public TcpSegment withPayload(byte[] newPayload) {
        return new TcpSegment(src, dst, tos, ttl, identification, fragmentWord, ipOptions, srcPort, dstPort, seq, ack, flags, window, urgent, options, newPayload);
    }

    /** The segment after this one in its flow: sequence number advanced by this payload, {@code nextPayload} as data. */
    public TcpSegment next(byte[] nextPayload) {
        return withSeq(seq + payload.length).withPayload(nextPayload);
    }

    /** The RFC 1071 sum of the pseudo-header of a TCP segment of {@code tcpLength} bytes, folded to 16 bits. */
    public static int pseudoHeaderSum(int src, int dst, int tcpLength) {
        long s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + PROTO_TCP + tcpLength;
        return fold(s);
    }

    /**
     * RFC 1071 the obvious way: {@code initial} plus the big-endian 16-bit words of
     * {@code p[offset..offset+length)}, an odd last byte padded with zero, carries folded in at the end.
     */
    public static int sum(byte[] p, int offset, int length, int initial) {
        long s = initial;
        int i = 0;
        for (; i + 1 < length; i += 2) s += (p[offset + i] & 0xff) << 8 | (p[offset + i + 1] & 0xff);
        if (i < length) s += (p[offset + i] & 0xff) << 8;
        return fold(s);
    }

    private static int fold(long s) {
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        return (int) s;
    }

    /** The big-endian 16-bit word at {@code i}. */
    public static int u16(byte[] p, int i) {
        return (p[i] & 0xff) << 8 | (p[i + 1] & 0xff);
    }

    /** The big-endian 32-bit word at {@code i}. */
    public static int u32(byte[] p, int i) {
        return u16(p, i) << 16 | u16(p, i + 2);
    }

    private static void putU16(byte[] p, int i, int v) {
        p[i] = (byte) (v >>> 8);
        p[i + 1] = (byte) v;
    }

    @Override
    public String toString() {
        return "TcpSegment[" + (src >>> 24) + "." + (src >>> 16 & 0xff) + "." + (src >>> 8 & 0xff) + "." + (src & 0xff) + ":" + srcPort
                + " > " + (dst >>> 24) + "." + (dst >>> 16 & 0xff) + "." + (dst >>> 8 & 0xff) + "." + (dst & 0xff) + ":" + dstPort
                + " flags=0x" + Integer.toHexString(flags) + " seq=" + Integer.toUnsignedString(seq) + " ack=" + Integer.toUnsignedString(ack)
                + " win=" + window + " options=" + options.length + " payload=" + payload.length + "]";
    }
}
