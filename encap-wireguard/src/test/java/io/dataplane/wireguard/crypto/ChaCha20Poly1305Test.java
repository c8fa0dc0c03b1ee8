package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The scalar {@link ChaCha20Poly1305} against {@link InPlaceAeadContract}, and the handshake's {@link Aead} against the JDK's cipher. */
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
    void handshakeAeadGivesTheJdkCiphersBytes() throws Exception {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        long counter = 0x4746454443424140L;
        byte[] nonce = {0, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
        // The scratch's sizes and beyond: empty, a handshake's 32-byte static key, the RFC's 114 bytes, 300 bytes.
        for (byte[] plaintext : new byte[][] {new byte[0], new byte[32], SUNSCREEN, new byte[300]}) {
            Cipher jdk = Cipher.getInstance("ChaCha20-Poly1305");
            jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce));
            jdk.updateAAD(aad);
            byte[] expected = jdk.doFinal(plaintext);
            byte[] sealed = Aead.seal(key, counter, plaintext, aad);
            assertArrayEquals(expected, sealed, "len=" + plaintext.length);
            // Opened from the middle of a larger message, as the handshake reads its fields.
            byte[] message = new byte[sealed.length + 7];
            System.arraycopy(sealed, 0, message, 3, sealed.length);
            assertArrayEquals(plaintext, Aead.open(key, counter, message, 3, sealed.length, aad), "len=" + plaintext.length);
            message[3 + sealed.length - 1] ^= 1;
            assertNull(Aead.open(key, counter, message, 3, sealed.length, aad), "forged tag, len=" + plaintext.length);
            message[3 + sealed.length - 1] ^= 1;
            aad[0] ^= 1;
            assertNull(Aead.open(key, counter, message, 3, sealed.length, aad), "other aad, len=" + plaintext.length);
            aad[0] ^= 1;
        }
        assertNull(Aead.open(key, counter, new byte[15], 0, 15, aad), "shorter than a tag");
        assertThrows(IndexOutOfBoundsException.class, () -> Aead.open(key, counter, new byte[20], 8, 16, aad));
    }
}
