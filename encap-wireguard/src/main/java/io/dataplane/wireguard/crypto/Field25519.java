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
        for (int i = 0; i < LIMBS - 1; i++) {
            long c = h[i] >> width(i);
            h[i + 1] += c;
            h[i] -= c << width(i);
        }
        long c = h[LIMBS - 1] >> 25;
        h[LIMBS - 1] -= c << 25;
        h[0] += 19 * c;
        c = h[0] >> 26;
        h[1] += c;
        h[0] -= c << 26;
    }

    static long[] one() {
        long[] h = new long[LIMBS];
        h[0] = 1;
        return h;
    }

    static void add(long[] out, long[] f, long[] g) {
        for (int i = 0; i < LIMBS; i++) out[i] = f[i] + g[i];
        carry(out);
    }

    static void sub(long[] out, long[] f, long[] g) {
        for (int i = 0; i < LIMBS; i++) out[i] = f[i] - g[i];
        carry(out);
    }

    /** {@code out = f * g}; {@code out} may be {@code f} or {@code g}. */
    static void mul(long[] out, long[] f, long[] g) {
        long[] t = new long[LIMBS];
        for (int i = 0; i < LIMBS; i++) {
            for (int j = 0; j < LIMBS; j++) {
                // Two odd limbs: their starts add up to one bit less than the start of limb i + j.
                long p = f[i] * g[j] * (1 + (i & j & 1));
                int k = i + j;
                if (k >= LIMBS) {
                    t[k - LIMBS] += 19 * p;
                } else {
                    t[k] += p;
                }
            }
        }
        System.arraycopy(t, 0, out, 0, LIMBS);
        carry(out);
    }

    /** {@code out = f * n} for a small constant {@code n} (below 2^20). */
    static void mulSmall(long[] out, long[] f, int n) {
        for (int i = 0; i < LIMBS; i++) out[i] = f[i] * n;
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
        for (int i = 0; i < LIMBS; i++) {
            long x = (f[i] ^ g[i]) & mask;
            f[i] ^= x;
            g[i] ^= x;
        }
    }
}
