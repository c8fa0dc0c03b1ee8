package io.dataplane.wireguard.crypto;

import java.util.Arrays;
import org.bouncycastle.crypto.digests.Blake2sDigest;

/**
 * HMAC-BLAKE2s (RFC 2104 over BLAKE2s-256, block size 64) and the KDF of the WireGuard whitepaper
 * (HKDF, RFC 5869, with an empty info): {@code KDF_n(key, input)} yields n 32-byte outputs
 * {@code T1 = HMAC(prk, 0x1)}, {@code Ti = HMAC(prk, T(i-1) || i)}, {@code prk = HMAC(key, input)}.
 *
 * <p>This is BLAKE2s inside the generic HMAC construction, not BLAKE2s's own keyed mode, exactly as
 * the Noise protocol framework specifies it.
 */
public final class Hkdf {
    private static final int BLOCK = 64;

    private Hkdf() {}

    /** HMAC-BLAKE2s(key, a || b ...). */
    public static byte[] hmac(byte[] key, byte[]... parts) {
        byte[] k = new byte[BLOCK];
        if (key.length > BLOCK) {
            System.arraycopy(Blake2s.hash(key), 0, k, 0, Blake2s.HASH_LEN);
        } else {
            System.arraycopy(key, 0, k, 0, key.length);
        }
        byte[] pad = new byte[BLOCK];
        for (int i = 0; i < BLOCK; i++) pad[i] = (byte) (k[i] ^ 0x36);
        Blake2sDigest inner = new Blake2sDigest(256);
        inner.update(pad, 0, BLOCK);
        for (byte[] p : parts) inner.update(p, 0, p.length);
        byte[] innerHash = new byte[Blake2s.HASH_LEN];
        inner.doFinal(innerHash, 0);
        for (int i = 0; i < BLOCK; i++) pad[i] = (byte) (k[i] ^ 0x5c);
        Blake2sDigest outer = new Blake2sDigest(256);
        outer.update(pad, 0, BLOCK);
        outer.update(innerHash, 0, innerHash.length);
        byte[] out = new byte[Blake2s.HASH_LEN];
        outer.doFinal(out, 0);
        Arrays.fill(k, (byte) 0);
        Arrays.fill(pad, (byte) 0);
        Arrays.fill(innerHash, (byte) 0);
        return out;
    }

    /** KDF with {@code n} (1 to 3) outputs of 32 bytes each. */
    public static byte[][] kdf(int n, byte[] key, byte[] input) {
        if (n < 1 || n > 3) throw new IllegalArgumentException("KDF outputs out of range: n=" + n + " (1-3)");
        byte[] prk = hmac(key, input);
        byte[][] out = new byte[n][];
        out[0] = hmac(prk, new byte[] {1});
        for (int i = 1; i < n; i++) out[i] = hmac(prk, out[i - 1], new byte[] {(byte) (i + 1)});
        Arrays.fill(prk, (byte) 0);
        return out;
    }

    /** KDF1: one output. */
    public static byte[] kdf1(byte[] key, byte[] input) {
        return kdf(1, key, input)[0];
    }
}
