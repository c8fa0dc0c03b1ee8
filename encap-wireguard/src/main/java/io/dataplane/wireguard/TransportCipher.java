package io.dataplane.wireguard;

/**
 * Which ChaCha20-Poly1305 implementation seals and opens transport data. All produce the same
 * bytes (the tests check them against each other and against RFC 8439); they differ in cost. The
 * figures below are thread CPU time on the shared 2-core development machine (AMD EPYC with
 * AVX-512), per payload, sealing; see benchmarks/README.md for the decision and the end-to-end
 * effect.
 *
 * <table>
 *   <caption>Cost of sealing one payload</caption>
 *   <tr><th>cipher</th><th>96 bytes</th><th>256 bytes</th><th>1408 bytes</th><th>allocated per packet</th></tr>
 *   <tr><td>{@link #SEGMENT}</td><td>0.53 us</td><td>0.92 us</td><td>3.8 us</td><td>0</td></tr>
 *   <tr><td>{@link #JDK}</td><td>0.83 us</td><td>0.91 us</td><td>1.3 us</td><td>about 2.2 KiB</td></tr>
 * </table>
 */
public enum TransportCipher {
    /**
     * Our own, in place over the packet's MemorySegment ({@link io.dataplane.wireguard.crypto.ChaCha20Poly1305}):
     * no allocation, no copy, no exception on a forged packet; scalar Java, about 2.7 ns a byte.
     */
    SEGMENT(Integer.MAX_VALUE),
    /**
     * The JDK's {@code Cipher("ChaCha20-Poly1305")} with its AVX2/AVX-512 intrinsics, one per thread
     * and direction, re-initialised per packet, over a per-thread heap array the packet is copied
     * into and back (see {@code JdkTransportCipher}). About 0.37 ns a byte, but each init costs about
     * 0.8 us and allocates about 2.2 KiB whatever the packet's size, and a forged packet costs an
     * exception inside the JDK (caught, counted as {@code WG_DECRYPT_FAILED}).
     */
    JDK(0),
    /**
     * {@link #SEGMENT} for payloads below 256 bytes (keepalives, TCP acknowledgements, pings:
     * nothing allocated, and cheaper than the JDK's fixed cost of init), {@link #JDK} from 256 bytes
     * up, where its intrinsics win. The fastest per packet of the three, and the default.
     */
    BY_SIZE(256);

    /**
     * The cipher a node uses unless told otherwise: {@link #BY_SIZE}, the fastest end to end (see
     * benchmarks/README.md). It bends the house rule of no allocation per packet for payloads of
     * 256 bytes and more (about 2.2 KiB each, inside the JDK's init) and copies those payloads to a
     * heap array and back; {@link #SEGMENT} keeps every rule and is there for whoever prefers that.
     */
    public static final TransportCipher DEFAULT = BY_SIZE;

    private final int jdkFrom;

    TransportCipher(int jdkFrom) {
        this.jdkFrom = jdkFrom;
    }

    /** Payloads (padded) of at least this many bytes go through the JDK's cipher; {@code Integer.MAX_VALUE} for none. */
    public int jdkFrom() {
        return jdkFrom;
    }
}
