package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The scalar {@link ChaCha20Poly1305} against {@link InPlaceAeadContract}, and the handshake's {@link Aead} beside it. */
class ChaCha20Poly1305Test extends InPlaceAeadContract {
    @Override
    void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen, MemorySegment data, long off,
            int len) {
        ChaCha20Poly1305.seal(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len);
    }

    @Override
    boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen, MemorySegment data, long off,
            int len) {
        return ChaCha20Poly1305.open(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len);
    }

    @Test
    void handshakeAeadAgreesWithTheSegmentCipher() {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        long counter = 0x4746454443424140L;
        byte[] sealed = Aead.seal(key, counter, SUNSCREEN, aad);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(SUNSCREEN.length + 16);
            MemorySegment.copy(SUNSCREEN, 0, seg, ValueLayout.JAVA_BYTE, 0, SUNSCREEN.length);
            ChaCha20Poly1305.seal(ChaCha20Poly1305.key(key, 0), 0, (int) counter, (int) (counter >>> 32),
                    MemorySegment.ofArray(aad), 0, aad.length, seg, 0, SUNSCREEN.length);
            assertArrayEquals(sealed, seg.toArray(ValueLayout.JAVA_BYTE));
        }
        assertArrayEquals(SUNSCREEN, Aead.open(key, counter, sealed, 0, sealed.length, aad));
        sealed[3] ^= 1;
        assertEquals(null, Aead.open(key, counter, sealed, 0, sealed.length, aad));
    }
    @Test
    void handshakeAeadMatchesTheJdkCipherAtEveryLengthAndRefusesEveryFlippedBit() throws Exception {
        java.util.SplittableRandom random = new java.util.SplittableRandom(8439);
        for (int len = 0; len <= 200; len++) {
            byte[] key = new byte[32];
            byte[] pt = new byte[len];
            byte[] aad = new byte[random.nextInt(70)];
            random.nextBytes(key);
            random.nextBytes(pt);
            random.nextBytes(aad);
            long counter = random.nextLong();
            byte[] nonce = new byte[12];
            for (int i = 0; i < 8; i++) nonce[4 + i] = (byte) (counter >>> 8 * i);
            javax.crypto.Cipher jdk = javax.crypto.Cipher.getInstance("ChaCha20-Poly1305");
            jdk.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "ChaCha20"),
                    new javax.crypto.spec.IvParameterSpec(nonce));
            jdk.updateAAD(aad);
            byte[] expected = jdk.doFinal(pt);
            byte[] sealed = Aead.seal(key, counter, pt, aad);
            assertEquals(Hex.of(expected), Hex.of(sealed), "len=" + len + " aadLen=" + aad.length);
            // Opened from the middle of a larger array, as a handshake message's field is.
            byte[] framed = new byte[sealed.length + 7];
            System.arraycopy(sealed, 0, framed, 3, sealed.length);
            assertArrayEquals(pt, Aead.open(key, counter, framed, 3, sealed.length, aad), "len=" + len);
            int bit = random.nextInt(8 * sealed.length);
            framed[3 + bit / 8] ^= (byte) (1 << (bit % 8));
            assertEquals(null, Aead.open(key, counter, framed, 3, sealed.length, aad), "len=" + len + " flipped bit " + bit);
        }
        assertEquals(null, Aead.open(new byte[32], 0, new byte[15], 0, 15, new byte[0]), "shorter than a tag");
    }
}
