package io.dataplane.core.testing;

import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Icmpv4Repr;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * IPv4 packets as a pod would send them, built from the Reprs with valid checksums, for tests of
 * the backends: ICMP echo (ping) and its reply, and UDP.
 */
public final class TestPackets {
    private TestPackets() {}

    /**
     * An ICMP echo request from {@code src} to {@code dst} with {@code dataLength} bytes of data
     * (a pattern that depends on {@code seq}), DF set, identification {@code seq}.
     */
    public static byte[] echoRequest(int src, int dst, int ttl, int id, int seq, int dataLength) {
        return echo(Icmpv4Repr.echoRequest(id, seq), src, dst, ttl, seq, data(seq, dataLength));
    }

    /** The echo reply a host would send for {@code request}: addresses swapped, same id, sequence and data, TTL 64. */
    public static byte[] echoReplyTo(byte[] request) {
        MemorySegment s = MemorySegment.ofArray(request);
        Ipv4Header ip = new Ipv4Header().wrap(s, 0);
        Icmpv4Header icmp = new Icmpv4Header().wrap(s, ip.headerLength());
        byte[] data = s.asSlice(icmp.payloadOffset(), ip.payloadLength() - Icmpv4Header.HEADER_LEN).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        return echo(Icmpv4Repr.echoReply(icmp.identifier(), icmp.sequence()), ip.dstAddr(), ip.srcAddr(), 64,
                ip.identification() ^ 0x8000, data);
    }

    /**
     * A malformed IPv4 packet from {@code src} to {@code dst} for each reason a receiver that takes
     * the inner packet as it comes drops it for, in the order it checks them: truncated, not IPv4,
     * IHL below 5, total length beyond the bytes, bad header checksum, one byte over {@code mtu}.
     */
    public static Map<DropReason, byte[]> malformed(int src, int dst, int mtu) {
        byte[] ping = echoRequest(src, dst, 64, 9, 9, 56);
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        bad.put(DropReason.TRUNCATED, Arrays.copyOf(ping, 19));
        byte[] notIpv4 = ping.clone();
        notIpv4[0] = 0x65;
        bad.put(DropReason.NOT_IPV4, notIpv4);
        byte[] ihl = ping.clone();
        ihl[0] = 0x43;
        bad.put(DropReason.BAD_IHL, ihl);
        bad.put(DropReason.BAD_TOTAL_LENGTH, Arrays.copyOf(ping, ping.length - 1));
        byte[] sum = ping.clone();
        sum[Ipv4Header.CHECKSUM + 1] ^= 0x40;
        bad.put(DropReason.BAD_CHECKSUM, sum);
        bad.put(DropReason.OVERSIZE, echoRequest(src, dst, 64, 9, 9, mtu - 27));
        return bad;
    }

    /** A UDP datagram in IPv4 from {@code src} to {@code dst}, {@code payloadLength} bytes of payload, UDP checksum 0 (none). */
    public static byte[] udp(int src, int dst, int ttl, int srcPort, int dstPort, int payloadLength) {
        int udpLength = 8 + payloadLength;
        byte[] bytes = new byte[Ipv4Header.HEADER_LEN + udpLength];
        MemorySegment s = MemorySegment.ofArray(bytes);
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_UDP, ttl, udpLength).emit(new Ipv4Header().wrap(s, 0));
        int u = Ipv4Header.HEADER_LEN;
        bytes[u] = (byte) (srcPort >>> 8);
        bytes[u + 1] = (byte) srcPort;
        bytes[u + 2] = (byte) (dstPort >>> 8);
        bytes[u + 3] = (byte) dstPort;
        bytes[u + 4] = (byte) (udpLength >>> 8);
        bytes[u + 5] = (byte) udpLength;
        byte[] payload = data(dstPort, payloadLength);
        System.arraycopy(payload, 0, bytes, u + 8, payloadLength);
        return bytes;
    }

    private static byte[] echo(Icmpv4Repr repr, int src, int dst, int ttl, int identification, byte[] data) {
        int icmpLength = Icmpv4Header.HEADER_LEN + data.length;
        byte[] bytes = new byte[Ipv4Header.HEADER_LEN + icmpLength];
        MemorySegment s = MemorySegment.ofArray(bytes);
        System.arraycopy(data, 0, bytes, Ipv4Header.HEADER_LEN + Icmpv4Header.HEADER_LEN, data.length);
        repr.emit(new Icmpv4Header().wrap(s, Ipv4Header.HEADER_LEN), icmpLength);
        new Ipv4Repr(0, 0, identification & 0xffff, true, false, 0, ttl, Ipv4Header.PROTO_ICMP, src, dst, null, icmpLength)
                .emit(new Ipv4Header().wrap(s, 0));
        return bytes;
    }

    private static byte[] data(int seed, int length) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte) (i * 7 + seed);
        return data;
    }
}
