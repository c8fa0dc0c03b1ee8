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
    void handshakeAeadOfTheJdkAgreesWithTheSegmentCipher() {
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
}
