package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * A view of an Ethernet II header at an offset of a {@link MemorySegment}, re-pointed with
 * {@link #wrap}. In this project it is the inner frame of a VXLAN packet (and the outer frame of a
 * capture); the preamble and frame check sequence are never in memory.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination MAC Address                    |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                      Source MAC Address                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           EtherType           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p><b>Untrusted input.</b> {@link #validate(int)} checks that the 14 bytes are there; after it
 * returns {@link #VALID} the accessors read freely. It does not judge the EtherType: the caller
 * dispatches on it. No setter invalidates it.
 */
public final class EthernetHeader {
    /** Offset of the destination MAC address. */
    public static final int DST_MAC = 0;
    /** Offset of the source MAC address. */
    public static final int SRC_MAC = 6;
    /** Offset of the EtherType. */
    public static final int ETHERTYPE = 12;
    /** Length of the header. */
    public static final int HEADER_LEN = ETHERTYPE + 2;

    /** EtherType of IPv4. */
    public static final int ETHERTYPE_IPV4 = 0x0800;
    /** EtherType of ARP. */
    public static final int ETHERTYPE_ARP = 0x0806;
    /** EtherType of an 802.1Q VLAN tag. */
    public static final int ETHERTYPE_VLAN = 0x8100;
    /** EtherType of IPv6. */
    public static final int ETHERTYPE_IPV6 = 0x86dd;

    /** What {@link #validate} returns when all is well. */
    public static final int VALID = -1;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the header starting at {@code offset} of {@code segment}. */
    public EthernetHeader wrap(MemorySegment segment, long offset) {
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
     * Checks that a whole header fits in {@code available} bytes from the view's offset (fewer if
     * the segment ends sooner). Never throws and never reads outside the segment, for any bytes and
     * any {@code available} (a negative one counts as 0).
     *
     * @return {@link #VALID} (-1), or the ordinal of {@link DropReason#TRUNCATED} if fewer than 14 bytes
     */
    public int validate(int available) {
        return Bounds.limit(segment, offset, available) < HEADER_LEN ? DropReason.TRUNCATED.ordinal() : VALID;
    }

    /** The destination MAC address (see {@link MacAddress}). */
    public long dstMac() {
        return MacAddress.read(segment, offset + DST_MAC);
    }

    /** The source MAC address (see {@link MacAddress}). */
    public long srcMac() {
        return MacAddress.read(segment, offset + SRC_MAC);
    }

    /** The EtherType. */
    public int ethertype() {
        return Short.toUnsignedInt(segment.get(U16, offset + ETHERTYPE));
    }

    /** Offset in {@link #segment()} where the payload starts. */
    public long payloadOffset() {
        return offset + HEADER_LEN;
    }

    /** Sets the destination MAC address. */
    public EthernetHeader setDstMac(long mac) {
        MacAddress.write(segment, offset + DST_MAC, mac);
        return this;
    }

    /** Sets the source MAC address. */
    public EthernetHeader setSrcMac(long mac) {
        MacAddress.write(segment, offset + SRC_MAC, mac);
        return this;
    }

    /** Sets the EtherType. */
    public EthernetHeader setEthertype(int ethertype) {
        segment.set(U16, offset + ETHERTYPE, (short) ethertype);
        return this;
    }

    @Override
    public String toString() {
        if (segment == null) return "EthernetHeader[unwrapped]";
        return "EthernetHeader[" + new MacAddress(srcMac()) + " -> " + new MacAddress(dstMac())
                + " type=0x" + Integer.toHexString(ethertype()) + "]";
    }
}
