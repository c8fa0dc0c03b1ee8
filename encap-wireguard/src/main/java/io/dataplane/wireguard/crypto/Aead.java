package io.dataplane.wireguard.crypto;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * AEAD(key, counter, plaintext, aad) of the whitepaper for handshake messages: ChaCha20-Poly1305
 * with the nonce {@code 0^32 || le64(counter)}, over byte arrays, by {@link ChaCha20Poly1305} on a
 * copy of the input.
 *
 * <p>Our scalar cipher, not the JDK's {@code Cipher("ChaCha20-Poly1305")}: the two give the same
 * bytes (the tests check this class against the JDK's cipher), and the JDK's would load the
 * provider framework and its crypto policy into every node for a few messages per handshake
 * (benchmarks/README.md, "WireGuard's idle footprint").
 *
 * <p>The copy goes to native memory of a shared arena, the kind of segment the packet pools hand
 * the same cipher on the data path, so that the JIT's profile of the cipher's code sees one kind of
 * segment whichever path called it (a heap segment from here would leave the compiled data path
 * checking for two, or throw it away at the first handshake after warm-up). One scratch for all
 * callers, under a lock: handshake messages are few and short.
 */
public final class Aead {
    /** The longest AAD plus message plus tag the scratch holds; longer ones get a scratch of their own. */
    private static final int SCRATCH_LEN = 256;
    private static final MemorySegment SCRATCH = Arena.ofShared().allocate(SCRATCH_LEN);

    private Aead() {}

    /** Seals {@code plaintext} (may be empty): ciphertext followed by the 16-byte tag. */
    public static byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] aad) {
        int[] k = ChaCha20Poly1305.key(key, 0);
        int need = aad.length + plaintext.length + ChaCha20Poly1305.TAG_LEN;
        if (need > SCRATCH_LEN) {
            try (Arena arena = Arena.ofShared()) {
                return seal(k, counter, plaintext, aad, arena.allocate(need));
            }
        }
        synchronized (SCRATCH) {
            return seal(k, counter, plaintext, aad, SCRATCH);
        }
    }

    private static byte[] seal(int[] key, long counter, byte[] plaintext, byte[] aad, MemorySegment scratch) {
        int at = aad.length;
        MemorySegment.copy(aad, 0, scratch, ValueLayout.JAVA_BYTE, 0, aad.length);
        MemorySegment.copy(plaintext, 0, scratch, ValueLayout.JAVA_BYTE, at, plaintext.length);
        ChaCha20Poly1305.seal(key, 0, (int) counter, (int) (counter >>> 32), scratch, 0, aad.length, scratch, at, plaintext.length);
        byte[] out = new byte[plaintext.length + ChaCha20Poly1305.TAG_LEN];
        MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, at, out, 0, out.length);
        return out;
    }

    /** Opens {@code ciphertext[off, off+len)} (tag included); null when it does not authenticate. */
    public static byte[] open(byte[] key, long counter, byte[] ciphertext, int off, int len, byte[] aad) {
        Objects.checkFromIndexSize(off, len, ciphertext.length);
        if (len < ChaCha20Poly1305.TAG_LEN) return null;
        int[] k = ChaCha20Poly1305.key(key, 0);
        int need = aad.length + len;
        if (need > SCRATCH_LEN) {
            try (Arena arena = Arena.ofShared()) {
                return open(k, counter, ciphertext, off, len, aad, arena.allocate(need));
            }
        }
        synchronized (SCRATCH) {
            return open(k, counter, ciphertext, off, len, aad, SCRATCH);
        }
    }

    private static byte[] open(int[] key, long counter, byte[] ciphertext, int off, int len, byte[] aad, MemorySegment scratch) {
        int at = aad.length;
        int plainLen = len - ChaCha20Poly1305.TAG_LEN;
        MemorySegment.copy(aad, 0, scratch, ValueLayout.JAVA_BYTE, 0, aad.length);
        MemorySegment.copy(ciphertext, off, scratch, ValueLayout.JAVA_BYTE, at, len);
        if (!ChaCha20Poly1305.open(key, 0, (int) counter, (int) (counter >>> 32), scratch, 0, aad.length, scratch, at, plainLen)) {
            return null;
        }
        return scratch.asSlice(at, plainLen).toArray(ValueLayout.JAVA_BYTE);
    }
}
