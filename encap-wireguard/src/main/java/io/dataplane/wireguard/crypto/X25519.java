package io.dataplane.wireguard.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.KeyAgreement;

/**
 * X25519 (RFC 7748) on raw 32-byte keys as WireGuard and {@code wg} write them, through the JDK's
 * XDH provider.
 *
 * <p>The conversions are the delicate part. A private key is the 32-byte scalar string; the JDK's
 * {@link XECPrivateKeySpec} takes it as is and clamps it itself (RFC 7748 decodeScalar25519), as
 * {@code wg} and wireguard-go do. A public key is the u-coordinate, little-endian; the JDK's
 * {@link XECPublicKeySpec} wants it as a {@link BigInteger}, so the bytes are reversed, and the top
 * bit is masked first as RFC 7748 requires for X25519 (decodeUCoordinate). The public key of a
 * private key is X25519(k, 9).
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
        try {
            KeyFactory kf = KeyFactory.getInstance("XDH");
            PrivateKey priv = kf.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, privateKey));
            PublicKey pub = kf.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, uCoordinate(publicKey)));
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(priv);
            ka.doPhase(pub, true);
            byte[] secret = ka.generateSecret();
            return isZero(secret) ? null : secret;
        } catch (InvalidKeyException e) {
            // The JDK refuses a result of zero (small-order point) with this exception.
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 unavailable: " + e.getClass().getSimpleName(), e);
        }
    }

    /** The u-coordinate of a little-endian encoded public key, top bit masked. */
    static BigInteger uCoordinate(byte[] publicKey) {
        byte[] be = new byte[KEY_LEN];
        for (int i = 0; i < KEY_LEN; i++) be[i] = publicKey[KEY_LEN - 1 - i];
        be[0] &= 0x7f;
        return new BigInteger(1, be);
    }

    /** True if every byte is zero, in time independent of the contents. */
    public static boolean isZero(byte[] b) {
        int acc = 0;
        for (byte x : b) acc |= x;
        return acc == 0;
    }

    /** Constant-time equality of two arrays of the same length. */
    public static boolean equal(byte[] a, byte[] b) {
        return java.security.MessageDigest.isEqual(a, b);
    }

    /** Overwrites {@code secret} with zeros. */
    public static void wipe(byte[] secret) {
        if (secret != null) Arrays.fill(secret, (byte) 0);
    }
}
