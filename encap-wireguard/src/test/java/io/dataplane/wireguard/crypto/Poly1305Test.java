package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Poly1305#aeadTag} and, without AAD, {@link Poly1305Lanes#aeadTag} (where the Vector API
 * runs) against a BigInteger evaluation of RFC 8439's polynomial, with one-time keys and messages
 * chosen to push every limb to its limits (all-ones messages and {@code r}, the largest clamped
 * {@code r}, {@code s} that wraps) as well as random ones.
 */
class Poly1305Test {
    private static final BigInteger P = BigInteger.ONE.shiftLeft(130).subtract(BigInteger.valueOf(5));
    private static final BigInteger MOD128 = BigInteger.ONE.shiftLeft(128);

    /** The AEAD's MAC input: aad, zero pad, ct, zero pad, le64 lengths. */
    private static byte[] macInput(byte[] aad, byte[] ct) {
        int a = (aad.length + 15) & -16, c = (ct.length + 15) & -16;
        byte[] m = new byte[a + c + 16];
        System.arraycopy(aad, 0, m, 0, aad.length);
        System.arraycopy(ct, 0, m, a, ct.length);
        for (int i = 0; i < 8; i++) {
            m[a + c + i] = (byte) ((long) aad.length >>> (8 * i));
            m[a + c + 8 + i] = (byte) ((long) ct.length >>> (8 * i));
        }
        return m;
    }

    private static BigInteger le(byte[] b, int off, int len) {
        byte[] be = new byte[len + 1];
        for (int i = 0; i < len; i++) be[len - i] = b[off + i];
        return new BigInteger(be);
    }

    private static byte[] reference(byte[] key, byte[] aad, byte[] ct) {
        byte[] clamped = key.clone();
        for (int i : new int[] {3, 7, 11, 15}) clamped[i] &= 15;
        for (int i : new int[] {4, 8, 12}) clamped[i] &= (byte) 252;
        BigInteger r = le(clamped, 0, 16);
        BigInteger s = le(key, 16, 16);
        byte[] m = macInput(aad, ct);
        BigInteger h = BigInteger.ZERO;
        for (int i = 0; i < m.length; i += 16) {
            h = h.add(le(m, i, 16).setBit(128)).multiply(r).mod(P);
        }
        BigInteger tag = h.add(s).mod(MOD128);
        byte[] out = new byte[16];
        for (int i = 0; i < 16; i++) out[i] = tag.shiftRight(8 * i).byteValue();
        return out;
    }

    private static int word(byte[] b, int i) {
        return (b[4 * i] & 0xff) | (b[4 * i + 1] & 0xff) << 8 | (b[4 * i + 2] & 0xff) << 16 | (b[4 * i + 3] & 0xff) << 24;
    }

    private static void check(byte[] key, byte[] aad, byte[] ct) {
        byte[] tag = new byte[16];
        MemorySegment tagSeg = MemorySegment.ofArray(tag);
        Poly1305.aeadTag(word(key, 0), word(key, 1), word(key, 2), word(key, 3), word(key, 4), word(key, 5), word(key, 6),
                word(key, 7), MemorySegment.ofArray(aad), 0, aad.length, MemorySegment.ofArray(ct), 0, ct.length, tagSeg, 0,
                false);
        String what = "aad=" + aad.length + " ct=" + ct.length;
        assertArrayEquals(reference(key, aad, ct), tag, what);
        assertTrue(Poly1305.aeadTag(word(key, 0), word(key, 1), word(key, 2), word(key, 3), word(key, 4), word(key, 5),
                word(key, 6), word(key, 7), MemorySegment.ofArray(aad), 0, aad.length, MemorySegment.ofArray(ct), 0,
                ct.length, tagSeg, 0, true), what);
        if (aad.length == 0 && VectorChaCha20Poly1305.isAvailable()) {
            byte[] lanes = new byte[16];
            Poly1305Lanes.aeadTag(word(key, 0), word(key, 1), word(key, 2), word(key, 3), word(key, 4), word(key, 5),
                    word(key, 6), word(key, 7), MemorySegment.ofArray(ct), 0, ct.length, MemorySegment.ofArray(lanes), 0,
                    false);
            assertArrayEquals(tag, lanes, "lanes, " + what);
        }
        tag[15] ^= (byte) 0x80;
        assertFalse(Poly1305.aeadTag(word(key, 0), word(key, 1), word(key, 2), word(key, 3), word(key, 4), word(key, 5),
                word(key, 6), word(key, 7), MemorySegment.ofArray(aad), 0, aad.length, MemorySegment.ofArray(ct), 0,
                ct.length, tagSeg, 0, true), what);
    }

    private static byte[] filled(int len, int value) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void extremeKeysAndMessagesMatchTheBigIntegerPolynomial() {
        byte[][] keys = {filled(32, 0xff), filled(32, 0), new byte[32], filled(32, 0xff)};
        keys[2][0] = 1; // r = 1, s = 0
        java.util.Arrays.fill(keys[3], 16, 32, (byte) 0); // largest clamped r, s = 0
        for (byte[] key : keys) {
            for (int len : new int[] {0, 1, 15, 16, 17, 31, 32, 64, 255, 256, 257, 511, 512, 1023, 1408, 2048, 9000}) {
                check(key, new byte[0], filled(len, 0xff));
                check(key, filled(len % 29, 0xff), filled(len, 0xff));
                check(key, new byte[0], new byte[len]);
            }
        }
    }

    @Test
    void randomKeysAndMessagesMatchTheBigIntegerPolynomial() {
        Random rnd = new Random(1305);
        for (int i = 0; i < 2000; i++) {
            byte[] key = new byte[32];
            rnd.nextBytes(key);
            byte[] aad = new byte[i % 2 == 0 ? 0 : rnd.nextInt(48)];
            byte[] ct = new byte[rnd.nextInt(i % 3 == 0 ? 3000 : 300)];
            rnd.nextBytes(aad);
            rnd.nextBytes(ct);
            check(key, aad, ct);
        }
    }

    @Test
    void readsTheTagWhereItIsTold() {
        byte[] key = filled(32, 0x5a);
        byte[] buf = new byte[40];
        MemorySegment seg = MemorySegment.ofArray(buf);
        Poly1305.aeadTag(word(key, 0), word(key, 1), word(key, 2), word(key, 3), word(key, 4), word(key, 5), word(key, 6),
                word(key, 7), null, 0, 0, seg, 3, 20, seg, 23, false);
        assertArrayEquals(reference(key, new byte[0], java.util.Arrays.copyOfRange(buf, 3, 23)),
                seg.asSlice(23, 16).toArray(ValueLayout.JAVA_BYTE));
    }
}
