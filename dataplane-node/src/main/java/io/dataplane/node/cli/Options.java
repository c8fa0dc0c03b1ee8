package io.dataplane.node.cli;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.node.PacketPathOptions;
import io.dataplane.tun.InterfaceName;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The command line's value types, checked where they are parsed, so that a bad value is one line
 * naming the option and the value ({@code Invalid value for option '--metrics-port': port out of
 * range: 70000 (1-65535)}).
 */
final class Options {
    private Options() {}

    /** An IPv4 address in dotted quad, as an int (see {@link Ipv4Address}). */
    static final class Ipv4 implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                return Ipv4Address.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A network interface name the kernel accepts (at most 15 bytes, no '/', no whitespace). */
    static final class InterfaceNameOption implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return InterfaceName.check(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A TCP or UDP port, 1-65535. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int port = integer(value);
            if (port < 1 || port > 65535) throw new TypeConversionException("port out of range: " + value + " (1-65535)");
            return port;
        }
    }

    /** Seconds, 0-86400. */
    static final class Seconds implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return inRange(value, "seconds", 0, 86400);
        }
    }

    /** Busy-poll microseconds, 0-{@link PacketPathOptions#MAX_BUSY_POLL_MICROS}. */
    static final class BusyPollMicros implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return inRange(value, "microseconds", 0, PacketPathOptions.MAX_BUSY_POLL_MICROS);
        }
    }

    /** A number of TUN queues: 1 to {@link PacketPathOptions#MAX_QUEUES}. */
    static final class Queues implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return inRange(value, "TUN queues", 1, PacketPathOptions.MAX_QUEUES);
        }
    }

    /** A backend by name: flannel's udp, vxlan, ipip, wireguard, host-gw, or one a provider on the class path defines. */
    static final class Backend implements ITypeConverter<BackendType> {
        @Override
        public BackendType convert(String value) {
            try {
                return BackendType.of(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    // The number in value, if from min to max; else a message naming what it counts and the range.
    private static int inRange(String value, String what, int min, int max) {
        int n = integer(value);
        if (n < min || n > max) throw new TypeConversionException(what + " out of range: " + value + " (" + min + "-" + max + ")");
        return n;
    }

    private static int integer(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("not a number: " + value);
        }
    }
}
