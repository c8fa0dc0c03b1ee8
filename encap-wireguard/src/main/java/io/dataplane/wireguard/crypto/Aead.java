package io.dataplane.wireguard.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AEAD(key, counter, plaintext, aad) of the whitepaper for handshake messages: the JDK's
 * ChaCha20-Poly1305 with the nonce {@code 0^32 || le64(counter)}, over byte arrays.
 *
 * <p>A new {@link Cipher} per call: the handshake encrypts with counter 0 under keys that are each
 * used once, which the JDK's nonce-reuse guard of a reused cipher object would refuse, and a
 * handshake message is rare enough not to care. The data path uses {@link ChaCha20Poly1305}.
 */
public final class Aead {
    private Aead() {}

    /** Seals {@code plaintext} (may be empty): ciphertext followed by the 16-byte tag. */
    public static byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] aad) {
        try {
            Cipher c = Cipher.getInstance("ChaCha20-Poly1305");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce(counter)));
            c.updateAAD(aad);
            return c.doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 unavailable: " + e.getMessage(), e);
        }
    }

    /** Opens {@code ciphertext[off, off+len)} (tag included); null when it does not authenticate. */
    public static byte[] open(byte[] key, long counter, byte[] ciphertext, int off, int len, byte[] aad) {
        if (len < ChaCha20Poly1305.TAG_LEN) return null;
        try {
            Cipher c = Cipher.getInstance("ChaCha20-Poly1305");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce(counter)));
            c.updateAAD(aad);
            return c.doFinal(ciphertext, off, len);
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 unavailable: " + e.getMessage(), e);
        }
    }

    private static byte[] nonce(long counter) {
        byte[] n = new byte[12];
        for (int i = 0; i < 8; i++) n[4 + i] = (byte) (counter >>> (8 * i));
        return n;
    }
}
