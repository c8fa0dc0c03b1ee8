package io.dataplane.wireguard.crypto;

import org.bouncycastle.crypto.digests.Blake2sDigest;

/**
 * BLAKE2s (RFC 7693) as WireGuard uses it: HASH, the unkeyed 32-byte digest, and MAC, the keyed
 * 16-byte digest of mac1, mac2 and cookies. Backed by BouncyCastle's {@link Blake2sDigest}.
 *
 * <p>Handshake path only (a few calls per handshake message), so a fresh digest per call is fine.
 */
public final class Blake2s {
    /** Size of HASH in bytes. */
    public static final int HASH_LEN = 32;
    /** Size of MAC in bytes. */
    public static final int MAC_LEN = 16;

    private Blake2s() {}

    /** HASH(a || b || ...): unkeyed BLAKE2s-256. */
    public static byte[] hash(byte[]... parts) {
        Blake2sDigest d = new Blake2sDigest(256);
        for (byte[] p : parts) d.update(p, 0, p.length);
        byte[] out = new byte[HASH_LEN];
        d.doFinal(out, 0);
        return out;
    }

    /** MAC(key, data[off, off+len)): BLAKE2s keyed with {@code key}, 16-byte output. */
    public static byte[] mac(byte[] key, byte[] data, int off, int len) {
        Blake2sDigest d = new Blake2sDigest(key, MAC_LEN, null, null);
        d.update(data, off, len);
        byte[] out = new byte[MAC_LEN];
        d.doFinal(out, 0);
        return out;
    }

    /** MAC(key, data). */
    public static byte[] mac(byte[] key, byte[] data) {
        return mac(key, data, 0, data.length);
    }
}
