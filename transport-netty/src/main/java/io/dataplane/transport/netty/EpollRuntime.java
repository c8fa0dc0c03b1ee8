package io.dataplane.transport.netty;

import io.netty.channel.epoll.Epoll;

/**
 * Netty's process-wide settings for the UDP transport, applied once before Netty's classes load,
 * and the probe for its native epoll library.
 *
 * <p>What Netty 4.2.18 does on our JDKs, and what we set:
 * <ul>
 *   <li>{@code sun.misc.Unsafe}: from JDK 24 the first use of its memory methods prints a
 *       "terminally deprecated method" warning on stderr (JEP 498). Netty already turns Unsafe off
 *       by default on Java 25; we set {@code io.netty.noUnsafe=true} on every JDK unless the user chose
 *       (that property or {@code --sun-misc-unsafe-memory-access}), so JDK 24 prints nothing either.
 *       The packet path does not need Unsafe: our buffers hand Netty their native addresses
 *       ({@link PacketByteBuf#memoryAddress()}), and the epoll transport passes those to the kernel.
 *   <li>Native access: Netty loads {@code libnetty_transport_native_epoll_x86_64.so} from the
 *       {@code linux-x86_64} classifier jar with {@code System.load}, a restricted method; the JVM
 *       warns unless started with {@code --enable-native-access=ALL-UNNAMED}, which our own FFM code
 *       needs anyway (tests, benchmarks and the node all pass it).
 *   <li>Leak detection stays at Netty's default: our buffers never come from a Netty allocator, so the
 *       detector never samples (or slows down) a packet; it would only report a leak of Netty's own
 *       few buffers, which we want to hear about.
 * </ul>
 */
final class EpollRuntime {
    private static final Throwable UNAVAILABILITY_CAUSE;

    static {
        if (System.getProperty("io.netty.noUnsafe") == null && System.getProperty("sun.misc.unsafe.memory.access") == null) {
            System.setProperty("io.netty.noUnsafe", "true");
        }
        Throwable cause;
        try {
            cause = Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
        } catch (Throwable t) {
            // A missing classifier jar shows up as NoClassDefFoundError/UnsatisfiedLinkError: report it, do not die.
            cause = t;
        }
        UNAVAILABILITY_CAUSE = cause;
    }

    private EpollRuntime() {}

    /** True when Netty's native epoll transport loaded. */
    static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Why the epoll transport is unavailable, or null. */
    static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }
}
