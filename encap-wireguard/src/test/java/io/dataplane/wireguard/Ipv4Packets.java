package io.dataplane.wireguard;

import io.dataplane.core.wire.Ipv4Address;

/** Hand-built IPv4 packets for tests. */
final class Ipv4Packets {
    private Ipv4Packets() {}

    /** An IPv4/ICMP echo request of {@code totalLen} bytes (at least 28) from {@code src} to {@code dst}, payload filled with {@code fill}. */
    static byte[] icmpEcho(String src, String dst, int totalLen, int fill) {
        byte[] p = new byte[totalLen];
        p[0] = 0x45;
        p[2] = (byte) (totalLen >>> 8);
        p[3] = (byte) totalLen;
        p[8] = 64;
        p[9] = 1;
        int s = Ipv4Address.parse(src);
        int d = Ipv4Address.parse(dst);
        for (int i = 0; i < 4; i++) {
            p[12 + i] = (byte) (s >>> (24 - 8 * i));
            p[16 + i] = (byte) (d >>> (24 - 8 * i));
        }
        int c = checksum(p, 0, 20);
        p[10] = (byte) (c >>> 8);
        p[11] = (byte) c;
        p[20] = 8; // echo request
        p[24] = 0x12;
        p[25] = 0x34;
        p[27] = 1;
        for (int i = 28; i < totalLen; i++) p[i] = (byte) (fill + i);
        int ic = checksum(p, 20, totalLen - 20);
        p[22] = (byte) (ic >>> 8);
        p[23] = (byte) ic;
        return p;
    }

    /** RFC 1071 checksum of {@code b[off, off+len)}. */
    static int checksum(byte[] b, int off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) sum += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        if ((len & 1) != 0) sum += (b[off + len - 1] & 0xff) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) (~sum & 0xffff);
    }
}
