package io.dataplane.wireguard.crypto;

import static jdk.incubator.vector.VectorOperators.ROL;
import static jdk.incubator.vector.VectorOperators.XOR;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * ChaCha20-Poly1305 with the ChaCha20 blocks computed {@link #L} at a time, one block per vector
 * lane ({@code jdk.incubator.vector}): lane {@code i} of the sixteen state vectors is block
 * {@code counter + i}, so the rounds are the scalar rounds with every {@code int} a vector and no
 * shuffle between them. The sixteen vectors then are transposed in registers (see {@link #keystream}),
 * so that each holds {@code L} consecutive words of one block, and go to a per-thread scratch array
 * block-major: a block's 64 bytes of keystream are read back with plain vector loads to XOR them
 * into the packet. Block 0, whose first 32 bytes key Poly1305, is lane 0 of the first pass, so a
 * packet of up to {@code L - 1} blocks takes one pass.
 *
 * <p>Loaded only through {@link VectorChaCha20Poly1305}, which first checks that the incubator
 * module is there: referencing this class without it fails to link.
 */
final class ChaCha20Lanes {
    private static final VectorSpecies<Integer> S = IntVector.SPECIES_PREFERRED;
    /** Blocks per pass: the lanes of the preferred int vector (16 with AVX-512, 8 with AVX2). */
    static final int L = S.length();
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int C0 = 0x61707865, C1 = 0x3320646e, C2 = 0x79622d32, C3 = 0x6b206574;
    /**
     * The transpose's steps, one per distance {@code h} (8, 4, 2, 1; the distances below {@code L}):
     * {@code MASK_h} the lanes whose index has bit {@code h}, {@code UP_h} moves lane {@code i - h}
     * to lane {@code i} and {@code DOWN_h} lane {@code i + h} to lane {@code i} (see the transpose in {@link #keystream}).
     */
    private static final VectorMask<Integer> MASK_8 = mask(8), MASK_4 = mask(4), MASK_2 = mask(2), MASK_1 = mask(1);
    private static final VectorShuffle<Integer> UP_8 = shift(8, -8), UP_4 = shift(4, -4), UP_2 = shift(2, -2), UP_1 = shift(1, -1);
    private static final VectorShuffle<Integer> DOWN_8 = shift(8, 8), DOWN_4 = shift(4, 4), DOWN_2 = shift(2, 2), DOWN_1 = shift(1, 1);
    /** The keystream of one pass, block-major: word {@code w} of lane {@code i} at {@link #at}{@code (i, w)}. */
    private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[16 * L]);

    private ChaCha20Lanes() {}

    private static VectorMask<Integer> mask(int h) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) bits[i] = (i & h) != 0;
        return VectorMask.fromArray(S, bits, 0);
    }

    /** Lane {@code i} takes lane {@code i + by} where that lies in the vector, else itself (a lane the step blends away). */
    private static VectorShuffle<Integer> shift(int h, int by) {
        int[] from = new int[L];
        for (int i = 0; i < L; i++) from[i] = i + by >= 0 && i + by < L ? i + by : i;
        return VectorShuffle.fromArray(S, from, 0);
    }

    /**
     * Where word {@code w} of lane {@code lane}'s block is in the scratch: the transpose leaves
     * words {@code q*L .. q*L+L-1} of block {@code lane} in vector {@code q*L + lane}.
     */
    static int at(int lane, int w) {
        return ((w / L * L + lane) * L) + w % L;
    }

    /** See {@link ChaCha20Poly1305#seal}. */
    static void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        int[] ks = SCRATCH.get();
        keystream(key, 0, n0, n1, n2, ks, lanesUsed(0, len));
        int r0 = ks[at(0, 0)], r1 = ks[at(0, 1)], r2 = ks[at(0, 2)], r3 = ks[at(0, 3)];
        int s0 = ks[at(0, 4)], s1 = ks[at(0, 5)], s2 = ks[at(0, 6)], s3 = ks[at(0, 7)];
        xor(key, n0, n1, n2, ks, data, off, len);
        tag(r0, r1, r2, r3, s0, s1, s2, s3, aad, aadOff, aadLen, data, off, len, false);
    }

    /** See {@link ChaCha20Poly1305#open}. */
    static boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        int[] ks = SCRATCH.get();
        keystream(key, 0, n0, n1, n2, ks, lanesUsed(0, len));
        if (!tag(ks[at(0, 0)], ks[at(0, 1)], ks[at(0, 2)], ks[at(0, 3)], ks[at(0, 4)], ks[at(0, 5)], ks[at(0, 6)], ks[at(0, 7)],
                aad, aadOff, aadLen, data, off, len, true)) {
            return false;
        }
        xor(key, n0, n1, n2, ks, data, off, len);
        return true;
    }

    /** The tag after the ciphertext: Poly1305 in lanes where there is no AAD (transport data), scalar otherwise. */
    private static boolean tag(int k0, int k1, int k2, int k3, int k4, int k5, int k6, int k7,
            MemorySegment aad, long aadOff, int aadLen, MemorySegment data, long off, int len, boolean verify) {
        if (aadLen == 0) return Poly1305Lanes.aeadTag(k0, k1, k2, k3, k4, k5, k6, k7, data, off, len, data, off + len, verify);
        return Poly1305.aeadTag(k0, k1, k2, k3, k4, k5, k6, k7, aad, aadOff, aadLen, data, off, len, data, off + len, verify);
    }

    /** The lanes of the pass from block {@code base} that a message of {@code len} bytes uses (block 0 keys Poly1305). */
    private static int lanesUsed(int base, int len) {
        return Math.min(L, ((len + 63) >>> 6) + 1 - base);
    }

    /** XORs keystream blocks 1.. into {@code data[off, off+len)}; {@code ks} holds the pass of blocks 0..L-1. */
    private static void xor(int[] key, int n0, int n1, int n2, int[] ks, MemorySegment data, long off, int len) {
        int first = 1;
        for (int base = 0; (long) (base + first - 1) * 64 < len; base += L, first = 0) {
            if (base > 0) keystream(key, base, n0, n1, n2, ks, lanesUsed(base, len));
            for (int lane = first; lane < L; lane++) {
                long at = (long) (base + lane - 1) * 64;
                if (at >= len) break;
                long rest = len - at;
                if (rest >= 64) {
                    xorBlock(ks, lane, data, off + at);
                } else {
                    xorTail(ks, lane, data, off + at, (int) rest);
                }
            }
        }
    }

    /** XORs the 64 bytes of keystream lane {@code lane} into {@code data[at, at+64)}. */
    private static void xorBlock(int[] ks, int lane, MemorySegment data, long at) {
        for (int w = 0; w < 16; w += L) {
            IntVector k = IntVector.fromArray(S, ks, at(lane, w));
            long p = at + 4L * w;
            IntVector.fromMemorySegment(S, data, p, LE).lanewise(XOR, k).intoMemorySegment(data, p, LE);
        }
    }

    /** XORs the first {@code n} (below 64) bytes of keystream lane {@code lane} into {@code data[at, at+n)}. */
    private static void xorTail(int[] ks, int lane, MemorySegment data, long at, int n) {
        int w = 0;
        for (; 4 * w + 4 <= n; w++) {
            long p = at + 4L * w;
            data.set(LE_INT, p, data.get(LE_INT, p) ^ ks[at(lane, w)]);
        }
        int k = ks[at(lane, w)];
        for (int i = 4 * w; i < n; i++) {
            long p = at + i;
            data.set(ValueLayout.JAVA_BYTE, p, (byte) (data.get(ValueLayout.JAVA_BYTE, p) ^ (k >>> (8 * (i - 4 * w)))));
        }
    }

    /**
     * ChaCha20 blocks {@code ctr .. ctr+L-1} (RFC 8439 2.3) into {@code ks}, block-major (see
     * {@link #at}): all of them, or with 16 lanes only the first 8 where {@code lanes} (the lanes
     * the caller reads) is 8 or fewer, which takes half the transpose.
     */
    private static void keystream(int[] key, int ctr, int n0, int n1, int n2, int[] ks, int lanes) {
        final int k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3], k4 = key[4], k5 = key[5], k6 = key[6], k7 = key[7];
        IntVector x0 = IntVector.broadcast(S, C0), x1 = IntVector.broadcast(S, C1);
        IntVector x2 = IntVector.broadcast(S, C2), x3 = IntVector.broadcast(S, C3);
        IntVector x4 = IntVector.broadcast(S, k0), x5 = IntVector.broadcast(S, k1);
        IntVector x6 = IntVector.broadcast(S, k2), x7 = IntVector.broadcast(S, k3);
        IntVector x8 = IntVector.broadcast(S, k4), x9 = IntVector.broadcast(S, k5);
        IntVector x10 = IntVector.broadcast(S, k6), x11 = IntVector.broadcast(S, k7);
        IntVector x12 = IntVector.broadcast(S, ctr).addIndex(1), x13 = IntVector.broadcast(S, n0);
        IntVector x14 = IntVector.broadcast(S, n1), x15 = IntVector.broadcast(S, n2);
        for (int i = 0; i < 10; i++) {
            x0 = x0.add(x4); x12 = x12.lanewise(XOR, x0).lanewise(ROL, 16);
            x8 = x8.add(x12); x4 = x4.lanewise(XOR, x8).lanewise(ROL, 12);
            x0 = x0.add(x4); x12 = x12.lanewise(XOR, x0).lanewise(ROL, 8);
            x8 = x8.add(x12); x4 = x4.lanewise(XOR, x8).lanewise(ROL, 7);
            x1 = x1.add(x5); x13 = x13.lanewise(XOR, x1).lanewise(ROL, 16);
            x9 = x9.add(x13); x5 = x5.lanewise(XOR, x9).lanewise(ROL, 12);
            x1 = x1.add(x5); x13 = x13.lanewise(XOR, x1).lanewise(ROL, 8);
            x9 = x9.add(x13); x5 = x5.lanewise(XOR, x9).lanewise(ROL, 7);
            x2 = x2.add(x6); x14 = x14.lanewise(XOR, x2).lanewise(ROL, 16);
            x10 = x10.add(x14); x6 = x6.lanewise(XOR, x10).lanewise(ROL, 12);
            x2 = x2.add(x6); x14 = x14.lanewise(XOR, x2).lanewise(ROL, 8);
            x10 = x10.add(x14); x6 = x6.lanewise(XOR, x10).lanewise(ROL, 7);
            x3 = x3.add(x7); x15 = x15.lanewise(XOR, x3).lanewise(ROL, 16);
            x11 = x11.add(x15); x7 = x7.lanewise(XOR, x11).lanewise(ROL, 12);
            x3 = x3.add(x7); x15 = x15.lanewise(XOR, x3).lanewise(ROL, 8);
            x11 = x11.add(x15); x7 = x7.lanewise(XOR, x11).lanewise(ROL, 7);
            x0 = x0.add(x5); x15 = x15.lanewise(XOR, x0).lanewise(ROL, 16);
            x10 = x10.add(x15); x5 = x5.lanewise(XOR, x10).lanewise(ROL, 12);
            x0 = x0.add(x5); x15 = x15.lanewise(XOR, x0).lanewise(ROL, 8);
            x10 = x10.add(x15); x5 = x5.lanewise(XOR, x10).lanewise(ROL, 7);
            x1 = x1.add(x6); x12 = x12.lanewise(XOR, x1).lanewise(ROL, 16);
            x11 = x11.add(x12); x6 = x6.lanewise(XOR, x11).lanewise(ROL, 12);
            x1 = x1.add(x6); x12 = x12.lanewise(XOR, x1).lanewise(ROL, 8);
            x11 = x11.add(x12); x6 = x6.lanewise(XOR, x11).lanewise(ROL, 7);
            x2 = x2.add(x7); x13 = x13.lanewise(XOR, x2).lanewise(ROL, 16);
            x8 = x8.add(x13); x7 = x7.lanewise(XOR, x8).lanewise(ROL, 12);
            x2 = x2.add(x7); x13 = x13.lanewise(XOR, x2).lanewise(ROL, 8);
            x8 = x8.add(x13); x7 = x7.lanewise(XOR, x8).lanewise(ROL, 7);
            x3 = x3.add(x4); x14 = x14.lanewise(XOR, x3).lanewise(ROL, 16);
            x9 = x9.add(x14); x4 = x4.lanewise(XOR, x9).lanewise(ROL, 12);
            x3 = x3.add(x4); x14 = x14.lanewise(XOR, x3).lanewise(ROL, 8);
            x9 = x9.add(x14); x4 = x4.lanewise(XOR, x9).lanewise(ROL, 7);
        }
        x0 = x0.add(C0); x1 = x1.add(C1); x2 = x2.add(C2); x3 = x3.add(C3);
        x4 = x4.add(k0); x5 = x5.add(k1); x6 = x6.add(k2); x7 = x7.add(k3);
        x8 = x8.add(k4); x9 = x9.add(k5); x10 = x10.add(k6); x11 = x11.add(k7);
        x12 = x12.add(IntVector.broadcast(S, ctr).addIndex(1)); x13 = x13.add(n0); x14 = x14.add(n1); x15 = x15.add(n2);
        // The transpose. With the sixteen vectors as the rows of a matrix (row w lane i: word w of
        // block i), a step at distance h swaps, within each square of 2h x 2h entries on the
        // diagonal, its upper-right h x h square with its lower-left one: of two rows h apart, the
        // upper takes its lanes that have bit h from the lower one's lanes h lower, the lower its lanes
        // without bit h from the upper one's lanes h higher. After the steps at every distance below
        // L (8 with 16 lanes, 4, 2, 1) each L x L square on the diagonal is transposed: row q*L + i
        // holds words q*L .. q*L+L-1 of block i. Written out, not in helper methods: each call site
        // keeps its own type profile, which C2 needs to compile the vector calls to instructions.
        IntVector t;
        // With 16 lanes, of which the caller reads 8 or fewer: only the upper rows of the first step, then rows 0..7 alone.
        boolean half = L > 8 && lanes <= 8;
        if (half) {
            x0 = x0.blend(x8.rearrange(UP_8), MASK_8);
            x1 = x1.blend(x9.rearrange(UP_8), MASK_8);
            x2 = x2.blend(x10.rearrange(UP_8), MASK_8);
            x3 = x3.blend(x11.rearrange(UP_8), MASK_8);
            x4 = x4.blend(x12.rearrange(UP_8), MASK_8);
            x5 = x5.blend(x13.rearrange(UP_8), MASK_8);
            x6 = x6.blend(x14.rearrange(UP_8), MASK_8);
            x7 = x7.blend(x15.rearrange(UP_8), MASK_8);
        } else if (L > 8) {
            t = x0.blend(x8.rearrange(UP_8), MASK_8); x8 = x0.rearrange(DOWN_8).blend(x8, MASK_8); x0 = t;
            t = x1.blend(x9.rearrange(UP_8), MASK_8); x9 = x1.rearrange(DOWN_8).blend(x9, MASK_8); x1 = t;
            t = x2.blend(x10.rearrange(UP_8), MASK_8); x10 = x2.rearrange(DOWN_8).blend(x10, MASK_8); x2 = t;
            t = x3.blend(x11.rearrange(UP_8), MASK_8); x11 = x3.rearrange(DOWN_8).blend(x11, MASK_8); x3 = t;
            t = x4.blend(x12.rearrange(UP_8), MASK_8); x12 = x4.rearrange(DOWN_8).blend(x12, MASK_8); x4 = t;
            t = x5.blend(x13.rearrange(UP_8), MASK_8); x13 = x5.rearrange(DOWN_8).blend(x13, MASK_8); x5 = t;
            t = x6.blend(x14.rearrange(UP_8), MASK_8); x14 = x6.rearrange(DOWN_8).blend(x14, MASK_8); x6 = t;
            t = x7.blend(x15.rearrange(UP_8), MASK_8); x15 = x7.rearrange(DOWN_8).blend(x15, MASK_8); x7 = t;
        }
        t = x0.blend(x4.rearrange(UP_4), MASK_4); x4 = x0.rearrange(DOWN_4).blend(x4, MASK_4); x0 = t;
        t = x1.blend(x5.rearrange(UP_4), MASK_4); x5 = x1.rearrange(DOWN_4).blend(x5, MASK_4); x1 = t;
        t = x2.blend(x6.rearrange(UP_4), MASK_4); x6 = x2.rearrange(DOWN_4).blend(x6, MASK_4); x2 = t;
        t = x3.blend(x7.rearrange(UP_4), MASK_4); x7 = x3.rearrange(DOWN_4).blend(x7, MASK_4); x3 = t;
        t = x0.blend(x2.rearrange(UP_2), MASK_2); x2 = x0.rearrange(DOWN_2).blend(x2, MASK_2); x0 = t;
        t = x1.blend(x3.rearrange(UP_2), MASK_2); x3 = x1.rearrange(DOWN_2).blend(x3, MASK_2); x1 = t;
        t = x4.blend(x6.rearrange(UP_2), MASK_2); x6 = x4.rearrange(DOWN_2).blend(x6, MASK_2); x4 = t;
        t = x5.blend(x7.rearrange(UP_2), MASK_2); x7 = x5.rearrange(DOWN_2).blend(x7, MASK_2); x5 = t;
        t = x0.blend(x1.rearrange(UP_1), MASK_1); x1 = x0.rearrange(DOWN_1).blend(x1, MASK_1); x0 = t;
        t = x2.blend(x3.rearrange(UP_1), MASK_1); x3 = x2.rearrange(DOWN_1).blend(x3, MASK_1); x2 = t;
        t = x4.blend(x5.rearrange(UP_1), MASK_1); x5 = x4.rearrange(DOWN_1).blend(x5, MASK_1); x4 = t;
        t = x6.blend(x7.rearrange(UP_1), MASK_1); x7 = x6.rearrange(DOWN_1).blend(x7, MASK_1); x6 = t;
        x0.intoArray(ks, 0 * L);
        x1.intoArray(ks, 1 * L);
        x2.intoArray(ks, 2 * L);
        x3.intoArray(ks, 3 * L);
        x4.intoArray(ks, 4 * L);
        x5.intoArray(ks, 5 * L);
        x6.intoArray(ks, 6 * L);
        x7.intoArray(ks, 7 * L);
        if (half) return;
        t = x8.blend(x12.rearrange(UP_4), MASK_4); x12 = x8.rearrange(DOWN_4).blend(x12, MASK_4); x8 = t;
        t = x9.blend(x13.rearrange(UP_4), MASK_4); x13 = x9.rearrange(DOWN_4).blend(x13, MASK_4); x9 = t;
        t = x10.blend(x14.rearrange(UP_4), MASK_4); x14 = x10.rearrange(DOWN_4).blend(x14, MASK_4); x10 = t;
        t = x11.blend(x15.rearrange(UP_4), MASK_4); x15 = x11.rearrange(DOWN_4).blend(x15, MASK_4); x11 = t;
        t = x8.blend(x10.rearrange(UP_2), MASK_2); x10 = x8.rearrange(DOWN_2).blend(x10, MASK_2); x8 = t;
        t = x9.blend(x11.rearrange(UP_2), MASK_2); x11 = x9.rearrange(DOWN_2).blend(x11, MASK_2); x9 = t;
        t = x12.blend(x14.rearrange(UP_2), MASK_2); x14 = x12.rearrange(DOWN_2).blend(x14, MASK_2); x12 = t;
        t = x13.blend(x15.rearrange(UP_2), MASK_2); x15 = x13.rearrange(DOWN_2).blend(x15, MASK_2); x13 = t;
        t = x8.blend(x9.rearrange(UP_1), MASK_1); x9 = x8.rearrange(DOWN_1).blend(x9, MASK_1); x8 = t;
        t = x10.blend(x11.rearrange(UP_1), MASK_1); x11 = x10.rearrange(DOWN_1).blend(x11, MASK_1); x10 = t;
        t = x12.blend(x13.rearrange(UP_1), MASK_1); x13 = x12.rearrange(DOWN_1).blend(x13, MASK_1); x12 = t;
        t = x14.blend(x15.rearrange(UP_1), MASK_1); x15 = x14.rearrange(DOWN_1).blend(x15, MASK_1); x14 = t;
        x8.intoArray(ks, 8 * L);
        x9.intoArray(ks, 9 * L);
        x10.intoArray(ks, 10 * L);
        x11.intoArray(ks, 11 * L);
        x12.intoArray(ks, 12 * L);
        x13.intoArray(ks, 13 * L);
        x14.intoArray(ks, 14 * L);
        x15.intoArray(ks, 15 * L);
    }
}
