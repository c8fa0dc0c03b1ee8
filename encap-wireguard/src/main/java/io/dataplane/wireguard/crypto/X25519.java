package io.dataplane.wireguard.crypto;

import java.util.Arrays;

/**
 * X25519 (RFC 7748) on raw 32-byte keys as WireGuard and {@code wg} write them: the Montgomery
 * ladder of section 5 over {@link Field25519}, in constant time, and fresh keys from
 * {@link KernelRandom}.
 *
 * <p>Our own, after the RFC, rather than the JDK's XDH: the JDK's goes through its provider
 * framework (security properties, provider lists, key factories and specs), which a WireGuard
 * node would load, and keep resident, for one key agreement every two minutes. The tests check it
 * against the RFC's vectors and against the JDK's XDH.
 *
 * <p>A private key is the 32-byte scalar string, clamped here as {@code wg} and wireguard-go clamp
 * it (RFC 7748 decodeScalar25519); a public key is the u-coordinate, little-endian, its top bit
 * ignored (decodeUCoordinate). The public key of a private key is X25519(k, 9).
 */
public final class X25519 {
    /** Key size in bytes. */
    public static final int KEY_LEN = 32;
    private static final byte[] BASE_POINT = new byte[KEY_LEN];
    /** (A - 2) / 4 for Curve25519's A = 486662. */
    private static final int A24 = 121665;

    static {
        BASE_POINT[0] = 9;
    }

    private X25519() {}

    /** A fresh random private key, clamped as {@code wg genkey} clamps it. */
    public static byte[] generatePrivateKey() {
        byte[] k = new byte[KEY_LEN];
        KernelRandom.nextBytes(k);
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
        byte[] k = privateKey.clone();
        clamp(k);
        byte[] secret = ladder(k, Field25519.decode(publicKey));
        wipe(k);
        return isZero(secret) ? null : secret;
    }

    /** The u-coordinate of k times the point of u-coordinate {@code u} (RFC 7748 section 5), {@code k} clamped. */
    private static byte[] ladder(byte[] k, long[] u) {
        long[] x2 = Field25519.one(), z2 = new long[Field25519.LIMBS], x3 = u.clone(), z3 = Field25519.one();
        long[] a = new long[Field25519.LIMBS], aa = new long[Field25519.LIMBS], b = new long[Field25519.LIMBS];
        long[] bb = new long[Field25519.LIMBS], e = new long[Field25519.LIMBS], c = new long[Field25519.LIMBS];
        long[] d = new long[Field25519.LIMBS], da = new long[Field25519.LIMBS], cb = new long[Field25519.LIMBS];
        int swap = 0;
        for (int t = 254; t >= 0; t--) {
            int bit = (k[t >> 3] >> (t & 7)) & 1;
            swap ^= bit;
            Field25519.cswap(x2, x3, swap);
            Field25519.cswap(z2, z3, swap);
            swap = bit;
            Field25519.add(a, x2, z2);
            Field25519.mul(aa, a, a);
            Field25519.sub(b, x2, z2);
            Field25519.mul(bb, b, b);
            Field25519.sub(e, aa, bb);
            Field25519.add(c, x3, z3);
            Field25519.sub(d, x3, z3);
            Field25519.mul(da, d, a);
            Field25519.mul(cb, c, b);
            Field25519.add(x3, da, cb);
            Field25519.mul(x3, x3, x3);
            Field25519.sub(z3, da, cb);
            Field25519.mul(z3, z3, z3);
            Field25519.mul(z3, z3, u);
            Field25519.mul(x2, aa, bb);
            Field25519.mulSmall(z2, e, A24);
            Field25519.add(z2, z2, aa);
            Field25519.mul(z2, z2, e);
        }
        Field25519.cswap(x2, x3, swap);
        Field25519.cswap(z2, z3, swap);
        Field25519.invert(z2, z2);
        Field25519.mul(x2, x2, z2);
        return Field25519.encode(x2);
    }

    /** True if every byte is zero, in time independent of the contents. */
    public static boolean isZero(byte[] b) {
        int acc = 0;
        for (byte x : b) acc |= x;
        return acc == 0;
    }

    /** Constant-time equality of two arrays of the same length. */
    public static boolean equal(byte[] a, byte[] b) {
        if (a.length != b.length) return false;
        int acc = 0;
        for (int i = 0; i < a.length; i++) acc |= a[i] ^ b[i];
        return acc == 0;
    }

    /** Overwrites {@code secret} with zeros. */
    public static void wipe(byte[] secret) {
        if (secret != null) Arrays.fill(secret, (byte) 0);
    }
}
