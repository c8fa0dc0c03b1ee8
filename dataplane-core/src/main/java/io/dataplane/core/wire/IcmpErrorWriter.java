package io.dataplane.core.wire;

import io.dataplane.core.buffer.PacketBuffer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Turns the IPv4 packet in a buffer into an ICMP error about it, in place, for the packet's source:
 * 28 bytes of new IPv4 and ICMP header go into the headroom in front of it, and its header and the
 * first 8 bytes of its payload stay where they are as the quoted datagram (RFC 792); the data is
 * trimmed to the error, lengths and both checksums filled in. The new header has TTL 64,
 * identification 0, no DF.
 *
 * <pre>
 *   before:            [headroom ............][offending IPv4 header][payload .............]
 *   after:  [headroom ..][IPv4 20][ICMP 8]    [offending IPv4 header][8 bytes]
 * </pre>
 *
 * <p>{@link #deservesAnError} says whether a packet may get an error at all (RFC 1122 3.2.2, RFC
 * 1812 4.3.2.7). One instance per thread (it holds header views); nothing allocates.
 */
public final class IcmpErrorWriter {
    /** Bytes of IPv4 and ICMP header written in front of the offending packet. */
    public static final int HEADROOM = Ipv4Header.HEADER_LEN + Icmpv4Header.HEADER_LEN;
    /** How much of the offending packet's payload an error quotes after its header (RFC 792). */
    public static final int QUOTED_PAYLOAD = 8;
    /** TTL of the errors written. */
    public static final int TTL = 64;

    private final Ipv4Header offending = new Ipv4Header();
    private final Ipv4Header errorIp = new Ipv4Header();
    private final Icmpv4Header errorIcmp = new Icmpv4Header();

    /**
     * Whether the (validated) IPv4 packet in {@code p} may get an ICMP error at all: not an ICMP
     * error itself (nor an ICMP message too short to show its type), not a fragment other than the
     * first, from a unicast source (not 0.0.0.0, loopback, multicast, 240/4 or broadcast) to a
     * destination that is not multicast or broadcast.
     */
    public boolean deservesAnError(PacketBuffer p) {
        MemorySegment s = p.segment();
        Ipv4Header ip = offending.wrap(s, p.offset());
        if (ip.isLaterFragment()) return false;
        int source = ip.srcAddr();
        int first = source >>> 24;
        if (source == 0 || first == 127 || first >= 224) return false;
        if ((ip.dstAddr() >>> 28) >= 0xe) return false; // multicast, 240/4, broadcast
        if (ip.protocol() == Ipv4Header.PROTO_ICMP) {
            // The type is the first payload byte; a message too short to show it gets no error either.
            if (ip.payloadLength() < 1) return false;
            return !Icmpv4Header.isErrorType(Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, ip.payloadOffset())));
        }
        return true;
    }

    /**
     * Rewrites the (validated) IPv4 packet in {@code p} into an ICMP error of {@code type} and
     * {@code code}, with {@code restOfHeader} as the ICMP header's last four bytes, from {@code
     * source} to the packet's source. False, and the buffer untouched, when its headroom is under
     * {@link #HEADROOM}.
     */
    public boolean write(PacketBuffer p, int type, int code, int restOfHeader, int source) {
        MemorySegment s = p.segment();
        int o = p.offset();
        if (o < HEADROOM) return false;
        Ipv4Header ip = offending.wrap(s, o);
        int quoted = Math.min(ip.totalLength(), ip.headerLength() + QUOTED_PAYLOAD);
        int destination = ip.srcAddr();
        p.setData(o - HEADROOM, HEADROOM + quoted);
        int icmpLength = Icmpv4Header.HEADER_LEN + quoted;
        errorIcmp.wrap(s, o - Icmpv4Header.HEADER_LEN)
                .setType(type)
                .setCode(code)
                .setRestOfHeader(restOfHeader)
                .fillChecksum(icmpLength);
        errorIp.wrap(s, o - HEADROOM)
                .setVersion4AndIhl(Ipv4Header.HEADER_LEN / 4)
                .setDscp(0)
                .setEcn(0)
                .setTotalLength(Ipv4Header.HEADER_LEN + icmpLength)
                .setIdentification(0)
                .setFlagsAndFragmentOffset(0)
                .setTtl(TTL)
                .setProtocol(Ipv4Header.PROTO_ICMP)
                .setSrcAddr(source)
                .setDstAddr(destination)
                .fillChecksum();
        return true;
    }
}
