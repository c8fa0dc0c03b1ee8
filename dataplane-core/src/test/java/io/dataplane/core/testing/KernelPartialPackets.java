package io.dataplane.core.testing;

/**
 * Inner packets the kernel's VXLAN device (flannel.1 as flanneld sets it up) put on a veth with
 * the kernel's default offloads, captured there with tshark: the TCP SYN
 * {@code 10.244.1.0:49544 > 10.244.2.1:80} and the UDP datagram {@code "hello\n"}
 * {@code 10.244.1.0:40081 > 10.244.2.1:9}, each with the checksum the sender's kernel left partial
 * (the pseudo-header sum), and the values that complete them.
 */
public final class KernelPartialPackets {
    /** Offset of the TCP checksum field in {@link #tcpSyn()}. */
    public static final int TCP_FIELD = 20 + 16;
    /** The TCP checksum as captured: the pseudo-header sum (tshark: "incorrect, should be 0x1238"). */
    public static final int TCP_PARTIAL = 0x1917;
    /** The TCP checksum that completes it. */
    public static final int TCP_COMPLETE = 0x1238;
    /** Offset of the UDP checksum field in {@link #udpHello()}. */
    public static final int UDP_FIELD = 20 + 6;
    /** The UDP checksum as captured: the pseudo-header sum (tshark: "should be 0x0673"). */
    public static final int UDP_PARTIAL = 0x1908;
    /** The UDP checksum that completes it. */
    public static final int UDP_COMPLETE = 0x0673;

    private static final int[] TCP_SYN = {
        0x45, 0x00, 0x00, 0x3c, 0x3b, 0xc1, 0x40, 0x00, 0x40, 0x06, 0xe6, 0x12, // IPv4, total 60, DF, TTL 64, TCP
        0x0a, 0xf4, 0x01, 0x00, 0x0a, 0xf4, 0x02, 0x01, //                       10.244.1.0 > 10.244.2.1
        0xc1, 0x88, 0x00, 0x50, 0x88, 0x1b, 0xd9, 0x0b, 0x00, 0x00, 0x00, 0x00, // ports 49544 > 80, seq, ack 0
        0xa0, 0x02, 0xfd, 0x5c, 0x19, 0x17, 0x00, 0x00, //                       offset 10, SYN, window, checksum, urgent
        0x02, 0x04, 0x05, 0x82, 0x04, 0x02, 0x08, 0x0a, 0x19, 0xaf, 0xe3, 0x02, // MSS 1410, SACK permitted, timestamps
        0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a, //                       ..., NOP, window scale 10
    };
    private static final int[] UDP_HELLO = {
        0x45, 0x00, 0x00, 0x22, 0xc8, 0xf7, 0x40, 0x00, 0x40, 0x11, 0x58, 0xeb, // IPv4, total 34, DF, TTL 64, UDP
        0x0a, 0xf4, 0x01, 0x00, 0x0a, 0xf4, 0x02, 0x01, //                       10.244.1.0 > 10.244.2.1
        0x9c, 0x91, 0x00, 0x09, 0x00, 0x0e, 0x19, 0x08, //                       ports 40081 > 9, length 14, checksum
        0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a, //                                   "hello\n"
    };

    private KernelPartialPackets() {}

    /** The captured TCP SYN, checksum partial. */
    public static byte[] tcpSyn() {
        return bytes(TCP_SYN);
    }

    /** The captured UDP datagram, checksum partial. */
    public static byte[] udpHello() {
        return bytes(UDP_HELLO);
    }

    /**
     * A UDP packet from {@code src} to {@code dst} with {@code payload} bytes, its checksum partial
     * as the sender's kernel leaves a UDP super-packet ({@code UDP_SEGMENT}) that crosses a veth
     * whole: the pseudo-header sum, with UDP's protocol number.
     */
    public static byte[] udpSuperPacket(int src, int dst, int payload) {
        byte[] p = TestPackets.udp(src, dst, 64, 4433, 40000, payload);
        // TcpSegment sums the pseudo-header with TCP's protocol number (6): add the 11 up to UDP's.
        int pseudo = TcpSegment.sum(new byte[] {0, 17 - 6}, 0, 2, TcpSegment.pseudoHeaderSum(src, dst, p.length - 20));
        return withField(p, UDP_FIELD, pseudo);
    }

    /** {@code packet} with the 16-bit field at {@code field} set to {@code value}. */
    public static byte[] withField(byte[] packet, int field, int value) {
        byte[] p = packet.clone();
        p[field] = (byte) (value >>> 8);
        p[field + 1] = (byte) value;
        return p;
    }

    private static byte[] bytes(int[] values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }
}
