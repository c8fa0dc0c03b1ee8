package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;

/**
 * Which ChaCha20-Poly1305 implementation seals and opens transport data. All produce the same
 * bytes (the tests check them against each other, against the JDK's cipher and against RFC 8439);
 * they differ in cost and in what the JVM must be started with. benchmarks/README.md has the
 * figures.
 */
public enum TransportCipher {
    /**
     * Our own, scalar Java in place over the packet's MemorySegment
     * ({@link io.dataplane.wireguard.crypto.ChaCha20Poly1305}): no allocation, no copy, no exception
     * on a forged packet; needs nothing from the JVM, and is the slowest of the four on full-size
     * packets.
     */
    SEGMENT(Integer.MAX_VALUE, false),
    /**
     * The JDK's {@code Cipher("ChaCha20-Poly1305")} with its AVX2/AVX-512 intrinsics, one per thread
     * and direction, re-initialised per packet, over a per-thread heap array the packet is copied
     * into and back (see {@code JdkTransportCipher}). Each init allocates about 2.2 KiB whatever the
     * packet's size, and a forged packet costs an exception inside the JDK (caught, counted as
     * {@code WG_DECRYPT_FAILED}).
     */
    JDK(0, false),
    /**
     * {@link #SEGMENT} for payloads below 256 bytes (keepalives, TCP acknowledgements, pings), where
     * it is cheaper than the JDK's fixed cost of init, {@link #JDK} from 256 bytes up; allocates per
     * packet from 256 bytes up.
     */
    BY_SIZE(256, false),
    /**
     * Our own in place over the packet's MemorySegment with ChaCha20 in vector lanes and Poly1305 on
     * 64-bit limbs ({@link VectorChaCha20Poly1305}): no allocation, no copy, at every size, and the
     * fastest of the four at every size where the JVM has the incubating Vector API
     * ({@code --add-modules jdk.incubator.vector}; the {@code dataplane} launcher and the build's
     * test JVMs pass it) and the CPU has 256-bit vectors or wider.
     */
    VECTOR(Integer.MAX_VALUE, true);

    /**
     * The cipher a node uses unless told otherwise: {@link #VECTOR} where
     * {@link VectorChaCha20Poly1305#isAvailable} (no allocation per packet at any size), else
     * {@link #BY_SIZE}, the fastest without vectors, which allocates in the JDK's init for payloads
     * of 256 bytes and more ({@link #SEGMENT} keeps that rule there too, at a lower rate).
     */
    public static final TransportCipher DEFAULT = VectorChaCha20Poly1305.isAvailable() ? VECTOR : BY_SIZE;

    private final int jdkFrom;
    private final boolean vector;

    TransportCipher(int jdkFrom, boolean vector) {
        this.jdkFrom = jdkFrom;
        this.vector = vector;
    }

    /** Payloads (padded) of at least this many bytes go through the JDK's cipher; {@code Integer.MAX_VALUE} for none. */
    public int jdkFrom() {
        return jdkFrom;
    }

    /** True if this cipher needs {@link VectorChaCha20Poly1305}. */
    public boolean vector() {
        return vector;
    }

    /** Null if this JVM can run this cipher, else why not (only {@link #VECTOR} ever cannot). */
    public String unavailabilityCause() {
        return vector ? VectorChaCha20Poly1305.unavailabilityCause() : null;
    }

    /**
     * {@code cipher}, or {@link #DEFAULT} for null; throws {@link IllegalArgumentException} naming the
     * cipher and the cause when this JVM cannot run it.
     */
    public static TransportCipher orDefault(TransportCipher cipher) {
        if (cipher == null) return DEFAULT;
        String unavailable = cipher.unavailabilityCause();
        if (unavailable != null) {
            throw new IllegalArgumentException("transport cipher unavailable: transportCipher=" + cipher + " (" + unavailable + ")");
        }
        return cipher;
    }
}
