package io.dataplane.wireguard.crypto;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

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
 * code and allocates on every vector operation (the interpreter and the first compiler tier box
 * each vector): {@link #warmUp} runs it on a background thread, and {@link #isWarm}
 * tells callers when to switch over from {@link ChaCha20Poly1305}, which gives the same bytes. The
 * warm-up takes every branch the packet path can take (every length up to beyond an MTU of 1500,
 * so every tail of a vector pass and of a Poly1305 block, a jumbo frame's length, forged tags, in a
 * shared arena as the packet pools' is), so that the compiled code meets nothing new on the packet
 * path and is not thrown away there; and it ends only once a whole sweep of those lengths allocated
 * nothing on its thread, that is once the optimising compiler's code runs every one of them. After
 * a first sweep, which gives the compiler the calls it counts, it runs an eighth of the time while
 * the code still allocates: those calls only make garbage and take the CPU the compiler needs. The JIT may still throw compiled code away
 * later (a speculation that fails) and run it boxed until it has compiled it again, so the packet
 * path's entries, {@link #sealTransport} and {@link #openTransport}, count now and then what a
 * call allocated and, when it did, make {@link #isWarm} false and run the warm-up again.
 *
 * <p>Thread-safe: the keystream passes through a per-thread scratch array; keys are the
 * {@code int[8]} of {@link ChaCha20Poly1305#key}, never mutated.
 */
public final class VectorChaCha20Poly1305 {
    private static final String MODULE = "jdk.incubator.vector";
    /** In {@link #openTransportIfWarm}'s result: the tag verified. */
    public static final int OPENED = 1;
    /** In {@link #openTransportIfWarm}'s result: the lanes opened (shift it away for the scalar-or-lanes index, 0 or 1). */
    public static final int BY_LANES = 2;
    /** Fewer lanes than this and the scalar cipher is as fast. */
    private static final int MIN_LANES = 8;
    private static final String UNAVAILABLE = probe();
    /** Payload lengths of one warm-up sweep: 0 to this many bytes, every one. */
    private static final int SWEEP_MAX_LEN = 1500;
    /** And every {@code JUMBO_EVERY}-th length of a sweep is followed by a jumbo frame's payload (MTU 9000 less the overhead). */
    private static final int JUMBO_LEN = 8920, JUMBO_EVERY = 256;
    /** Lengths between two looks at the allocation counter (and pauses while the code still allocates). */
    private static final int CHUNK = 64;
    /** After the first sweep, while the code still allocates, each chunk is followed by a pause this many times as long. */
    private static final int PAUSE_FACTOR = 7;
    /** Sweeps before the warm-up gives up waiting for a sweep that allocates nothing, and leaves the scalar cipher in place. */
    private static final int MAX_SWEEPS = 100;
    /** Sweeps when this JVM cannot count a thread's allocations. */
    private static final int BLIND_SWEEPS = 40;
    /** Packet-path calls on a thread between two that count their allocations. */
    private static final int MEASURE_EVERY = 64;
    /** Null when this JVM cannot count a thread's allocations. */
    private static final AllocationCounter ALLOCATIONS = AllocationCounter.create();
    /** Per thread, for {@link #sealTransport} and {@link #openTransport}: calls left before one that counts its allocations. */
    private static final ThreadLocal<int[]> COUNTDOWN = ThreadLocal.withInitial(() -> new int[] {MEASURE_EVERY});
    /** True while a warm-up thread runs, and for good once one found the vector code wrong. */
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
     * Starts, where {@link #isAvailable} and unless it runs or {@link #isWarm}, a daemon thread that seals and opens
     * scratch data of every length the packet path meets until a whole sweep of them allocates
     * nothing (the optimising compiler's code runs them all; see the class comment), then makes
     * {@link #isWarm} true. Returns at once.
     */
    public static void warmUp() {
        if (UNAVAILABLE != null || warm || !WARMING.compareAndSet(false, true)) return;
        Thread t = new Thread(VectorChaCha20Poly1305::runWarmUp, "chacha20-vector-warmup");
        t.setDaemon(true);
        t.start();
    }

    private static void runWarmUp() {
        if (!warmUpSweeps()) return; // for good: WARMING stays set
        WARMING.set(false);
        if (!warm) warmUp(); // a packet thread found it allocating again meanwhile
    }

    /**
     * The warm-up's sweeps: true once {@link #isWarm}; false, with it left false for good, if the
     * vector code gave a wrong result or never stopped allocating.
     */
    private static boolean warmUpSweeps() {
        int[] key = ChaCha20Poly1305.key(new byte[ChaCha20Poly1305.KEY_LEN], 0);
        AllocationCounter allocations = ALLOCATIONS;
        // Shared, as the packet pools' arenas: the compiled code then has seen the segments' kind of session.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment scratch = arena.allocate(JUMBO_LEN + ChaCha20Poly1305.TAG_LEN);
            long counter = 0;
            int sweeps = allocations == null ? BLIND_SWEEPS : MAX_SWEEPS;
            for (int sweep = 1; sweep <= sweeps; sweep++) {
                boolean allocated = false;
                for (int from = 0; from <= SWEEP_MAX_LEN; from += CHUNK) {
                    long before = allocations == null ? 0 : allocations.bytes();
                    long start = System.nanoTime();
                    for (int len = from; len < from + CHUNK && len <= SWEEP_MAX_LEN; len++) {
                        counter += 2;
                        if (!sealAndOpen(key, counter, scratch, len)
                                || len % JUMBO_EVERY == 0 && !sealAndOpen(key, counter + 1, scratch, JUMBO_LEN)) {
                            // A bug or a miscompiling JIT: stay on the scalar cipher, and say so.
                            log(System.Logger.Level.WARNING, "vector ChaCha20-Poly1305 failed to open its own message (len=" + len
                                    + "); transport data stays on the scalar cipher");
                            return false;
                        }
                    }
                    if (allocations != null && allocations.bytes() != before) {
                        allocated = true;
                        // After the first sweep the calls have been counted and the compiler is at work: each
                        // call until it is done only makes garbage, so give it most of the CPU meanwhile.
                        if (sweep > 1) LockSupport.parkNanos(PAUSE_FACTOR * (System.nanoTime() - start));
                    }
                }
                if (allocations != null && !allocated) {
                    warm = true;
                    return true;
                }
            }
        }
        if (allocations != null) {
            log(System.Logger.Level.INFO, "vector ChaCha20-Poly1305 still allocates after " + MAX_SWEEPS
                    + " warm-up sweeps (is the optimising compiler off?); transport data stays on the scalar cipher");
            return false;
        }
        warm = true;
        return true;
    }

    /**
     * Seals {@code len} bytes as message {@code counter}, opens them, and for every eighth length
     * opens them once more with one tag bit flipped, which must fail: false if any of it went wrong.
     */
    private static boolean sealAndOpen(int[] key, long counter, MemorySegment scratch, int len) {
        // The unguarded calls: these must run the vector code whatever it allocates.
        int n1 = (int) counter, n2 = (int) (counter >>> 32);
        seal(key, 0, n1, n2, null, 0, 0, scratch, 0, len);
        if (len % 8 == 0) {
            long tagAt = len + ChaCha20Poly1305.TAG_LEN - 1;
            byte last = scratch.get(ValueLayout.JAVA_BYTE, tagAt);
            scratch.set(ValueLayout.JAVA_BYTE, tagAt, (byte) (last ^ 1));
            if (open(key, 0, n1, n2, null, 0, 0, scratch, 0, len)) return false;
            scratch.set(ValueLayout.JAVA_BYTE, tagAt, last);
        }
        return open(key, 0, n1, n2, null, 0, 0, scratch, 0, len);
    }

    /** The bytes the calling thread has allocated, as the JVM counts them ({@code com.sun.management}). */
    private record AllocationCounter(com.sun.management.ThreadMXBean threads) {
        /** A counter, or null when this JVM does not count (or has no java.management module). */
        static AllocationCounter create() {
            try {
                if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                        && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
                    return new AllocationCounter(t);
                }
            } catch (LinkageError | UnsupportedOperationException e) {
                // A runtime image without the management modules: sweep a fixed number of times.
            }
            return null;
        }

        long bytes() {
            return threads.getCurrentThreadAllocatedBytes();
        }
    }

    private static void log(System.Logger.Level level, String message) {
        System.getLogger(VectorChaCha20Poly1305.class.getName()).log(level, message);
    }

    /**
     * True once {@link #warmUp}'s thread has finished, until the packet path finds the vector code
     * allocating again: while false callers should use {@link ChaCha20Poly1305}.
     */
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

    /**
     * As {@link ChaCha20Poly1305#sealTransport}: WireGuard's nonce, 4 zero bytes and the counter
     * little-endian. The packet path's entry, watched (see {@link #openTransport}).
     */
    public static void sealTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        int[] countdown = COUNTDOWN.get();
        if (--countdown[0] > 0 || ALLOCATIONS == null) {
            seal(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
            return;
        }
        countdown[0] = MEASURE_EVERY;
        long before = ALLOCATIONS.bytes();
        seal(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
        if (ALLOCATIONS.bytes() != before) warmAgain();
    }

    /**
     * As {@link ChaCha20Poly1305#openTransport}. The packet path's entry, watched: every
     * {@value #MEASURE_EVERY}th call on a thread (with {@link #sealTransport}) counts what it
     * allocated, and when it allocated (the JIT threw the compiled code away and runs it boxed until
     * it has compiled it again) {@link #isWarm} turns false, so that callers go back to the scalar
     * cipher, and the warm-up runs again until the compiled code allocates nothing.
     */
    public static boolean openTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        int[] countdown = COUNTDOWN.get();
        if (--countdown[0] > 0 || ALLOCATIONS == null) {
            return open(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
        }
        countdown[0] = MEASURE_EVERY;
        long before = ALLOCATIONS.bytes();
        boolean ok = open(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
        if (ALLOCATIONS.bytes() != before) warmAgain();
        return ok;
    }

    /**
     * {@link #sealTransport} while {@link #isWarm}, else {@link ChaCha20Poly1305#sealTransport} (the
     * same bytes): 1 if the lanes sealed, 0 if the scalar code did. For a packet path that takes this
     * entry now and then while the lanes are cold, so that its compiled code has seen the call before
     * they turn warm (see {@code TransportCodec.lanes}); the result indexes what the caller counts.
     */
    public static int sealTransportIfWarm(int[] key, long counter, MemorySegment data, long off, int len) {
        if (!warm) {
            ChaCha20Poly1305.sealTransport(key, counter, data, off, len);
            return 0;
        }
        sealTransport(key, counter, data, off, len);
        return 1;
    }

    /**
     * {@link #openTransport} while {@link #isWarm}, else {@link ChaCha20Poly1305#openTransport}, as
     * {@link #sealTransportIfWarm}: {@link #OPENED} set if the tag verified, {@link #BY_LANES} set if
     * the lanes opened.
     */
    public static int openTransportIfWarm(int[] key, long counter, MemorySegment data, long off, int len) {
        if (!warm) return ChaCha20Poly1305.openTransport(key, counter, data, off, len) ? OPENED : 0;
        return openTransport(key, counter, data, off, len) ? OPENED | BY_LANES : BY_LANES;
    }

    private static void warmAgain() {
        warm = false;
        warmUp();
    }
}
