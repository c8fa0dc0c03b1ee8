package io.dataplane.core.wire;

/**
 * An IPv4 prefix: a network address and a length 0-32, without host bits ({@code 10.244.1.0/24}).
 *
 * @param address the network address as an int (see {@link Ipv4Address})
 * @param length the prefix length in bits
 */
public record Ipv4Prefix(int address, int length) {

    /** Checks the invariants; throws {@link IllegalArgumentException} naming the value. */
    public Ipv4Prefix {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("prefix length out of range: " + Ipv4Address.toString(address) + "/" + length + " (0-32)");
        }
        if ((address & ~mask(length)) != 0) {
            throw new IllegalArgumentException("prefix has host bits set: " + Ipv4Address.toString(address) + "/" + length
                    + " (did you mean " + Ipv4Address.toString(address & mask(length)) + "/" + length + "?)");
        }
    }

    /**
     * Parses {@code a.b.c.d/len}; a bare address is a /32.
     *
     * @throws IllegalArgumentException naming the text when it is malformed, the length is beyond 32
     *     or host bits are set ({@code 10.244.1.0/16})
     */
    public static Ipv4Prefix parse(String text) {
        if (text == null) throw new IllegalArgumentException("IPv4 prefix missing: null");
        int slash = text.indexOf('/');
        if (slash < 0) return new Ipv4Prefix(Ipv4Address.parse(text), 32);
        int address;
        try {
            address = Ipv4Address.parse(text.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an IPv4 prefix: \"" + text + "\" (bad address)");
        }
        String len = text.substring(slash + 1);
        if (len.isEmpty() || len.length() > 2 || !len.chars().allMatch(c -> c >= '0' && c <= '9')
                || (len.length() == 2 && len.charAt(0) == '0')) {
            throw new IllegalArgumentException("not an IPv4 prefix: \"" + text + "\" (bad length)");
        }
        int length = Integer.parseInt(len);
        if (length > 32) throw new IllegalArgumentException("prefix length out of range: \"" + text + "\" (0-32)");
        if ((address & ~mask(length)) != 0) {
            throw new IllegalArgumentException("prefix has host bits set: \"" + text + "\" (did you mean "
                    + Ipv4Address.toString(address & mask(length)) + "/" + length + "?)");
        }
        return new Ipv4Prefix(address, length);
    }

    /** The prefix of {@code length} bits that contains {@code address} (host bits cleared). */
    public static Ipv4Prefix containing(int address, int length) {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("prefix length out of range: " + Ipv4Address.toString(address) + "/" + length + " (0-32)");
        }
        return new Ipv4Prefix(address & mask(length), length);
    }

    /** The netmask of a prefix length as an int ({@code /24} is {@code 0xffffff00}). */
    public static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    /** This prefix's netmask. */
    public int mask() {
        return mask(length);
    }

    /** True if {@code a} lies in this prefix. */
    public boolean contains(int a) {
        return (a & mask(length)) == address;
    }

    /** True if {@code other} lies wholly inside this prefix. */
    public boolean contains(Ipv4Prefix other) {
        return other.length >= length && contains(other.address);
    }

    /** The last address of the prefix. */
    public int lastAddress() {
        return address | ~mask(length);
    }

    /** Number of addresses in the prefix. */
    public long size() {
        return 1L << (32 - length);
    }

    @Override
    public String toString() {
        return Ipv4Address.toString(address) + "/" + length;
    }
}
