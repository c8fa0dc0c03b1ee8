package io.dataplane.wireguard.crypto;

import static jdk.incubator.vector.VectorOperators.ROL;
import static jdk.incubator.vector.VectorOperators.XOR;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * ChaCha20-Poly1305 with the ChaCha20 blocks computed {@link #L} at a time, one block per vector
 * lane ({@code jdk.incubator.vector}): lane {@code i} of the sixteen state vectors is block
 * {@code counter + i}, so the rounds are the scalar rounds with every {@code int} a vector and no
 * shuffle between them. The keystream goes to a per-thread scratch array word-major (word
 * {@code w} of lane {@code i} at {@code w * L + i}); a gather with stride {@code L} reads a
 * block back in byte order to XOR it into the packet. Block 0, whose first 32 bytes key Poly1305,
 * is lane 0 of the first pass, so a packet of up to {@code L - 1} blocks takes one pass.
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
    /** Gather offsets: lane {@code i} reads word {@code i} of a block from the word-major scratch. */
    private static final int[] STRIDE = new int[L];
    private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[16 * L]);

    static {
        for (int i = 0; i < L; i++) STRIDE[i] = i * L;
    }

    private ChaCha20Lanes() {}

    /** See {@link ChaCha20Poly1305#seal}. */
    static void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        int[] ks = SCRATCH.get();
        keystream(key, 0, n0, n1, n2, ks);
        int r0 = ks[0], r1 = ks[L], r2 = ks[2 * L], r3 = ks[3 * L], s0 = ks[4 * L], s1 = ks[5 * L], s2 = ks[6 * L], s3 = ks[7 * L];
        xor(key, n0, n1, n2, ks, data, off, len);
        tag(r0, r1, r2, r3, s0, s1, s2, s3, aad, aadOff, aadLen, data, off, len, false);
    }

    /** See {@link ChaCha20Poly1305#open}. */
    static boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        int[] ks = SCRATCH.get();
        keystream(key, 0, n0, n1, n2, ks);
        if (!tag(ks[0], ks[L], ks[2 * L], ks[3 * L], ks[4 * L], ks[5 * L], ks[6 * L], ks[7 * L],
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

    /** XORs keystream blocks 1.. into {@code data[off, off+len)}; {@code ks} holds the pass of blocks 0..L-1. */
    private static void xor(int[] key, int n0, int n1, int n2, int[] ks, MemorySegment data, long off, int len) {
        int first = 1;
        for (int base = 0; (long) (base + first - 1) * 64 < len; base += L, first = 0) {
            if (base > 0) keystream(key, base, n0, n1, n2, ks);
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
            IntVector k = IntVector.fromArray(S, ks, w * L + lane, STRIDE, 0);
            long p = at + 4L * w;
            IntVector.fromMemorySegment(S, data, p, LE).lanewise(XOR, k).intoMemorySegment(data, p, LE);
        }
    }

    /** XORs the first {@code n} (below 64) bytes of keystream lane {@code lane} into {@code data[at, at+n)}. */
    private static void xorTail(int[] ks, int lane, MemorySegment data, long at, int n) {
        int w = 0;
        for (; 4 * w + 4 <= n; w++) {
            long p = at + 4L * w;
            data.set(LE_INT, p, data.get(LE_INT, p) ^ ks[w * L + lane]);
        }
        int k = ks[w * L + lane];
        for (int i = 4 * w; i < n; i++) {
            long p = at + i;
            data.set(ValueLayout.JAVA_BYTE, p, (byte) (data.get(ValueLayout.JAVA_BYTE, p) ^ (k >>> (8 * (i - 4 * w)))));
        }
    }

    /** ChaCha20 blocks {@code ctr .. ctr+L-1} (RFC 8439 2.3) into {@code ks}, word-major. */
    private static void keystream(int[] key, int ctr, int n0, int n1, int n2, int[] ks) {
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
        x0.add(C0).intoArray(ks, 0 * L);
        x1.add(C1).intoArray(ks, 1 * L);
        x2.add(C2).intoArray(ks, 2 * L);
        x3.add(C3).intoArray(ks, 3 * L);
        x4.add(k0).intoArray(ks, 4 * L);
        x5.add(k1).intoArray(ks, 5 * L);
        x6.add(k2).intoArray(ks, 6 * L);
        x7.add(k3).intoArray(ks, 7 * L);
        x8.add(k4).intoArray(ks, 8 * L);
        x9.add(k5).intoArray(ks, 9 * L);
        x10.add(k6).intoArray(ks, 10 * L);
        x11.add(k7).intoArray(ks, 11 * L);
        x12.add(IntVector.broadcast(S, ctr).addIndex(1)).intoArray(ks, 12 * L);
        x13.add(n0).intoArray(ks, 13 * L);
        x14.add(n1).intoArray(ks, 14 * L);
        x15.add(n2).intoArray(ks, 15 * L);
    }
}
