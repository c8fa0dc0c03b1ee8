package io.dataplane.core.wire;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv4 addresses as {@code int}: the 32 bits in network order, so {@code 10.244.1.1} is
 * {@code 0x0af40101}. The packet path never boxes an address; these helpers parse and print them.
 */
public final class Ipv4Address {
    private Ipv4Address() {}

    /**
     * Parses dotted-quad text ({@code 10.244.1.1}).
     *
     * @throws IllegalArgumentException naming the text when it is not four decimal octets 0-255
     */
    public static int parse(String text) {
        if (text == null) throw new IllegalArgumentException("IPv4 address missing: null");
        int value = 0;
        int octets = 0;
        int i = 0;
        int n = text.length();
        while (i <= n) {
            int start = i;
            int octet = 0;
            while (i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
                octet = octet * 10 + (text.charAt(i) - '0');
                if (octet > 255 || i - start >= 3) throw bad(text);
                i++;
            }
            if (i == start) throw bad(text);
            // Leading zeros are ambiguous (octal in inet_aton); refuse them as the kernel's tools do.
            if (i - start > 1 && text.charAt(start) == '0') throw bad(text);
            value = (value << 8) | octet;
            octets++;
            if (i == n) break;
            if (text.charAt(i) != '.' || octets == 4) throw bad(text);
            i++;
        }
        if (octets != 4) throw bad(text);
        return value;
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("not an IPv4 address: \"" + text + "\"");
    }

    /** Dotted-quad text of {@code address}. */
    public static String toString(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    /** The address as a JDK {@link Inet4Address} (slow path). */
    public static Inet4Address toInetAddress(int address) {
        byte[] b = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The {@code int} form of a JDK IPv4 address. */
    public static int of(Inet4Address address) {
        byte[] b = address.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }
}
