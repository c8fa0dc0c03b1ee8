package io.dataplane.wireguard;

/**
 * Which ChaCha20-Poly1305 implementation seals and opens transport data. Both produce the same
 * bytes (the tests check them against each other and against RFC 8439); they differ in cost.
 */
public enum TransportCipher {
    /**
     * Our own, in place over the packet's MemorySegment ({@link io.dataplane.wireguard.crypto.ChaCha20Poly1305}):
     * no allocation, no exception on a forged packet, scalar Java (about 5 cycles a byte). The default.
     */
    SEGMENT,
    /**
     * The JDK's {@code Cipher("ChaCha20-Poly1305")} with its AVX2/AVX-512 intrinsics, one per thread
     * and direction, re-initialised per packet, over a per-thread heap array the packet is copied
     * into and back (see {@code JdkTransportCipher}). Faster per byte, but each init allocates about
     * 2.2 KiB whatever the packet's size, and a forged packet costs an exception inside the JDK
     * (caught, counted as {@code WG_DECRYPT_FAILED}).
     */
    JDK;

    /** The cipher a node uses unless told otherwise. */
    public static final TransportCipher DEFAULT = SEGMENT;
}
