package io.dataplane.wireguard.crypto;

/**
 * Arithmetic modulo p = 2^255 - 19 for {@link X25519}, in constant time: no branch and no memory
 * access depends on a value, only on the fixed shape of the computation.
 *
 * <p>An element is ten signed limbs in a {@code long[10]}, limb {@code i} worth 2^ceil(25.5 i): 26
 * bits in the even limbs, 25 in the odd ones, so that 2^255 wraps around onto limb 0 as a factor
 * 19. {@link #carry} brings every limb back under 2^26 in magnitude; products of such limbs, each
 * doubled at most once (two odd limbs) and multiplied by 19 at most once (the part past 2^255),
 * summed ten at a time, stay below 2^61, well inside a {@code long}. Every operation here ends with
 * a carry, so its inputs always have carried limbs.
 */
final class Field25519 {
    static final int LIMBS = 10;

    private Field25519() {}

    /** Bits of limb {@code i}: 26 for even, 25 for odd. */
    private static int width(int i) {
        return 26 - (i & 1);
    }

    /** Where limb {@code i} starts: ceil(25.5 i). */
    private static int start(int i) {
        return (51 * i + 1) / 2;
    }

    /** The element of the 32 bytes at {@code b} little-endian, bit 255 ignored (RFC 7748 decodeUCoordinate). */
    static long[] decode(byte[] b) {
        long[] h = new long[LIMBS];
        for (int i = 0; i < LIMBS; i++) {
            int s = start(i);
            long bits = 0;
            // The five bytes from the limb's first one hold all its bits (at most 7 + 26 of 40).
            for (int j = 4; j >= 0; j--) {
                int at = (s >> 3) + j;
                bits = bits << 8 | (at < 32 ? b[at] & 0xff : 0);
            }
            h[i] = bits >>> (s & 7) & ((1L << width(i)) - 1);
        }
        return h;
    }

    /** The canonical little-endian encoding of {@code f} (fully reduced modulo p). */
    static byte[] encode(long[] f) {
        long[] h = f.clone();
        carry(h);
        carry(h);
        // Now -2^28 < h < 2^255 + 2^28, and the canonical value is h - q p for q = floor(h / p), which
        // is -1 where h < 0, else 1 where h + 19 reaches 2^255, else 0: from the carries of h and of
        // h + 19 past bit 255 (floor divisions, so exact for negative limbs too).
        long below = h[0] >> 26, above = (h[0] + 19) >> 26;
        for (int i = 1; i < LIMBS; i++) {
            below = (h[i] + below) >> width(i);
            above = (h[i] + above) >> width(i);
        }
        long negative = below >> 1; // -1 where below is -1, else 0
        long q = above & ~negative | negative;
        h[0] += 19 * q;
        for (int i = 0; i < LIMBS - 1; i++) {
            long c = h[i] >> width(i);
            h[i + 1] += c;
            h[i] -= c << width(i);
        }
        h[LIMBS - 1] &= (1L << 25) - 1; // takes away q 2^255
        byte[] out = new byte[32];
        for (int i = 0; i < LIMBS; i++) {
            int s = start(i);
            long v = h[i] << (s & 7);
            for (int j = 0; j < 5 && (s >> 3) + j < 32; j++) out[(s >> 3) + j] |= (byte) (v >>> 8 * j);
        }
        return out;
    }

    /** Brings every limb of {@code h} under 2^26 in magnitude (the value unchanged modulo p). */
    static void carry(long[] h) {
        // Written out limb by limb, as the other operations: no loop, so that the interpreter runs a
        // handshake's few hundred thousand of them quickly and the JIT meets no loop to compile
        // on the stack while it has the packet path's code to do (see mul).
        long h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9];
        long c;
        c = h0 >> 26; h1 += c; h0 -= c << 26;
        c = h1 >> 25; h2 += c; h1 -= c << 25;
        c = h2 >> 26; h3 += c; h2 -= c << 26;
        c = h3 >> 25; h4 += c; h3 -= c << 25;
        c = h4 >> 26; h5 += c; h4 -= c << 26;
        c = h5 >> 25; h6 += c; h5 -= c << 25;
        c = h6 >> 26; h7 += c; h6 -= c << 26;
        c = h7 >> 25; h8 += c; h7 -= c << 25;
        c = h8 >> 26; h9 += c; h8 -= c << 26;
        c = h9 >> 25; h0 += 19 * c; h9 -= c << 25;
        c = h0 >> 26; h1 += c; h0 -= c << 26;
        h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7; h[8] = h8; h[9] = h9;
    }

    static long[] one() {
        long[] h = new long[LIMBS];
        h[0] = 1;
        return h;
    }

    static void add(long[] out, long[] f, long[] g) {
        out[0] = f[0] + g[0]; out[1] = f[1] + g[1]; out[2] = f[2] + g[2]; out[3] = f[3] + g[3]; out[4] = f[4] + g[4];
        out[5] = f[5] + g[5]; out[6] = f[6] + g[6]; out[7] = f[7] + g[7]; out[8] = f[8] + g[8]; out[9] = f[9] + g[9];
        carry(out);
    }

    static void sub(long[] out, long[] f, long[] g) {
        out[0] = f[0] - g[0]; out[1] = f[1] - g[1]; out[2] = f[2] - g[2]; out[3] = f[3] - g[3]; out[4] = f[4] - g[4];
        out[5] = f[5] - g[5]; out[6] = f[6] - g[6]; out[7] = f[7] - g[7]; out[8] = f[8] - g[8]; out[9] = f[9] - g[9];
        carry(out);
    }

    /**
     * {@code out = f * g}; {@code out} may be {@code f} or {@code g}. The product of limbs {@code i}
     * and {@code j} lands on limb {@code i + j}, doubled where both are odd (their starts add up to
     * one bit more than that limb's), and times 19 where {@code i + j} passes 9 (2^255 = 19).
     * Written out term by term: a handshake runs this some ten thousand times, interpreted at first,
     * and the JIT then compiles it once, straight code with no loop to compile on the stack nor a
     * branch to trap on.
     */
    static void mul(long[] out, long[] f, long[] g) {
        long f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4], f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
        long g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4], g5 = g[5], g6 = g[6], g7 = g[7], g8 = g[8], g9 = g[9];
        long f1_2 = 2 * f1, f3_2 = 2 * f3, f5_2 = 2 * f5, f7_2 = 2 * f7, f9_2 = 2 * f9;
        long g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4, g5_19 = 19 * g5;
        long g6_19 = 19 * g6, g7_19 = 19 * g7, g8_19 = 19 * g8, g9_19 = 19 * g9;
        long h0 = f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19
                + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19;
        long h1 = f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19
                + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19;
        long h2 = f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19
                + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19;
        long h3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19
                + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19;
        long h4 = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0
                + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19;
        long h5 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1
                + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19;
        long h6 = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2
                + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19;
        long h7 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3
                + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
        long h8 = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4
                + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19;
        long h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5
                + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
        out[0] = h0; out[1] = h1; out[2] = h2; out[3] = h3; out[4] = h4; out[5] = h5; out[6] = h6; out[7] = h7; out[8] = h8; out[9] = h9;
        carry(out);
    }

    /** {@code out = f * n} for a small constant {@code n} (below 2^20). */
    static void mulSmall(long[] out, long[] f, int n) {
        out[0] = f[0] * n; out[1] = f[1] * n; out[2] = f[2] * n; out[3] = f[3] * n; out[4] = f[4] * n;
        out[5] = f[5] * n; out[6] = f[6] * n; out[7] = f[7] * n; out[8] = f[8] * n; out[9] = f[9] * n;
        carry(out);
    }

    /** {@code out = f^(p-2)}, the inverse of {@code f} (0 for 0). */
    static void invert(long[] out, long[] f) {
        long[] r = f.clone();
        // p - 2 = 2^255 - 21: every bit from 254 down to 0 set but bits 4 and 2.
        for (int bit = 253; bit >= 0; bit--) {
            mul(r, r, r);
            if (bit != 4 && bit != 2) mul(r, r, f);
        }
        System.arraycopy(r, 0, out, 0, LIMBS);
    }

    /** Swaps {@code f} and {@code g} if {@code swap} is 1, leaves them if 0, in the same time either way. */
    static void cswap(long[] f, long[] g, int swap) {
        long mask = -swap;
        long x;
        x = (f[0] ^ g[0]) & mask; f[0] ^= x; g[0] ^= x;
        x = (f[1] ^ g[1]) & mask; f[1] ^= x; g[1] ^= x;
        x = (f[2] ^ g[2]) & mask; f[2] ^= x; g[2] ^= x;
        x = (f[3] ^ g[3]) & mask; f[3] ^= x; g[3] ^= x;
        x = (f[4] ^ g[4]) & mask; f[4] ^= x; g[4] ^= x;
        x = (f[5] ^ g[5]) & mask; f[5] ^= x; g[5] ^= x;
        x = (f[6] ^ g[6]) & mask; f[6] ^= x; g[6] ^= x;
        x = (f[7] ^ g[7]) & mask; f[7] ^= x; g[7] ^= x;
        x = (f[8] ^ g[8]) & mask; f[8] ^= x; g[8] ^= x;
        x = (f[9] ^ g[9]) & mask; f[9] ^= x; g[9] ^= x;
    }
}
