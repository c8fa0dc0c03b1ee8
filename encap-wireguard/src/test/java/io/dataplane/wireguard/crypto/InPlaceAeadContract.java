package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * What every in-place ChaCha20-Poly1305 over MemorySegment must do, subclassed per implementation:
 * RFC 8439's AEAD vector, the JDK's cipher at every length from 0 to 2048 bytes (every tail, one
 * and several passes of vector lanes) with and without AAD, on and off heap at odd offsets,
 * WireGuard's transport nonce, and forgeries refused with the data untouched.
 */
abstract class InPlaceAeadContract {
    static final byte[] SUNSCREEN = ("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future,"
            + " sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);

    abstract void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen, MemorySegment data,
            long off, int len);

    abstract boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen, MemorySegment data,
            long off, int len);

    /** WireGuard's nonce: four zero bytes, then the counter little-endian. */
    final void sealTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        seal(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
    }

    final boolean openTransport(int[] key, long counter, MemorySegment data, long off, int len) {
        return open(key, 0, (int) counter, (int) (counter >>> 32), null, 0, 0, data, off, len);
    }

    static int le(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }

    @Test
    void rfc8439Section2_8_2AeadVector() {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = Hex.bytes("070000004041424344454647");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        String expected = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
                + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4"
                + "def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(SUNSCREEN.length + 16 + 5);
            MemorySegment.copy(SUNSCREEN, 0, seg, ValueLayout.JAVA_BYTE, 5, SUNSCREEN.length);
            int[] k = ChaCha20Poly1305.key(key, 0);
            seal(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad), 0, aad.length, seg, 5,
                    SUNSCREEN.length);
            assertEquals(expected, Hex.of(seg.asSlice(5, SUNSCREEN.length + 16).toArray(ValueLayout.JAVA_BYTE)));
            assertTrue(open(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad), 0, aad.length, seg, 5,
                    SUNSCREEN.length));
            assertArrayEquals(SUNSCREEN, seg.asSlice(5, SUNSCREEN.length).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void matchesTheJdkCipherAtEveryLengthUpTo2048() throws Exception {
        Random rnd = new Random(8439);
        Cipher jdk = Cipher.getInstance("ChaCha20-Poly1305");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment offHeap = arena.allocate(2048 + 16 + 7);
            for (int len = 0; len <= 2048; len++) {
                byte[] key = new byte[32];
                byte[] nonce = new byte[12];
                byte[] pt = new byte[len];
                byte[] aad = new byte[len % 3 == 0 ? rnd.nextInt(40) : 0]; // transport data has none
                rnd.nextBytes(key);
                rnd.nextBytes(nonce);
                rnd.nextBytes(pt);
                rnd.nextBytes(aad);
                jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce));
                jdk.updateAAD(aad);
                byte[] expected = jdk.doFinal(pt);
                int[] k = ChaCha20Poly1305.key(key, 0);
                int off = len % 7;
                // Off-heap at an odd offset, as packets sit in pool buffers; on-heap, as tests and fuzzers hand them in.
                MemorySegment seg = len % 2 == 0 ? offHeap : MemorySegment.ofArray(new byte[len + 16 + off]);
                MemorySegment.copy(pt, 0, seg, ValueLayout.JAVA_BYTE, off, len);
                seal(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad), 0, aad.length, seg, off, len);
                assertArrayEquals(expected, seg.asSlice(off, len + 16).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
                assertTrue(open(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad), 0, aad.length, seg,
                        off, len), "len=" + len);
                assertArrayEquals(pt, seg.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
            }
        }
    }

    @Test
    void transportNonceIsFourZeroBytesAndTheCounterLittleEndian() throws Exception {
        byte[] key = new byte[32];
        new Random(7).nextBytes(key);
        long counter = 0x0102030405060708L;
        byte[] nonce = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
        Cipher c = Cipher.getInstance("ChaCha20-Poly1305");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce));
        byte[] expected = c.doFinal(SUNSCREEN);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(SUNSCREEN.length + 16);
            MemorySegment.copy(SUNSCREEN, 0, seg, ValueLayout.JAVA_BYTE, 0, SUNSCREEN.length);
            sealTransport(ChaCha20Poly1305.key(key, 0), counter, seg, 0, SUNSCREEN.length);
            assertArrayEquals(expected, seg.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void anyFlippedBitFailsAndLeavesTheCiphertextAlone() {
        byte[] key = new byte[32];
        new Random(3).nextBytes(key);
        int[] k = ChaCha20Poly1305.key(key, 0);
        try (Arena arena = Arena.ofConfined()) {
            for (int len : new int[] {100, 1100}) { // one pass of lanes and several
                MemorySegment seg = arena.allocate(len + 16);
                sealTransport(k, 5, seg, 0, len);
                byte[] sealed = seg.toArray(ValueLayout.JAVA_BYTE);
                for (int bit = 0; bit < (len + 16) * 8; bit += len / 14) {
                    MemorySegment.copy(sealed, 0, seg, ValueLayout.JAVA_BYTE, 0, sealed.length);
                    byte b = seg.get(ValueLayout.JAVA_BYTE, bit / 8);
                    seg.set(ValueLayout.JAVA_BYTE, bit / 8, (byte) (b ^ (1 << (bit % 8))));
                    byte[] tampered = seg.toArray(ValueLayout.JAVA_BYTE);
                    assertFalse(openTransport(k, 5, seg, 0, len), "len " + len + " bit " + bit);
                    assertArrayEquals(tampered, seg.toArray(ValueLayout.JAVA_BYTE), "untouched after failure, bit " + bit);
                }
                MemorySegment.copy(sealed, 0, seg, ValueLayout.JAVA_BYTE, 0, sealed.length);
                assertFalse(openTransport(k, 6, seg, 0, len), "wrong counter");
                assertTrue(openTransport(k, 5, seg, 0, len));
            }
        }
    }
}
