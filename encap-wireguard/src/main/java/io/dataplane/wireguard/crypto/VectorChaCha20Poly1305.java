package io.dataplane.wireguard.crypto;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * ChaCha20-Poly1305 (RFC 8439) in place over a {@link MemorySegment}, with ChaCha20 computed many
 * blocks at a time in vector lanes (the JDK's incubating Vector API, {@code jdk.incubator.vector})
 * and Poly1305 on 64-bit limbs: no allocation, no copy, the same bytes as {@link ChaCha20Poly1305}
 * and the JDK's cipher.
 *
 * <p>The Vector API is an incubator module: the JVM resolves it only when started with
 * {@code --add-modules jdk.incubator.vector} (and then prints one warning line at start-up), and the
 * JIT turns it into SIMD instructions only where the CPU has them. {@link #isAvailable} says
 * whether both hold (the module is there and the preferred int vector has at least 8 lanes, AVX2
 * or better); {@link #unavailabilityCause} says why not. Calling the other methods when it is
 * false throws {@link IllegalStateException}.
 *
 * <p>Until the JIT's optimising compiler has compiled it, vector code is far slower than scalar
 * code (every vector operation allocates in the interpreter): {@link #warmUp} runs it on a
 * background thread, once per JVM, and {@link #isWarm} tells callers when to switch over from
 * {@link ChaCha20Poly1305}, which gives the same bytes.
 *
 * <p>Thread-safe: the keystream passes through a per-thread scratch array; keys are the
 * {@code int[8]} of {@link ChaCha20Poly1305#key}, never mutated.
 */
public final class VectorChaCha20Poly1305 {
    private static final String MODULE = "jdk.incubator.vector";
    /** Fewer lanes than this and the scalar cipher is as fast. */
    private static final int MIN_LANES = 8;
    private static final String UNAVAILABLE = probe();
    /** Seal-and-open rounds of the warm-up, each over the sizes below: enough invocations and loop turns for C2. */
    private static final int WARM_UP_ROUNDS = 20_000;
    /** Full segments (several passes of lanes), small packets (the scalar Poly1305 path) and one in between. */
    private static final int[] WARM_UP_SIZES = {1408, 96, 560};
    private static final AtomicBoolean WARMING = new AtomicBoolean();
    private static volatile boolean warm;

    private VectorChaCha20Poly1305() {}

    private static String probe() {
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            return "the " + MODULE + " module is not resolved (start the JVM with --add-modules " + MODULE + ")";
        }
        try {
            int lanes = ChaCha20Lanes.L;
            if (lanes < MIN_LANES) {
                return "the preferred int vector has " + lanes + " lanes on this CPU (need " + MIN_LANES + ": AVX2 or better)";
            }
            return null;
        } catch (LinkageError e) {
            return MODULE + " failed to load: " + e;
        }
    }

    /** True if this JVM and CPU run the vector cipher (see the class comment). */
    public static boolean isAvailable() {
        return UNAVAILABLE == null;
    }

    /** Why {@link #isAvailable} is false, or null when it is true. */
    public static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    /**
     * Starts, once per JVM and only where {@link #isAvailable}, a daemon thread that seals and opens
     * scratch data of typical sizes until the JIT has had the calls to compile this class's code,
     * then makes {@link #isWarm} true. Returns at once.
     */
    public static void warmUp() {
        if (UNAVAILABLE != null || !WARMING.compareAndSet(false, true)) return;
        Thread t = new Thread(VectorChaCha20Poly1305::runWarmUp, "chacha20-vector-warmup");
        t.setDaemon(true);
        t.start();
    }

    private static void runWarmUp() {
        int[] key = ChaCha20Poly1305.key(new byte[ChaCha20Poly1305.KEY_LEN], 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(2048);
            for (int round = 0; round < WARM_UP_ROUNDS; round++) {
                for (int len : WARM_UP_SIZES) {
                    sealTransport(key, round, scratch, 0, len);
                    if (!openTransport(key, round, scratch, 0, len)) {
                        // A bug or a miscompiling JIT: stay on the scalar cipher, and say so.
                        System.getLogger(VectorChaCha20Poly1305.class.getName()).log(System.Logger.Level.WARNING,
                                "vector ChaCha20-Poly1305 failed to open its own message (len=" + len
                                        + "); transport data stays on the scalar cipher");
                        return;
                    }
                }
            }
        }
        warm = true;
    }

    /** True once {@link #warmUp}'s thread has finished: until then callers should use {@link ChaCha20Poly1305}. */
    public static boolean isWarm() {
        return warm;
    }

    private static void check() {
        if (UNAVAILABLE != null) throw new IllegalStateException("vector ChaCha20-Poly1305 unavailable: " + UNAVAILABLE);
    }

    /** As {@link ChaCha20Poly1305#seal}. */
    public static void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        check();
        ChaCha20Lanes.seal(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len);
    }

    /** As {@link ChaCha20Poly1305#open}: false, the data untouched, when the tag does not verify. */
    public static boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        check();
        return ChaCha20Lanes.open(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len);
    }

    /** As {@link ChaCha20Poly1305#sealTransport}: WireGuard's nonce, 4 zero bytes and the counter little-endian. */
    public static void sealTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        seal(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
    }

    /** As {@link ChaCha20Poly1305#openTransport}. */
    public static boolean openTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        return open(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
    }
}
