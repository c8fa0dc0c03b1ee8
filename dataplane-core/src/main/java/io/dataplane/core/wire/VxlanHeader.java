package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U32;
import static io.dataplane.core.wire.NetworkOrder.U64;
import static io.dataplane.core.wire.NetworkOrder.U8;

import io.dataplane.core.stats.DropReason;
import java.lang.foreign.MemorySegment;

/**
 * A view of a VXLAN header (RFC 7348) at an offset of a {@link MemorySegment}, re-pointed with
 * {@link #wrap}. It follows the outer UDP header and precedes the inner Ethernet frame.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>The I flag (0x08) says the VNI is valid and must be set; the R bits and reserved fields are
 * sent as zero. On receipt this view follows the Linux kernel, not RFC 7348 section 5 (which says to
 * ignore them): the kernel's {@code vxlan_rcv} drops a packet without the I flag, and a packet with
 * any flag or reserved bit set that no configured extension (GBP, GPE, remote checksum offload)
 * claims, both as an invalid header. flannel configures no extension, so a flannel.1 peer drops
 * every header with a reserved bit set, and so does this view. flannel's vxlan backend uses VNI 1
 * and UDP port 8472, the Linux kernel's historical default, not IANA's 4789.
 *
 * <p><b>Untrusted input.</b> {@link #validate(int)} checks the length, the I flag and the reserved
 * bits; after it returns {@link #VALID} the accessors read freely. {@link #setFlags} invalidates it.
 *
 * <p>A receiver that reads the 8 bytes as one big-endian long ({@link NetworkOrder#U64}) tests the
 * same policy with {@link #WORD_FLAG_I}, {@link #WORD_VNI} and {@link #WORD_RESERVED}; the kernel
 * looks up the VNI between the two checks, so an unknown VNI with reserved bits set counts as an
 * unknown VNI.
 */
public final class VxlanHeader {
    /** Offset of the flags byte. */
    public static final int FLAGS = 0;
    /** Offset of the first reserved field (24 bits). */
    public static final int RESERVED1 = 1;
    /** Offset of the VNI (24 bits) and the second reserved field (8 bits), read as one 32-bit word. */
    public static final int VNI = 4;
    /** Offset of the second reserved field (8 bits). */
    public static final int RESERVED2 = 7;
    /** Length of the header. */
    public static final int HEADER_LEN = RESERVED2 + 1;

    /** The I flag: the VNI is valid. */
    public static final int FLAG_I = 0x08;
    /** Largest VNI (24 bits). */
    public static final int MAX_VNI = 0xff_ffff;
    /** The I flag in the header read as one big-endian long. */
    public static final long WORD_FLAG_I = (long) FLAG_I << 56;
    /** The VNI's 24 bits in the header read as one big-endian long. */
    public static final long WORD_VNI = (long) MAX_VNI << 8;
    /** The bits that must be zero in the header read as one big-endian long: every flag but I, both reserved fields. */
    public static final long WORD_RESERVED = ~(WORD_FLAG_I | WORD_VNI);
    /** UDP port flannel and the Linux kernel use by default. */
    public static final int PORT_LINUX = 8472;
    /** UDP port IANA assigned to VXLAN (RFC 7348). */
    public static final int PORT_IANA = 4789;

    /** What {@link #validate} returns when all is well. */
    public static final int VALID = -1;

    private MemorySegment segment;
    private long offset;

    /** Points this view at the header starting at {@code offset} of {@code segment}. */
    public VxlanHeader wrap(MemorySegment segment, long offset) {
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
     * Checks that the 8 bytes are there, the I flag is set and every other flag and reserved bit is
     * clear, as the Linux kernel does (see the class comment). Never throws and never reads outside
     * the segment, for any bytes and any {@code available} (a negative one counts as 0). Does not
     * judge the VNI.
     *
     * @return {@link #VALID} (-1), or the ordinal of {@link DropReason#TRUNCATED} (fewer than 8
     *     bytes) or {@link DropReason#VXLAN_BAD_FLAGS} (I flag clear, or a reserved bit set)
     */
    public int validate(int available) {
        if (Bounds.limit(segment, offset, available) < HEADER_LEN) return DropReason.TRUNCATED.ordinal();
        long word = segment.get(U64, offset);
        if ((word & WORD_FLAG_I) == 0 || (word & WORD_RESERVED) != 0) return DropReason.VXLAN_BAD_FLAGS.ordinal();
        return VALID;
    }

    /** The flags byte. */
    public int flags() {
        return Byte.toUnsignedInt(segment.get(U8, offset + FLAGS));
    }

    /** The VNI (24 bits). */
    public int vni() {
        return segment.get(U32, offset + VNI) >>> 8;
    }

    /** The first reserved field (24 bits after the flags). */
    public int reserved1() {
        return segment.get(U32, offset + FLAGS) & 0xff_ffff;
    }

    /** The second reserved field (the byte after the VNI). */
    public int reserved2() {
        return Byte.toUnsignedInt(segment.get(U8, offset + RESERVED2));
    }

    /** True if any R flag or reserved bit is set (dropped on receipt, never sent by us). */
    public boolean hasReservedBits() {
        return (segment.get(U64, offset) & WORD_RESERVED) != 0;
    }

    /** Offset in {@link #segment()} where the inner Ethernet frame starts. */
    public long payloadOffset() {
        return offset + HEADER_LEN;
    }

    /** Sets the flags byte; invalidates {@link #validate}. */
    public VxlanHeader setFlags(int flags) {
        segment.set(U8, offset + FLAGS, (byte) flags);
        return this;
    }

    /**
     * Sets the VNI, keeping the reserved byte after it.
     *
     * @throws IllegalArgumentException naming the value if it does not fit in 24 bits
     */
    public VxlanHeader setVni(int vni) {
        if (vni < 0 || vni > MAX_VNI) throw new IllegalArgumentException("VNI out of range: vni=" + vni + " (max " + MAX_VNI + ")");
        segment.set(U32, offset + VNI, vni << 8 | reserved2());
        return this;
    }

    /** Sets the first reserved field (low 24 bits of {@code value}), keeping the flags. */
    public VxlanHeader setReserved1(int value) {
        segment.set(U32, offset + FLAGS, flags() << 24 | (value & 0xff_ffff));
        return this;
    }

    /** Sets the second reserved field. */
    public VxlanHeader setReserved2(int value) {
        segment.set(U8, offset + RESERVED2, (byte) value);
        return this;
    }

    @Override
    public String toString() {
        if (segment == null) return "VxlanHeader[unwrapped]";
        return "VxlanHeader[flags=0x" + Integer.toHexString(flags()) + " vni=" + vni() + "]";
    }
}
