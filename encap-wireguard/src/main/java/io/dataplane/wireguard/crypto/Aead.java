package io.dataplane.wireguard.crypto;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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
 */
public final class Aead {
    private Aead() {}

    /** Seals {@code plaintext} (may be empty): ciphertext followed by the 16-byte tag. */
    public static byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] aad) {
        byte[] out = Arrays.copyOf(plaintext, plaintext.length + ChaCha20Poly1305.TAG_LEN);
        ChaCha20Poly1305.seal(ChaCha20Poly1305.key(key, 0), 0, (int) counter, (int) (counter >>> 32),
                MemorySegment.ofArray(aad), 0, aad.length, MemorySegment.ofArray(out), 0, plaintext.length);
        return out;
    }

    /** Opens {@code ciphertext[off, off+len)} (tag included); null when it does not authenticate. */
    public static byte[] open(byte[] key, long counter, byte[] ciphertext, int off, int len, byte[] aad) {
        Objects.checkFromIndexSize(off, len, ciphertext.length);
        if (len < ChaCha20Poly1305.TAG_LEN) return null;
        byte[] buf = Arrays.copyOfRange(ciphertext, off, off + len);
        int plainLen = len - ChaCha20Poly1305.TAG_LEN;
        boolean ok = ChaCha20Poly1305.open(ChaCha20Poly1305.key(key, 0), 0, (int) counter, (int) (counter >>> 32),
                MemorySegment.ofArray(aad), 0, aad.length, MemorySegment.ofArray(buf), 0, plainLen);
        return ok ? Arrays.copyOf(buf, plainLen) : null;
    }
}
