package io.dataplane.tun.netlink;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/** Reading {@code rtattr}s of a netlink reply: find one by type, read its payload. */
final class Attributes {
    private Attributes() {}

    /** Offset of the payload of the first attribute of {@code type} in {@code [from, end)}, or -1. */
    static long find(MemorySegment s, long from, long end, int type) {
        long at = from;
        while (at + Rtnl.RTA_HDRLEN <= end) {
            int len = Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + Rtnl.RTA_LEN));
            if (len < Rtnl.RTA_HDRLEN || at + len > end) return -1;
            int t = Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + Rtnl.RTA_TYPE)) & 0x3fff; // drop NESTED/BYTEORDER bits
            if (t == type) return at + Rtnl.RTA_HDRLEN;
            at += NetlinkRequest.align(len);
        }
        return -1;
    }

    /**
     * As {@link #find(MemorySegment, long, long, int)}, but -1 also when the attribute's payload is
     * shorter than {@code minPayload} bytes (a u32 attribute needs 4).
     */
    static long find(MemorySegment s, long from, long end, int type, int minPayload) {
        long at = find(s, from, end, type);
        return at >= 0 && payloadLength(s, at) >= minPayload ? at : -1;
    }

    /** Payload length of the attribute whose payload starts at {@code payload}. */
    static int payloadLength(MemorySegment s, long payload) {
        return Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, payload - Rtnl.RTA_HDRLEN + Rtnl.RTA_LEN)) - Rtnl.RTA_HDRLEN;
    }

    /** A NUL-terminated string attribute. */
    static String string(MemorySegment s, long payload) {
        int len = payloadLength(s, payload);
        byte[] b = s.asSlice(payload, len).toArray(ValueLayout.JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
