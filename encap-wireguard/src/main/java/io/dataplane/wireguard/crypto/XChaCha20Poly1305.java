package io.dataplane.wireguard.crypto;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha: HChaCha20 subkey from the first 16 nonce bytes,
 * then ChaCha20-Poly1305 with the last 8), which WireGuard uses only to encrypt the cookie of a
 * cookie reply. Backed by BouncyCastle's {@link org.bouncycastle.crypto.modes.XChaCha20Poly1305}.
 */
public final class XChaCha20Poly1305 {
    /** Nonce size in bytes. */
    public static final int NONCE_LEN = 24;

    private XChaCha20Poly1305() {}

    /** Seals {@code plaintext} with a 24-byte nonce: ciphertext followed by the 16-byte tag. */
    public static byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
        var c = new org.bouncycastle.crypto.modes.XChaCha20Poly1305();
        c.init(true, new AEADParameters(new KeyParameter(key), 128, nonce, aad));
        byte[] out = new byte[c.getOutputSize(plaintext.length)];
        int n = c.processBytes(plaintext, 0, plaintext.length, out, 0);
        try {
            c.doFinal(out, n);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("XChaCha20-Poly1305 seal failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** Opens {@code ciphertext[off, off+len)} (tag included); null when it does not authenticate. */
    public static byte[] open(byte[] key, byte[] nonce, byte[] ciphertext, int off, int len, byte[] aad) {
        if (len < ChaCha20Poly1305.TAG_LEN) return null;
        var c = new org.bouncycastle.crypto.modes.XChaCha20Poly1305();
        c.init(false, new AEADParameters(new KeyParameter(key), 128, nonce, aad));
        byte[] out = new byte[c.getOutputSize(len)];
        int n = c.processBytes(ciphertext, off, len, out, 0);
        try {
            c.doFinal(out, n);
        } catch (InvalidCipherTextException e) {
            return null;
        }
        return out;
    }
}
