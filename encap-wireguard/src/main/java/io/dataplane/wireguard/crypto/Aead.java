package io.dataplane.wireguard.crypto;

import java.util.Arrays;

/**
 * AEAD(key, counter, plaintext, aad) of the whitepaper for handshake messages: ChaCha20-Poly1305
 * (RFC 8439) with the nonce {@code 0^32 || le64(counter)}, over byte arrays; and the ChaCha20 core
 * that {@link XChaCha20Poly1305} derives its subkey with.
 *
 * <p>A plain implementation after the RFC, apart from the transport's {@link ChaCha20Poly1305}:
 * the packet path's compiled code then never sees the handshake's byte arrays, its additional data
 * or its call sites, and a node needs neither the JDK's provider framework (which its
 * {@code Cipher} brings, and keeps resident) nor a library's for a few short messages every two
 * minutes. The tests check it against the RFC's vectors and against the JDK's cipher.
 */
public final class Aead {
    private static final int C0 = 0x61707865, C1 = 0x3320646e, C2 = 0x79622d32, C3 = 0x6b206574;
    private static final long M26 = 0x3ffffff, M32 = 0xffffffffL;

    private Aead() {}

    /** Seals {@code plaintext} (may be empty): ciphertext followed by the 16-byte tag. */
    public static byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] aad) {
        return seal(key, 0, (int) counter, (int) (counter >>> 32), plaintext, aad);
    }

    /** Opens {@code ciphertext[off, off+len)} (tag included); null when it does not authenticate. */
    public static byte[] open(byte[] key, long counter, byte[] ciphertext, int off, int len, byte[] aad) {
        return open(key, 0, (int) counter, (int) (counter >>> 32), ciphertext, off, len, aad);
    }

    /** ChaCha20-Poly1305 sealing with the nonce {@code n0 || n1 || n2} (little-endian words). */
    static byte[] seal(byte[] key, int n0, int n1, int n2, byte[] plaintext, byte[] aad) {
        int[] k = ChaCha20Poly1305.key(key, 0);
        byte[] out = Arrays.copyOf(plaintext, plaintext.length + ChaCha20Poly1305.TAG_LEN);
        xorKeystream(k, n0, n1, n2, out, plaintext.length);
        byte[] tag = tag(k, n0, n1, n2, aad, out, plaintext.length);
        System.arraycopy(tag, 0, out, plaintext.length, tag.length);
        return out;
    }

    /** ChaCha20-Poly1305 opening with the nonce {@code n0 || n1 || n2}; null when the tag does not verify. */
    static byte[] open(byte[] key, int n0, int n1, int n2, byte[] ciphertext, int off, int len, byte[] aad) {
        if (len < ChaCha20Poly1305.TAG_LEN) return null;
        int[] k = ChaCha20Poly1305.key(key, 0);
        int ctLen = len - ChaCha20Poly1305.TAG_LEN;
        byte[] out = Arrays.copyOfRange(ciphertext, off, off + ctLen);
        byte[] tag = tag(k, n0, n1, n2, aad, out, ctLen);
        int diff = 0;
        for (int i = 0; i < tag.length; i++) diff |= tag[i] ^ ciphertext[off + ctLen + i];
        if (diff != 0) return null;
        xorKeystream(k, n0, n1, n2, out, ctLen);
        return out;
    }

    /** The ChaCha20 block function (RFC 8439 section 2.3): 16 words of keystream block {@code counter}. */
    static int[] block(int[] key, int counter, int n0, int n1, int n2) {
        int[] x = {C0, C1, C2, C3, key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7], counter, n0, n1, n2};
        int[] initial = x.clone();
        rounds(x);
        for (int i = 0; i < 16; i++) x[i] += initial[i];
        return x;
    }

    /** HChaCha20 (draft-irtf-cfrg-xchacha section 2.2): the 8-word subkey of {@code key} and the 4 nonce words. */
    static int[] hchacha20(int[] key, int n0, int n1, int n2, int n3) {
        int[] x = {C0, C1, C2, C3, key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7], n0, n1, n2, n3};
        rounds(x);
        return new int[] {x[0], x[1], x[2], x[3], x[12], x[13], x[14], x[15]};
    }

    /** The 20 rounds: 10 of a column round and a diagonal round. */
    private static void rounds(int[] x) {
        for (int i = 0; i < 10; i++) {
            quarterRound(x, 0, 4, 8, 12);
            quarterRound(x, 1, 5, 9, 13);
            quarterRound(x, 2, 6, 10, 14);
            quarterRound(x, 3, 7, 11, 15);
            quarterRound(x, 0, 5, 10, 15);
            quarterRound(x, 1, 6, 11, 12);
            quarterRound(x, 2, 7, 8, 13);
            quarterRound(x, 3, 4, 9, 14);
        }
    }

    private static void quarterRound(int[] x, int a, int b, int c, int d) {
        x[a] += x[b]; x[d] = Integer.rotateLeft(x[d] ^ x[a], 16);
        x[c] += x[d]; x[b] = Integer.rotateLeft(x[b] ^ x[c], 12);
        x[a] += x[b]; x[d] = Integer.rotateLeft(x[d] ^ x[a], 8);
        x[c] += x[d]; x[b] = Integer.rotateLeft(x[b] ^ x[c], 7);
    }

    /** XORs the keystream from block 1 on into {@code data[0, len)}. */
    private static void xorKeystream(int[] k, int n0, int n1, int n2, byte[] data, int len) {
        for (int at = 0, counter = 1; at < len; at += 64, counter++) {
            int[] ks = block(k, counter, n0, n1, n2);
            for (int i = at; i < Math.min(len, at + 64); i++) data[i] ^= (byte) (ks[(i - at) >> 2] >>> 8 * (i & 3));
        }
    }

    /**
     * The Poly1305 tag (RFC 8439 sections 2.5 and 2.8) of {@code aad} and {@code ct[0, ctLen)} under the
     * one-time key of ChaCha20 block 0, on 26-bit limbs.
     */
    private static byte[] tag(int[] k, int n0, int n1, int n2, byte[] aad, byte[] ct, int ctLen) {
        int[] otk = block(k, 0, n0, n1, n2);
        // The MAC's input: aad, padded to 16; the ciphertext, padded to 16; both lengths as le64.
        int aadPadded = (aad.length + 15) & -16, ctPadded = (ctLen + 15) & -16;
        byte[] m = new byte[aadPadded + ctPadded + 16];
        System.arraycopy(aad, 0, m, 0, aad.length);
        System.arraycopy(ct, 0, m, aadPadded, ctLen);
        for (int i = 0; i < 8; i++) {
            m[aadPadded + ctPadded + i] = (byte) ((long) aad.length >>> 8 * i);
            m[aadPadded + ctPadded + 8 + i] = (byte) ((long) ctLen >>> 8 * i);
        }
        // r, clamped, in 26-bit limbs: words 0-3 of the one-time key.
        long t0 = otk[0] & M32, t1 = otk[1] & M32, t2 = otk[2] & M32, t3 = otk[3] & M32;
        long r0 = t0 & 0x3ffffff;
        long r1 = (t0 >>> 26 | t1 << 6) & 0x3ffff03;
        long r2 = (t1 >>> 20 | t2 << 12) & 0x3ffc0ff;
        long r3 = (t2 >>> 14 | t3 << 18) & 0x3f03fff;
        long r4 = (t3 >>> 8) & 0x00fffff;
        long s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
        long h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;
        for (int at = 0; at < m.length; at += 16) {
            long m0 = le32(m, at), m1 = le32(m, at + 4), m2 = le32(m, at + 8), m3 = le32(m, at + 12);
            h0 += m0 & M26;
            h1 += (m0 >>> 26 | m1 << 6) & M26;
            h2 += (m1 >>> 20 | m2 << 12) & M26;
            h3 += (m2 >>> 14 | m3 << 18) & M26;
            h4 += m3 >>> 8 | 1L << 24; // every block is whole: the 2^128 bit
            long d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
            long d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
            long d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
            long d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
            long d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
            long c = d0 >>> 26; h0 = d0 & M26;
            d1 += c; c = d1 >>> 26; h1 = d1 & M26;
            d2 += c; c = d2 >>> 26; h2 = d2 & M26;
            d3 += c; c = d3 >>> 26; h3 = d3 & M26;
            d4 += c; c = d4 >>> 26; h4 = d4 & M26;
            h0 += c * 5; c = h0 >>> 26; h0 &= M26;
            h1 += c;
        }
        // Fully carried, then h - p where that is not negative (h < 2p here).
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
        long keepH = g4 >> 63; // all ones where h < p
        h0 = h0 & keepH | g0 & ~keepH;
        h1 = h1 & keepH | g1 & ~keepH;
        h2 = h2 & keepH | g2 & ~keepH;
        h3 = h3 & keepH | g3 & ~keepH;
        h4 = h4 & keepH | g4 & ~keepH;
        // h + s mod 2^128, s being words 4-7 of the one-time key.
        long f = (h0 | h1 << 26) & M32;
        f += otk[4] & M32;
        byte[] tag = new byte[ChaCha20Poly1305.TAG_LEN];
        putLe32(tag, 0, f);
        f = ((h1 >>> 6 | h2 << 20) & M32) + (otk[5] & M32) + (f >>> 32);
        putLe32(tag, 4, f);
        f = ((h2 >>> 12 | h3 << 14) & M32) + (otk[6] & M32) + (f >>> 32);
        putLe32(tag, 8, f);
        f = ((h3 >>> 18 | h4 << 8) & M32) + (otk[7] & M32) + (f >>> 32);
        putLe32(tag, 12, f);
        return tag;
    }

    private static long le32(byte[] b, int at) {
        return (b[at] & 0xff | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (long) (b[at + 3] & 0xff) << 24) & M32;
    }

    private static void putLe32(byte[] b, int at, long v) {
        for (int i = 0; i < 4; i++) b[at + i] = (byte) (v >>> 8 * i);
    }
}
