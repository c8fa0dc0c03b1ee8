package io.dataplane.core.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the frames of a capture file: classic libpcap (microsecond or nanosecond, either byte
 * order) or pcapng (section header, interface description and enhanced/simple packet blocks;
 * other blocks are skipped). Enough for golden tests, not a general-purpose reader: one section,
 * and every interface must have the same link type. Public, in the test-jar, so that the backends'
 * golden tests read the same captures.
 */
public final class PcapReader {
    /** Link type of Ethernet (DLT_EN10MB). */
    public static final int LINKTYPE_ETHERNET = 1;

    /**
     * One captured frame.
     *
     * @param linkType the interface's link type ({@link #LINKTYPE_ETHERNET})
     * @param originalLength the frame's length on the wire
     * @param data the captured bytes
     */
    public record Frame(int linkType, int originalLength, byte[] data) {}

    private PcapReader() {}

    /** The frames of the capture in {@code file}. */
    public static List<Frame> read(byte[] file) throws IOException {
        if (file.length < 4) throw new IOException("not a capture file: " + file.length + " bytes");
        ByteBuffer b = ByteBuffer.wrap(file);
        int magic = b.order(ByteOrder.BIG_ENDIAN).getInt(0);
        return switch (magic) {
            case 0x0a0d0d0a -> readPcapng(b);
            case 0xa1b2c3d4, 0xa1b23c4d -> readClassic(b.order(ByteOrder.BIG_ENDIAN));
            case 0xd4c3b2a1, 0x4d3cb2a1 -> readClassic(b.order(ByteOrder.LITTLE_ENDIAN));
            default -> throw new IOException("not a capture file: magic 0x" + Integer.toHexString(magic));
        };
    }

    private static List<Frame> readClassic(ByteBuffer b) throws IOException {
        // Global header: magic, version 2.4, thiszone, sigfigs, snaplen, network (link type).
        need(b, 0, 24);
        int linkType = b.getInt(20);
        List<Frame> frames = new ArrayList<>();
        int at = 24;
        while (at < b.limit()) {
            need(b, at, 16);
            // Timestamps (seconds, then micro- or nanoseconds) are not needed by the tests.
            int captured = b.getInt(at + 8);
            int original = b.getInt(at + 12);
            need(b, at + 16, captured);
            byte[] data = Arrays.copyOfRange(b.array(), at + 16, at + 16 + captured);
            frames.add(new Frame(linkType, original, data));
            at += 16 + captured;
        }
        return frames;
    }

    private static List<Frame> readPcapng(ByteBuffer b) throws IOException {
        need(b, 0, 12);
        // The byte-order magic after the section header's type and length says how to read the rest.
        int bom = b.order(ByteOrder.LITTLE_ENDIAN).getInt(8);
        b.order(bom == 0x1a2b3c4d ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        if (b.getInt(8) != 0x1a2b3c4d) throw new IOException("pcapng byte-order magic unreadable: 0x" + Integer.toHexString(bom));
        List<Integer> linkTypes = new ArrayList<>();
        List<Frame> frames = new ArrayList<>();
        int at = 0;
        while (at < b.limit()) {
            need(b, at, 12);
            int type = b.getInt(at);
            int length = b.getInt(at + 4);
            if (length < 12 || length % 4 != 0) throw new IOException("pcapng block of bad length " + length + " at " + at);
            need(b, at, length);
            if (b.getInt(at + length - 4) != length) throw new IOException("pcapng block lengths disagree at " + at);
            switch (type) {
                case 0x0a0d0d0a -> {
                    if (at != 0) throw new IOException("second pcapng section at " + at + " not supported");
                }
                case 1 -> linkTypes.add(Short.toUnsignedInt(b.getShort(at + 8))); // interface description
                case 6 -> { // enhanced packet: interface, timestamp (high, low), captured, original, data
                    int iface = b.getInt(at + 8);
                    if (iface < 0 || iface >= linkTypes.size()) throw new IOException("packet for unknown interface " + iface);
                    int captured = b.getInt(at + 20);
                    int original = b.getInt(at + 24);
                    if (captured < 0 || 28 + captured > length - 4) throw new IOException("packet data beyond its block at " + at);
                    frames.add(new Frame(linkTypes.get(iface), original, Arrays.copyOfRange(b.array(), at + 28, at + 28 + captured)));
                }
                case 3 -> { // simple packet: original length, data (to the end of the block)
                    int original = b.getInt(at + 8);
                    int captured = Math.min(original, length - 16);
                    frames.add(new Frame(linkTypes.isEmpty() ? -1 : linkTypes.get(0), original,
                            Arrays.copyOfRange(b.array(), at + 12, at + 12 + captured)));
                }
                default -> { } // statistics, name resolution, custom blocks
            }
            at += length;
        }
        return frames;
    }

    private static void need(ByteBuffer b, int at, int length) throws IOException {
        if (at < 0 || length < 0 || at > b.limit() - length) {
            throw new IOException("capture file truncated: need " + length + " bytes at " + at + ", have " + b.limit());
        }
    }
}
