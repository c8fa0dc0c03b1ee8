package io.dataplane.wireguard.crypto;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ChaCha20-Poly1305 (RFC 8439) sealing and opening in place over a {@link MemorySegment}, with no
 * allocation and no copy: WireGuard's transport-data cipher.
 *
 * <p>Why our own and not {@code javax.crypto.Cipher("ChaCha20-Poly1305")}: the JDK's cipher (JDK 25)
 * allocates on every packet. Each {@code init} builds a new engine and a new Poly1305 and clones the
 * key and the nonce; {@code doFinal(ByteBuffer, ByteBuffer)} on direct
 * buffers also copies the whole packet into a fresh {@code byte[]} and back. {@link Aead} (the JDK
 * cipher) stays in use for handshake messages, where a few allocations per handshake do not
 * matter; the tests check this class against it and against the RFC 8439 vectors.
 *
 * <p>Stateless and thread-safe: a key is an {@code int[8]} of little-endian words that nobody
 * mutates after {@link #key}; all state lives in local variables, so any thread may seal or open
 * with any key at the same time.
 */
public final class ChaCha20Poly1305 {
    /** Key size in bytes. */
    public static final int KEY_LEN = 32;
    /** Tag size in bytes. */
    public static final int TAG_LEN = 16;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int C0 = 0x61707865;
    private static final int C1 = 0x3320646e;
    private static final int C2 = 0x79622d32;
    private static final int C3 = 0x6b206574;
    private static final long M26 = 0x3ffffff;
    private static final long M32 = 0xffffffffL;

    private ChaCha20Poly1305() {}

    /** The key in the form the other methods take: 8 little-endian words of the 32 bytes at {@code offset}. */
    public static int[] key(byte[] key, int offset) {
        if (offset < 0 || key.length - offset < KEY_LEN) {
            throw new IllegalArgumentException("ChaCha20 key needs 32 bytes: have " + (key.length - offset));
        }
        int[] k = new int[8];
        for (int i = 0; i < 8; i++) {
            int o = offset + 4 * i;
            k[i] = (key[o] & 0xff) | (key[o + 1] & 0xff) << 8 | (key[o + 2] & 0xff) << 16 | (key[o + 3] & 0xff) << 24;
        }
        return k;
    }

    /**
     * Encrypts {@code data[off, off+len)} in place and writes the 16-byte tag at {@code off+len}, with
     * the 96-bit nonce {@code n0 || n1 || n2} (little-endian words) and the AAD {@code aad[aadOff,
     * aadOff+aadLen)} ({@code aadLen} may be 0, and then {@code aad} may be null).
     */
    public static void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        chachaXor(key, 1, n0, n1, n2, data, off, len);
        poly1305(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len, data, off + len, false);
    }

    /**
     * Checks the tag at {@code off+len} over the AAD and the ciphertext {@code data[off, off+len)} and
     * only if it matches decrypts the ciphertext in place. Returns false, the data untouched, on a
     * mismatch.
     */
    public static boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment data, long off, int len) {
        if (!poly1305(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len, data, off + len, true)) return false;
        chachaXor(key, 1, n0, n1, n2, data, off, len);
        return true;
    }

    /** WireGuard's transport nonce for {@code counter}: 4 zero bytes, then the counter little-endian. */
    public static void sealTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        seal(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
    }

    /** Opens a transport payload sealed by {@link #sealTransport}; false when the tag does not verify. */
    public static boolean openTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        return open(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
    }

    /** XORs the ChaCha20 keystream from block {@code counter} on into {@code data[off, off+len)}. */
    static void chachaXor(int[] key, int counter, int n0, int n1, int n2, MemorySegment data, long off, int len) {
        final int k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3], k4 = key[4], k5 = key[5], k6 = key[6], k7 = key[7];
        long p = off;
        int remaining = len;
        int ctr = counter;
        while (remaining > 0) {
            int x0 = C0, x1 = C1, x2 = C2, x3 = C3;
            int x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
            int x12 = ctr, x13 = n0, x14 = n1, x15 = n2;
            for (int i = 0; i < 10; i++) {
                x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
                x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);
                x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
                x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);
                x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
                x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);
                x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
                x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);
                x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
                x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);
                x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
                x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);
                x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
                x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);
                x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
                x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
            }
            x0 += C0; x1 += C1; x2 += C2; x3 += C3;
            x4 += k0; x5 += k1; x6 += k2; x7 += k3; x8 += k4; x9 += k5; x10 += k6; x11 += k7;
            x12 += ctr; x13 += n0; x14 += n1; x15 += n2;
            if (remaining >= 64) {
                // Two keystream words per 64-bit access: half the bounds-checked loads and stores.
                xor8(data, p, x0, x1);
                xor8(data, p + 8, x2, x3);
                xor8(data, p + 16, x4, x5);
                xor8(data, p + 24, x6, x7);
                xor8(data, p + 32, x8, x9);
                xor8(data, p + 40, x10, x11);
                xor8(data, p + 48, x12, x13);
                xor8(data, p + 56, x14, x15);
                p += 64;
                remaining -= 64;
            } else {
                xorTail(data, p, remaining, 0, x0, x1);
                xorTail(data, p, remaining, 8, x2, x3);
                xorTail(data, p, remaining, 16, x4, x5);
                xorTail(data, p, remaining, 24, x6, x7);
                xorTail(data, p, remaining, 32, x8, x9);
                xorTail(data, p, remaining, 40, x10, x11);
                xorTail(data, p, remaining, 48, x12, x13);
                xorTail(data, p, remaining, 56, x14, x15);
                remaining = 0;
            }
            ctr++;
        }
    }

    private static void xor8(MemorySegment data, long p, int lo, int hi) {
        long ks = (lo & M32) | ((long) hi << 32);
        data.set(LE_LONG, p, data.get(LE_LONG, p) ^ ks);
    }

    /** XORs keystream bytes {@code at..at+7} into a last block of {@code remaining} bytes, as far as it goes. */
    private static void xorTail(MemorySegment data, long p, int remaining, int at, int lo, int hi) {
        long ks = (lo & M32) | ((long) hi << 32);
        int end = Math.min(remaining, at + 8);
        for (int i = at; i < end; i++) {
            byte b = data.get(ValueLayout.JAVA_BYTE, p + i);
            data.set(ValueLayout.JAVA_BYTE, p + i, (byte) (b ^ (ks >>> (8 * (i - at)))));
        }
    }

    /**
     * Poly1305 over {@code aad || pad16 || ct || pad16 || le64(aadLen) || le64(ctLen)} keyed with the
     * first 32 bytes of ChaCha20 block 0. When {@code verify}, compares the result with the 16 bytes
     * at {@code tagOff} (in constant time) and returns whether they match; otherwise writes it there.
     * Limbs of 26 bits (poly1305-donna's 32-bit layout) so that every product fits in a long.
     */
    private static boolean poly1305(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen,
            MemorySegment ct, long ctOff, int ctLen, MemorySegment tagSeg, long tagOff, boolean verify) {
        // ChaCha20 block 0, only its first 8 words (the one-time key r || s) are used.
        final int k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3], k4 = key[4], k5 = key[5], k6 = key[6], k7 = key[7];
        int x0 = C0, x1 = C1, x2 = C2, x3 = C3;
        int x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
        int x12 = 0, x13 = n0, x14 = n1, x15 = n2;
        for (int i = 0; i < 10; i++) {
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
        }
        long t0 = (x0 + C0) & M32, t1 = (x1 + C1) & M32, t2 = (x2 + C2) & M32, t3 = (x3 + C3) & M32;
        final long s0 = (x4 + k0) & M32, s1 = (x5 + k1) & M32, s2 = (x6 + k2) & M32, s3 = (x7 + k3) & M32;
        // r clamped (RFC 8439 2.5.1) and split into 26-bit limbs.
        final long r0 = t0 & 0x3ffffff;
        final long r1 = ((t0 >>> 26) | (t1 << 6)) & 0x3ffff03;
        final long r2 = ((t1 >>> 20) | (t2 << 12)) & 0x3ffc0ff;
        final long r3 = ((t2 >>> 14) | (t3 << 18)) & 0x3f03fff;
        final long r4 = (t3 >>> 8) & 0x00fffff;
        final long q1 = r1 * 5, q2 = r2 * 5, q3 = r3 * 5, q4 = r4 * 5;

        long h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;
        // Three parts: the AAD, the ciphertext (each zero-padded to 16), then the two lengths.
        for (int part = 0; part < 3; part++) {
            MemorySegment m = part == 0 ? aad : ct;
            long base = part == 0 ? aadOff : ctOff;
            int n = part == 0 ? aadLen : part == 1 ? ctLen : 16;
            for (int i = 0; i < n; i += 16) {
                long lo, hi;
                if (part == 2) {
                    lo = aadLen;
                    hi = ctLen;
                } else if (n - i >= 16) {
                    lo = m.get(LE_LONG, base + i);
                    hi = m.get(LE_LONG, base + i + 8);
                } else {
                    lo = readPadded(m, base + i, Math.min(8, n - i));
                    hi = n - i > 8 ? readPadded(m, base + i + 8, n - i - 8) : 0;
                }
                // h += block, with the 2^128 bit (every block is a full 16 bytes once padded)
                h0 += lo & M26;
                h1 += (lo >>> 26) & M26;
                h2 += ((lo >>> 52) | (hi << 12)) & M26;
                h3 += (hi >>> 14) & M26;
                h4 += (hi >>> 40) | (1L << 24);
                // h *= r (mod 2^130 - 5)
                long d0 = h0 * r0 + h1 * q4 + h2 * q3 + h3 * q2 + h4 * q1;
                long d1 = h0 * r1 + h1 * r0 + h2 * q4 + h3 * q3 + h4 * q2;
                long d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * q4 + h4 * q3;
                long d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * q4;
                long d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
                long c = d0 >>> 26; h0 = d0 & M26;
                d1 += c; c = d1 >>> 26; h1 = d1 & M26;
                d2 += c; c = d2 >>> 26; h2 = d2 & M26;
                d3 += c; c = d3 >>> 26; h3 = d3 & M26;
                d4 += c; c = d4 >>> 26; h4 = d4 & M26;
                h0 += c * 5; c = h0 >>> 26; h0 &= M26;
                h1 += c;
            }
        }
        // Full carry, then h mod 2^130 - 5 by computing h + 5 - 2^130 and keeping it when it did not borrow.
        long c = h1 >>> 26; h1 &= M26;
        h2 += c; c = h2 >>> 26; h2 &= M26;
        h3 += c; c = h3 >>> 26; h3 &= M26;
        h4 += c; c = h4 >>> 26; h4 &= M26;
        h0 += c * 5; c = h0 >>> 26; h0 &= M26;
        h1 += c;
        long g0 = h0 + 5; c = g0 >>> 26; g0 &= M26;
        long g1 = h1 + c; c = g1 >>> 26; g1 &= M26;
        long g2 = h2 + c; c = g2 >>> 26; g2 &= M26;
        long g3 = h3 + c; c = g3 >>> 26; g3 &= M26;
        long g4 = h4 + c - (1L << 26);
        long keepH = g4 >> 63; // all ones when g borrowed, i.e. h < 2^130 - 5
        h0 = (h0 & keepH) | (g0 & ~keepH);
        h1 = (h1 & keepH) | (g1 & ~keepH);
        h2 = (h2 & keepH) | (g2 & ~keepH);
        h3 = (h3 & keepH) | (g3 & ~keepH);
        h4 = (h4 & keepH) | (g4 & M26 & ~keepH);
        // tag = (h + s) mod 2^128
        long w0 = (h0 | (h1 << 26)) & M32;
        long w1 = ((h1 >>> 6) | (h2 << 20)) & M32;
        long w2 = ((h2 >>> 12) | (h3 << 14)) & M32;
        long w3 = ((h3 >>> 18) | (h4 << 8)) & M32;
        long f = w0 + s0; w0 = f & M32;
        f = w1 + s1 + (f >>> 32); w1 = f & M32;
        f = w2 + s2 + (f >>> 32); w2 = f & M32;
        f = w3 + s3 + (f >>> 32); w3 = f & M32;
        long lo = w0 | (w1 << 32);
        long hi = w2 | (w3 << 32);
        if (verify) {
            return ((tagSeg.get(LE_LONG, tagOff) ^ lo) | (tagSeg.get(LE_LONG, tagOff + 8) ^ hi)) == 0;
        }
        tagSeg.set(LE_LONG, tagOff, lo);
        tagSeg.set(LE_LONG, tagOff + 8, hi);
        return true;
    }

    /** Up to 8 bytes little-endian, the missing high bytes zero (the AEAD's zero padding). */
    private static long readPadded(MemorySegment m, long at, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) v |= (m.get(ValueLayout.JAVA_BYTE, at + i) & 0xffL) << (8 * i);
        return v;
    }
}
