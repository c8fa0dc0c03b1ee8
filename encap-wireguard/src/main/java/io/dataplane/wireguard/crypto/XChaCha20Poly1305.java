package io.dataplane.wireguard.crypto;

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha: HChaCha20 subkey from the first 16 nonce bytes,
 * then ChaCha20-Poly1305 with the last 8), which WireGuard uses only to encrypt the cookie of a
 * cookie reply. Over {@link Aead}'s ChaCha20 core; the tests check it against the draft's vector.
 */
public final class XChaCha20Poly1305 {
    /** Nonce size in bytes. */
    public static final int NONCE_LEN = 24;

    private XChaCha20Poly1305() {}

    /** Seals {@code plaintext} with a 24-byte nonce: ciphertext followed by the 16-byte tag. */
    public static byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
        checkNonce(nonce);
        return Aead.seal(subkey(key, nonce), 0, word(nonce, 16), word(nonce, 20), plaintext, aad);
    }

    /** Opens {@code ciphertext[off, off+len)} (tag included); null when it does not authenticate. */
    public static byte[] open(byte[] key, byte[] nonce, byte[] ciphertext, int off, int len, byte[] aad) {
        checkNonce(nonce);
        return Aead.open(subkey(key, nonce), 0, word(nonce, 16), word(nonce, 20), ciphertext, off, len, aad);
    }

    /** HChaCha20 of the key and the nonce's first 16 bytes, as the 32 bytes of a ChaCha20 key. */
    private static byte[] subkey(byte[] key, byte[] nonce) {
        int[] sub = Aead.hchacha20(ChaCha20Poly1305.key(key, 0), word(nonce, 0), word(nonce, 4), word(nonce, 8), word(nonce, 12));
        byte[] out = new byte[ChaCha20Poly1305.KEY_LEN];
        for (int i = 0; i < out.length; i++) out[i] = (byte) (sub[i >> 2] >>> 8 * (i & 3));
        return out;
    }

    private static int word(byte[] b, int at) {
        return b[at] & 0xff | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    private static void checkNonce(byte[] nonce) {
        if (nonce.length != NONCE_LEN) throw new IllegalArgumentException("XChaCha20 nonce needs 24 bytes: nonceLen=" + nonce.length);
    }
}
