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
     * The JDK's {@code Cipher("ChaCha20-Poly1305")}, one per thread and direction, re-initialised per
     * packet, {@code doFinal(ByteBuffer, ByteBuffer)} on views of the packet's memory. Its AVX2/AVX-512
     * intrinsics make it several times faster per byte, but it allocates about 4 KiB per packet (a new
     * engine and Poly1305 per init, a copy of the data inside doFinal) and signals a forged packet with an
     * exception. For measuring which one the whole pipeline prefers.
     */
    JDK;

    /** The cipher a node uses unless told otherwise. */
    public static final TransportCipher DEFAULT = SEGMENT;
}
