package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.X25519;
import java.util.Base64;

/**
 * A Curve25519 private key as {@code wg genkey} writes it: base64 of 32 bytes.
 *
 * <p>The key never shows: {@link #toString()} prints only the public key, and parse errors name the
 * length of the text, never the text. Only {@link #toBase64()} reveals it, for writing the key file.
 */
public final class NoisePrivateKey {
    private final byte[] bytes;
    private final NoisePublicKey publicKey;

    private NoisePrivateKey(byte[] bytes) {
        this.bytes = bytes;
        this.publicKey = NoisePublicKey.of(X25519.publicKey(bytes));
    }

    /** A new random key, clamped as {@code wg genkey} does. */
    public static NoisePrivateKey generate() {
        return new NoisePrivateKey(X25519.generatePrivateKey());
    }

    /** The key of these 32 bytes (copied, and clamped as wireguard-go clamps a configured key). */
    public static NoisePrivateKey of(byte[] bytes) {
        if (bytes == null || bytes.length != X25519.KEY_LEN) {
            throw new IllegalArgumentException("private key must be 32 bytes: length=" + (bytes == null ? "null" : bytes.length));
        }
        byte[] k = bytes.clone();
        X25519.clamp(k);
        return new NoisePrivateKey(k);
    }

    /**
     * Parses base64 text as {@code wg genkey} writes it.
     *
     * @throws IllegalArgumentException when the text is not base64 of 32 bytes; the message gives
     *     the text's length, never the text
     */
    public static NoisePrivateKey parse(String base64) {
        byte[] b = NoisePublicKey.decode(base64, "private key", false);
        try {
            return of(b);
        } finally {
            X25519.wipe(b);
        }
    }

    /** The matching public key. */
    public NoisePublicKey publicKey() {
        return publicKey;
    }

    /** The base64 text of the private key, for the key file only. */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** The scalar itself, for this package's handshake code; never logged, never modified. */
    byte[] bytes() {
        return bytes;
    }

    /** X25519 of this key with {@code peer}; null when the result is zero (a low-order peer key). */
    byte[] sharedSecret(byte[] peer) {
        return X25519.sharedSecret(bytes, peer);
    }

    /** Names the public key only. */
    @Override
    public String toString() {
        return "NoisePrivateKey[public=" + publicKey + "]";
    }
}
