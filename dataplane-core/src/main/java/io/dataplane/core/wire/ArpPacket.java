package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;
import static io.dataplane.core.wire.NetworkOrder.U8;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * A view of an ARP packet for IPv4 over Ethernet (RFC 826) at an offset of a
 * {@link MemorySegment}, re-pointed with {@link #wrap}. A VTEP sees these inside VXLAN when the
 * kernel at the other end asks for a VTEP's MAC address.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Hardware Type (1)        |     Protocol Type (0x0800)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  HW Len (6)   | Proto Len (4) |          Operation            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Sender Hardware Address (6 bytes)              |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |  Sender Protocol Address ...  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  ... (4 bytes)                |  Target Hardware Address ...  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                    ... (6 bytes)                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Target Protocol Address (4 bytes)              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p><b>Untrusted input.</b> {@link #validate(int)} checks the length and that the packet is for
 * IPv4 over Ethernet; after it returns {@link #VALID} the accessors read freely. It does not judge
 * the operation. {@link #setHardwareType}, {@link #setProtocolType} and {@link #setLengths}
 * invalidate it.
 */
public final class ArpPacket {
    /** Offset of the hardware type. */
    public static final int HTYPE = 0;
    /** Offset of the protocol type. */
    public static final int PTYPE = 2;
    /** Offset of the hardware address length. */
    public static final int HLEN = 4;
    /** Offset of the protocol address length. */
    public static final int PLEN = 5;
    /** Offset of the operation. */
    public static final int OPER = 6;
    /** Offset of the sender hardware (MAC) address. */
    public static final int SHA = 8;
    /** Offset of the sender protocol (IPv4) address. */
    public static final int SPA = 14;
    /** Offset of the target hardware (MAC) address. */
    public static final int THA = 18;
    /** Offset of the target protocol (IPv4) address. */
    public static final int TPA = 24;
    /** Length of an IPv4-over-Ethernet ARP packet. */
    public static final int HEADER_LEN = TPA + 4;

    /** Hardware type of Ethernet. */
    public static final int HTYPE_ETHERNET = 1;
    /** Protocol type of IPv4 (its EtherType). */
    public static final int PTYPE_IPV4 = EthernetHeader.ETHERTYPE_IPV4;
    /** Operation: request. */
    public static final int OP_REQUEST = 1;
    /** Operation: reply. */
    public static final int OP_REPLY = 2;

    /** What {@link #validate} returns when all is well. */
    public static final int VALID = -1;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the packet starting at {@code offset} of {@code segment}. */
    public ArpPacket wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    /** The segment this view reads. */
    public MemorySegment segment() {
        return segment;
    }

    /** The offset of the packet in {@link #segment()}. */
    public long offset() {
        return offset;
    }

    /**
     * Checks that 28 bytes are there and the packet is for IPv4 over Ethernet (hardware type 1,
     * protocol type 0x0800, lengths 6 and 4). Never throws and never reads outside the segment, for
     * any bytes and any {@code available} (a negative one counts as 0).
     *
     * @return {@link #VALID} (-1), or the ordinal of {@link DropReason#TRUNCATED} (fewer than 28
     *     bytes) or {@link DropReason#ARP_UNSUPPORTED} (other hardware or protocol)
     */
    public int validate(int available) {
        if (Bounds.limit(segment, offset, available) < HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        // htype, ptype, hlen and plen are the first 48 bits; compare them at once.
        long head = (long) segment.get(U32, offset) << 16 | Short.toUnsignedInt(segment.get(U16, offset + HLEN));
        long expected = (long) HTYPE_ETHERNET << 32 | (long) PTYPE_IPV4 << 16 | MacAddress.LENGTH << 8 | 4;
        return (head & 0xffff_ffff_ffffL) == expected ? VALID : DropReason.ARP_UNSUPPORTED.ordinal();
    }

    /** The hardware type. */
    public int hardwareType() {
        return Short.toUnsignedInt(segment.get(U16, offset + HTYPE));
    }

    /** The protocol type. */
    public int protocolType() {
        return Short.toUnsignedInt(segment.get(U16, offset + PTYPE));
    }

    /** The hardware address length. */
    public int hardwareLength() {
        return Byte.toUnsignedInt(segment.get(U8, offset + HLEN));
    }

    /** The protocol address length. */
    public int protocolLength() {
        return Byte.toUnsignedInt(segment.get(U8, offset + PLEN));
    }

    /** The operation (1 request, 2 reply). */
    public int operation() {
        return Short.toUnsignedInt(segment.get(U16, offset + OPER));
    }

    /** The sender MAC address (see {@link MacAddress}). */
    public long senderMac() {
        return MacAddress.read(segment, offset + SHA);
    }

    /** The sender IPv4 address (see {@link Ipv4Address}). */
    public int senderAddr() {
        return segment.get(U32, offset + SPA);
    }

    /** The target MAC address (zero in a request). */
    public long targetMac() {
        return MacAddress.read(segment, offset + THA);
    }

    /** The target IPv4 address. */
    public int targetAddr() {
        return segment.get(U32, offset + TPA);
    }

    /** Sets the hardware type; invalidates {@link #validate}. */
    public ArpPacket setHardwareType(int htype) {
        segment.set(U16, offset + HTYPE, (short) htype);
        return this;
    }

    /** Sets the protocol type; invalidates {@link #validate}. */
    public ArpPacket setProtocolType(int ptype) {
        segment.set(U16, offset + PTYPE, (short) ptype);
        return this;
    }

    /** Sets the hardware and protocol address lengths; invalidates {@link #validate}. */
    public ArpPacket setLengths(int hardwareLength, int protocolLength) {
        segment.set(U8, offset + HLEN, (byte) hardwareLength);
        segment.set(U8, offset + PLEN, (byte) protocolLength);
        return this;
    }

    /** Sets the operation. */
    public ArpPacket setOperation(int operation) {
        segment.set(U16, offset + OPER, (short) operation);
        return this;
    }

    /** Sets the sender MAC address. */
    public ArpPacket setSenderMac(long mac) {
        MacAddress.write(segment, offset + SHA, mac);
        return this;
    }

    /** Sets the sender IPv4 address. */
    public ArpPacket setSenderAddr(int address) {
        segment.set(U32, offset + SPA, address);
        return this;
    }

    /** Sets the target MAC address. */
    public ArpPacket setTargetMac(long mac) {
        MacAddress.write(segment, offset + THA, mac);
        return this;
    }

    /** Sets the target IPv4 address. */
    public ArpPacket setTargetAddr(int address) {
        segment.set(U32, offset + TPA, address);
        return this;
    }

    @Override
    public String toString() {
        if (segment == null) return "ArpPacket[unwrapped]";
        return "ArpPacket[op=" + operation() + " " + new MacAddress(senderMac()) + "/" + Ipv4Address.toString(senderAddr())
                + " -> " + new MacAddress(targetMac()) + "/" + Ipv4Address.toString(targetAddr()) + "]";
    }
}
