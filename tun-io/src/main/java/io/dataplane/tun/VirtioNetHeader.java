package io.dataplane.tun;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The {@code struct virtio_net_hdr} a TUN with {@code IFF_VNET_HDR} puts in front of every packet
 * (10 bytes; {@link TunDevice} sets exactly this size with {@code TUNSETVNETHDRSZ}). Multi-byte
 * fields are in host order (legacy virtio on a little-endian host), as the TUN driver writes them.
 *
 * <pre>
 *   0        1          2            4            6             8              10
 *   | flags  | gso_type | hdr_len    | gso_size   | csum_start  | csum_offset  |
 * </pre>
 *
 * <p>A flyweight: {@link #wrap} it over the 10 bytes in front of a packet that {@link TunDevice}
 * read ({@code buffer.offset() - LENGTH}); it reads the header the kernel wrote there.
 */
public final class VirtioNetHeader {
    /** {@code struct virtio_net_hdr}: u8 flags, u8 gso_type, then four host-order u16. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_BYTE.withName("flags"),
            ValueLayout.JAVA_BYTE.withName("gso_type"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("hdr_len"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("gso_size"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("csum_start"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("csum_offset"));
    /** Offset of {@code flags}. */
    public static final int FLAGS = offset("flags");
    /** Offset of {@code gso_type}. */
    public static final int GSO_TYPE = offset("gso_type");
    /** Offset of {@code hdr_len}: bytes of headers before the payload that is segmented. */
    public static final int HDR_LEN = offset("hdr_len");
    /** Offset of {@code gso_size}: payload bytes per segment. */
    public static final int GSO_SIZE = offset("gso_size");
    /** Offset of {@code csum_start}: where checksumming starts (the L4 header). */
    public static final int CSUM_START = offset("csum_start");
    /** Offset of {@code csum_offset}: where the checksum goes, from {@code csum_start}. */
    public static final int CSUM_OFFSET = offset("csum_offset");
    /** Size of the header ({@code sizeof(struct virtio_net_hdr)}, 10). */
    public static final int LENGTH = (int) LAYOUT.byteSize();

    /** flags: the L4 checksum is partial (pseudo-header only) and must be completed. */
    public static final int F_NEEDS_CSUM = 1;
    /** flags: the checksum was already verified. */
    public static final int F_DATA_VALID = 2;
    /** gso_type: a single packet. */
    public static final int GSO_NONE = 0;
    /** gso_type: TCP over IPv4 super-packet. */
    public static final int GSO_TCPV4 = 1;
    /** gso_type: UDP fragmentation offload (obsolete). */
    public static final int GSO_UDP = 3;
    /** gso_type: TCP over IPv6 super-packet. */
    public static final int GSO_TCPV6 = 4;
    /** gso_type: UDP super-packet segmented at L4 (UDP_SEGMENT / USO). */
    public static final int GSO_UDP_L4 = 5;
    /** gso_type bit: TCP with ECN. */
    public static final int GSO_ECN = 0x80;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    private MemorySegment segment;
    private long offset;

    private static int offset(String field) {
        return (int) LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /** Points this view at the header at {@code offset} of {@code segment}. */
    public VirtioNetHeader wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    /** The flags ({@link #F_NEEDS_CSUM}, {@link #F_DATA_VALID}). */
    public int flags() {
        return Byte.toUnsignedInt(segment.get(ValueLayout.JAVA_BYTE, offset + FLAGS));
    }

    /** The GSO type ({@link #GSO_NONE}, {@link #GSO_TCPV4}, {@link #GSO_UDP_L4}, ...), ECN bit included. */
    public int gsoType() {
        return Byte.toUnsignedInt(segment.get(ValueLayout.JAVA_BYTE, offset + GSO_TYPE));
    }

    /** Bytes of headers in front of the segmented payload. */
    public int hdrLen() {
        return Short.toUnsignedInt(segment.get(U16, offset + HDR_LEN));
    }

    /** Payload bytes per segment of a super-packet. */
    public int gsoSize() {
        return Short.toUnsignedInt(segment.get(U16, offset + GSO_SIZE));
    }

    /** Offset in the packet where checksumming starts. */
    public int csumStart() {
        return Short.toUnsignedInt(segment.get(U16, offset + CSUM_START));
    }

    /** Offset of the checksum field from {@link #csumStart()}. */
    public int csumOffset() {
        return Short.toUnsignedInt(segment.get(U16, offset + CSUM_OFFSET));
    }

    /** Sets the flags. */
    public VirtioNetHeader flags(int flags) {
        segment.set(ValueLayout.JAVA_BYTE, offset + FLAGS, (byte) flags);
        return this;
    }

    /** Sets every field: a header for a super-packet, or for a packet with a partial checksum. */
    public VirtioNetHeader set(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        segment.set(ValueLayout.JAVA_BYTE, offset + FLAGS, (byte) flags);
        segment.set(ValueLayout.JAVA_BYTE, offset + GSO_TYPE, (byte) gsoType);
        segment.set(U16, offset + HDR_LEN, (short) hdrLen);
        segment.set(U16, offset + GSO_SIZE, (short) gsoSize);
        segment.set(U16, offset + CSUM_START, (short) csumStart);
        segment.set(U16, offset + CSUM_OFFSET, (short) csumOffset);
        return this;
    }

    /** Zeroes the header: one packet, complete checksums. */
    public VirtioNetHeader clear() {
        segment.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, 0L);
        segment.set(U16, offset + 8, (short) 0);
        return this;
    }
}
