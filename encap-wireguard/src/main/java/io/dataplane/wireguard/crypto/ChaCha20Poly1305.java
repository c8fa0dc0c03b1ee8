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
     * Poly1305 ({@link Poly1305#aeadTag}) keyed with the first 32 bytes of ChaCha20 block 0: writes the
     * tag at {@code tagOff}, or when {@code verify} checks it there.
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
        return Poly1305.aeadTag(x0 + C0, x1 + C1, x2 + C2, x3 + C3, x4 + k0, x5 + k1, x6 + k2, x7 + k3,
                aad, aadOff, aadLen, ct, ctOff, ctLen, tagSeg, tagOff, verify);
    }
}
