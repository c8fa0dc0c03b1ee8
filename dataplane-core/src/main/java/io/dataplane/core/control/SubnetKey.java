package io.dataplane.core.control;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * flannel's name of a subnet in its store: the last part of {@code <prefix>/subnets/10.244.3.0-24},
 * the address and the prefix length joined by a dash (an IPv6 part after {@code &} is accepted and
 * ignored: this dataplane carries IPv4).
 */
public final class SubnetKey {
    private static final Pattern NAME = Pattern.compile("(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3})-(\\d{1,2})(?:&[0-9a-f:]+-\\d{1,3})?");

    private SubnetKey() {}

    /** {@code 10.244.3.0-24} for 10.244.3.0/24. */
    public static String of(Ipv4Prefix subnet) {
        return Ipv4Address.toString(subnet.address()) + "-" + subnet.length();
    }

    /**
     * The subnet a key names, from the key's last path element; null when it names none (a
     * foreign key, host bits set, a length beyond 32).
     */
    public static Ipv4Prefix parse(String key) {
        String name = key.substring(key.lastIndexOf('/') + 1);
        Matcher m = NAME.matcher(name);
        if (!m.matches()) return null;
        try {
            int length = Integer.parseInt(m.group(2));
            if (length > 32) return null;
            int address = Ipv4Address.parse(m.group(1));
            if ((address & ~Ipv4Prefix.mask(length)) != 0) return null;
            return new Ipv4Prefix(address, length);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
