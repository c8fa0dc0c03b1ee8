package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.X25519;
import java.util.Arrays;
import java.util.Base64;

/**
 * A Curve25519 public key: 32 bytes, written as base64 the way {@code wg pubkey} prints it and
 * flannel's lease carries it ({@code "PublicKey": "..."}). Immutable; equal keys are equal objects.
 */
public final class NoisePublicKey {
    private final byte[] bytes;

    private NoisePublicKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The key of these 32 bytes (copied). */
    public static NoisePublicKey of(byte[] bytes) {
        if (bytes == null || bytes.length != X25519.KEY_LEN) {
            throw new IllegalArgumentException("public key must be 32 bytes: length=" + (bytes == null ? "null" : bytes.length));
        }
        return new NoisePublicKey(bytes.clone());
    }

    /**
     * Parses base64 text as {@code wg} writes it (44 characters with one '=').
     *
     * @throws IllegalArgumentException naming the text when it is not base64 of 32 bytes
     */
    public static NoisePublicKey parse(String base64) {
        return new NoisePublicKey(decode(base64, "public key", true));
    }

    static byte[] decode(String base64, String what, boolean showText) {
        String shown = showText ? "\"" + base64 + "\"" : "(" + (base64 == null ? "null" : base64.length() + " characters") + ")";
        if (base64 == null) throw new IllegalArgumentException(what + " missing: null");
        byte[] b;
        try {
            b = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not base64: " + shown);
        }
        if (b.length != X25519.KEY_LEN) {
            X25519.wipe(b);
            throw new IllegalArgumentException(what + " must be base64 of 32 bytes, got " + b.length + " bytes: " + shown);
        }
        return b;
    }

    /** A copy of the 32 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The bytes themselves, for this package's hot paths; callers must not modify them. */
    byte[] bytes() {
        return bytes;
    }

    /** The base64 text, as {@code wg pubkey} prints it. */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoisePublicKey k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The base64 text (public keys are not secret). */
    @Override
    public String toString() {
        return toBase64();
    }
}
