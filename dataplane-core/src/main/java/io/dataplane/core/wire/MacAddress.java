package io.dataplane.core.wire;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;

import java.lang.foreign.MemorySegment;
import java.util.random.RandomGenerator;

/**
 * A 48-bit Ethernet MAC address, held in the low 48 bits of a {@code long} in wire order
 * ({@code 22:e8:35:88:1e:9a} is {@code 0x22e835881e9aL}).
 *
 * @param value the address bits
 */
public record MacAddress(long value) {
    /** Length on the wire. */
    public static final int LENGTH = 6;
    /** ff:ff:ff:ff:ff:ff. */
    public static final MacAddress BROADCAST = new MacAddress(0xffff_ffff_ffffL);
    /** 00:00:00:00:00:00. */
    public static final MacAddress ZERO = new MacAddress(0);

    /** Checks that only 48 bits are used. */
    public MacAddress {
        if ((value >>> 48) != 0) throw new IllegalArgumentException("MAC address wider than 48 bits: 0x" + Long.toHexString(value));
    }

    /**
     * Parses six hex octets separated by colons or dashes ({@code 22:e8:35:88:1e:9a}).
     *
     * @throws IllegalArgumentException naming the text when it is malformed
     */
    public static MacAddress parse(String text) {
        if (text == null || text.length() != 17) throw bad(text);
        char sep = text.charAt(2);
        if (sep != ':' && sep != '-') throw bad(text);
        long v = 0;
        for (int i = 0; i < 6; i++) {
            int p = i * 3;
            if (i > 0 && text.charAt(p - 1) != sep) throw bad(text);
            int hi = hexDigit(text.charAt(p));
            int lo = hexDigit(text.charAt(p + 1));
            if (hi < 0 || lo < 0) throw bad(text);
            v = (v << 8) | (hi << 4) | lo;
        }
        return new MacAddress(v);
    }

    /**
     * The value of an ASCII hex digit, or -1. Not {@link Character#digit}: that also takes other
     * scripts' digits (Arabic-Indic, fullwidth), which no MAC notation uses (found by MacAddressFuzzTest).
     */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("not a MAC address: \"" + text + "\" (expected six hex octets like 22:e8:35:88:1e:9a)");
    }

    /** A random unicast, locally administered address (the kernel's eth_random_addr). */
    public static MacAddress randomLocallyAdministered(RandomGenerator random) {
        long v = random.nextLong() & 0xffff_ffff_ffffL;
        v &= ~(0x01L << 40); // clear multicast
        v |= 0x02L << 40; // set locally administered
        return new MacAddress(v);
    }

    /** Reads a MAC address at {@code offset} of {@code segment}. */
    public static long read(MemorySegment segment, long offset) {
        return ((long) Short.toUnsignedInt(segment.get(U16, offset)) << 32) | Integer.toUnsignedLong(segment.get(U32, offset + 2));
    }

    /** Writes the 48 bits of {@code value} at {@code offset} of {@code segment}. */
    public static void write(MemorySegment segment, long offset, long value) {
        segment.set(U16, offset, (short) (value >>> 32));
        segment.set(U32, offset + 2, (int) value);
    }

    /** The six bytes in wire order. */
    public byte[] toBytes() {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) b[i] = (byte) (value >>> (40 - 8 * i));
        return b;
    }

    /** The address of six wire-order bytes. */
    public static MacAddress of(byte[] bytes) {
        if (bytes.length != 6) throw new IllegalArgumentException("MAC address needs 6 bytes, got " + bytes.length);
        long v = 0;
        for (byte b : bytes) v = (v << 8) | (b & 0xff);
        return new MacAddress(v);
    }

    /** True for a group (multicast or broadcast) address. */
    public boolean isMulticast() {
        return ((value >>> 40) & 0x01) != 0;
    }

    /** True for a locally administered address. */
    public boolean isLocallyAdministered() {
        return ((value >>> 40) & 0x02) != 0;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) sb.append(':');
            int o = (int) (value >>> (40 - 8 * i)) & 0xff;
            sb.append(Character.forDigit(o >> 4, 16)).append(Character.forDigit(o & 15, 16));
        }
        return sb.toString();
    }
}
