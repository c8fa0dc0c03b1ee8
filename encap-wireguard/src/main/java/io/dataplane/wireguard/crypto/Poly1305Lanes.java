package io.dataplane.wireguard.crypto;

import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bulk of Poly1305 {@link #N} blocks at a time, one accumulator per vector lane
 * ({@code jdk.incubator.vector}). Horner's rule {@code h = (h + m) r} is one long chain of
 * multiplications; split over {@code N} lanes, lane {@code j} takes blocks {@code j, j+N, ...} and
 * multiplies by {@code r^N} between them, and the last step multiplies lane {@code j} by
 * {@code r^(N-j)} instead, so that the lanes' sum is the same polynomial. Limbs of 26 bits in
 * 64-bit lanes (every product fits), {@code r^2 .. r^N} computed per message (the key is one-time).
 *
 * <p>Loaded only through {@link VectorChaCha20Poly1305}, after the incubator module is checked.
 */
final class Poly1305Lanes {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    /** Blocks per step: the lanes of the preferred long vector (8 with AVX-512, 4 with AVX2). */
    static final int N = S.length();
    /** Fewer whole steps than this and the scalar loop is cheaper than computing the powers. */
    static final int MIN_STEPS = 2;
    private static final long M26 = 0x3ffffff;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Pick the low (even) and high (odd) words of N consecutive blocks out of two loads: lanes
     * below N/2 from the first, the rest (negative, "exceptional" indexes) from the second.
     */
    private static final VectorShuffle<Long> EVEN = VectorShuffle.fromOp(S, j -> 2 * j < N ? 2 * j : 2 * j - 2 * N);
    private static final VectorShuffle<Long> ODD = VectorShuffle.fromOp(S, j -> 2 * j < N ? 2 * j + 1 : 2 * j + 1 - 2 * N);
    /** Per thread: limb {@code i} of {@code r^(N-j)} at {@code i * N + j}, then {@code r^k} at {@code 5 N + 5 (k-1)}. */
    private static final ThreadLocal<long[]> POWERS = ThreadLocal.withInitial(() -> new long[5 * N + 5 * N]);

    private Poly1305Lanes() {}

    /**
     * The AEAD tag (as {@link Poly1305#aeadTag}) of a message without AAD: the first
     * {@code N * steps} ciphertext blocks in lanes, the rest through the scalar loop.
     */
    static boolean aeadTag(int k0, int k1, int k2, int k3, int k4, int k5, int k6, int k7,
            MemorySegment ct, long ctOff, int ctLen, MemorySegment tagSeg, long tagOff, boolean verify) {
        int steps = ctLen / 16 / N;
        if (steps < MIN_STEPS) {
            return Poly1305.aeadTag(k0, k1, k2, k3, k4, k5, k6, k7, null, 0, 0, ct, ctOff, ctLen, tagSeg, tagOff, verify);
        }
        long r0 = Poly1305.clampR0(k0, k1), r1 = Poly1305.clampR1(k2, k3);
        long[] pw = POWERS.get();
        powers(r0, r1, pw);
        // r^N in every lane between steps.
        int rn = 5 * N + 5 * (N - 1);
        LongVector n0 = LongVector.broadcast(S, pw[rn]), n1 = LongVector.broadcast(S, pw[rn + 1]);
        LongVector n2 = LongVector.broadcast(S, pw[rn + 2]), n3 = LongVector.broadcast(S, pw[rn + 3]);
        LongVector n4 = LongVector.broadcast(S, pw[rn + 4]);
        LongVector h0 = LongVector.zero(S), h1 = h0, h2 = h0, h3 = h0, h4 = h0;
        long p = ctOff;
        for (int step = 0; step < steps; step++, p += 16L * N) {
            LongVector a = LongVector.fromMemorySegment(S, ct, p, LE);
            LongVector b = LongVector.fromMemorySegment(S, ct, p + 8L * N, LE);
            LongVector lo = a.rearrange(EVEN, b);
            LongVector hi = a.rearrange(ODD, b);
            // h += m + 2^128
            h0 = h0.add(lo.and(M26));
            h1 = h1.add(lo.lanewise(LSHR, 26).and(M26));
            h2 = h2.add(lo.lanewise(LSHR, 52).or(hi.lanewise(LSHL, 12)).and(M26));
            h3 = h3.add(hi.lanewise(LSHR, 14).and(M26));
            h4 = h4.add(hi.lanewise(LSHR, 40).or(1L << 24));
            // h *= r^N, or in the last step lane j *= r^(N-j)
            LongVector x0 = n0, x1 = n1, x2 = n2, x3 = n3, x4 = n4;
            if (step == steps - 1) {
                x0 = LongVector.fromArray(S, pw, 0);
                x1 = LongVector.fromArray(S, pw, N);
                x2 = LongVector.fromArray(S, pw, 2 * N);
                x3 = LongVector.fromArray(S, pw, 3 * N);
                x4 = LongVector.fromArray(S, pw, 4 * N);
            }
            LongVector q1 = x1.mul(5), q2 = x2.mul(5), q3 = x3.mul(5), q4 = x4.mul(5);
            LongVector d0 = h0.mul(x0).add(h1.mul(q4)).add(h2.mul(q3)).add(h3.mul(q2)).add(h4.mul(q1));
            LongVector d1 = h0.mul(x1).add(h1.mul(x0)).add(h2.mul(q4)).add(h3.mul(q3)).add(h4.mul(q2));
            LongVector d2 = h0.mul(x2).add(h1.mul(x1)).add(h2.mul(x0)).add(h3.mul(q4)).add(h4.mul(q3));
            LongVector d3 = h0.mul(x3).add(h1.mul(x2)).add(h2.mul(x1)).add(h3.mul(x0)).add(h4.mul(q4));
            LongVector d4 = h0.mul(x4).add(h1.mul(x3)).add(h2.mul(x2)).add(h3.mul(x1)).add(h4.mul(x0));
            LongVector c = d0.lanewise(LSHR, 26);
            h0 = d0.and(M26);
            d1 = d1.add(c);
            c = d1.lanewise(LSHR, 26);
            h1 = d1.and(M26);
            d2 = d2.add(c);
            c = d2.lanewise(LSHR, 26);
            h2 = d2.and(M26);
            d3 = d3.add(c);
            c = d3.lanewise(LSHR, 26);
            h3 = d3.and(M26);
            d4 = d4.add(c);
            c = d4.lanewise(LSHR, 26);
            h4 = d4.and(M26);
            h0 = h0.add(c.mul(5));
            c = h0.lanewise(LSHR, 26);
            h0 = h0.and(M26);
            h1 = h1.add(c);
        }
        // The lanes' sum, carried until every limb but the top one is below 2^26, as three 64-bit limbs for the scalar loop.
        long l0 = h0.reduceLanes(VectorOperators.ADD), l1 = h1.reduceLanes(VectorOperators.ADD);
        long l2 = h2.reduceLanes(VectorOperators.ADD), l3 = h3.reduceLanes(VectorOperators.ADD);
        long l4 = h4.reduceLanes(VectorOperators.ADD);
        long c = l0 >>> 26; l0 &= M26;
        l1 += c; c = l1 >>> 26; l1 &= M26;
        l2 += c; c = l2 >>> 26; l2 &= M26;
        l3 += c; c = l3 >>> 26; l3 &= M26;
        l4 += c; c = l4 >>> 26; l4 &= M26;
        l0 += c * 5; c = l0 >>> 26; l0 &= M26;
        l1 += c; c = l1 >>> 26; l1 &= M26;
        l2 += c; c = l2 >>> 26; l2 &= M26;
        l3 += c; c = l3 >>> 26; l3 &= M26;
        l4 += c;
        long g0 = l0 | (l1 << 26) | (l2 << 52);
        long g1 = (l2 >>> 12) | (l3 << 14) | (l4 << 40);
        long g2 = l4 >>> 24;
        return Poly1305.aeadTag(k0, k1, k2, k3, k4, k5, k6, k7, g0, g1, g2, 16 * N * steps, null, 0, 0, ct, ctOff, ctLen,
                tagSeg, tagOff, verify);
    }

    /** {@code r^1 .. r^N} into {@code pw} (see {@link #POWERS}), from the clamped {@code r}. */
    private static void powers(long r0, long r1, long[] pw) {
        int at = 5 * N;
        pw[at] = r0 & M26;
        pw[at + 1] = (r0 >>> 26) & M26;
        pw[at + 2] = ((r0 >>> 52) | (r1 << 12)) & M26;
        pw[at + 3] = (r1 >>> 14) & M26;
        pw[at + 4] = r1 >>> 40;
        for (int k = 2; k <= N; k++) mul(pw, at + 5 * (k - 2), at, at + 5 * (k - 1));
        for (int j = 0; j < N; j++) {
            int from = at + 5 * (N - j - 1);
            for (int i = 0; i < 5; i++) pw[i * N + j] = pw[from + i];
        }
    }

    /** {@code pw[out..out+5) = pw[a..a+5) * pw[b..b+5) mod 2^130 - 5}, 26-bit limbs, carried. */
    private static void mul(long[] pw, int a, int b, int out) {
        long a0 = pw[a], a1 = pw[a + 1], a2 = pw[a + 2], a3 = pw[a + 3], a4 = pw[a + 4];
        long b0 = pw[b], b1 = pw[b + 1], b2 = pw[b + 2], b3 = pw[b + 3], b4 = pw[b + 4];
        long q1 = b1 * 5, q2 = b2 * 5, q3 = b3 * 5, q4 = b4 * 5;
        long d0 = a0 * b0 + a1 * q4 + a2 * q3 + a3 * q2 + a4 * q1;
        long d1 = a0 * b1 + a1 * b0 + a2 * q4 + a3 * q3 + a4 * q2;
        long d2 = a0 * b2 + a1 * b1 + a2 * b0 + a3 * q4 + a4 * q3;
        long d3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + a4 * q4;
        long d4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
        long c = d0 >>> 26; d0 &= M26;
        d1 += c; c = d1 >>> 26; d1 &= M26;
        d2 += c; c = d2 >>> 26; d2 &= M26;
        d3 += c; c = d3 >>> 26; d3 &= M26;
        d4 += c; c = d4 >>> 26; d4 &= M26;
        d0 += c * 5; c = d0 >>> 26; d0 &= M26;
        d1 += c;
        pw[out] = d0;
        pw[out + 1] = d1;
        pw[out + 2] = d2;
        pw[out + 3] = d3;
        pw[out + 4] = d4;
    }
}
