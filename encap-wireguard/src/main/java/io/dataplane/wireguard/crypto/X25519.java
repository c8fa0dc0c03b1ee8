package io.dataplane.wireguard.crypto;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * X25519 (RFC 7748) on raw 32-byte keys as WireGuard and {@code wg} write them, through
 * BouncyCastle's {@link org.bouncycastle.math.ec.rfc7748.X25519}, which works on those bytes as
 * they are: it clamps the scalar (decodeScalar25519) and masks the top bit of the u-coordinate
 * (decodeUCoordinate) itself, as {@code wg} and wireguard-go do. The public key of a private key is
 * X25519(k, 9), by the same Montgomery ladder as any other point.
 *
 * <p>Not the JDK's XDH provider: a node that asks the JDK for a key agreement loads the provider
 * framework, its crypto policy and the elliptic-curve provider (some hundred classes it keeps for
 * its lifetime, see benchmarks/README.md "WireGuard's idle footprint") for one multiplication per
 * handshake, and round-trips every key through a {@link java.math.BigInteger}.
 */
public final class X25519 {
    /** Key size in bytes. */
    public static final int KEY_LEN = 32;
    private static final byte[] BASE_POINT = new byte[KEY_LEN];
    private static final SecureRandom RANDOM = new SecureRandom();

    static {
        BASE_POINT[0] = 9;
    }

    private X25519() {}

    /** A fresh random private key, clamped as {@code wg genkey} clamps it. */
    public static byte[] generatePrivateKey() {
        byte[] k = new byte[KEY_LEN];
        RANDOM.nextBytes(k);
        clamp(k);
        return k;
    }

    /** Clamps a scalar in place (RFC 7748): clear bits 0-2 and 255, set bit 254. */
    public static void clamp(byte[] k) {
        k[0] &= (byte) 248;
        k[31] = (byte) ((k[31] & 127) | 64);
    }

    /** The public key of {@code privateKey}: X25519(k, 9). */
    public static byte[] publicKey(byte[] privateKey) {
        byte[] pub = sharedSecret(privateKey, BASE_POINT);
        if (pub == null) throw new IllegalStateException("X25519 base point multiplication gave zero");
        return pub;
    }

    /**
     * X25519(privateKey, publicKey). Returns null when the result is all zero (a low-order public key,
     * RFC 7748 section 6.1), which WireGuard treats as an invalid key.
     */
    public static byte[] sharedSecret(byte[] privateKey, byte[] publicKey) {
        if (privateKey.length != KEY_LEN || publicKey.length != KEY_LEN) {
            throw new IllegalArgumentException("X25519 keys are 32 bytes: private=" + privateKey.length
                    + " public=" + publicKey.length);
        }
        byte[] secret = new byte[KEY_LEN];
        // False when the result is all zero.
        return org.bouncycastle.math.ec.rfc7748.X25519.calculateAgreement(privateKey, 0, publicKey, 0, secret, 0) ? secret : null;
    }

    /** True if every byte is zero, in time independent of the contents. */
    public static boolean isZero(byte[] b) {
        int acc = 0;
        for (byte x : b) acc |= x;
        return acc == 0;
    }

    /** Constant-time equality of two arrays of the same length. */
    public static boolean equal(byte[] a, byte[] b) {
        return org.bouncycastle.util.Arrays.constantTimeAreEqual(a, b);
    }

    /** Overwrites {@code secret} with zeros. */
    public static void wipe(byte[] secret) {
        if (secret != null) Arrays.fill(secret, (byte) 0);
    }
}
