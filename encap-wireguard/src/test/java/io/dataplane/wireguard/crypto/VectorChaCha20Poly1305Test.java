package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorChaCha20Poly1305} against RFC 8439's AEAD vector, the JDK's cipher at every length
 * from 0 to 2048 bytes (one, two and several passes of lanes, every tail), and our scalar cipher.
 * The build starts test JVMs with the incubator module; the tests skip only on a CPU without
 * 256-bit vectors.
 */
class VectorChaCha20Poly1305Test {
    @BeforeEach
    void needsVectors() {
        assumeTrue(VectorChaCha20Poly1305.isAvailable(), VectorChaCha20Poly1305::unavailabilityCause);
    }

    private static int le(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }

    @Test
    void rfc8439Section2_8_2AeadVector() {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = Hex.bytes("070000004041424344454647");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        byte[] pt = ChaCha20Poly1305Test.SUNSCREEN;
        String expected = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
                + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4"
                + "def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(pt.length + 16 + 5);
            MemorySegment.copy(pt, 0, seg, ValueLayout.JAVA_BYTE, 5, pt.length);
            int[] k = ChaCha20Poly1305.key(key, 0);
            VectorChaCha20Poly1305.seal(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad), 0,
                    aad.length, seg, 5, pt.length);
            assertEquals(expected, Hex.of(seg.asSlice(5, pt.length + 16).toArray(ValueLayout.JAVA_BYTE)));
            assertTrue(VectorChaCha20Poly1305.open(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad),
                    0, aad.length, seg, 5, pt.length));
            assertArrayEquals(pt, seg.asSlice(5, pt.length).toArray(ValueLayout.JAVA_BYTE));
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
                byte[] aad = new byte[len % 3 == 0 ? 0 : rnd.nextInt(40)];
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
                VectorChaCha20Poly1305.seal(k, le(nonce, 0), le(nonce, 4), le(nonce, 8), MemorySegment.ofArray(aad), 0,
                        aad.length, seg, off, len);
                assertArrayEquals(expected, seg.asSlice(off, len + 16).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
                assertTrue(VectorChaCha20Poly1305.open(k, le(nonce, 0), le(nonce, 4), le(nonce, 8),
                        MemorySegment.ofArray(aad), 0, aad.length, seg, off, len), "len=" + len);
                assertArrayEquals(pt, seg.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
            }
        }
    }

    @Test
    void opensWhatTheScalarCipherSealedAndTheOtherWayRound() {
        Random rnd = new Random(20);
        byte[] key = new byte[32];
        rnd.nextBytes(key);
        int[] k = ChaCha20Poly1305.key(key, 0);
        try (Arena arena = Arena.ofConfined()) {
            for (int len : new int[] {0, 16, 96, 1024, 1408, 1424, 9000}) {
                MemorySegment seg = arena.allocate(len + 16);
                byte[] pt = new byte[len];
                rnd.nextBytes(pt);
                long counter = rnd.nextLong();
                MemorySegment.copy(pt, 0, seg, ValueLayout.JAVA_BYTE, 0, len);
                ChaCha20Poly1305.sealTransport(k, counter, seg, 0, len);
                assertTrue(VectorChaCha20Poly1305.openTransport(k, counter, seg, 0, len), "len=" + len);
                assertArrayEquals(pt, seg.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
                VectorChaCha20Poly1305.sealTransport(k, counter, seg, 0, len);
                assertTrue(ChaCha20Poly1305.openTransport(k, counter, seg, 0, len), "len=" + len);
                assertArrayEquals(pt, seg.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
            }
        }
    }

    @Test
    void anyFlippedBitFailsAndLeavesTheCiphertextAlone() {
        byte[] key = new byte[32];
        new Random(3).nextBytes(key);
        int[] k = ChaCha20Poly1305.key(key, 0);
        try (Arena arena = Arena.ofConfined()) {
            int len = 1100; // more than one pass of lanes
            MemorySegment seg = arena.allocate(len + 16);
            VectorChaCha20Poly1305.sealTransport(k, 5, seg, 0, len);
            byte[] sealed = seg.toArray(ValueLayout.JAVA_BYTE);
            for (int bit = 0; bit < (len + 16) * 8; bit += 61) {
                MemorySegment.copy(sealed, 0, seg, ValueLayout.JAVA_BYTE, 0, sealed.length);
                byte b = seg.get(ValueLayout.JAVA_BYTE, bit / 8);
                seg.set(ValueLayout.JAVA_BYTE, bit / 8, (byte) (b ^ (1 << (bit % 8))));
                byte[] tampered = seg.toArray(ValueLayout.JAVA_BYTE);
                assertFalse(VectorChaCha20Poly1305.openTransport(k, 5, seg, 0, len), "bit " + bit);
                assertArrayEquals(tampered, seg.toArray(ValueLayout.JAVA_BYTE), "untouched after failure, bit " + bit);
            }
            MemorySegment.copy(sealed, 0, seg, ValueLayout.JAVA_BYTE, 0, sealed.length);
            assertFalse(VectorChaCha20Poly1305.openTransport(k, 6, seg, 0, len), "wrong counter");
            assertTrue(VectorChaCha20Poly1305.openTransport(k, 5, seg, 0, len));
        }
    }
}
