package io.dataplane.wireguard;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * An optional symmetric key mixed into the handshake (the "psk" of Noise_IKpsk2), base64 of 32
 * bytes as {@code wg genpsk} writes it. Secret like a private key: {@link #toString()} never shows
 * it. Without one, WireGuard mixes in 32 zero bytes ({@link #NONE}).
 */
public final class PresharedKey {
    /** The all-zero key used when no preshared key is configured. */
    public static final PresharedKey NONE = new PresharedKey(new byte[32]);
    private final byte[] bytes;

    private PresharedKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * Parses base64 text as {@code wg genpsk} writes it.
     *
     * @throws IllegalArgumentException when it is not base64 of 32 bytes; the message never shows the text
     */
    public static PresharedKey parse(String base64) {
        return new PresharedKey(NoisePublicKey.decode(base64, "preshared key", false));
    }

    /** A new random key. */
    public static PresharedKey generate() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return new PresharedKey(b);
    }

    /** The base64 text, for a configuration file only. */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    byte[] bytes() {
        return bytes;
    }

    /** Says whether a key is set, never which. */
    @Override
    public String toString() {
        return this == NONE ? "PresharedKey[none]" : "PresharedKey[set]";
    }
}
