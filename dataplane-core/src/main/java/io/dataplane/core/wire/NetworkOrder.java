package io.dataplane.core.wire;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The value layouts every header view reads and writes with: network byte order (big-endian) and
 * no alignment, because headers sit at any offset of a packet buffer (an inner IPv4 header after a
 * 14-byte Ethernet header starts at an odd multiple of 2). Declared once, for the header views
 * here and for every other module that reads or writes packet bytes, socket addresses or netlink
 * attributes in network order, so no class can get the byte order wrong.
 */
public final class NetworkOrder {
    private NetworkOrder() {}

    /** One byte; read with {@code Byte.toUnsignedInt}. */
    public static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    /** Two bytes, big-endian, unaligned; read with {@code Short.toUnsignedInt}. */
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Four bytes, big-endian, unaligned. */
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Eight bytes, big-endian, unaligned. */
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
}
