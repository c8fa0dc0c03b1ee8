package io.dataplane.wireguard.crypto;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Poly1305 (RFC 8439 section 2.5) as the AEAD of section 2.8 uses it, over {@link MemorySegment}s,
 * allocation-free. The accumulator is three 64-bit limbs (two full words and the bits above 2^128),
 * {@code r} two clamped words: a block costs four 64x64-to-128-bit products
 * ({@link Math#unsignedMultiplyHigh}, one instruction on x86-64 and AArch64) where 26-bit limbs
 * take twenty-five. The clamp leaves the low two bits of {@code r1} zero, so
 * {@code r1 * 2^128 = r1 * 5/4 (mod 2^130 - 5)} folds the high products back with one
 * multiplication by {@code r1 + r1/4}.
 */
final class Poly1305 {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long M32 = 0xffffffffL;

    private Poly1305() {}

    /**
     * The AEAD's tag over {@code aad || pad16 || ct || pad16 || le64(aadLen) || le64(ctLen)} with the
     * one-time key {@code r || s} given as its eight little-endian words. When {@code verify},
     * compares it with the 16 bytes at {@code tagOff} in constant time and returns whether they
     * match; otherwise writes it there and returns true.
     */
    static boolean aeadTag(int k0, int k1, int k2, int k3, int k4, int k5, int k6, int k7,
            MemorySegment aad, long aadOff, int aadLen, MemorySegment ct, long ctOff, int ctLen,
            MemorySegment tagSeg, long tagOff, boolean verify) {
        return aeadTag(k0, k1, k2, k3, k4, k5, k6, k7, 0, 0, 0, 0, aad, aadOff, aadLen, ct, ctOff, ctLen, tagSeg, tagOff,
                verify);
    }

    /** The clamped {@code r} (RFC 8439 2.5.1): the low 64 bits from the key's first two words. */
    static long clampR0(int k0, int k1) {
        return ((k0 & M32) | ((long) k1 << 32)) & 0x0ffffffc0fffffffL;
    }

    /** The clamped {@code r}: the high 64 bits from the key's third and fourth words. */
    static long clampR1(int k2, int k3) {
        return ((k2 & M32) | ((long) k3 << 32)) & 0x0ffffffc0ffffffcL;
    }

    /**
     * As {@link #aeadTag(int, int, int, int, int, int, int, int, MemorySegment, long, int, MemorySegment, long, int,
     * MemorySegment, long, boolean)}, resuming from the accumulator {@code h0 + h1 2^64 + h2 2^128}
     * (below 2^131) after the AAD and the first {@code done} bytes of the ciphertext (a multiple of
     * 16; 0 to start from the beginning).
     */
    static boolean aeadTag(int k0, int k1, int k2, int k3, int k4, int k5, int k6, int k7, long h0, long h1, long h2,
            int done, MemorySegment aad, long aadOff, int aadLen, MemorySegment ct, long ctOff, int ctLen,
            MemorySegment tagSeg, long tagOff, boolean verify) {
        final long r0 = clampR0(k0, k1);
        final long r1 = clampR1(k2, k3);
        final long s1 = r1 + (r1 >>> 2);
        // Three parts: the AAD, the ciphertext (each zero-padded to 16), then the two lengths.
        for (int part = done > 0 ? 1 : 0; part < 3; part++) {
            MemorySegment m = part == 0 ? aad : ct;
            long base = part == 0 ? aadOff : ctOff;
            int n = part == 0 ? aadLen : part == 1 ? ctLen : 16;
            for (int i = part == 1 ? done : 0; i < n; i += 16) {
                long m0, m1;
                if (part == 2) {
                    m0 = aadLen;
                    m1 = ctLen;
                } else if (n - i >= 16) {
                    m0 = m.get(LE_LONG, base + i);
                    m1 = m.get(LE_LONG, base + i + 8);
                } else {
                    m0 = readPadded(m, base + i, Math.min(8, n - i));
                    m1 = n - i > 8 ? readPadded(m, base + i + 8, n - i - 8) : 0;
                }
                // h += m + 2^128 (every block is a full 16 bytes once padded)
                long t = h0 + m0;
                long c = carry(h0, m0, t);
                h0 = t;
                t = h1 + m1 + c;
                c = carry(h1, m1, t);
                h1 = t;
                h2 += c + 1;
                // h *= r (mod 2^130 - 5): d0 = h0 r0 + h1 s1, d1 = h0 r1 + h1 r0 + h2 s1, d2 = h2 r0
                long d0lo = h0 * r0, d0hi = Math.unsignedMultiplyHigh(h0, r0);
                long a = h1 * s1;
                t = d0lo + a;
                d0hi += Math.unsignedMultiplyHigh(h1, s1) + carry(d0lo, a, t);
                d0lo = t;
                long d1lo = h0 * r1, d1hi = Math.unsignedMultiplyHigh(h0, r1);
                a = h1 * r0;
                t = d1lo + a;
                d1hi += Math.unsignedMultiplyHigh(h1, r0) + carry(d1lo, a, t);
                d1lo = t;
                a = h2 * s1;
                t = d1lo + a;
                d1hi += carry(d1lo, a, t);
                d1lo = t;
                long d2 = h2 * r0;
                // carry d0's high word into d1, d1's into d2, then fold 2^130 back as 5
                h0 = d0lo;
                t = d1lo + d0hi;
                d1hi += carry(d1lo, d0hi, t);
                h1 = t;
                d2 += d1hi;
                c = (d2 >>> 2) + (d2 & ~3L);
                h2 = d2 & 3;
                t = h0 + c;
                c = carry(h0, c, t);
                h0 = t;
                t = h1 + c;
                c = carry(h1, c, t);
                h1 = t;
                h2 += c;
            }
        }
        // h mod 2^130 - 5: h + 5 - 2^130 is the answer when it does not go below zero.
        long g0 = h0 + 5;
        long c = carry(h0, 5, g0);
        long g1 = h1 + c;
        c = carry(h1, c, g1);
        long g2 = h2 + c;
        long useG = -(g2 >>> 2);
        h0 = (h0 & ~useG) | (g0 & useG);
        h1 = (h1 & ~useG) | (g1 & useG);
        // tag = (h + s) mod 2^128
        long sLo = (k4 & M32) | ((long) k5 << 32);
        long sHi = (k6 & M32) | ((long) k7 << 32);
        long lo = h0 + sLo;
        long hi = h1 + sHi + carry(h0, sLo, lo);
        if (verify) {
            return ((tagSeg.get(LE_LONG, tagOff) ^ lo) | (tagSeg.get(LE_LONG, tagOff + 8) ^ hi)) == 0;
        }
        tagSeg.set(LE_LONG, tagOff, lo);
        tagSeg.set(LE_LONG, tagOff + 8, hi);
        return true;
    }

    /** The carry out of {@code sum = a + b} (a single add, or one with a carry in that did not wrap twice), without a branch. */
    private static long carry(long a, long b, long sum) {
        return ((a & b) | ((a | b) & ~sum)) >>> 63;
    }

    /** Up to 8 bytes little-endian, the missing high bytes zero (the AEAD's zero padding). */
    private static long readPadded(MemorySegment m, long at, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) v |= (m.get(ValueLayout.JAVA_BYTE, at + i) & 0xffL) << (8 * i);
        return v;
    }
}
